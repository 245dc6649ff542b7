/**
 * RFC 3262 reliable provisional responses, both sides, with the unmodified
 * drachtio-srf as the app and a scripted SIP peer on the wire: RSeq and
 * Require on the app's 18x, retransmission until the PRACK, PRACK matching by
 * RAck (481 otherwise), the 2xx held until the PRACK, early media (SDP in the
 * 183), 500 after 64·T1 without a PRACK, and as UAC: RSeq order and the PRACK
 * drachtio-srf asks for. T1 = 40 ms, so 64·T1 is 2.6 s.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';
import { SrfSipPort } from '../../../src/engine/signaling/srf-port.js';

const T1 = 40;
let h: Harness;
let sip: SipPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({ timers: { t1Ms: T1, t2Ms: 160, t4Ms: 200, appResponseTimeoutMs: 5000 } });
  sip = await SipPeer.create('udp');
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await sip.close();
  await h.stop();
});

async function app(setup: (srf: Srf) => void): Promise<Srf> {
  const srf = await connectApp(h, setup);
  closers.push(() => disconnectApp(srf));
  return srf;
}

const toServer = (): { port: number } => ({ port: h.udp.port });
const EARLY_SDP = sdp(5002);

/** An app that sends a reliable 183 with SDP (early media), then answers; it records the PRACKs it is given. */
async function earlyMediaApp(opts: { answer?: boolean } = {}): Promise<{ pracks: string[]; cancels: number[]; refused: string[] }> {
  const pracks: string[] = [];
  const cancels: number[] = [];
  const refused: string[] = [];
  await app((srf) => {
    srf.use((req, _res, next) => {
      if (req.method === 'PRACK') pracks.push(req.get('RAck'));
      next();
    });
    srf.invite((req, res) => {
      req.on('cancel', () => cancels.push(1));
      res.send(183, { headers: { Require: '100rel' }, body: EARLY_SDP });
      if (opts.answer === false) return;
      srf.createUAS(req, res, { localSdp: sdp(5000) }).catch((e: unknown) => refused.push(String(e)));
    });
  });
  return { pracks, cancels, refused };
}

function callIn(extra: string[]): { callId: string; fromTag: string; text: string } {
  const callId = uniq('rel');
  const fromTag = uniq('f');
  return { callId, fromTag, text: request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000), extra }) };
}

function prack(c: { callId: string; fromTag: string }, provisional: Received, rack: string, cseq = 2): string {
  const target = /<([^>]+)>/.exec(provisional.message.headers.get('contact') ?? '')?.[1] ?? '';
  return request({ method: 'PRACK', uri: target, peer: sip, callId: c.callId, fromTag: c.fromTag, toTag: provisional.info.toTag!, cseq, to: `<sip:1000@127.0.0.1:${h.udp.port}>`, extra: [`RAck: ${rack}`] });
}

function inDialog(c: { callId: string; fromTag: string }, ok: Received, method: string, cseq: number): string {
  const target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
  return request({ method, uri: target, peer: sip, callId: c.callId, fromTag: c.fromTag, toTag: ok.info.toTag!, cseq, to: `<sip:1000@127.0.0.1:${h.udp.port}>` });
}

const is183 = (r: Received): boolean => r.message.kind === 'response' && r.message.status === 183;

describe('RFC 3262 as UAS', () => {
  it('the app’s 183 with Require: 100rel goes reliably with SDP, is re-sent until the PRACK, and the 200 waits for the PRACK', async () => {
    const seen = await earlyMediaApp();
    const c = callIn(['Supported: 100rel, timer']);
    await sip.send(c.text, toServer());
    const first = await sip.waitResponse(183, 'INVITE');
    expect(first.message.headers.entries('require')).toContain('100rel');
    const rseq = Number(first.message.headers.get('rseq'));
    expect(rseq).toBeGreaterThanOrEqual(1);
    expect(rseq).toBeLessThan(2 ** 31);
    expect(first.message.body.toString()).toBe(EARLY_SDP);
    expect(first.message.headers.get('contact')).toBeDefined();
    // Retransmitted (same RSeq) while no PRACK comes; the 200 the app already sent is held meanwhile.
    const again = await sip.wait((r) => is183(r) && r !== first, 3000, 'a retransmitted 183');
    expect(again.message.headers.get('rseq')).toBe(String(rseq));
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200)).toBe(0);
    await sip.send(prack(c, first, `${rseq} 1 INVITE`), toServer());
    await sip.waitResponse(200, 'PRACK');
    const ok = await sip.waitResponse(200, 'INVITE');
    expect(ok.info.toTag).toBe(first.info.toTag);
    expect(seen.pracks).toEqual([`${rseq} 1 INVITE`]);
    // The app answered the PRACK before its held 200 went out.
    const at = (method: string): number => sip.received.findIndex((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === method);
    expect(at('PRACK')).toBeLessThan(at('INVITE'));
    const after = sip.count(is183);
    expect(await sip.quiet(is183, 10 * T1)).toEqual([]);
    expect(sip.count(is183)).toBe(after);
    await sip.send(inDialog(c, ok, 'ACK', 1), toServer());
    await sip.send(inDialog(c, ok, 'BYE', 3), toServer());
    await sip.waitResponse(200, 'BYE');
  });

  it('a PRACK whose RAck matches no unacknowledged 1xx gets 481 and does not reach the app; the right one then gets 200', async () => {
    const seen = await earlyMediaApp();
    const c = callIn(['Supported: 100rel']);
    await sip.send(c.text, toServer());
    const first = await sip.waitResponse(183, 'INVITE');
    const rseq = Number(first.message.headers.get('rseq'));
    await sip.send(prack(c, first, `${rseq + 1} 1 INVITE`), toServer());
    await sip.waitResponse(481, 'PRACK');
    await sip.send(prack(c, first, `${rseq} 7 INVITE`, 3), toServer());
    await sip.waitResponse(481, 'PRACK');
    expect(seen.pracks).toEqual([]);
    await sip.send(prack(c, first, `${rseq} 1 INVITE`, 4), toServer());
    await sip.waitResponse(200, 'PRACK');
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(inDialog(c, ok, 'ACK', 1), toServer());
    await sip.send(inDialog(c, ok, 'BYE', 5), toServer());
    await sip.waitResponse(200, 'BYE');
  });

  it('no PRACK within 64·T1, app still deciding: 500 to the INVITE, the app hears a CANCEL, and nothing is left behind', async () => {
    const seen = await earlyMediaApp({ answer: false });
    const c = callIn(['Supported: 100rel']);
    await sip.send(c.text, toServer());
    await sip.waitResponse(183, 'INVITE');
    const failed = await sip.waitResponse(500, 'INVITE', 64 * T1 + 3000);
    expect(failed.message.kind === 'response' && failed.message.reason).toContain('PRACK');
    await eventually(() => seen.cancels.length === 1, 10_000, 'the app to hear the cancel');
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200)).toBe(0);
    await eventually(() => h.server.status().dialogs === 0 && h.server.status().pendingAppRequests === 0, 10_000, 'no dialog left');
  });

  it('no PRACK within 64·T1 with the app’s 200 waiting for it: 500 to the INVITE, the app’s 200 is refused (createUAS rejects)', async () => {
    const seen = await earlyMediaApp();
    const c = callIn(['Supported: 100rel']);
    await sip.send(c.text, toServer());
    await sip.waitResponse(183, 'INVITE');
    await sip.waitResponse(500, 'INVITE', 64 * T1 + 3000);
    await eventually(() => seen.refused.length === 1, 10_000, 'createUAS to reject');
    expect(seen.refused[0]).toContain('PRACK');
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200)).toBe(0);
    await eventually(() => h.server.status().dialogs === 0 && h.server.status().pendingAppRequests === 0, 10_000, 'no dialog left');
  });

  it('a caller that requires 100rel gets even an ordinary 180 reliably', async () => {
    await app((srf) => {
      srf.invite((req, res) => {
        res.send(180);
      });
    });
    const c = callIn(['Require: 100rel']);
    await sip.send(c.text, toServer());
    const ringing = await sip.waitResponse(180, 'INVITE');
    expect(ringing.message.headers.entries('require')).toContain('100rel');
    expect(ringing.message.headers.get('rseq')).toMatch(/^\d+$/);
    await sip.send(prack(c, ringing, `${ringing.message.headers.get('rseq')} 1 INVITE`), toServer());
    await sip.waitResponse(200, 'PRACK');
  });

  it('an app asking for a reliable 183 the caller did not offer: sent as an ordinary 183, without RSeq or Require: 100rel', async () => {
    await earlyMediaApp();
    const c = callIn([]);
    await sip.send(c.text, toServer());
    const p = await sip.waitResponse(183, 'INVITE');
    expect(p.message.headers.has('rseq')).toBe(false);
    expect(p.message.headers.entries('require')).not.toContain('100rel');
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(inDialog(c, ok, 'ACK', 1), toServer());
    await sip.send(inDialog(c, ok, 'BYE', 2), toServer());
    await sip.waitResponse(200, 'BYE');
  });
});

describe('RFC 3262 in a confirmed dialog', () => {
  it('a reliable 1xx to a re-INVITE belongs to the dialog: the PRACK is answered 200, the 200 follows it, no second dialog appears', async () => {
    await app((srf) => {
      srf.invite((req, res) => {
        void srf.createUAS(req, res, { localSdp: sdp(5000) }).then((dialog) => {
          dialog.on('modify', (_req, mres) => {
            mres.send(183, { headers: { Require: '100rel' } });
            mres.send(200, { body: sdp(5000, 'sendrecv', 2) });
          });
        });
      });
    });
    const c = callIn(['Supported: 100rel']);
    await sip.send(c.text, toServer());
    const ok = await sip.waitResponse(200, 'INVITE');
    await sip.send(inDialog(c, ok, 'ACK', 1), toServer());
    const target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
    const to = `<sip:1000@127.0.0.1:${h.udp.port}>`;
    await sip.send(request({ method: 'INVITE', uri: target, peer: sip, callId: c.callId, fromTag: c.fromTag, toTag: ok.info.toTag!, cseq: 2, to, body: sdp(4000, 'sendonly', 2), extra: ['Supported: 100rel'] }), toServer());
    const p = await sip.waitResponse(183, 'INVITE');
    expect(p.info.toTag).toBe(ok.info.toTag);
    expect(p.message.headers.get('rseq')).toMatch(/^\d+$/);
    expect(sip.count((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseq === 2)).toBe(0);
    await sip.send(prack(c, ok, `${p.message.headers.get('rseq')} 2 INVITE`, 3), toServer());
    await sip.waitResponse(200, 'PRACK');
    const reOk = await sip.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE' && r.info.cseq === 2, 5000, '200 to the re-INVITE');
    expect(reOk.info.toTag).toBe(ok.info.toTag);
    expect(h.server.status().dialogs).toBe(1);
    await sip.send(inDialog(c, ok, 'ACK', 2), toServer());
    await sip.send(inDialog(c, ok, 'BYE', 4), toServer());
    await sip.waitResponse(200, 'BYE');
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'the dialog to end');
  });
});

describe('RFC 3262 as UAC', () => {
  it('a callee’s reliable 183: passed to the app once, PRACKed to its Contact with the right RAck, retransmissions absorbed', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const provisionals: number[] = [];
    const srf = await app(() => undefined);
    const call = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000), headers: { Supported: '100rel' } }, { cbProvisional: (r) => provisionals.push(r.status) });
    const inv = await far.nextRequest('INVITE');
    expect(inv.message.headers.entries('supported')).toContain('100rel');
    const toTag = uniq('ft');
    const contact = `<sip:callee-target@127.0.0.1:${far.port}>`;
    const reliable183 = respond(inv, 183, 'Session Progress', { toTag, contact, extra: ['Require: 100rel', 'RSeq: 7'], body: sdp(7000) });
    await far.send(reliable183, toServer());
    const pr = await far.waitRequest('PRACK');
    expect(pr.message.kind === 'request' && pr.message.uri).toBe(`sip:callee-target@127.0.0.1:${far.port}`);
    expect(pr.message.headers.get('rack')).toBe(`7 ${inv.info.cseq} INVITE`);
    expect(pr.info.toTag).toBe(toTag);
    expect(pr.info.callId).toBe(inv.info.callId);
    expect(pr.info.cseq).toBeGreaterThan(inv.info.cseq);
    // The callee re-sends the 183 (its PRACK crossed): neither the app nor the wire sees it again.
    await far.send(reliable183, toServer());
    await far.send(respond(pr, 200, 'OK'), toServer());
    // An out-of-order RSeq (9 after 7) is discarded too (§4).
    await far.send(respond(inv, 183, 'Session Progress', { toTag, contact, extra: ['Require: 100rel', 'RSeq: 9'] }), toServer());
    await far.send(respond(inv, 200, 'OK', { toTag, contact, body: sdp(7000) }), toServer());
    const dialog = await call;
    await far.waitRequest('ACK');
    expect(provisionals).toEqual([183]);
    // One PRACK transaction (a busy machine may retransmit it before our 200 arrives: same branch).
    const pracks = far.received.filter((r) => r.message.kind === 'request' && r.message.method === 'PRACK');
    expect(new Set(pracks.map((r) => r.info.via.branch))).toEqual(new Set([pr.info.via.branch]));
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    dialog.destroy();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'the dialog to end');
  });

  it('two forks of one INVITE (a forking proxy) each send a reliable 183: each is PRACKed in its own early dialog (To tag, Contact, RAck); their retransmissions are absorbed', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const provisionals: string[] = [];
    const srf = await app(() => undefined);
    const call = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000), headers: { Supported: '100rel' } }, { cbProvisional: (r) => provisionals.push(`${r.status} ${r.get('RSeq')}`) });
    const inv = await far.nextRequest('INVITE');
    // Two phones behind the proxy, each numbering its reliable 1xx on its own (RFC 3262 §3).
    const forks = [
      { toTag: uniq('forkA'), contact: `<sip:phone-a@127.0.0.1:${far.port}>`, rseq: 1 },
      { toTag: uniq('forkB'), contact: `<sip:phone-b@127.0.0.1:${far.port}>`, rseq: 1000 },
    ];
    const reliable = forks.map((f, i) => respond(inv, 183, 'Session Progress', { toTag: f.toTag, contact: f.contact, extra: ['Require: 100rel', `RSeq: ${f.rseq}`], body: sdp(7000 + i * 10) }));
    const pracks: Received[] = [];
    for (const [i, f] of forks.entries()) {
      await far.send(reliable[i]!, toServer());
      const pr = await far.wait((r) => r.message.kind === 'request' && r.message.method === 'PRACK' && !pracks.includes(r) && r.message.headers.get('rack') === `${f.rseq} ${inv.info.cseq} INVITE`, 5_000, `the PRACK of fork ${i}`);
      pracks.push(pr);
      expect(pr.info.toTag).toBe(f.toTag);
      expect(pr.message.kind === 'request' && pr.message.uri).toBe(/<([^>]+)>/.exec(f.contact)![1]);
      await far.send(respond(pr, 200, 'OK'), toServer());
    }
    // Each fork's 183 sent again (its PRACK crossed): neither the app nor the wire sees it again.
    for (const r of reliable) await far.send(r, toServer());
    // Fork B answers; its answer was in its reliable 183 (RFC 3262 §5: the 200 need not repeat it).
    await far.send(respond(inv, 200, 'OK', { toTag: forks[1]!.toTag, contact: forks[1]!.contact, body: sdp(7010) }), toServer());
    const dialog = await call;
    const ack = await far.waitRequest('ACK');
    expect(ack.info.toTag).toBe(forks[1]!.toTag);
    expect(ack.message.kind === 'request' && ack.message.uri).toBe(`sip:phone-b@127.0.0.1:${far.port}`);
    expect(provisionals).toEqual(['183 1', '183 1000']);
    // Every PRACK sent went in the dialog of the 1xx its RAck names: none crossed to the other fork.
    const sent = far.received.filter((r) => r.message.kind === 'request' && r.message.method === 'PRACK');
    expect(new Set(sent.map((r) => `${r.info.toTag} ${r.message.headers.get('rack')}`))).toEqual(new Set(forks.map((f) => `${f.toTag} ${f.rseq} ${inv.info.cseq} INVITE`)));
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    dialog.destroy();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'the dialog to end');
  });

  it('a fork’s reliable 183 that the app PRACKs after another fork’s 200 arrived: its PRACK still goes in its own early dialog, not the answered one (probe AP-1)', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const srf = await app(() => undefined);
    const call = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000), headers: { Supported: '100rel' } });
    const inv = await far.nextRequest('INVITE');
    const a = { toTag: uniq('forkA'), contact: `<sip:phone-a@127.0.0.1:${far.port}>` };
    const b = { toTag: uniq('forkB'), contact: `<sip:phone-b@127.0.0.1:${far.port}>` };
    await far.send(respond(inv, 183, 'Session Progress', { toTag: a.toTag, contact: a.contact, extra: ['Require: 100rel', 'RSeq: 1'], body: sdp(7100) }), toServer());
    const prA = await far.wait((r) => r.message.kind === 'request' && r.message.method === 'PRACK', 5_000, 'the PRACK of fork A');
    expect(prA.info.toTag).toBe(a.toTag);
    await far.send(respond(prA, 200, 'OK'), toServer());
    // Fork B's reliable 183 and fork A's 200 back to back: the 200 is taken before the app's PRACK for B comes.
    await far.send(respond(inv, 183, 'Session Progress', { toTag: b.toTag, contact: b.contact, extra: ['Require: 100rel', 'RSeq: 1'], body: sdp(7200) }), toServer());
    await far.send(respond(inv, 200, 'OK', { toTag: a.toTag, contact: a.contact }), toServer());
    const dialog = await call;
    const ack = await far.waitRequest('ACK');
    expect(ack.info.toTag).toBe(a.toTag);
    const prB = await far.wait((r) => r.message.kind === 'request' && r.message.method === 'PRACK' && r !== prA && r.info.via.branch !== prA.info.via.branch, 5_000, 'the PRACK of fork B');
    expect(prB.info.toTag).toBe(b.toTag);
    expect(prB.message.kind === 'request' && prB.message.uri).toBe(`sip:phone-b@127.0.0.1:${far.port}`);
    await far.send(respond(prB, 200, 'OK'), toServer());
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    dialog.destroy();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'the dialog to end');
  });

  it('the engine’s leg to a fork that answers with a 200 without SDP takes that fork’s own reliable 183 answer, not the other fork’s later one (RFC 3262 §5)', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const srf = await app(() => undefined);
    const port = new SrfSipPort(srf);
    const dialing = port.dial({ target: `sip:agent@127.0.0.1:${far.port}`, offer: sdp(6000), headers: { Supported: '100rel' }, signal: new AbortController().signal });
    const inv = await far.nextRequest('INVITE');
    const forks = [
      { toTag: uniq('forkA'), contact: `<sip:phone-a@127.0.0.1:${far.port}>`, rseq: 1, answer: sdp(7100) },
      { toTag: uniq('forkB'), contact: `<sip:phone-b@127.0.0.1:${far.port}>`, rseq: 1, answer: sdp(7200) },
    ];
    for (const f of forks) {
      await far.send(respond(inv, 183, 'Session Progress', { toTag: f.toTag, contact: f.contact, extra: ['Require: 100rel', `RSeq: ${f.rseq}`], body: f.answer }), toServer());
      const pr = await far.wait((r) => r.message.kind === 'request' && r.message.method === 'PRACK' && r.info.toTag === f.toTag, 5_000, 'the PRACK');
      await far.send(respond(pr, 200, 'OK'), toServer());
    }
    // Fork A answers; its answer was in its own 183 (fork B's came later and is not A's).
    await far.send(respond(inv, 200, 'OK', { toTag: forks[0]!.toTag, contact: forks[0]!.contact }), toServer());
    const result = await dialing;
    expect(result.kind).toBe('answered');
    if (result.kind !== 'answered') return;
    expect(result.leg.remoteSdp).toBe(forks[0]!.answer);
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    await result.leg.hangUp();
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'the dialog to end');
  });
});
