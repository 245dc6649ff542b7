/**
 * Conformance, dialog.modify / dialog.request / dialog.destroy (spec §3 items
 * 34–42). A call is set up through the scripted control peer (exact frames),
 * with a SIP peer as the far end, over UDP.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer, type Frame } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

const T1 = 40;
let h: Harness;
let far: SipPeer;
let p: ControlPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  far = await SipPeer.create('udp');
  p = await ControlPeer.connect(h.controlPort);
  await p.authenticate(SECRET);
  await p.reply(p.send('route|invite'));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  p.close();
  await far.close();
  await h.stop();
});

const app = (sip: string, dialogId = '', txnId = ''): Promise<Frame> => p.reply(p.send(`sip|${txnId}|${dialogId}`, sip));

/** An outgoing call (we are UAC), answered by the far end with a Record-Route. Returns the dialog id. */
async function uacCall(): Promise<{ dialogId: string; inv: Received; farTag: string }> {
  const echo = await app(`INVITE sip:far@127.0.0.1:${far.port} SIP/2.0\r\nContact: <sip:app-contact@localhost>\r\n\r\n${sdp(7000)}`);
  const txn = echo.tokens[10]!;
  const inv = await far.nextRequest('INVITE');
  const farTag = uniq('ft');
  await far.send(
    respond(inv, 200, 'OK', {
      toTag: farTag,
      contact: `<sip:far-target@127.0.0.1:${far.port}>`,
      extra: [`Record-Route: <sip:127.0.0.1:${far.port};lr;rr=2>, <sip:127.0.0.1:${far.port};lr;rr=1>`],
      body: sdp(8000),
    }),
    { port: h.udp.port },
  );
  const ok = await p.wait((f) => f.tokens[1] === 'sip' && f.tokens[8] === txn && f.sip!.startsWith('SIP/2.0 200'));
  const dialogId = ok.tokens[9]!;
  await app('ACK sip:x SIP/2.0\r\n\r\n', dialogId);
  await far.waitRequest('ACK');
  return { dialogId, inv, farTag };
}

/** An incoming call the app answers; the caller has not ACKed yet. */
async function answeredNotAcked(): Promise<{ dialogId: string; callId: string; fromTag: string; ok: Received; txn: string }> {
  const callId = uniq('in');
  const fromTag = uniq('ff');
  await far.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
  const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE'));
  const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`, '', f.tokens[8]);
  const ok = await far.waitResponse(200, 'INVITE');
  return { dialogId: echo.tokens[11]!, callId, fromTag, ok, txn: f.tokens[8]! };
}

/** An incoming call (we are UAS), answered by the app and ACKed. */
async function uasCall(): Promise<{ dialogId: string; callId: string; fromTag: string; ourTag: string; txn: string }> {
  const { dialogId, callId, fromTag, ok, txn } = await answeredNotAcked();
  await far.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
  await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK'));
  return { dialogId, callId, fromTag, ourTag: ok.info.toTag!, txn };
}

function inDialogFromFar(c: { callId: string; fromTag: string; ourTag: string }, method: string, cseq: number, extra: string[] = [], body = ''): string {
  return request({ method, uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId: c.callId, fromTag: c.fromTag, toTag: c.ourTag, cseq, to: `<sip:1000@127.0.0.1:${h.udp.port}>`, extra, body });
}

describe('dialog.modify (spec §3 items 34–37)', () => {
  it('item 34: a re-INVITE to "placeholder" goes to the remote target via the route set with CSeq+1, the app Contact kept and the SDP; the echo is correct', async () => {
    const { dialogId, inv } = await uacCall();
    const echo = await app(`INVITE sip:placeholder SIP/2.0\r\nContact: <sip:my-contact@127.0.0.1:${h.udp.port}>\r\n\r\n${sdp(7000, 'sendonly', 2)}`, dialogId);
    expect(echo.tokens[3]).toBe('OK');
    const re = await far.nextRequest('INVITE');
    expect(re.message.kind === 'request' && re.message.uri).toBe(`sip:far-target@127.0.0.1:${far.port}`);
    expect(re.message.headers.values('route')).toEqual([`<sip:127.0.0.1:${far.port};lr;rr=1>`, `<sip:127.0.0.1:${far.port};lr;rr=2>`]);
    expect(re.message.headers.get('cseq')).toBe(`${inv.info.cseq + 1} INVITE`);
    expect(re.message.headers.get('contact')).toBe(`<sip:my-contact@127.0.0.1:${h.udp.port}>`);
    expect(re.message.body.toString()).toBe(sdp(7000, 'sendonly', 2));
    expect(echo.sip).toBe(re.raw);
  });

  it('item 35: the re-INVITE 2xx is forwarded and the app’s ACK uses its CSeq; a non-2xx is ACKed by the server and the dialog survives', async () => {
    const { dialogId } = await uacCall();
    const echo = await app(`INVITE sip:placeholder SIP/2.0\r\n\r\n${sdp(7000, 'sendonly', 2)}`, dialogId);
    const txn = echo.tokens[10]!;
    const re = await far.nextRequest('INVITE');
    await far.send(respond(re, 200, 'OK', { body: sdp(8000, 'recvonly', 2), contact: `<sip:far-target@127.0.0.1:${far.port}>` }), { port: h.udp.port });
    await p.wait((f) => f.tokens[8] === txn && f.tokens[9] === dialogId && f.sip!.startsWith('SIP/2.0 200'));
    await app('ACK sip:x SIP/2.0\r\n\r\n', dialogId);
    const ack = await far.waitRequest('ACK');
    expect(ack.message.headers.get('cseq')).toBe(`${re.info.cseq} ACK`);

    const echo2 = await app(`INVITE sip:placeholder SIP/2.0\r\n\r\n${sdp(7000, 'sendrecv', 3)}`, dialogId);
    const re2 = await far.nextRequest('INVITE');
    await far.send(respond(re2, 488, 'Not Acceptable Here'), { port: h.udp.port });
    const autoAck = await far.waitRequest('ACK');
    expect(autoAck.message.headers.get('cseq')).toBe(`${re2.info.cseq} ACK`);
    await p.wait((f) => f.tokens[8] === echo2.tokens[10] && f.sip!.startsWith('SIP/2.0 488'));
    // the dialog is still there: an INFO goes out
    expect((await app('INFO sip:placeholder SIP/2.0\r\n\r\n', dialogId)).tokens[3]).toBe('OK');
    await far.waitRequest('INFO');
  });

  it('item 36: a network re-INVITE gets 100, reaches the app with a new txn id and the dialog id; the 200 is echoed with the dialog id, retransmitted until the ACK, which is forwarded', async () => {
    const c = await uasCall();
    await far.send(inDialogFromFar(c, 'INVITE', 2, [], sdp(4000, 'sendonly', 2)), { port: h.udp.port });
    await far.waitResponse(100, 'INVITE');
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE') && x.tokens[9] === c.dialogId);
    expect(f.tokens[8]).not.toBe(c.txn);
    const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\ncseq: 2 INVITE\r\n\r\n${sdp(5000, 'recvonly', 2)}`, '', f.tokens[8]);
    expect(echo.tokens[11]).toBe(c.dialogId);
    const ok = await far.waitResponse(200, 'INVITE');
    await far.waitResponse(200, 'INVITE', 1000); // retransmitted
    await far.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId: c.callId, fromTag: c.fromTag, toTag: ok.info.toTag!, cseq: 2, to: `<sip:1000@x>` }), { port: h.udp.port });
    const ack = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK') && /CSeq: 2 ACK/.test(x.sip!));
    expect(ack.tokens[9]).toBe(c.dialogId);
  });

  it('item 37: glare — a re-INVITE arriving while ours is pending gets 491; a second one while the first is unanswered gets 500 with Retry-After', async () => {
    const c = await uasCall();
    await app(`INVITE sip:placeholder SIP/2.0\r\n\r\n${sdp(5000, 'sendonly', 2)}`, c.dialogId);
    await far.nextRequest('INVITE'); // ours, left unanswered
    await far.send(inDialogFromFar(c, 'INVITE', 2, [], sdp(4000, 'sendonly', 2)), { port: h.udp.port });
    await far.waitResponse(491, 'INVITE');

    const c2 = await uasCall();
    await far.send(inDialogFromFar(c2, 'INVITE', 2, [], sdp(4000, 'sendonly', 2)), { port: h.udp.port });
    await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[9] === c2.dialogId && x.sip!.startsWith('INVITE'));
    await far.send(inDialogFromFar(c2, 'INVITE', 3, [], sdp(4000, 'sendonly', 3)), { port: h.udp.port });
    const r = await far.waitResponse(500, 'INVITE');
    expect(r.message.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});

describe('dialog.request (spec §3 items 38–40)', () => {
  it('item 38: in-dialog INFO/REFER/NOTIFY/UPDATE/MESSAGE/OPTIONS are built from the dialog; REFER gets our Contact; responses carry txn id and dialog id', async () => {
    const { dialogId, farTag } = await uacCall();
    for (const method of ['INFO', 'REFER', 'NOTIFY', 'UPDATE', 'MESSAGE', 'OPTIONS']) {
      const headers = method === 'REFER' ? 'Refer-To: <sip:transfer@example.com>\r\n' : method === 'NOTIFY' ? 'Event: talk\r\nSubscription-State: active\r\n' : '';
      const body = method === 'MESSAGE' ? 'Content-Type: text/plain\r\n\r\nhi' : '\r\n';
      const echo = await app(`${method} sip:placeholder SIP/2.0\r\n${headers}${body}`, dialogId);
      expect(echo.tokens[3]).toBe('OK');
      const req = await far.waitRequest(method);
      expect(req.info.toTag).toBe(farTag);
      expect(req.message.kind === 'request' && req.message.uri).toBe(`sip:far-target@127.0.0.1:${far.port}`);
      if (method === 'REFER') expect(req.message.headers.get('contact')).toBe(`<sip:127.0.0.1:${h.udp.port}>`);
      await far.send(respond(req, 200, 'OK'), { port: h.udp.port });
      const f = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === echo.tokens[10]);
      expect(f.tokens[9]).toBe(dialogId);
    }
  });

  it('a caller over TCP whose connection closed is sent the BYE at its remote target over a new connection, not at the old connection\'s port (RFC 3261 §12.2.1.1, §18.1.1)', async () => {
    const tcp = await SipPeer.create('tcp');
    closers.push(() => tcp.close());
    const callId = uniq('tc');
    const fromTag = uniq('tf');
    const to = { port: h.tcp.port };
    await tcp.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.tcp.port};transport=tcp`, peer: tcp, callId, fromTag, body: sdp(4000) }), to);
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE') && x.sip!.includes(callId));
    const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`, '', f.tokens[8]);
    const dialogId = echo.tokens[11]!;
    const ok = await tcp.waitResponse(200, 'INVITE');
    await tcp.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.tcp.port};transport=tcp`, peer: tcp, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.tcp.port}>` }), to);
    await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK') && x.sip!.includes(callId));
    // The caller's side closes the connection it called over (an SBC's idle timer, a fail-over).
    tcp.dropOutgoing();
    await eventually(() => h.server.status().sipConnections === 0, 10_000, 'the server sees the connection closed');
    const bye = await app('BYE sip:placeholder SIP/2.0\r\n\r\n', dialogId);
    expect(bye.tokens[3]).toBe('OK');
    const got = await tcp.waitRequest('BYE');
    expect(tcp.accepted).toBe(1);
    expect(got.message.kind === 'request' && got.message.uri).toBe(`sip:caller@127.0.0.1:${tcp.port};transport=tcp`);
    await tcp.send(respond(got, 200, 'OK'), { port: got.from.port });
    await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === bye.tokens[10] && x.sip!.startsWith('SIP/2.0 200'));
  });

  it('a response whose request came over a TCP connection that has closed goes over a new connection to the Via sent-by (RFC 3261 §18.2.2)', async () => {
    const tcp = await SipPeer.create('tcp');
    closers.push(() => tcp.close());
    const callId = uniq('tr');
    await tcp.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.tcp.port};transport=tcp`, peer: tcp, callId, fromTag: uniq('tf'), body: sdp(4000) }), { port: h.tcp.port });
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE') && x.sip!.includes(callId));
    tcp.dropOutgoing();
    await eventually(() => h.server.status().sipConnections === 0, 10_000, 'the server sees the connection closed');
    await app(`SIP/2.0 486 Busy Here\r\nCall-ID: ${callId}\r\n\r\n`, '', f.tokens[8]);
    const busy = await tcp.waitResponse(486, 'INVITE');
    expect([busy.info.callId, tcp.accepted]).toEqual([callId, 1]);
  });

  it('item 39: an unknown or ended dialog id gets NOK "unable to find dialog"; drachtio-srf reports ENODIALOG', async () => {
    const r = await app('INFO sip:placeholder SIP/2.0\r\n\r\n', 'nope;from-tag=x');
    expect(r.tokens.slice(3)).toEqual(['NOK', 'Server error: unable to find dialog for dialog id provided']);
    p.close();
    let dialog: Srf.Dialog | undefined;
    const srf = await connectApp(h, (s) => s.invite((req, res) => void s.createUAS(req, res, { localSdp: sdp(5000) }).then((d) => (dialog = d))));
    closers.push(() => disconnectApp(srf));
    const callId = uniq('e');
    const fromTag = uniq('e');
    await far.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
    const ok = await far.waitResponse(200, 'INVITE');
    await far.send(request({ method: 'ACK', uri: `sip:x@127.0.0.1`, peer: far, callId, fromTag, toTag: ok.info.toTag!, to: '<sip:1000@x>' }), { port: h.udp.port });
    await eventually(() => dialog !== undefined);
    await far.send(request({ method: 'BYE', uri: `sip:x@127.0.0.1`, peer: far, callId, fromTag, toTag: ok.info.toTag!, cseq: 2, to: '<sip:1000@x>' }), { port: h.udp.port });
    await far.waitResponse(200, 'BYE');
    const err = await dialog!.request({ method: 'INFO' } as never).then(
      () => undefined,
      (e: { code?: string }) => e,
    );
    expect(err?.code).toBe('ENODIALOG');
  });

  it('item 40: in-dialog requests reach the owning connection only; when the owner is gone they get 481', async () => {
    const other = await ControlPeer.connect(h.controlPort);
    closers.push(() => other.close());
    await other.authenticate(SECRET);
    await other.reply(other.send('route|invite'));
    await other.reply(other.send('route|info'));
    const c = await uasCall(); // round robin: make sure we know which peer owns it
    const owner = p.frames.some((f) => f.tokens[9] === c.dialogId) ? p : other;
    const notOwner = owner === p ? other : p;
    await far.send(inDialogFromFar(c, 'INFO', 2), { port: h.udp.port });
    await owner.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INFO'));
    expect(notOwner.frames.some((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INFO'))).toBe(false);
    owner.close();
    await eventually(() => h.server.status().appConnections === 1, 10_000, 'the server to drop the closed connection');
    await far.send(inDialogFromFar(c, 'INFO', 3), { port: h.udp.port });
    await far.waitResponse(481, 'INFO');
  });
});

describe('dialog.destroy (spec §3 items 41–42)', () => {
  it('item 41: the app’s BYE is sent (CANCELling our pending re-INVITE first) and its 200 forwarded; the dialog goes after the final response', async () => {
    const { dialogId } = await uacCall();
    const reEcho = await app(`INVITE sip:placeholder SIP/2.0\r\n\r\n${sdp(7000, 'sendonly', 2)}`, dialogId);
    const re = await far.nextRequest('INVITE');
    await far.send(respond(re, 180, 'Ringing'), { port: h.udp.port });
    // the re-INVITE is proceeding once its 180 reached the app
    await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === reEcho.tokens[10] && x.sip!.startsWith('SIP/2.0 180'));
    const echo = await app('BYE sip:placeholder SIP/2.0\r\nReason: Q.850;cause=16\r\n\r\n', dialogId);
    const cancel = await far.waitRequest('CANCEL');
    expect(cancel.info.via.branch).toBe(re.info.via.branch);
    const bye = await far.waitRequest('BYE');
    expect(bye.message.headers.get('reason')).toBe('Q.850;cause=16');
    expect(h.server.status().dialogs).toBe(1);
    await far.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    const f = await p.wait((x) => x.tokens[8] === echo.tokens[10] && x.sip!.startsWith('SIP/2.0 200'));
    expect(f.tokens[9]).toBe(dialogId);
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('the app’s BYE that cannot be routed (the caller’s Record-Route does not resolve) gets NOK and still ends the dialog: nothing is left', async () => {
    const callId = uniq('in');
    const fromTag = uniq('ff');
    const rr = 'Record-Route: <sip:nowhere.invalid:5999;lr>';
    await far.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, extra: [rr], body: sdp(4000) }), { port: h.udp.port });
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE') && x.sip!.includes(callId));
    const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`, '', f.tokens[8]);
    const dialogId = echo.tokens[11]!;
    const ok = await far.waitResponse(200, 'INVITE');
    expect(ok.message.headers.get('record-route')).toBe('<sip:nowhere.invalid:5999;lr>');
    await far.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
    await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK') && x.sip!.includes(callId));
    expect(h.server.status().dialogs).toBe(1);
    const bye = await app('BYE sip:placeholder SIP/2.0\r\n\r\n', dialogId);
    expect(bye.tokens[3]).toBe('NOK');
    expect(h.server.status().dialogs).toBe(0);
  });

  it('a caller behind a proxy that does not record-route (two Vias): the app’s BYE goes to the caller’s Contact, not back to the proxy (RFC 3261 §12.2.1.1)', async () => {
    const ua = await SipPeer.create('udp');
    closers.push(() => ua.close());
    const callId = uniq('in');
    const fromTag = uniq('ff');
    // far plays the proxy: its Via on top of the caller's, the caller's Contact
    const proxyVia = `Via: SIP/2.0/UDP 127.0.0.1:${far.port};branch=z9hG4bK${uniq('px')}`;
    const invite = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: ua, callId, fromTag, body: sdp(4000) }).replace(/^Via: /m, `${proxyVia}\r\nVia: `);
    await far.send(invite, { port: h.udp.port });
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INVITE') && x.sip!.includes(callId));
    const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${callId}\r\n\r\n${sdp(5000)}`, '', f.tokens[8]);
    const ok = await far.waitResponse(200, 'INVITE');
    await ua.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: ua, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
    await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK') && x.sip!.includes(callId));
    await app('BYE sip:placeholder SIP/2.0\r\n\r\n', echo.tokens[11]);
    const bye = await ua.waitRequest('BYE');
    expect(bye.info.callId).toBe(callId);
    expect(far.count((r) => r.message.kind === 'request' && r.message.method === 'BYE')).toBe(0);
  });

  it('an agent behind a proxy that does not record-route: the ACK of its 2xx goes to its Contact, not to the proxy that relayed the 2xx (RFC 3261 §13.2.2.4)', async () => {
    const phone = await SipPeer.create('udp');
    closers.push(() => phone.close());
    // far plays the proxy: the INVITE is sent to it, the phone's 2xx comes back through it
    const echo = await app(`INVITE sip:agent@127.0.0.1:${far.port} SIP/2.0\r\n\r\n${sdp(7000)}`);
    const inv = await far.nextRequest('INVITE');
    await far.send(respond(inv, 200, 'OK', { toTag: uniq('ph'), contact: `<sip:agent@127.0.0.1:${phone.port}>`, body: sdp(8000) }), { port: h.udp.port });
    const ok = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[8] === echo.tokens[10] && x.sip!.startsWith('SIP/2.0 200'));
    await app('ACK sip:x SIP/2.0\r\n\r\n', ok.tokens[9]);
    const ack = await phone.waitRequest('ACK');
    expect(ack.info.callId).toBe(inv.info.callId);
    expect(far.count((r) => r.message.kind === 'request' && r.message.method === 'ACK')).toBe(0);
  });

  const byes = (): number => far.count((r) => r.message.kind === 'request' && r.message.method === 'BYE');

  it('a 2xx to our re-INVITE arriving after the dialog ended with our BYE is ACKed (CSeq of the re-INVITE, through the route set), retransmissions get the same ACK, and no second BYE ever goes', async () => {
    const { dialogId } = await uacCall();
    await app(`INVITE sip:placeholder SIP/2.0\r\n\r\n${sdp(7000, 'sendonly', 2)}`, dialogId);
    const re = await far.nextRequest('INVITE'); // left unanswered for now
    await app('BYE sip:placeholder SIP/2.0\r\n\r\n', dialogId);
    const bye = await far.waitRequest('BYE');
    expect(bye.info.cseq).toBe(re.info.cseq + 1);
    await far.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await eventually(() => h.server.status().dialogs === 0);
    const late = respond(re, 200, 'OK', { body: sdp(8000, 'recvonly', 2), contact: `<sip:far-target@127.0.0.1:${far.port}>` });
    await far.send(late, { port: h.udp.port });
    const ack = await far.waitRequest('ACK');
    expect(ack.message.headers.get('cseq')).toBe(`${re.info.cseq} ACK`);
    expect(ack.message.headers.values('route')).toEqual(re.message.headers.values('route'));
    expect(ack.info.toTag).toBe(re.info.toTag);
    await far.send(late, { port: h.udp.port }); // retransmitted 2xx
    const again = await far.waitRequest('ACK');
    expect(again.raw).toBe(ack.raw);
    // A BYE would follow its ACK at once: give it the time to show up.
    expect(await far.quiet((r) => r.message.kind === 'request' && r.message.method === 'BYE', 300)).toEqual([]);
    expect(byes()).toBe(1);
  });

  it('RFC 3261 §15: the app’s BYE before the caller’s ACK waits for it (the 2xx goes on being retransmitted), then goes and is answered', async () => {
    const c = await answeredNotAcked();
    const byeId = p.send(`sip||${c.dialogId}`, 'BYE sip:placeholder SIP/2.0\r\n\r\n');
    await p.barrier(); // the server has read the app's BYE
    await far.waitResponse(200, 'INVITE'); // a retransmission: the 2xx still waits for its ACK
    expect(byes()).toBe(0);
    await far.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId: c.callId, fromTag: c.fromTag, toTag: c.ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
    const bye = await far.waitRequest('BYE');
    expect(bye.info.callId).toBe(c.callId);
    // The ACK reached the app before the echo of its BYE.
    const ackFrame = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('ACK'));
    const echo = await p.reply(byeId);
    expect(echo.tokens[3]).toBe('OK');
    expect(p.frames.indexOf(ackFrame)).toBeLessThan(p.frames.indexOf(echo));
    await far.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await p.wait((x) => x.tokens[8] === echo.tokens[10] && x.sip!.startsWith('SIP/2.0 200'));
    await eventually(() => h.server.status().dialogs === 0);
    expect(byes()).toBe(1);
  });

  it('RFC 3261 §15: with no ACK at all, the app’s held BYE goes when the 2xx gives up (64·T1), and no second BYE of our own', async () => {
    const c = await answeredNotAcked();
    const byeId = p.send(`sip||${c.dialogId}`, 'BYE sip:placeholder SIP/2.0\r\nReason: Q.850;cause=16\r\n\r\n');
    await p.barrier();
    await far.waitResponse(200, 'INVITE'); // still retransmitted, and no BYE yet
    expect(byes()).toBe(0);
    const bye = await far.waitRequest('BYE', 64 * T1 + 10_000);
    expect(bye.message.headers.get('reason')).toBe('Q.850;cause=16'); // the app's, not "ACK timeout"
    expect((await p.reply(byeId)).tokens[3]).toBe('OK');
    await far.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await eventually(() => h.server.status().dialogs === 0);
    await p.barrier();
    expect(byes()).toBe(1);
  });

  it('RFC 3261 §15: a held BYE is answered NOK when the dialog ends first (the caller’s own BYE), and never sent', async () => {
    const c = await answeredNotAcked();
    const byeId = p.send(`sip||${c.dialogId}`, 'BYE sip:placeholder SIP/2.0\r\n\r\n');
    await p.barrier();
    await far.send(inDialogFromFar({ callId: c.callId, fromTag: c.fromTag, ourTag: c.ok.info.toTag! }, 'BYE', 2), { port: h.udp.port });
    const theirs = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('BYE'));
    await app('SIP/2.0 200 OK\r\n\r\n', '', theirs.tokens[8]);
    await far.waitResponse(200, 'BYE');
    expect((await p.reply(byeId)).tokens.slice(3)).toEqual(['NOK', 'Server error: unable to find dialog for dialog id provided']);
    await eventually(() => h.server.status().dialogs === 0);
    expect(byes()).toBe(0);
  });

  it('RFC 3261 §15.1.2: a BYE while the app has not answered the peer’s re-INVITE and INFO: both get 487 at once, the BYE reaches the app; the app’s late answer is refused and nothing more goes out', async () => {
    const c = await uasCall();
    await far.send(inDialogFromFar(c, 'INVITE', 2, [], sdp(4000, 'sendonly', 2)), { port: h.udp.port });
    await far.waitResponse(100, 'INVITE');
    const reinvite = await p.wait((x) => x.tokens[1] === 'sip' && x.tokens[9] === c.dialogId && x.sip!.startsWith('INVITE'));
    await far.send(inDialogFromFar(c, 'INFO', 3, [], 'Signal=5\r\n'), { port: h.udp.port });
    const info = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('INFO'));
    await far.send(inDialogFromFar(c, 'BYE', 4), { port: h.udp.port });
    const r487 = await far.waitResponse(487, 'INVITE');
    expect(r487.info.toTag).toBe(c.ourTag);
    await far.waitResponse(487, 'INFO');
    // The 487 is ACKed as any non-2xx (same branch); the transaction absorbs the ACK.
    await far.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: far, callId: c.callId, fromTag: c.fromTag, toTag: c.ourTag, cseq: 2, to: `<sip:1000@127.0.0.1:${h.udp.port}>`, branch: r487.info.via.branch! }), { port: h.udp.port });
    const bye = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('BYE'));
    await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\ncseq: 4 BYE\r\n\r\n`, '', bye.tokens[8]);
    await far.waitResponse(200, 'BYE');
    const late = await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\ncseq: 2 INVITE\r\n\r\n${sdp(5000, 'recvonly', 2)}`, '', reinvite.tokens[8]);
    expect(late.tokens.slice(3)).toEqual(['NOK', 'Response not sent due to unknown transaction']);
    const lateInfo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\ncseq: 3 INFO\r\n\r\n`, '', info.tokens[8]);
    expect(lateInfo.tokens[3]).toBe('NOK');
    expect(h.server.status().pendingAppRequests).toBe(0);
    const finals = (m: string): number => far.count((x) => x.message.kind === 'response' && x.message.status >= 200 && x.info.cseqMethod === m && x.info.cseq > 1 && x.message.status !== 487);
    expect(finals('INVITE')).toBe(0);
    expect(finals('INFO')).toBe(0);
    await eventually(() => h.server.status().serverTransactions === 0, 10_000, 'server transactions gone');
  });

  it('RFC 3261 §15.1.2 with drachtio-srf: the Dialog’s modify is left unanswered, the caller hangs up: 487 to the re-INVITE, 200 to the BYE, and the app’s late res.send fails without harm', async () => {
    p.close();
    let dialog: Srf.Dialog | undefined;
    let pendingRes: Srf.SrfResponse | undefined;
    let destroyed = false;
    const srf = await connectApp(h, (s) =>
      s.invite((req, res) =>
        void s.createUAS(req, res, { localSdp: sdp(5000) }).then((d) => {
          dialog = d;
          d.on('modify', (_req: Srf.SrfRequest, r: Srf.SrfResponse) => (pendingRes = r));
          d.on('destroy', () => (destroyed = true));
        }),
      ),
    );
    closers.push(() => disconnectApp(srf));
    const callId = uniq('m');
    const fromTag = uniq('m');
    await far.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: far, callId, fromTag, body: sdp(4000) }), { port: h.udp.port });
    const ok = await far.waitResponse(200, 'INVITE');
    const c = { callId, fromTag, ourTag: ok.info.toTag! };
    await far.send(request({ method: 'ACK', uri: `sip:x@127.0.0.1`, peer: far, callId, fromTag, toTag: c.ourTag, to: '<sip:1000@x>' }), { port: h.udp.port });
    await eventually(() => dialog !== undefined);
    await far.send(inDialogFromFar(c, 'INVITE', 2, [], sdp(4002, 'sendonly', 2)), { port: h.udp.port });
    await eventually(() => pendingRes !== undefined, 10_000, 'the modify event');
    await far.send(inDialogFromFar(c, 'BYE', 3), { port: h.udp.port });
    await far.waitResponse(487, 'INVITE');
    await far.waitResponse(200, 'BYE');
    await eventually(() => destroyed, 10_000, 'the Dialog destroyed');
    const err = await new Promise<unknown>((resolve) => pendingRes!.send(200, 'OK', { body: sdp(5000, 'recvonly', 2) }, (e: unknown) => resolve(e)));
    expect(String(err)).toMatch(/unknown transaction/);
    expect(far.count((x) => x.message.kind === 'response' && x.message.status === 200 && x.info.cseqMethod === 'INVITE' && x.info.cseq === 2)).toBe(0);
  });

  it('item 41: a 401/407 to our BYE keeps the dialog for the retry with credentials', async () => {
    const { dialogId } = await uacCall();
    await app('BYE sip:placeholder SIP/2.0\r\n\r\n', dialogId);
    const bye = await far.waitRequest('BYE');
    await far.send(respond(bye, 407, 'Proxy Authentication Required', { extra: ['Proxy-Authenticate: Digest realm="x", nonce="n"'] }), { port: h.udp.port });
    await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('SIP/2.0 407')); // the server has taken the 407 in
    expect(h.server.status().dialogs).toBe(1);
    const retry = await app(`BYE sip:placeholder SIP/2.0\r\nCSeq: ${bye.info.cseq + 1} BYE\r\nProxy-Authorization: Digest username="u"\r\n\r\n`, dialogId);
    expect(retry.tokens[3]).toBe('OK');
    const bye2 = await far.waitRequest('BYE');
    expect(bye2.message.headers.get('cseq')).toBe(`${bye.info.cseq + 1} BYE`);
    await far.send(respond(bye2, 200, 'OK'), { port: h.udp.port });
    await eventually(() => h.server.status().dialogs === 0);
  });

  it('item 42: a network BYE is forwarded and the dialog removed at once; the app’s 200 echo has an empty dialog id; a later request gets 481 and the app NOK', async () => {
    const c = await uasCall();
    await far.send(inDialogFromFar(c, 'BYE', 2), { port: h.udp.port });
    const f = await p.wait((x) => x.tokens[1] === 'sip' && x.sip!.startsWith('BYE'));
    expect(f.tokens[9]).toBe(c.dialogId);
    expect(h.server.status().dialogs).toBe(0);
    const echo = await app(`SIP/2.0 200 OK\r\nCall-ID: ${c.callId}\r\ncseq: 2 BYE\r\n\r\n`, '', f.tokens[8]);
    expect(echo.tokens[11]).toBe('');
    await far.waitResponse(200, 'BYE');
    await far.send(inDialogFromFar(c, 'INFO', 3), { port: h.udp.port });
    await far.waitResponse(481, 'INFO');
    const r = await app('INFO sip:placeholder SIP/2.0\r\n\r\n', c.dialogId);
    expect(r.tokens[3]).toBe('NOK');
    expect(r.tokens[4]).toMatch(/unable to find dialog/);
  });
});
