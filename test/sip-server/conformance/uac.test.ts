/**
 * Conformance, srf.createUAC and srf.request (spec §3 items 18–27): the app
 * asks the server to send; a SIP peer plays the called party.
 */
import { createSocket } from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer, type Frame } from '../../support/control-peer.js';
import { connectApp, dialogIdOf, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

const T1 = 40;
let h: Harness;
let callee: SipPeer;
let p: ControlPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  callee = await SipPeer.create('udp');
  p = await ControlPeer.connect(h.controlPort);
  await p.authenticate(SECRET);
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  p.close();
  await callee.close();
  await h.stop();
});

const target = (): string => `sip:agent@127.0.0.1:${callee.port}`;

/** Sends an app request frame and returns the echo. */
async function appRequest(sip: string, dialogId = '', txnId = '', proxy?: string): Promise<Frame> {
  return p.reply(p.send(`sip|${txnId}|${dialogId}${proxy !== undefined ? `|${proxy}` : ''}`, sip));
}

function responseFrames(txn: string): Frame[] {
  return p.frames.filter((f) => f.tokens[1] === 'sip' && f.tokens[8] === txn);
}

async function inviteOut(extra = ''): Promise<{ echo: Frame; inv: Received; txn: string }> {
  const echo = await appRequest(`INVITE ${target()} SIP/2.0\r\n${extra}Content-Length: 999\r\n\r\n${sdp(7000)}`);
  expect(echo.tokens[3]).toBe('OK');
  const inv = await callee.nextRequest('INVITE');
  return { echo, inv, txn: echo.tokens[10]! };
}

describe('srf.createUAC (spec §3 items 18–27)', () => {
  it('item 18: a skeletal INVITE goes out complete: From with tag, To = R-URI, Call-ID, CSeq, Via branch, Max-Forwards, Contact, Content-Type', async () => {
    const { inv } = await inviteOut('X-Call-Leg: B\r\n');
    const hd = inv.message.headers;
    expect(inv.message.kind === 'request' && inv.message.uri).toBe(target());
    expect(hd.get('via')).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${h.udp.port};branch=z9hG4bK[\\w-]+;rport$`));
    expect(hd.get('max-forwards')).toBe('70');
    expect(hd.get('from')).toMatch(new RegExp(`^<sip:127\\.0\\.0\\.1:${h.udp.port}>;tag=\\w+$`));
    expect(hd.get('to')).toBe(`<${target()}>`);
    expect(hd.get('call-id')).toMatch(/^\w+@127\.0\.0\.1$/);
    expect(hd.get('cseq')).toMatch(/^\d+ INVITE$/);
    expect(hd.get('contact')).toBe(`<sip:127.0.0.1:${h.udp.port}>`);
    expect(hd.get('content-type')).toBe('application/sdp');
    expect(hd.get('content-length')).toBe(String(Buffer.byteLength(sdp(7000))));
    expect(hd.get('x-call-leg')).toBe('B');
  });

  it('item 18: app-given Call-ID, From (tag, @localhost substituted) and CSeq are honoured', async () => {
    const { inv } = await inviteOut('Call-ID: given-call-id\r\nFrom: "Agent" <sip:+15551234@localhost>;tag=given-tag\r\nCSeq: 42 INVITE\r\n');
    const hd = inv.message.headers;
    expect(hd.get('call-id')).toBe('given-call-id');
    expect(hd.get('from')).toBe(`"Agent" <sip:+15551234@127.0.0.1:${h.udp.port}>;tag=given-tag`);
    expect(hd.get('cseq')).toBe('42 INVITE');
  });

  it('item 19: the echo is OK|meta|txn|Msg sent:| and its SIP part equals what went on the wire', async () => {
    const { echo, inv } = await inviteOut();
    expect(echo.tokens.slice(3, 5)).toEqual(['OK', 'application']);
    expect(echo.tokens[5]).toBe(String(inv.bytes.length));
    expect(echo.tokens[6]).toBe('udp');
    expect(echo.tokens[10]).toMatch(/^[0-9a-f-]{36}$/);
    expect(echo.tokens.slice(11)).toEqual(['Msg sent:', '']);
    expect(echo.sip).toBe(inv.raw);
  });

  it('item 20: every response (1xx, 2xx) reaches the app with the same txn id and dialog id <callid>;from-tag=<our tag>', async () => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    await callee.send(respond(inv, 100, 'Trying'), { port: h.udp.port });
    await callee.send(respond(inv, 180, 'Ringing', { toTag: 'callee1' }), { port: h.udp.port });
    await callee.send(respond(inv, 200, 'OK', { toTag: 'callee1', contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 3);
    const frames = responseFrames(txn);
    expect(frames.map((f) => /^SIP\/2\.0 (\d+)/.exec(f.sip!)![1])).toEqual(['100', '180', '200']);
    for (const f of frames) {
      expect(f.tokens[9]).toBe(dialogId);
      expect(f.tokens[2]).toBe('network');
      expect(f.tokens[5]).toBe('127.0.0.1');
      expect(f.tokens[6]).toBe(String(callee.port));
    }
  });

  it('a response with more than one Via is discarded (RFC 3261 §8.1.3.3): the app sees only the one meant for us', async () => {
    const { inv, txn } = await inviteOut();
    const extraVia = respond(inv, 180, 'Ringing', { toTag: 'callee1' }).replace(/^(Via: [^\r]*)\r\n/m, '$1\r\nVia: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKsomeoneelse\r\n');
    expect(extraVia.match(/^Via:/gm)).toHaveLength(2);
    const strayBefore = h.server.status().strayResponses;
    await callee.send(extraVia, { port: h.udp.port });
    await eventually(() => h.server.status().strayResponses === strayBefore + 1, 10_000, 'the two-Via 180 counted as stray');
    await callee.send(respond(inv, 183, 'Session Progress', { toTag: 'callee1' }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    expect(responseFrames(txn).map((f) => /^SIP\/2\.0 (\d+)/.exec(f.sip!)![1])).toEqual(['183']);
  });

  it.each([
    ['no Contact', undefined],
    ['a tel: Contact', '<tel:+15550100>'],
  ])('a 2xx with %s cannot make a dialog (RFC 3261 §8.1.1.8): ACKed and BYEd at the INVITE’s target, the app gets 502, nothing is left', async (_name, contact) => {
    const { inv, txn } = await inviteOut();
    await callee.send(respond(inv, 200, 'OK', { toTag: 'callee1', body: sdp(8000), ...(contact !== undefined ? { contact } : {}) }), { port: h.udp.port });
    const ack = await callee.nextRequest('ACK');
    expect(ack.message.kind === 'request' && ack.message.uri).toBe(target());
    const bye = await callee.nextRequest('BYE');
    expect(bye.message.kind === 'request' && bye.message.uri).toBe(target());
    expect(bye.info.toTag).toBe('callee1');
    await callee.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    expect(responseFrames(txn)[0]!.sip!.split('\r\n')[0]).toBe('SIP/2.0 502 Bad Gateway (a 2xx without a SIP Contact)');
    await eventually(() => h.server.status().dialogs === 0, 10_000, () => `no dialog left: ${JSON.stringify(h.server.status())}`);
  });

  it('a TCP callee that closes its connection right after its 200: the ACK goes over a new connection (RFC 3261 §18.1.1), not into the closing one', async () => {
    const tcp = await SipPeer.create('tcp');
    closers.push(() => tcp.close());
    const to = `sip:agent@127.0.0.1:${tcp.port};transport=tcp`;
    const echo = await appRequest(`INVITE ${to} SIP/2.0\r\nContent-Length: 999\r\n\r\n${sdp(7000)}`);
    const txn = echo.tokens[10]!;
    const inv = await tcp.nextRequest('INVITE');
    expect(tcp.accepted).toBe(1);
    await tcp.send(respond(inv, 200, 'OK', { toTag: 'callee1', contact: `<${to}>`, body: sdp(8000) }), { port: inv.from.port });
    tcp.endAccepted();
    await eventually(() => responseFrames(txn).length === 1);
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    const ack = await appRequest(`ACK ${to} SIP/2.0\r\nCSeq: ${inv.info.cseq} ACK\r\n\r\n`, dialogId);
    expect(ack.tokens[3]).toBe('OK');
    const got = await tcp.nextRequest('ACK');
    expect(got.info.toTag).toBe('callee1');
    expect(tcp.accepted).toBe(2);
  });

  it('item 21: for ≥300 the server ACKs by itself; the app’s ACK gets NOK and no second ACK goes out', async () => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    await callee.send(respond(inv, 486, 'Busy Here', { toTag: 'x1' }), { port: h.udp.port });
    const ack = await callee.waitRequest('ACK');
    expect(ack.message.headers.get('cseq')).toBe(`${inv.info.cseq} ACK`);
    expect(ack.info.via.branch).toBe(inv.info.via.branch);
    expect(ack.info.toTag).toBe('x1');
    await eventually(() => responseFrames(txn).length === 1);
    const r = await appRequest('ACK sip:whatever SIP/2.0\r\nContent-Length: 0\r\n\r\n', dialogId);
    expect(r.tokens.slice(3)).toEqual(['NOK', 'ACK for non-success responses is automatically generated by the stack']);
    expect(await callee.quiet((x) => x.message.kind === 'request' && x.message.method === 'ACK', 150)).toEqual([]);
  });

  it('item 22: on 2xx the app’s ACK goes to the remote target with the INVITE’s CSeq (3pcc body kept); a retransmitted 2xx is re-ACKed without the app', async () => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    const ok = respond(inv, 200, 'OK', { toTag: 'c2', contact: `<sip:agent-target@127.0.0.1:${callee.port}>`, body: sdp(8000) });
    await callee.send(ok, { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    const echo = await appRequest(`ACK sip:ignored@example.com SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n${sdp(7002)}`, dialogId);
    expect(echo.tokens[3]).toBe('OK');
    const ack = await callee.waitRequest('ACK');
    expect(ack.message.kind === 'request' && ack.message.uri).toBe(`sip:agent-target@127.0.0.1:${callee.port}`);
    expect(ack.message.headers.get('cseq')).toBe(`${inv.info.cseq} ACK`);
    expect(ack.info.toTag).toBe('c2');
    expect(ack.message.body.toString()).toBe(sdp(7002));
    expect(ack.info.via.branch).not.toBe(inv.info.via.branch);
    const framesBefore = p.frames.filter((f) => f.tokens[1] === 'sip').length;
    await callee.send(ok, { port: h.udp.port }); // retransmitted 2xx
    const again = await callee.waitRequest('ACK');
    expect(again.raw).toBe(ack.raw);
    await p.barrier(); // had the retransmitted 2xx been forwarded, its frame would be here by now
    expect(p.frames.filter((f) => f.tokens[1] === 'sip')).toHaveLength(framesBefore);
  });

  it('a callee’s BYE that overtakes a 2xx’s ACK the app never sends reaches the app all the same (after 8·T1)', async () => {
    const { inv, txn } = await inviteOut();
    await callee.send(respond(inv, 200, 'OK', { toTag: 'h2', contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    await callee.send(request({ method: 'BYE', uri: `sip:127.0.0.1:${h.udp.port}`, peer: callee, callId: inv.info.callId, fromTag: 'h2', toTag: inv.info.fromTag, cseq: 1 }), { port: h.udp.port });
    const bye = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('BYE '), 8 * T1 + 10_000, 'the BYE handed on');
    expect(bye.tokens[9]).toBe(`${inv.info.callId};from-tag=${inv.info.fromTag}`);
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('item 23: CANCEL goes out with the INVITE’s branch and CSeq number plus app headers; its 200 is not forwarded, the 487 is; an unknown txn gets NOK', async () => {
    const { inv, txn } = await inviteOut();
    await callee.send(respond(inv, 180, 'Ringing', { toTag: 'c3' }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    const echo = await appRequest(`CANCEL ${target()} SIP/2.0\r\nReason: Q.850;cause=16\r\nContent-Length: 0\r\n\r\n`, '', txn);
    expect(echo.tokens[3]).toBe('OK');
    const cancel = await callee.waitRequest('CANCEL');
    expect(cancel.info.via.branch).toBe(inv.info.via.branch);
    expect(cancel.message.headers.get('cseq')).toBe(`${inv.info.cseq} CANCEL`);
    expect(cancel.message.headers.get('reason')).toBe('Q.850;cause=16');
    expect(cancel.message.kind === 'request' && cancel.message.uri).toBe(target());
    await callee.send(respond(cancel, 200, 'OK', { toTag: 'c3' }), { port: h.udp.port });
    await callee.send(respond(inv, 487, 'Request Terminated', { toTag: 'c3' }), { port: h.udp.port });
    await callee.waitRequest('ACK');
    await eventually(() => responseFrames(txn).length === 2);
    expect(responseFrames(txn).map((f) => /^SIP\/2\.0 (\d+)/.exec(f.sip!)![1])).toEqual(['180', '487']);
    expect(p.frames.some((f) => f.tokens[1] === 'sip' && /CSeq: \d+ CANCEL/.test(f.sip ?? '') && f.sip!.startsWith('SIP/2.0 200'))).toBe(false);
    const unknown = await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', 'nope');
    expect(unknown.tokens.slice(3)).toEqual(['NOK', 'unable to cancel unknown transaction id: nope']);
  });

  it('a callee that rang, took the CANCEL and never sent a final response: 64·T1 later the INVITE transaction is destroyed, the app gets 487, nothing is left (RFC 3261 §9.1)', async () => {
    const { inv, txn } = await inviteOut();
    await callee.send(respond(inv, 180, 'Ringing', { toTag: 'gone' }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', txn);
    const cancel = await callee.waitRequest('CANCEL');
    await callee.send(respond(cancel, 200, 'OK', { toTag: 'gone' }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 2, 64 * T1 + 5000, 'a final response for the app');
    expect(responseFrames(txn).map((f) => /^SIP\/2\.0 (\d+)/.exec(f.sip!)![1])).toEqual(['180', '487']);
    await eventually(() => {
      const s = h.server.status();
      return s.clientTransactions === 0 && s.dialogs === 0 && s.timers === 0;
    }, 5000, 'nothing left');
  });

  it('item 23: a CANCEL asked for before any provisional response waits for one (RFC 3261 §9.1)', async () => {
    const { inv, txn } = await inviteOut();
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', txn);
    expect(await callee.quiet((x) => x.message.kind === 'request' && x.message.method === 'CANCEL', 150)).toEqual([]);
    await callee.send(respond(inv, 180, 'Ringing', { toTag: 'c9' }), { port: h.udp.port });
    await callee.waitRequest('CANCEL');
  });

  it('item 23: a 100 Trying is a provisional response: the CANCEL goes out at once, and a held one goes at the 100 (RFC 3261 §9.1)', async () => {
    // After a 100: at once.
    const first = await inviteOut();
    await callee.send(respond(first.inv, 100, 'Trying'), { port: h.udp.port });
    await eventually(() => responseFrames(first.txn).length === 1, 5000, 'the 100 given to the app');
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', first.txn);
    const c1 = await callee.waitRequest('CANCEL');
    expect(c1.info.callId).toBe(first.inv.info.callId);
    expect(c1.info.via.branch).toBe(first.inv.info.via.branch);
    await callee.send(respond(c1, 200, 'OK'), { port: h.udp.port });
    await callee.send(respond(first.inv, 487, 'Request Terminated', { toTag: 't1' }), { port: h.udp.port });
    await eventually(() => responseFrames(first.txn).some((f) => f.sip!.startsWith('SIP/2.0 487')), 5000, 'the 487 given to the app');
    // Asked for before any response: held, then sent when the 100 arrives.
    const second = await inviteOut();
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', second.txn);
    expect(await callee.quiet((x) => x.message.kind === 'request' && x.message.method === 'CANCEL' && x.info.callId === second.inv.info.callId, 150)).toEqual([]);
    await callee.send(respond(second.inv, 100, 'Trying'), { port: h.udp.port });
    const c2 = await callee.waitRequest('CANCEL');
    expect(c2.info.callId).toBe(second.inv.info.callId);
    await callee.send(respond(c2, 200, 'OK'), { port: h.udp.port });
    await callee.send(respond(second.inv, 487, 'Request Terminated', { toTag: 't2' }), { port: h.udp.port });
    await eventually(() => {
      const s = h.server.status();
      return s.dialogs === 0 && responseFrames(second.txn).some((f) => f.sip!.startsWith('SIP/2.0 487'));
    }, 5000, 'the second INVITE ended, its dialog gone');
  });

  it('item 23: a gateway that sent only 100 Trying and ignores the CANCEL: 64·T1 later the app gets 487 and nothing is left', async () => {
    const { inv, txn } = await inviteOut();
    await callee.send(respond(inv, 100, 'Trying'), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1, 5000, 'the 100 given to the app');
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', txn);
    await callee.waitRequest('CANCEL');
    callee.dropIf = () => true;
    await eventually(() => responseFrames(txn).some((f) => f.sip!.startsWith('SIP/2.0 487')), 64 * T1 + 5000, 'a 487 for the app');
    await eventually(() => {
      const s = h.server.status();
      return s.clientTransactions === 0 && s.dialogs === 0 && s.timers === 0;
    }, 5000, 'nothing left');
  });

  it('item 24: a 2xx that arrives after CANCEL is delivered; after the app’s ACK the server sends BYE and the unsolicited frame', async () => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    await callee.send(respond(inv, 180, 'Ringing', { toTag: 'c4' }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1);
    await appRequest(`CANCEL ${target()} SIP/2.0\r\n\r\n`, '', txn);
    const cancel = await callee.waitRequest('CANCEL');
    await callee.send(respond(cancel, 200, 'OK', { toTag: 'c4' }), { port: h.udp.port });
    await callee.send(respond(inv, 200, 'OK', { toTag: 'c4', contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 2);
    await appRequest('ACK sip:x SIP/2.0\r\n\r\n', dialogId);
    await callee.waitRequest('ACK');
    const bye = await callee.waitRequest('BYE');
    expect(bye.message.headers.get('reason')).toContain('ACK-BYE due to cancel race condition');
    const uns = await p.wait((f) => f.tokens[1] === 'sip' && f.tokens[8] === 'unsolicited');
    expect(uns.tokens[2]).toBe('application');
    expect(uns.tokens[9]).toBe(dialogId);
    expect(uns.sip).toBe(bye.raw);
    await callee.send(respond(bye, 200, 'OK'), { port: h.udp.port });
  });

  it('item 25: Timer B fires at 64·T1 and the app gets 408 with the txn id', async () => {
    callee.dropIf = () => true;
    const echo = await appRequest(`INVITE ${target()} SIP/2.0\r\n\r\n${sdp(7000)}`);
    const txn = echo.tokens[10]!;
    const start = Date.now();
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === txn, 64 * T1 + 15_000, '408 frame');
    expect(f.sip).toMatch(/^SIP\/2\.0 408 /);
    expect(Date.now() - start).toBeGreaterThanOrEqual(64 * T1 - 50);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'dialog removed');
  });

  it('item 26: the proxy token sends the request via that URI (loose route) keeping the R-URI; a request to ourselves gets NOK', async () => {
    const proxy = await SipPeer.create('udp');
    closers.push(() => proxy.close());
    const echo = await appRequest(`INVITE sip:far-away@198.51.100.1 SIP/2.0\r\n\r\n${sdp(1)}`, '', '', `sip:127.0.0.1:${proxy.port}`);
    expect(echo.tokens[3]).toBe('OK');
    const viaProxy = await proxy.nextRequest('INVITE');
    expect(viaProxy.message.kind === 'request' && viaProxy.message.uri).toBe('sip:far-away@198.51.100.1');
    expect(viaProxy.message.headers.get('route')).toBe(`<sip:127.0.0.1:${proxy.port};lr>`);
    const self = await appRequest(`OPTIONS sip:127.0.0.1:${h.udp.port} SIP/2.0\r\n\r\n`);
    expect(self.tokens.slice(3)).toEqual(['NOK', 'can not send request to myself']);
  });

  it('a UDP peer on the port number of our TCP listener is not ourselves: the request goes out (separate port spaces)', async () => {
    const sock = createSocket('udp4');
    closers.push(() => new Promise<void>((r) => sock.close(() => r())));
    const got = new Promise<string>((r) => sock.once('message', (m) => r(m.toString())));
    await new Promise<void>((r) => sock.bind(h.tcp.port, '127.0.0.1', () => r()));
    const echo = await appRequest(`OPTIONS sip:peer@127.0.0.1:${h.tcp.port} SIP/2.0\r\n\r\n`);
    expect(echo.tokens[3]).toBe('OK');
    expect(await got).toMatch(new RegExp(`^OPTIONS sip:peer@127\\.0\\.0\\.1:${h.tcp.port} SIP/2\\.0\r\n`));
    const self = await appRequest(`OPTIONS sip:127.0.0.1:${h.tcp.port};transport=tcp SIP/2.0\r\n\r\n`);
    expect(self.tokens.slice(3)).toEqual(['NOK', 'can not send request to myself']);
  });

  it('a proxy URI that already names lr gets no second lr; an unparsable Route from the app gets NOK with the reason', async () => {
    const proxy = await SipPeer.create('udp');
    closers.push(() => proxy.close());
    await appRequest(`OPTIONS sip:far-away@198.51.100.1 SIP/2.0\r\n\r\n`, '', '', `sip:127.0.0.1:${proxy.port};lr`);
    expect((await proxy.nextRequest('OPTIONS')).message.headers.get('route')).toBe(`<sip:127.0.0.1:${proxy.port};lr>`);
    const bad = await appRequest(`OPTIONS ${target()} SIP/2.0\r\nRoute: not a uri\r\n\r\n`);
    expect(bad.tokens.slice(3)).toEqual(['NOK', 'invalid Route "not a uri"']);
  });

  it('a request to port 0 (sip:x@host:0, which no socket can send to) fails that request alone: the app hears of it and the server goes on serving', async () => {
    for (const method of ['INVITE', 'OPTIONS']) {
      const echo = await appRequest(`${method} sip:x@127.0.0.1:0 SIP/2.0\r\n\r\n${method === 'INVITE' ? sdp(1) : ''}`);
      if (echo.tokens[3] === 'OK') {
        const txn = echo.tokens[10]!;
        const f = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === txn, 10_000, `the ${method}'s failure`);
        expect(f.sip).toMatch(/^SIP\/2\.0 5\d\d /);
      } else {
        expect(echo.tokens.slice(3)).toEqual(['NOK', expect.stringMatching(/port 0/)]);
      }
    }
    const { inv } = await inviteOut();
    expect(inv.message.kind === 'request' && inv.message.method).toBe('INVITE');
  });

  it('item 27: a non-INVITE request’s response reaches the app with an empty dialog id; a non-SDP body without Content-Type gets NOK', async () => {
    const echo = await appRequest(`OPTIONS ${target()} SIP/2.0\r\nUser-Agent: cc\r\n\r\n`);
    const txn = echo.tokens[10]!;
    const opt = await callee.waitRequest('OPTIONS');
    expect(opt.message.headers.get('user-agent')).toBe('cc');
    await callee.send(respond(opt, 200, 'OK', { toTag: 'o1' }), { port: h.udp.port });
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === txn);
    expect(f.tokens[9]).toBe('');
    expect(f.tokens[10]).toBe('');
    const bad = await appRequest(`MESSAGE ${target()} SIP/2.0\r\n\r\nhello there`);
    expect(bad.tokens.slice(3)).toEqual(['NOK', 'missing content-type']);
  });
});

describe('srf.createUAC with the unmodified drachtio-srf', () => {
  let srf: Srf;
  beforeEach(async () => {
    srf = await connectApp(h);
  });
  afterEach(() => disconnectApp(srf));

  it('createUAC resolves with a dialog on 200 and drachtio-srf ACKs through the server', async () => {
    const pending = srf.createUAC(target(), { localSdp: sdp(7000), headers: { 'X-Test': uniq('x') } });
    const inv = await callee.nextRequest('INVITE');
    await callee.send(respond(inv, 200, 'OK', { toTag: 'u1', contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
    const d = await pending;
    expect(dialogIdOf(d)).toBe(`${inv.info.callId};from-tag=${inv.info.fromTag}`);
    expect(d.remote.sdp).toBe(sdp(8000));
    await callee.waitRequest('ACK');
    const bye = callee.waitRequest('BYE');
    const destroyed = new Promise<void>((resolve) => d.destroy(undefined, () => resolve()));
    const b = await bye;
    await callee.send(respond(b, 200, 'OK'), { port: h.udp.port });
    await destroyed;
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('Route header fields from the app are a preloaded route set (RFC 3261 §8.1.2; a Path, RFC 3327): the INVITE and its CANCEL go to the first with them all and the Request-URI kept; the dialog then follows the 2xx’s Record-Route (§12.1.2)', async () => {
    const edge = await SipPeer.create('udp');
    closers.push(() => edge.close());
    const routes = [`<sip:127.0.0.1:${edge.port};lr;received=sip:127.0.0.1%3A${callee.port}>`, '<sip:edge2.example.invalid;lr>'];
    // Cancelled while ringing: the CANCEL takes the INVITE's route (§9.1).
    let sent: Srf.SrfRequest | undefined;
    const cancelled = srf.createUAC(target(), { localSdp: sdp(7000), headers: { Route: routes.join(', ') } }, {
      // drachtio-srf calls cbRequest(err, req); its typings say cbRequest(req).
      cbRequest: ((_e: unknown, req: Srf.SrfRequest) => (sent = req)) as unknown as (req: Srf.SrfRequest) => void,
    }).catch((e: unknown) => e);
    const first = await edge.nextRequest('INVITE');
    expect(first.message.uri).toBe(target());
    expect(first.message.headers.entries('route')).toEqual(routes);
    await edge.send(respond(first, 180, 'Ringing', { toTag: 'r1' }), { port: h.udp.port });
    await eventually(() => sent !== undefined);
    sent!.cancel(() => undefined);
    const cancel = await edge.nextRequest('CANCEL');
    expect(cancel.message.headers.entries('route')).toEqual(routes);
    await edge.send(respond(cancel, 200, 'OK'), { port: h.udp.port });
    await edge.send(respond(first, 487, 'Request Terminated', { toTag: 'r1' }), { port: h.udp.port });
    expect(await cancelled).toMatchObject({ status: 487 });
    // The ACK of a non-2xx is part of the INVITE transaction: the same Route (§17.1.1.3).
    expect((await edge.waitRequest('ACK')).message.headers.entries('route')).toEqual(routes);
    // Answered: the edge proxy record-routes itself, and the ACK and BYE follow that.
    const pending = srf.createUAC(target(), { localSdp: sdp(7000), headers: { Route: routes.join(', ') } });
    const inv = await edge.nextRequest('INVITE');
    const rr = `<sip:127.0.0.1:${edge.port};lr;ftag=e1>`;
    await edge.send(respond(inv, 200, 'OK', { toTag: 'p1', contact: `<${target()}>`, extra: [`Record-Route: ${rr}`], body: sdp(8000) }), { port: h.udp.port });
    const d = await pending;
    const ack = await edge.wait((r) => r.message.kind === 'request' && r.message.method === 'ACK' && r.info.callId === inv.info.callId, 10_000, 'ACK of the 2xx');
    expect(ack.message.headers.entries('route')).toEqual([rr]);
    const bye = edge.waitRequest('BYE');
    const destroyed = new Promise<void>((resolve) => d.destroy(undefined, () => resolve()));
    const b = await bye;
    expect(b.message.uri).toBe(target());
    expect(b.message.headers.entries('route')).toEqual([rr]);
    await edge.send(respond(b, 200, 'OK'), { port: h.udp.port });
    await destroyed;
    expect(callee.received).toHaveLength(0);
  });

  it('a BYE answered 401: the dialog stays for the app to send it again with credentials (RFC 3261 §22.2); an app that does not is let go 64·T1 later', async () => {
    const answered = async (tag: string): Promise<Srf.Dialog> => {
      const pending = srf.createUAC(target(), { localSdp: sdp(7000) });
      const inv = await callee.nextRequest('INVITE');
      await callee.send(respond(inv, 200, 'OK', { toTag: tag, contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
      const d = await pending;
      await callee.waitRequest('ACK');
      return d;
    };
    const challenge = ['WWW-Authenticate: Digest realm="gw", nonce="n1", algorithm=MD5'];
    // Sent again: the second BYE goes in the dialog with the next CSeq, and its 200 ends the dialog.
    const retried = await answered('b1');
    const first = retried.request({ method: 'BYE', headers: {} } as unknown as Srf.SrfRequest);
    const bye1 = await callee.nextRequest('BYE');
    await callee.send(respond(bye1, 401, 'Unauthorized', { extra: challenge }), { port: h.udp.port });
    expect((await first).status).toBe(401);
    expect(h.server.status().dialogs).toBe(1);
    const second = retried.request({ method: 'BYE', headers: { Authorization: 'Digest username="u", realm="gw", nonce="n1", uri="x", response="0"' } } as unknown as Srf.SrfRequest);
    const bye2 = await callee.nextRequest('BYE');
    expect(bye2.info.cseq).toBe(bye1.info.cseq + 1);
    expect(bye2.message.headers.get('authorization')).toMatch(/^Digest /);
    await callee.send(respond(bye2, 200, 'OK'), { port: h.udp.port });
    expect((await second).status).toBe(200);
    await eventually(() => h.server.status().dialogs === 0, 5000, 'the dialog gone at the 200');
    // Not sent again: the dialog goes 64·T1 after the challenge.
    const abandoned = await answered('b2');
    const only = abandoned.request({ method: 'BYE', headers: {} } as unknown as Srf.SrfRequest);
    const bye3 = await callee.nextRequest('BYE');
    await callee.send(respond(bye3, 401, 'Unauthorized', { extra: challenge }), { port: h.udp.port });
    expect((await only).status).toBe(401);
    expect(h.server.status().dialogs).toBe(1);
    await eventually(() => h.server.status().dialogs === 0, 64 * T1 + 5000, 'the abandoned dialog let go');
  });

  it('a callee that answers and hangs up at once, before the app has ACKed (a delayed offer): its 2xx is ACKed with the app’s answer, then the app gets the BYE (RFC 3261 §13.2.2.4)', async () => {
    // noAck: the 200 carries the callee's offer, and the app's ACK its answer (drachtio-srf's 3pcc).
    const pending = srf.createUAC(target(), { noAck: true });
    const inv = await callee.nextRequest('INVITE');
    expect(inv.message.body.length).toBe(0);
    await callee.send(respond(inv, 200, 'OK', { toTag: 'h1', contact: `<sip:agent@127.0.0.1:${callee.port}>`, body: sdp(8000) }), { port: h.udp.port });
    const unacked = (await pending) as unknown as { sdp: string; ack(localSdp: string): Promise<Srf.Dialog> };
    expect(unacked.sdp).toBe(sdp(8000));
    // The phone hangs up before the app has its answer ready.
    const seen = h.server.status().messagesIn;
    const bye = request({ method: 'BYE', uri: `sip:127.0.0.1:${h.udp.port}`, peer: callee, callId: inv.info.callId, fromTag: 'h1', toTag: inv.info.fromTag, cseq: 1 });
    await callee.send(bye, { port: h.udp.port });
    await eventually(() => h.server.status().messagesIn > seen, 5000, 'the BYE received');
    const dialog = await unacked.ack(sdp(7002));
    const ended = new Promise<void>((resolve) => dialog.on('destroy', () => resolve()));
    const ack = await callee.waitRequest('ACK');
    expect(ack.info.cseq).toBe(inv.info.cseq);
    expect(ack.info.toTag).toBe('h1');
    expect(ack.message.body.toString()).toBe(sdp(7002));
    await callee.waitResponse(200, 'BYE');
    await ended; // the app's dialog heard of the hang-up
    await eventually(() => h.server.status().dialogs === 0);
    expect(callee.count((r) => r.message.kind === 'request' && r.message.method === 'BYE')).toBe(0);
  });

  it('createUAC rejects with the SIP status of a failure, and with 408 when nobody answers', async () => {
    const pending = srf.createUAC(target(), { localSdp: sdp(7000) });
    const inv = await callee.nextRequest('INVITE');
    await callee.send(respond(inv, 603, 'Decline', { toTag: 'd1' }), { port: h.udp.port });
    await expect(pending).rejects.toMatchObject({ status: 603 });
    callee.dropIf = () => true;
    await expect(srf.createUAC(target(), { localSdp: sdp(7000) })).rejects.toMatchObject({ status: 408 });
  });
});
