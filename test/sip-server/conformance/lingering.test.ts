/**
 * Transactions waiting out their RFC 3261 §17 timers after the final response
 * (kept as small records, core/lingering.ts) still do all the RFC asks of
 * them: Timer J re-sends the final response to a retransmitted request, Timer
 * L (RFC 6026 §7.1) absorbs a retransmitted INVITE and matches a CANCEL, Timer
 * D re-sends the ACK, Timer M (RFC 6026 §7.2) re-ACKs the 2xx, and ACKs and
 * ends one from another fork. When the timers are over the counts are 0.
 * T1 is 40 ms, so 64·T1 is 2.6 s.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { ControlPeer, type Frame } from '../../support/control-peer.js';
import { connectApp, disconnectApp, eventually, SECRET, startServer, type Harness } from '../../support/harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { request, respond, sdp, SipPeer, uniq } from '../../support/sip-peer.js';

const T1 = 40;
let h: Harness;
let sip: SipPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
  sip = await SipPeer.create('udp');
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await sip.close();
  await h.stop();
});

const toServer = (): { port: number } => ({ port: h.udp.port });
const serverUri = (): string => `sip:1000@127.0.0.1:${h.udp.port}`;

async function app(setup: (srf: Srf) => void): Promise<Srf> {
  const srf = await connectApp(h, setup);
  closers.push(() => disconnectApp(srf));
  return srf;
}

async function controlPeer(): Promise<ControlPeer> {
  const p = await ControlPeer.connect(h.controlPort);
  closers.push(() => p.close());
  await p.authenticate(SECRET);
  return p;
}

/** Every transaction gone (after its timer), as status reports it. */
async function allTransactionsGone(): Promise<void> {
  await eventually(() => h.server.status().serverTransactions === 0 && h.server.status().clientTransactions === 0, 10_000, 'transactions back to 0');
}

/** A caller whose INVITE the app answers with 200 (drachtio-srf createUAS); the 200 is ACKed. */
async function answeredCall(onBye: () => void): Promise<{ callId: string; fromTag: string; toTag: string; branch: string; text: string }> {
  await app((srf) =>
    srf.invite((req, res) => {
      void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => d.on('destroy', onBye));
    }),
  );
  const callId = uniq('c');
  const fromTag = uniq('t');
  const branch = `z9hG4bK${uniq('b')}`;
  const text = request({ method: 'INVITE', uri: serverUri(), peer: sip, callId, fromTag, branch, body: sdp(4000) });
  await sip.send(text, toServer());
  const ok = await sip.waitResponse(200, 'INVITE');
  return { callId, fromTag, toTag: ok.info.toTag!, branch, text };
}

describe('server transactions after their final response', () => {
  it('Timer J: a retransmitted BYE gets the same 200 again and is not given to the app a second time', async () => {
    let byes = 0;
    const call = await answeredCall(() => byes++);
    const dialog = { peer: sip, callId: call.callId, fromTag: call.fromTag, toTag: call.toTag, to: `<${serverUri()}>` };
    await sip.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, ...dialog }), toServer());
    const bye = request({ method: 'BYE', uri: `sip:127.0.0.1:${h.udp.port}`, cseq: 2, ...dialog });
    await sip.send(bye, toServer());
    const first = await sip.waitResponse(200, 'BYE');
    await eventually(() => byes === 1, 2000, 'the app saw the BYE');
    const absorbed = h.server.status().retransmissionsAbsorbed;
    await sip.send(bye, toServer());
    await eventually(() => sip.count((r) => r.message.kind === 'response' && r.info.cseqMethod === 'BYE') === 2, 2000, 'the 200 again');
    const again = sip.received.filter((r) => r.message.kind === 'response' && r.info.cseqMethod === 'BYE');
    expect(again[1]!.raw).toBe(first.raw);
    expect(h.server.status().retransmissionsAbsorbed).toBe(absorbed + 1);
    expect(byes).toBe(1);
    await allTransactionsGone();
  });

  it('Timer L: after the ACK a retransmitted INVITE is absorbed (no response, nothing to the app), and a CANCEL gets 200 with the To tag and no effect', async () => {
    let ended = 0;
    let invites = 0;
    await app((srf) =>
      srf.invite((req, res) => {
        invites++;
        void srf.createUAS(req, res, { localSdp: sdp(6000) }).then((d) => d.on('destroy', () => ended++));
      }),
    );
    const callId = uniq('c');
    const fromTag = uniq('t');
    const branch = `z9hG4bK${uniq('b')}`;
    const inv = request({ method: 'INVITE', uri: serverUri(), peer: sip, callId, fromTag, branch, body: sdp(4000) });
    await sip.send(inv, toServer());
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(request({ method: 'ACK', uri: `sip:127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, toTag: ok.info.toTag!, to: `<${serverUri()}>` }), toServer());
    // The 2xx is no longer retransmitted once ACKed; a retransmitted INVITE must not bring it (or anything) back.
    await eventually(() => h.server.status().dialogs === 1, 2000, 'dialog up');
    const absorbed = h.server.status().retransmissionsAbsorbed;
    const responsesBefore = sip.count((r) => r.message.kind === 'response' && r.info.cseqMethod === 'INVITE');
    await sip.send(inv, toServer());
    await eventually(() => h.server.status().retransmissionsAbsorbed === absorbed + 1, 2000, 'INVITE absorbed');
    await sip.send(request({ method: 'CANCEL', uri: serverUri(), peer: sip, callId, fromTag, branch }), toServer());
    const c200 = await sip.waitResponse(200, 'CANCEL');
    expect(c200.info.toTag).toBe(ok.info.toTag);
    expect(sip.count((r) => r.message.kind === 'response' && r.info.cseqMethod === 'INVITE')).toBe(responsesBefore);
    expect(invites).toBe(1);
    expect(ended).toBe(0);
    expect(h.server.status().dialogs).toBe(1);
  });
});

describe('the 2xx while it waits for the ACK (a fake clock: no timer-driven retransmission happens)', () => {
  it('Timer L: a retransmitted INVITE brings the unacknowledged 2xx again at once (RFC 6026 §7.1, the TU re-sends it)', async () => {
    const clock = new FakeClock();
    const own = await startServer({ clock, timers: { t1Ms: T1, t2Ms: 320, t4Ms: 400, appResponseTimeoutMs: 5000 } });
    closers.push(() => own.stop());
    const srf = await connectApp(own, (s) => s.invite((req, res) => void s.createUAS(req, res, { localSdp: sdp(6000) })));
    closers.push(() => disconnectApp(srf));
    const inv = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${own.udp.port}`, peer: sip, callId: uniq('c'), fromTag: uniq('t'), body: sdp(4000) });
    await sip.send(inv, { port: own.udp.port });
    const first = await sip.waitResponse(200, 'INVITE');
    await sip.send(inv, { port: own.udp.port });
    const again = await sip.waitResponse(200, 'INVITE');
    expect(again.raw).toBe(first.raw);
  });
});

describe('client transactions after their final response', () => {
  let callee: SipPeer;
  let p: ControlPeer;

  beforeEach(async () => {
    callee = await SipPeer.create('udp');
    closers.push(() => callee.close());
    p = await controlPeer();
  });

  const target = (): string => `sip:agent@127.0.0.1:${callee.port}`;
  const responseFrames = (txn: string): Frame[] => p.frames.filter((f) => f.tokens[1] === 'sip' && f.tokens[8] === txn);

  async function inviteOut(): Promise<{ inv: Awaited<ReturnType<SipPeer['waitRequest']>>; txn: string }> {
    const echo = await p.reply(p.send('sip||', `INVITE ${target()} SIP/2.0\r\nContent-Length: 999\r\n\r\n${sdp(7000)}`));
    expect(echo.tokens[3]).toBe('OK');
    return { inv: await callee.waitRequest('INVITE'), txn: echo.tokens[10]! };
  }

  it('Timer D: a retransmitted 486 gets the same ACK again, and the app sees the 486 once', async () => {
    const { inv, txn } = await inviteOut();
    const busy = respond(inv, 486, 'Busy Here', { toTag: 'busy1' });
    await callee.send(busy, { port: h.udp.port });
    const ack = await callee.waitRequest('ACK');
    await callee.send(busy, { port: h.udp.port });
    await eventually(() => callee.count((r) => r.message.kind === 'request' && r.message.method === 'ACK') === 2, 2000, 'second ACK');
    const acks = callee.received.filter((r) => r.message.kind === 'request' && r.message.method === 'ACK');
    expect(acks[1]!.raw).toBe(ack.raw);
    // (Timer D itself is 32 s over UDP whatever T1 is: not waited for here.)
    expect(responseFrames(txn)).toHaveLength(1);
  });

  it('Timer M: a retransmitted 2xx is ACKed again; a 2xx from another fork is ACKed and ended with BYE; the app sees neither', async () => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    const ok = respond(inv, 200, 'OK', { toTag: 'fork1', contact: `<${target()}>`, body: sdp(8000) });
    await callee.send(ok, { port: h.udp.port });
    await eventually(() => responseFrames(txn).length === 1, 2000, '200 to the app');
    await p.reply(p.send(`sip||${dialogId}`, `ACK ${target()} SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
    const ack = await callee.waitRequest('ACK');
    await callee.send(ok, { port: h.udp.port });
    await eventually(() => callee.count((r) => r.message.kind === 'request' && r.message.method === 'ACK') === 2, 2000, 'the ACK again');
    expect(callee.received.filter((r) => r.message.kind === 'request' && r.message.method === 'ACK')[1]!.raw).toBe(ack.raw);
    // Another fork answers the same INVITE: its 2xx is ACKed with its own tag and then hung up.
    await callee.send(respond(inv, 200, 'OK', { toTag: 'fork2', contact: `<${target()}>`, body: sdp(8002) }), { port: h.udp.port });
    const bye = await callee.waitRequest('BYE');
    expect(bye.info.toTag).toBe('fork2');
    expect(callee.received.some((r) => r.message.kind === 'request' && r.message.method === 'ACK' && r.info.toTag === 'fork2')).toBe(true);
    await callee.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    expect(responseFrames(txn)).toHaveLength(1);
  });

  /** The requests of `method` the callee got in the dialog of To tag `tag`. */
  const requestsIn = (method: string, tag: string): number => callee.count((r) => r.message.kind === 'request' && r.message.method === method && r.info.toTag === tag);

  it.each([
    ['from another fork', 'fork'],
    ['without a SIP Contact', 'contactless'],
    ['whose dialog the app ACKed and ended at once (the call was over as it came)', 'ended'],
  ] as const)('Timer M: a 2xx %s is ACKed again at each retransmission and ended with one BYE only (RFC 3261 §13.2.2.4, §17.1.1.2)', async (_name, kind) => {
    const { inv, txn } = await inviteOut();
    const dialogId = `${inv.info.callId};from-tag=${inv.info.fromTag}`;
    const contact = { contact: `<${target()}>` };
    if (kind === 'fork') {
      await callee.send(respond(inv, 200, 'OK', { toTag: 'fork1', ...contact, body: sdp(8000) }), { port: h.udp.port });
      await eventually(() => responseFrames(txn).length === 1, 2000, '200 to the app');
      await p.reply(p.send(`sip||${dialogId}`, `ACK ${target()} SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
      await callee.waitRequest('ACK');
    }
    const tag = kind === 'fork' ? 'fork2' : 'late1';
    const ok = respond(inv, 200, 'OK', { toTag: tag, ...(kind === 'contactless' ? {} : contact), body: sdp(8002) });
    await callee.send(ok, { port: h.udp.port });
    if (kind === 'ended') {
      await eventually(() => responseFrames(txn).length === 1, 2000, '200 to the app');
      await p.reply(p.send(`sip||${dialogId}`, `ACK ${target()} SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
      await p.reply(p.send(`sip||${dialogId}`, `BYE ${target()} SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
    }
    const bye = await callee.waitRequest('BYE');
    expect(bye.info.toTag).toBe(tag);
    await callee.send(respond(bye, 200, 'OK'), { port: h.udp.port });
    await eventually(() => requestsIn('ACK', tag) === 1, 2000, 'the ACK');
    // Our ACK was lost: the callee sends its 2xx again, twice (RFC 3261 §13.3.1.4).
    for (let i = 2; i <= 3; i++) {
      await callee.send(ok, { port: h.udp.port });
      await eventually(() => requestsIn('ACK', tag) === i, 2000, `ACK ${i}`);
    }
    // Whatever more would come for them has come by the time an OPTIONS sent after them is answered.
    await p.reply(p.send('sip||', `OPTIONS ${target()} SIP/2.0\r\nContent-Length: 0\r\n\r\n`));
    const options = await callee.waitRequest('OPTIONS');
    await callee.send(respond(options, 200, 'OK'), { port: h.udp.port });
    expect(requestsIn('BYE', tag)).toBe(1);
  });
});
