/**
 * The body and Content-Length (RFC 3261 §7.4, §18.3, §20.14) and writing
 * messages back out: order kept, CRLF line ends, Content-Length in bytes.
 */
import { describe, expect, it } from 'vitest';
import { parseMessage, type ParseResult } from '../../../src/sip-server/message/parser.js';
import { serialize, type SipMessage } from '../../../src/sip-server/message/sip-message.js';
import { offline, patch, requestBytes } from '../../support/sip-fixtures/builder.js';

const c = offline('body1');

function ok(r: ParseResult): SipMessage {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.message;
}

const multiByte = 'naïve café — 電話 ☎ 🙂';

describe('Content-Length counts bytes (RFC 3261 §20.14)', () => {
  it('a multi-byte UTF-8 body is cut at its byte length, not its character count', () => {
    const bytes = Buffer.byteLength(multiByte);
    expect(bytes).toBeGreaterThan(multiByte.length);
    const m = ok(parseMessage(requestBytes(c, { extra: ['Content-Type: text/plain;charset=utf-8'], body: multiByte })));
    expect(m.body.equals(Buffer.from(multiByte))).toBe(true);
    expect(m.headers.get('content-length')).toBe(String(bytes));
  });

  it('a Content-Length written as the character count cuts the body short: the rest of the datagram is ignored (§18.3)', () => {
    const chars = String(multiByte.length);
    const m = ok(parseMessage(requestBytes(c, { body: multiByte, contentLength: chars })));
    expect(m.body.length).toBe(multiByte.length);
  });

  it('extra bytes after Content-Length in a datagram are ignored (§18.3)', () => {
    const buf = Buffer.concat([requestBytes(c, { body: 'abc' }), Buffer.from('garbage after the message')]);
    expect(ok(parseMessage(buf)).body.toString()).toBe('abc');
  });

  it('a body shorter than Content-Length is an error, never a partial message (§18.3; RFC 4475 §3.1.2.2)', () => {
    const r = parseMessage(requestBytes(c, { body: 'abc', contentLength: '4' }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect([r.status, r.reason]).toEqual([400, 'Content-Length larger than the message body']);
  });

  it('without Content-Length a datagram body runs to the end of the datagram (§18.3), but a stream message is refused', () => {
    const buf = requestBytes(c, { body: 'whole rest', contentLength: null });
    expect(ok(parseMessage(buf)).body.toString()).toBe('whole rest');
    const r = parseMessage(buf, { stream: true });
    expect(r.ok).toBe(false);
  });

  it('a body may hold any octet, including CR LF CR LF and NUL', () => {
    const body = Buffer.from([0, 13, 10, 13, 10, 255, 1, 2, 13, 10, 13, 10]);
    expect(ok(parseMessage(requestBytes(c, { extra: ['Content-Type: application/octet-stream'], body }))).body.equals(body)).toBe(true);
  });

  it('a message larger than the limit is refused with 513 and can be answered (§21.5.14)', () => {
    const r = parseMessage(requestBytes(c, { extra: [`X-Pad: ${'p'.repeat(3000)}`] }), { maxBytes: 2048 });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.status).toBe(513);
      expect(r.request?.headers.has('via')).toBe(true);
    }
  });
});

describe('serialization (RFC 3261 §7): order kept, CRLF, byte-correct Content-Length', () => {
  it('round trip: parse → serialize → parse gives the same fields in the same order and the same body', () => {
    const original = requestBytes(c, {
      extra: ['X-B: 2', 'Route: <sip:a.example.org;lr>', 'X-A: 1', 'Route: <sip:b.example.org;lr>', 'Content-Type: text/plain'],
      body: multiByte,
    });
    const first = ok(parseMessage(original));
    const again = ok(parseMessage(serialize(first)));
    expect(again.headers.fields).toEqual(first.headers.fields);
    expect(again.body.equals(first.body)).toBe(true);
    expect(serialize(again).equals(serialize(first))).toBe(true);
  });

  it('a message without folding or odd spacing serializes to exactly the bytes it was parsed from', () => {
    const original = requestBytes(c, { extra: ['Content-Type: text/plain'], body: multiByte });
    expect(serialize(ok(parseMessage(original))).equals(original)).toBe(true);
  });

  it('folded values and bare LF come out unfolded with CRLF; compact names keep their spelling', () => {
    const text = requestBytes(c, { eol: '\n' }).toString().replace('Max-Forwards: 70', 'Max-Forwards:\n  70').replace(/^Call-ID:/m, 'i:');
    const out = serialize(ok(parseMessage(Buffer.from(text)))).toString();
    expect(out).toContain('\r\nMax-Forwards: 70\r\n');
    expect(out).toContain(`\r\ni: ${c.id}@robustness.test\r\n`);
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('Content-Length is recomputed in bytes when the body changes, in place, under its received name', () => {
    const m = ok(parseMessage(patch(requestBytes(c, { body: 'x', extra: ['Content-Type: text/plain', 'X-After: 1'] }), 'Content-Length', 'l')));
    m.body = Buffer.from(multiByte);
    const out = serialize(m).toString('utf8');
    const lines = out.split('\r\n');
    expect(lines).toContain(`l: ${Buffer.byteLength(multiByte)}`);
    expect(lines.filter((l) => /^(l|content-length):/i.test(l))).toHaveLength(1);
    expect(ok(parseMessage(serialize(m))).body.toString('utf8')).toBe(multiByte);
  });

  it('a message without Content-Length gets one, and duplicates collapse to one', () => {
    const m = ok(parseMessage(requestBytes(c, { contentLength: null })));
    expect(serialize(m).toString()).toMatch(/\r\nContent-Length: 0\r\n\r\n$/);
    m.headers.append('Content-Length', '99');
    m.headers.append('l', '98');
    expect(serialize(m).toString().match(/^(Content-Length|l):/gm)).toEqual(['Content-Length:']);
  });

  it('a response serializes its status line with the reason phrase as given', () => {
    const bytes = serialize({ kind: 'response', status: 486, reason: 'Busy Here', headers: ok(parseMessage(requestBytes(c))).headers, body: Buffer.alloc(0) });
    expect(bytes.toString().split('\r\n')[0]).toBe('SIP/2.0 486 Busy Here');
  });
});
