/**
 * SIP over WebSocket (RFC 7118) against the real server and an unmodified
 * drachtio-srf app, with raw WebSocket clients: the `sip` subprotocol
 * handshake (§4), one message per WebSocket message (§5.1), Via and
 * received (§5.2), requests from the server reaching a registered client over
 * its own connection (§5.3, drachtio spec §2.9), and hostile input refused
 * with the connection closed while the server keeps serving.
 */
import type Srf from 'drachtio-srf';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMessage } from '../../../src/sip-server/message/parser.js';
import { ControlPeer } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { callIdOf, requestBytes, type CaseContext } from '../../support/sip-fixtures/builder.js';
import { sendRequest } from '../../support/srf-request.js';
import { clientFrame, rawWebSocket, WsSipClient } from '../../support/ws-client.js';

const MAX = 4096;
const KEEPALIVE_MS = 300;
let h: Harness;
let srf: Srf;
const seen = new Map<string, { protocol: string; receivedOn: string; via: string }>();
const clients: WsSipClient[] = [];
let counter = 0;

interface SrfReq {
  readonly protocol: string;
  readonly receivedOn: string;
  get(h: string): string;
}
interface SrfRes {
  send(status: number, opts?: { headers?: Record<string, string> }): void;
}

beforeAll(async () => {
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'ws', host: '127.0.0.1', port: 0 },
    ],
    maxMessageBytes: MAX,
    // Pings far apart, so that only the test of half-open clients meets them.
    connections: { keepAliveMs: 60_000 },
    timers: { t1Ms: 50, t2Ms: 400, t4Ms: 500, appResponseTimeoutMs: 5000 },
  });
  srf = await connectApp(h, (app) => {
    const record = (req: SrfReq): void => void seen.set(req.get('Call-ID'), { protocol: req.protocol, receivedOn: req.receivedOn, via: req.get('Via') });
    app.use('options', ((req: SrfReq, res: SrfRes) => {
      record(req);
      res.send(200);
    }) as never);
    app.use('register', ((req: SrfReq, res: SrfRes) => {
      record(req);
      res.send(200, { headers: { Contact: req.get('Contact'), Expires: '300' } });
    }) as never);
  });
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  disconnectApp(srf);
  await h?.stop();
});

const url = (): string => `ws://127.0.0.1:${h.listener('ws').port}`;

async function open(): Promise<WsSipClient> {
  const c = await WsSipClient.open(url());
  clients.push(c);
  return c;
}

/** A request context as a browser writes it: an `.invalid` host in Via and Contact (RFC 7118 §5.2). */
function ctx(): CaseContext {
  counter++;
  return { transport: 'WS', host: `b${counter}x${process.pid}.invalid`, port: 5060, id: `ws${process.pid}n${counter}` };
}

const statusOf = (m: string): number | undefined => {
  const x = /^SIP\/2\.0 (\d{3})/.exec(m);
  return x === null ? undefined : Number(x[1]);
};
const forCall = (c: CaseContext) => (m: string): boolean => m.includes(`Call-ID: ${callIdOf(c)}`);

/** The server still answers a fresh client. */
async function stillServes(): Promise<void> {
  const c = await open();
  const k = ctx();
  c.send(requestBytes(k).toString());
  expect(statusOf((await c.waitFor(forCall(k))) ?? '')).toBe(200);
}

describe('what a drachtio-srf app is told (drachtio spec §1.4, §1.7)', () => {
  it('authenticate lists the WS listener as ws/host:port, as the reference lists its transports', async () => {
    const p = await ControlPeer.connect(h.controlPort);
    try {
      const r = await p.authenticate(SECRET);
      const ws = `ws/127.0.0.1:${h.listener('ws').port}`;
      expect(r.tokens[4]?.split(',')).toContain(ws);
      expect(r.tokens[6]?.split(',')).toContain(ws);
    } finally {
      p.close();
    }
  });
});

describe('the handshake (RFC 7118 §4)', () => {
  it('an upgrade offering sip is accepted with the sip subprotocol', async () => {
    expect((await open()).protocol).toBe('sip');
  });

  it('an upgrade without the sip subprotocol is refused with 400; a plain HTTP request gets 426', async () => {
    const before = h.server.status().refusedConnections;
    await expect(WsSipClient.open(url(), { protocols: ['chat'] })).rejects.toThrow('HTTP 400');
    await expect(WsSipClient.open(url(), { protocols: [] })).rejects.toThrow('HTTP 400');
    expect(h.server.status().refusedConnections).toBe(before + 2);
    const res = await fetch(`http://127.0.0.1:${h.listener('ws').port}/`);
    expect(res.status).toBe(426);
    await res.text();
  });
});

describe('SIP in WebSocket messages (RFC 7118 §5)', () => {
  it('an OPTIONS in a text frame is answered in one text frame; Via gets received and rport; the app sees the connection as drachtio reports WS', async () => {
    const c = await open();
    const k = ctx();
    c.send(requestBytes(k).toString());
    const answer = (await c.waitFor(forCall(k))) ?? '';
    expect(statusOf(answer)).toBe(200);
    expect(answer).toMatch(new RegExp(`^Via: SIP/2\\.0/WS ${k.host}:5060;branch=z9hG4bK${k.id};rport=${c.localPort};received=127\\.0\\.0\\.1\\r$`, 'm'));
    expect(seen.get(callIdOf(k))).toEqual({ protocol: 'tcp', receivedOn: `127.0.0.1:${h.listener('ws').port}`, via: expect.stringMatching(/^SIP\/2\.0\/WS /) as string });
  });

  it('without Content-Length, and in a binary frame, a request is still one whole message', async () => {
    const c = await open();
    const a = ctx();
    c.send(requestBytes(a, { contentLength: null }).toString());
    expect(statusOf((await c.waitFor(forCall(a))) ?? '')).toBe(200);
    const b = ctx();
    c.send(requestBytes(b), true);
    expect(statusOf((await c.waitFor(forCall(b))) ?? '')).toBe(200);
  });

  it('a well-framed request that breaks the grammar gets 400 and the connection stays open', async () => {
    const c = await open();
    const bad = ctx();
    c.send(requestBytes(bad, { from: '<sip:robot@example.org>' }).toString());
    const answer = (await c.waitFor(forCall(bad))) ?? '';
    expect(answer).toMatch(/^SIP\/2\.0 400 Bad Request \(missing From tag\)/);
    const next = ctx();
    c.send(requestBytes(next).toString());
    expect(statusOf((await c.waitFor(forCall(next))) ?? '')).toBe(200);
  });

  it('a double-CRLF keep-alive gets a CRLF back (RFC 5626 §3.5.1)', async () => {
    const c = await open();
    c.send('\r\n\r\n');
    expect(await c.waitFor((m) => m === '\r\n')).toBe('\r\n');
  });
});

describe('requests from the server reach a WebSocket client over its connection (RFC 7118 §5.3, drachtio spec §2.9)', () => {
  it('after REGISTER, a request to the registered Contact goes over that connection; when it closes, the app is told why', async () => {
    const c = await open();
    const k = ctx();
    const contact = `sip:agent${k.id}@${k.host};transport=ws`;
    c.send(requestBytes(k, { method: 'REGISTER', uri: 'sip:example.org', contact: `<${contact}>;expires=600` }).toString());
    expect(statusOf((await c.waitFor(forCall(k))) ?? '')).toBe(200);
    expect(h.server.status().registeredFlows).toBe(1);
    answerRequests(c, contact);
    const res = await sendRequest(srf, contact, 'OPTIONS');
    expect(res.status).toBe(200);
    const got = (await c.waitFor((m) => m.startsWith('OPTIONS '))) ?? '';
    expect(got).toMatch(new RegExp(`^OPTIONS ${contact.replace(/[.;]/g, '\\$&')} SIP/2\\.0\\r\\nVia: SIP/2\\.0/WS 127\\.0\\.0\\.1:${h.listener('ws').port};branch=z9hG4bK`));
    c.close();
    await eventually(() => h.server.status().registeredFlows === 0, 10_000, 'flow forgotten');
    await expect(sendRequest(srf, contact, 'OPTIONS')).rejects.toThrow(/no connection to .*\.invalid/);
  });

  it('a client that reconnects and registers again is reached over its new connection, inside a dialog too', async () => {
    const k = ctx();
    const contact = `sip:agent${k.id}@${k.host};transport=ws`;
    const register = (c: WsSipClient, n: number): void => c.send(requestBytes({ ...k, id: `${k.id}r${n}` }, { method: 'REGISTER', uri: 'sip:example.org', contact: `<${contact}>;expires=600`, cseq: `${n} REGISTER` }).toString());
    const first = await open();
    answerRequests(first, contact);
    register(first, 1);
    await first.waitFor((m) => statusOf(m) === 200);
    const dialog = await srf.createUAC(contact, { localSdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' });
    expect(await first.waitFor((m) => m.startsWith('ACK '))).toBeDefined();
    first.close();
    await eventually(() => h.server.status().registeredFlows === 0, 10_000, 'old flow forgotten');
    const second = await open();
    answerRequests(second, contact);
    register(second, 2);
    await second.waitFor((m) => statusOf(m) === 200);
    dialog.destroy();
    expect(await second.waitFor((m) => m.startsWith('BYE '))).toBeDefined();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialog gone');
  });
});

describe('hostile input: refused, connection closed, server still serving', () => {
  it('a message over the size limit: closed with 1009 (message too big)', async () => {
    const c = await open();
    const k = ctx();
    c.send(requestBytes(k, { extra: [`X-Pad: ${'p'.repeat(MAX)}`] }).toString());
    expect((await c.waitClosed())?.code).toBe(1009);
    expect(seen.has(callIdOf(k))).toBe(false);
    await stillServes();
  });

  it('bytes that are not SIP, in a text or a binary frame: closed with 1003, nothing answered', async () => {
    for (const [data, binary] of [
      ['hello world', false],
      [Buffer.from([0, 1, 2, 3, 0xff, 0xfe]), true],
    ] as const) {
      const c = await open();
      c.send(data, binary);
      expect((await c.waitClosed())?.code).toBe(1003);
      expect(c.received).toEqual([]);
    }
    await stillServes();
  });

  it('two SIP messages in one WebSocket message: 400 with the reason, then closed with 1002; neither reaches the app', async () => {
    const c = await open();
    const a = ctx();
    const b = ctx();
    c.send(Buffer.concat([requestBytes(a), requestBytes(b)]).toString());
    expect((await c.waitFor(forCall(a))) ?? '').toMatch(/^SIP\/2\.0 400 Bad Request \(more than one SIP message in one WebSocket message\)/);
    expect((await c.waitClosed())?.code).toBe(1002);
    expect(seen.has(callIdOf(a)) || seen.has(callIdOf(b))).toBe(false);
    await stillServes();
  });

  it('a partial message (body shorter than Content-Length): 400, closed with 1002', async () => {
    const c = await open();
    const k = ctx();
    const whole = requestBytes(k, { extra: ['Content-Type: text/plain'], body: 'twelve bytes' });
    c.send(whole.subarray(0, whole.length - 4).toString());
    expect((await c.waitFor(forCall(k))) ?? '').toMatch(/^SIP\/2\.0 400 Bad Request \(partial SIP message/);
    expect((await c.waitClosed())?.code).toBe(1002);
    await stillServes();
  });

  it('invalid UTF-8 in a text frame: closed with 1007', async () => {
    const { socket, closed } = await rawWebSocket(h.listener('ws').port);
    socket.write(clientFrame(1, Buffer.from([0x4f, 0x50, 0xc3, 0x28, 0xff])));
    const reply = await new Promise<Buffer>((resolve) => socket.once('data', (d: Buffer) => resolve(d)));
    expect(reply[0]! & 0x0f, 'a close frame').toBe(8);
    expect(reply.readUInt16BE(2)).toBe(1007);
    await closed;
    await stillServes();
  });

  it('a client that stops answering pings (half-open) is disconnected; one that answers stays', async () => {
    const pinging = await startServer({ listen: [{ transport: 'ws', host: '127.0.0.1', port: 0 }], connections: { keepAliveMs: KEEPALIVE_MS } });
    try {
      const at = `ws://127.0.0.1:${pinging.listener('ws').port}`;
      const silent = await WsSipClient.open(at, { autoPong: false });
      const live = await WsSipClient.open(at);
      clients.push(silent, live);
      expect(await silent.waitClosed(10 * KEEPALIVE_MS + 5000)).toBeDefined();
      expect(await live.waitClosed(3 * KEEPALIVE_MS), 'a client answering pings stays connected').toBeUndefined();
    } finally {
      await pinging.stop();
    }
  });

  it('a client that trickles a message (slow loris) is cut off at the message deadline, before it finishes', async () => {
    const { socket, closed } = await rawWebSocket(h.listener('ws').port);
    const frame = clientFrame(1, requestBytes(ctx()));
    let sent = 0;
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    // One byte every 100 ms would take minutes; the deadline (64·T1 = 3.2 s) comes first.
    while (!isClosed && sent < frame.length - 1) {
      socket.write(frame.subarray(sent, sent + 1));
      sent++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(isClosed).toBe(true);
    expect(sent).toBeLessThan(frame.length - 1);
    await stillServes();
  });
});

/** Makes `c` answer every request the server sends it as a UA at `contact` would: 200 (with SDP to an INVITE); ACKs need nothing. */
function answerRequests(c: WsSipClient, contact: string): void {
  c.ws.on('message', (data: Buffer) => {
    const parsed = parseMessage(Buffer.from(data));
    if (!parsed.ok || parsed.message.kind !== 'request' || parsed.message.method === 'ACK') return;
    const hd = parsed.message.headers;
    const body = parsed.message.method === 'INVITE' ? 'v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n' : '';
    const to = hd.get('to') ?? '';
    const lines = [
      'SIP/2.0 200 OK',
      ...hd.values('via').map((v) => `Via: ${v}`),
      `From: ${hd.get('from') ?? ''}`,
      `To: ${/;tag=/.test(to) ? to : `${to};tag=ws1`}`,
      `Call-ID: ${hd.get('call-id') ?? ''}`,
      `CSeq: ${hd.get('cseq') ?? ''}`,
      ...(parsed.message.method === 'INVITE' ? [`Contact: <${contact}>`, 'Content-Type: application/sdp'] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ];
    c.send(lines.join('\r\n'));
  });
}
