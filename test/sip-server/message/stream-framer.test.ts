/**
 * Framing SIP over a stream (RFC 3261 §18.3): messages cut at the empty line
 * plus Content-Length bytes, however TCP splits or merges the reads; CRLF
 * keep-alives (RFC 5626 §3.5.1); refusal of unframeable or oversized input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamFramer, type FramerEvent } from '../../../src/sip-server/message/stream-framer.js';
import { offline, requestBytes, responseBytes } from '../../support/sip-fixtures/builder.js';

const MAX = 65535;
const withBody = (id: string, body: string): Buffer => requestBytes(offline(id), { extra: ['Content-Type: text/plain;charset=utf-8'], body });
const A = withBody('fa', 'first body ☎ with\r\n\r\nblank lines');
const B = responseBytes(offline('fb'));
const C = withBody('fc', '電話'.repeat(20));
const STREAM = Buffer.concat([A, B, C]);

function feed(framer: StreamFramer, chunks: Buffer[]): FramerEvent[] {
  return chunks.flatMap((ch) => framer.push(ch));
}

function messages(events: FramerEvent[]): Buffer[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data] : []));
}

/** Byte-exact comparison of message lists (cheaper than a deep equality on Buffers in a tight loop). */
function same(got: Buffer[], want: Buffer[]): boolean {
  return got.length === want.length && got.every((b, i) => b.equals(want[i]!));
}

describe('messages are cut by Content-Length across split and merged reads (RFC 3261 §18.3)', () => {
  it('one read holding three messages gives three messages', () => {
    expect(messages(new StreamFramer(MAX).push(STREAM))).toEqual([A, B, C]);
  });

  it('split into two reads at every byte boundary, the same three messages come out', () => {
    const wrong: number[] = [];
    for (let cut = 1; cut < STREAM.length; cut++) {
      if (!same(messages(feed(new StreamFramer(MAX), [STREAM.subarray(0, cut), STREAM.subarray(cut)])), [A, B, C])) wrong.push(cut);
    }
    expect(wrong).toEqual([]);
  });

  it('one byte per read gives the same three messages, each as soon as its last byte arrives', () => {
    const framer = new StreamFramer(MAX);
    const at: number[] = [];
    const got: Buffer[] = [];
    for (let i = 0; i < STREAM.length; i++) {
      for (const m of messages(framer.push(STREAM.subarray(i, i + 1)))) {
        got.push(m);
        at.push(i + 1);
      }
    }
    expect(got).toEqual([A, B, C]);
    expect(at).toEqual([A.length, A.length + B.length, STREAM.length]);
    expect(framer.pending).toBe(0);
  });

  it('random splits (seeded) of random sequences of messages always reassemble exactly', () => {
    const msgs = [A, B, C, withBody('fd', ''), withBody('fe', 'x'.repeat(3000))];
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: msgs.length - 1 }), { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 40 }), (order, sizes) => {
        const wire = Buffer.concat(order.map((i) => msgs[i]!));
        const chunks: Buffer[] = [];
        for (let off = 0, k = 0; off < wire.length; k++) {
          const n = sizes[k % sizes.length]!;
          chunks.push(wire.subarray(off, off + n));
          off += n;
        }
        return same(messages(feed(new StreamFramer(MAX), chunks)), order.map((i) => msgs[i]!));
      }),
      { seed: 4475, numRuns: 300 },
    );
  });

  it('a message assembled from several reads is a copy: later reads never change it', () => {
    const framer = new StreamFramer(MAX);
    const first = messages(feed(framer, [A.subarray(0, 10), A.subarray(10)]))[0]!;
    const snapshot = Buffer.from(first);
    for (let i = 0; i < 50; i++) framer.push(Buffer.concat([C.subarray(0, 5)]));
    expect(first.equals(snapshot)).toBe(true);
  });

  it('Content-Length is found in compact form, with LWS, folded, and with leading zeros', () => {
    for (const line of ['l: 5', 'content-length   :    5', 'Content-Length:\r\n   5', 'CONTENT-LENGTH: 0005']) {
      const msg = Buffer.concat([requestBytes(offline('fcl'), { contentLength: null, extra: ['Content-Type: text/plain', line] }), Buffer.from('hello')]);
      const got = messages(new StreamFramer(MAX).push(Buffer.concat([msg, B])));
      expect(got, line).toEqual([msg, B]);
    }
  });
});

describe('keep-alives between messages (RFC 5626 §3.5.1; RFC 3261 §7.5)', () => {
  it('a double CRLF is a ping, however the reads split it', () => {
    for (const chunks of [['\r\n\r\n'], ['\r\n', '\r\n'], ['\r', '\n\r', '\n'], ['\r', '\n', '\r', '\n']]) {
      const events = feed(new StreamFramer(MAX), chunks.map((s) => Buffer.from(s)));
      expect(events, JSON.stringify(chunks)).toEqual([{ type: 'ping' }]);
    }
  });

  it('a single CRLF (a pong, or §7.5 padding before a message) is not a ping', () => {
    expect(new StreamFramer(MAX).push(Buffer.from('\r\n'))).toEqual([]);
    expect(new StreamFramer(MAX).push(Buffer.concat([Buffer.from('\r\n'), A]))).toEqual([{ type: 'message', data: A }]);
  });

  it('pings between, before and after messages are reported in order; bare LF pings count too', () => {
    const events = new StreamFramer(MAX).push(Buffer.concat([Buffer.from('\r\n\r\n'), A, Buffer.from('\r\n\r\n\r\n\r\n'), B, Buffer.from('\n\n')]));
    expect(events.map((e) => e.type)).toEqual(['ping', 'message', 'ping', 'ping', 'message', 'ping']);
  });
});

describe('input that cannot be framed closes the stream (RFC 3261 §18.3)', () => {
  it('no Content-Length on a stream: a 400 error carrying the header section to answer from', () => {
    const msg = requestBytes(offline('fnocl'), { contentLength: null });
    const events = new StreamFramer(MAX).push(msg);
    expect(events).toHaveLength(1);
    const e = events[0]!;
    expect(e.type === 'error' && e.status).toBe(400);
    expect(e.type === 'error' && e.head?.equals(msg)).toBe(true);
  });

  it.each([
    ['-5', 'malformed Content-Length'],
    ['five', 'malformed Content-Length'],
    ['5, 5', 'malformed Content-Length'],
  ])('Content-Length %j: 400 (%s)', (value, reason) => {
    const events = new StreamFramer(MAX).push(requestBytes(offline('fbad'), { contentLength: value }));
    expect(events).toEqual([expect.objectContaining({ type: 'error', status: 400, reason })]);
  });

  it('two Content-Length fields: 400, since the next message boundary is unknowable (RFC 4475 §3.3.9)', () => {
    const events = new StreamFramer(MAX).push(requestBytes(offline('f2cl'), { extra: ['l: 0'] }));
    expect(events).toEqual([expect.objectContaining({ type: 'error', status: 400 })]);
  });

  it('a message whose Content-Length takes it over the limit: 513 with the header section, before the body arrives', () => {
    const head = requestBytes(offline('fbig'), { contentLength: '70000' });
    const events = new StreamFramer(MAX).push(head);
    expect(events).toEqual([expect.objectContaining({ type: 'error', status: 513 })]);
    const e = events[0]!;
    expect(e.type === 'error' && e.head !== undefined).toBe(true);
  });

  it('a header section that never ends: 513 once the limit is passed, with its complete lines as a partial head', () => {
    const framer = new StreamFramer(1024);
    const events: FramerEvent[] = [];
    for (let i = 0; i < 40 && events.length === 0; i++) events.push(...framer.push(Buffer.from(`X-Line-${i}: ${'v'.repeat(40)}\r\n`)));
    expect(events).toEqual([expect.objectContaining({ type: 'error', reason: 'header section too large', status: 513, partial: true })]);
    const e = events[0]!;
    const head = e.type === 'error' ? (e.head?.toString('latin1') ?? '') : '';
    expect(head.startsWith('X-Line-0: ')).toBe(true);
    // The last line may still be folded (§7.3.1): it is not complete until the next byte says so.
    expect(head.endsWith('\r\n')).toBe(true);
    expect(head.length).toBeLessThan(1024);
  });

  it('a header too large for the limit: the lines before it are the partial head; a line folded into it is left out; none complete, no head', () => {
    const top = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\nCall-ID: c\r\n';
    const big = (framerMax: number, text: string): FramerEvent[] => new StreamFramer(framerMax).push(Buffer.from(text));
    const e1 = big(256, `${top}X-Big: ${'b'.repeat(400)}`)[0]!;
    expect(e1.type === 'error' && e1.head?.toString('latin1')).toBe(top);
    const e2 = big(256, `${top} ${'b'.repeat(400)}`)[0]!; // continues Call-ID
    expect(e2.type === 'error' && e2.head?.toString('latin1')).toBe('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bKx\r\n');
    expect(big(256, `OPTIONS sip:a@b SIP/2.0${'x'.repeat(400)}`)).toEqual([{ type: 'error', reason: 'header section too large', status: 513 }]);
  });

  it('after an error the framer ignores everything: the connection is to be closed', () => {
    const framer = new StreamFramer(MAX);
    expect(framer.push(requestBytes(offline('fdead'), { contentLength: null }))[0]?.type).toBe('error');
    expect(framer.push(A)).toEqual([]);
    expect(framer.pending).toBe(0);
  });

  it('exactly at the limit is accepted, one byte over is refused', () => {
    const exact = new StreamFramer(A.length).push(A);
    expect(exact).toEqual([{ type: 'message', data: A }]);
    expect(new StreamFramer(A.length - 1).push(A)[0]?.type).toBe('error');
  });
});
