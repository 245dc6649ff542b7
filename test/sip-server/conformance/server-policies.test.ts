/**
 * What the server answers by itself (drachtio spec §2.2, RFC 3261 §8.2 and
 * §12.2.2): overload, an app that never answers, dialog-only methods out of a
 * dialog, unknown URI schemes, unknown dialogs, and out-of-order CSeq.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPeer } from '../../support/control-peer.js';
import { SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

let h: Harness | undefined;
const closers: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await h?.stop();
});

async function setup(over: Parameters<typeof startServer>[0] = {}): Promise<{ h: Harness; sip: SipPeer; app: ControlPeer }> {
  h = await startServer(over);
  const sip = await SipPeer.create('udp');
  closers.push(() => sip.close());
  const app = await ControlPeer.connect(h.controlPort);
  closers.push(() => app.close());
  await app.authenticate(SECRET);
  for (const v of ['invite', 'options', 'info']) await app.reply(app.send(`route|${v}`));
  return { h, sip, app };
}

describe('responses the server gives by itself', () => {
  it('overload: above maxPendingInvites new INVITEs get 503 with Retry-After, and pass again once the app answers', async () => {
    const { h, sip, app } = await setup({ maxPendingInvites: 2 });
    const port = h.udp.port;
    for (let i = 0; i < 3; i++) await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: `ov-${i}`, body: sdp(4000) }), { port });
    const busy = await sip.waitResponse(503, 'INVITE');
    expect(busy.info.callId).toBe('ov-2');
    expect(busy.message.headers.get('retry-after')).toBe('5');
    expect(h.server.status().overloaded).toBe(1);
    const first = await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.includes('ov-0'));
    await app.reply(app.send(`sip|${first.tokens[8]}|`, 'SIP/2.0 486 Busy Here\r\nCall-ID: ov-0\r\n\r\n'));
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId: 'ov-3', body: sdp(4000) }), { port });
    await app.wait((f) => f.tokens[1] === 'sip' && f.sip!.includes('ov-3'));
  });

  it('an app that never answers: the request gets 500 after appResponseTimeoutMs', async () => {
    const { h, sip } = await setup({ timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 300 } });
    await sip.send(request({ method: 'OPTIONS', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip }), { port: h.udp.port });
    const r = await sip.waitResponse(500, 'OPTIONS', 2000);
    expect(r.message.kind === 'response' && r.message.reason).toContain('application did not respond');
    expect(h.server.status().pendingAppRequests).toBe(0);
  });

  it('an INVITE the app keeps ringing: each provisional it sends starts its time again (RFC 3261 §13.3.1.1), so a long hunt is not cut with 500', async () => {
    // 4 s to answer; the app rings at once and again after 2.5 s, and answers after 5 s: past 4 s since the INVITE,
    // under 4 s since its last 180.
    const { h, sip, app } = await setup({ timers: { t1Ms: 40, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 4000 } });
    const port = h.udp.port;
    const callId = uniq('long');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId, body: sdp(4000) }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip' && x.sip!.includes(callId));
    const ring = (): Promise<unknown> => app.reply(app.send(`sip|${f.tokens[8]}|`, `SIP/2.0 180 Ringing\r\nCall-ID: ${callId}\r\n\r\n`));
    await ring();
    await sip.waitResponse(180, 'INVITE');
    await new Promise((r) => setTimeout(r, 2500));
    await ring();
    await new Promise((r) => setTimeout(r, 2500));
    await app.reply(app.send(`sip|${f.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`));
    await sip.waitResponse(200, 'INVITE', 5000);
    expect(sip.received.some((r) => r.message.kind === 'response' && r.message.status === 500)).toBe(false);
  });

  it('BYE, UPDATE, PRACK and INFO outside a dialog get 481 (INFO even when an app routes it: RFC 6086); a request inside an unknown dialog gets 481; a stray ACK gets nothing', async () => {
    const { h, sip, app } = await setup();
    const port = h.udp.port;
    for (const method of ['BYE', 'UPDATE', 'PRACK', 'INFO']) {
      await sip.send(request({ method, uri: `sip:1000@127.0.0.1:${port}`, peer: sip }), { port });
      await sip.waitResponse(481, method);
    }
    await sip.send(request({ method: 'INFO', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, toTag: 'nosuch' }), { port });
    await sip.waitResponse(481, 'INFO');
    await sip.send(request({ method: 'ACK', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, toTag: 'nosuch' }), { port });
    expect(await sip.quiet(() => true, 150)).toEqual([]);
    expect(app.frames.filter((f) => f.tokens[1] === 'sip')).toEqual([]);
  });

  it('a Request-URI with an unsupported scheme gets 416 (RFC 3261 §8.2.2.1); tel: reaches the app', async () => {
    const { h, sip, app } = await setup();
    const port = h.udp.port;
    await sip.send(request({ method: 'INVITE', uri: 'urn:service:sos', peer: sip, body: sdp(4000) }), { port });
    await sip.waitResponse(416, 'INVITE');
    await sip.send(request({ method: 'INVITE', uri: 'tel:+15550100', peer: sip, body: sdp(4000) }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    expect(f.sip).toMatch(/^INVITE tel:\+15550100 SIP\/2\.0/);
  });

  it('an in-dialog request with a CSeq lower than the last one gets 500, an equal one passes (RFC 3261 §12.2.2)', async () => {
    const { h, sip, app } = await setup();
    const port = h.udp.port;
    const callId = uniq('cs');
    const fromTag = uniq('f');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${port}`, peer: sip, callId, fromTag, cseq: 10, body: sdp(4000) }), { port });
    const f = await app.wait((x) => x.tokens[1] === 'sip');
    await app.reply(app.send(`sip|${f.tokens[8]}|`, `SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`));
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(request({ method: 'INFO', uri: 'sip:x@127.0.0.1', peer: sip, callId, fromTag, toTag: ok.info.toTag!, cseq: 9, to: '<sip:1000@x>' }), { port });
    const r = await sip.waitResponse(500, 'INFO');
    expect(r.message.kind === 'response' && r.message.reason).toContain('CSeq out of order');
    // Equal is not lower: processed (§12.2.2 rejects only a lower number).
    await sip.send(request({ method: 'INFO', uri: 'sip:x@127.0.0.1', peer: sip, callId, fromTag, toTag: ok.info.toTag!, cseq: 10, to: '<sip:1000@x>' }), { port });
    const info = await app.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INFO'));
    expect(info.sip).toContain('CSeq: 10 INFO');
  });

  it('a request that Requires an extension we lack gets 420 with Unsupported (RFC 3261 §8.2.2.3)', async () => {
    const { h, sip, app } = await setup();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), extra: ['Require: 100rel, timer, x-foo'] }), { port: h.udp.port });
    const r = await sip.waitResponse(420, 'INVITE');
    // 100rel is implemented; timer is, but these tests run with session timers off.
    expect(r.message.headers.get('unsupported')).toBe('timer, x-foo');
    expect(app.frames.filter((f) => f.tokens[1] === 'sip')).toEqual([]);
  });

  it('the same request arriving again on another branch (forked upstream) gets 482 (RFC 3261 §8.2.2.2)', async () => {
    const { h, sip, app } = await setup();
    const callId = uniq('m');
    const fromTag = uniq('f');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
    await app.wait((f) => f.tokens[1] === 'sip');
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
    await sip.waitResponse(482, 'INVITE');
    expect(app.frames.filter((f) => f.tokens[1] === 'sip').length).toBe(1);
  });

  it('an INVITE without Contact gets 400 (RFC 3261 §8.1.1.8)', async () => {
    const { h, sip } = await setup();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), contact: null }), { port: h.udp.port });
    const r = await sip.waitResponse(400, 'INVITE');
    expect(r.message.kind === 'response' && r.message.reason).toContain('missing Contact');
  });

  it('early dialog: after a 1xx with a tag, the app can send PRACK/UPDATE to the callee before the 2xx (RFC 3261 §12.1.2)', async () => {
    const { h, sip, app } = await setup();
    const echo = await app.reply(app.send('sip||', `INVITE sip:callee@127.0.0.1:${sip.port} SIP/2.0\r\n\r\n${sdp(7000)}`));
    const inv = await sip.nextRequest('INVITE');
    await sip.send(respond(inv, 183, 'Session Progress', { toTag: 'early1', contact: `<sip:callee-target@127.0.0.1:${sip.port}>`, extra: ['RSeq: 1', 'Require: 100rel'], body: sdp(8000) }), { port: h.udp.port });
    const f183 = await app.wait((x) => x.tokens[8] === echo.tokens[10] && x.sip!.startsWith('SIP/2.0 183'));
    const prackEcho = await app.reply(app.send(`sip||${f183.tokens[9]}`, `PRACK sip:placeholder SIP/2.0\r\nRAck: 1 ${inv.info.cseq} INVITE\r\n\r\n`));
    expect(prackEcho.tokens[3]).toBe('OK');
    const prack = await sip.waitRequest('PRACK');
    expect(prack.info.toTag).toBe('early1');
    expect(prack.message.kind === 'request' && prack.message.uri).toBe(`sip:callee-target@127.0.0.1:${sip.port}`);
    expect(prack.message.headers.get('rack')).toBe(`1 ${inv.info.cseq} INVITE`);
  });
});

describe('slow TCP senders', () => {
  it('a TCP connection that starts a message and does not finish it within 64·T1 is closed', async () => {
    h = await startServer({ timers: { t1Ms: 20, t2Ms: 160, t4Ms: 200, appResponseTimeoutMs: 5000 } });
    const { createConnection } = await import('node:net');
    const c = createConnection({ host: '127.0.0.1', port: h.tcp.port });
    closers.push(() => void c.destroy());
    await new Promise<void>((r) => c.once('connect', () => r()));
    const closed = new Promise<number>((r) => c.once('close', () => r(Date.now())));
    const start = Date.now();
    c.write('OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKslow\r\n');
    const t = await closed; // the test's timeout bounds how late: no figure a busy machine could miss
    expect(t - start).toBeGreaterThanOrEqual(64 * 20 - 50);
  });
});
