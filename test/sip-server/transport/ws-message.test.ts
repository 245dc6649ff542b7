/**
 * One SIP message per WebSocket message (RFC 7118 §5.1), and where a client's
 * frames stand (RFC 6455 §5.2) for the slow-client deadline.
 */
import { describe, expect, it } from 'vitest';
import { WsFrameTracker } from '../../../src/sip-server/transport/ws-frame-tracker.js';
import { checkWsMessage } from '../../../src/sip-server/transport/ws-message.js';
import { offline, requestBytes, responseBytes } from '../../support/sip-fixtures/builder.js';

const ws = { ...offline('wsunit'), transport: 'WS' as const };
const REQ = requestBytes(ws, { extra: ['Content-Type: text/plain'], body: 'hello ☎' });

describe('a WebSocket message holds exactly one SIP message (RFC 7118 §5.1)', () => {
  it('a request or a response with a matching Content-Length is SIP', () => {
    expect(checkWsMessage(REQ)).toEqual({ kind: 'sip' });
    expect(checkWsMessage(responseBytes(ws))).toEqual({ kind: 'sip' });
  });

  it('Content-Length may be left out: the WebSocket message gives the boundary', () => {
    expect(checkWsMessage(requestBytes(ws, { contentLength: null, extra: ['Content-Type: text/plain'], body: 'no length' }))).toEqual({ kind: 'sip' });
  });

  it('a malformed or repeated Content-Length is left to the parser (400), not a framing error', () => {
    expect(checkWsMessage(requestBytes(ws, { contentLength: 'ten' }))).toEqual({ kind: 'sip' });
    expect(checkWsMessage(requestBytes(ws, { extra: ['Content-Length: 0'] }))).toEqual({ kind: 'sip' });
  });

  it('two messages in one WebSocket message are refused, with the first head to answer from', () => {
    const v = checkWsMessage(Buffer.concat([REQ, REQ]));
    expect(v.kind).toBe('refuse');
    if (v.kind !== 'refuse') return;
    expect(v.reason).toBe('more than one SIP message in one WebSocket message');
    expect(v.notSip).toBe(false);
    expect(v.head?.toString()).toMatch(/^OPTIONS sip:desk@example.org SIP\/2\.0\r\n[\s\S]*\r\n\r\n$/);
  });

  it('a body shorter than its Content-Length (a partial message) is refused', () => {
    const v = checkWsMessage(REQ.subarray(0, REQ.length - 3));
    expect(v).toMatchObject({ kind: 'refuse', reason: 'partial SIP message (Content-Length larger than the WebSocket message)', notSip: false });
  });

  it('a header section that does not end is refused without a head', () => {
    const v = checkWsMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/WS x.invalid;branch=z9hG4bK1\r\n'));
    expect(v).toEqual({ kind: 'refuse', reason: 'incomplete SIP message (the header section does not end)', notSip: false });
  });

  it('bytes that are no SIP at all are refused as such', () => {
    for (const junk of ['hello world\r\n\r\n', '{"json":true}', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n']) {
      expect(checkWsMessage(Buffer.from(junk)), junk).toEqual({ kind: 'refuse', reason: 'not a SIP message', notSip: true });
    }
    expect(checkWsMessage(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]))).toMatchObject({ notSip: true });
  });

  it('an odd but SIP-looking start line goes on to the parser (which answers 400 or 505)', () => {
    expect(checkWsMessage(requestBytes(ws, { start: 'OPTIONS  sip:desk@example.org  SIP/2.0' }))).toEqual({ kind: 'sip' });
    expect(checkWsMessage(requestBytes(ws, { start: 'OPTIONS sip:desk@example.org SIP/3.0' }))).toEqual({ kind: 'sip' });
  });

  it('CR/LF only is a keep-alive; a double CRLF asks for a pong (RFC 5626 §3.5.1)', () => {
    expect(checkWsMessage(Buffer.from('\r\n\r\n'))).toEqual({ kind: 'keepalive', pong: true });
    expect(checkWsMessage(Buffer.from('\r\n'))).toEqual({ kind: 'keepalive', pong: false });
  });
});

/** A masked client frame (RFC 6455 §5.2). */
function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const ext = len > 65535 ? 8 : len > 125 ? 2 : 0;
  const head = Buffer.alloc(2 + ext + 4);
  head[0] = (fin ? 0x80 : 0) | opcode;
  head[1] = 0x80 | (ext === 8 ? 127 : ext === 2 ? 126 : len);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) head.writeBigUInt64BE(BigInt(len), 2);
  head.writeUInt32BE(0x01020304, 2 + ext);
  return Buffer.concat([head, payload]);
}

function states(tracker: WsFrameTracker, bytes: Buffer, chunk: number): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < bytes.length; i += chunk) {
    tracker.push(bytes.subarray(i, i + chunk));
    out.push(tracker.inMessage);
  }
  return out;
}

describe('the frame tracker knows when a message is half received (RFC 6455 §5.2)', () => {
  for (const size of [0, 5, 125, 126, 300, 70_000]) {
    it(`a ${size}-byte frame is in progress until its last byte, whatever the chunking`, () => {
      const f = frame(1, Buffer.alloc(size, 0x41));
      for (const chunk of [1, 3, 7, 1000, f.length]) {
        const t = new WsFrameTracker();
        const s = states(t, f, chunk);
        expect(s[s.length - 1], `chunk ${chunk}`).toBe(false);
        expect(s.slice(0, -1).every((x) => x), `chunk ${chunk}`).toBe(true);
      }
    });
  }

  it('two frames in one read leave nothing in progress; a read ending inside the second does', () => {
    const t = new WsFrameTracker();
    const two = Buffer.concat([frame(1, Buffer.from('one')), frame(2, Buffer.from('two'))]);
    t.push(two);
    expect(t.inMessage).toBe(false);
    t.push(two.subarray(0, two.length - 1));
    expect(t.inMessage).toBe(true);
    t.push(two.subarray(two.length - 1));
    expect(t.inMessage).toBe(false);
  });

  it('a fragmented message stays in progress across a ping until its final fragment', () => {
    const t = new WsFrameTracker();
    t.push(frame(1, Buffer.from('part one'), false));
    expect(t.inMessage).toBe(true);
    t.push(frame(9, Buffer.from('ping')));
    expect(t.inMessage).toBe(true);
    t.push(frame(0, Buffer.from('part two'), true));
    expect(t.inMessage).toBe(false);
  });
});
