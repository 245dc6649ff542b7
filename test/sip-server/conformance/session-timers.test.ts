/**
 * RFC 4028 session timers with the unmodified drachtio-srf as the app and a
 * scripted SIP peer on the wire: 422 with Min-SE, Session-Expires and Require
 * in our 2xx, the peer refreshing (the timer restarts), the peer not
 * refreshing (BYE, unsolicited notification, Dialog `destroy`), the server
 * refreshing with UPDATE or re-INVITE, a failed refresh, and as UAC: the
 * headers we add, a 422 retried, a refresher that goes away.
 * Short intervals (2–4 s) stand in for the real ones; nothing checks how
 * long anything took, only what happened.
 */
import type { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, eventually, sleep, startServer, type Harness } from '../../support/harness.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

const T1 = 40;
const MIN = 2;
let h: Harness;
let sip: SipPeer;
const closers: (() => void | Promise<void>)[] = [];

beforeEach(async () => {
  h = await startServer({
    timers: { t1Ms: T1, t2Ms: 160, t4Ms: 200, appResponseTimeoutMs: 5000 },
    sessionTimers: { enabled: true, defaultSeconds: MIN, minSeconds: MIN },
  });
  sip = await SipPeer.create('udp');
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await sip.close();
  await h.stop();
});

const toServer = (): { port: number } => ({ port: h.udp.port });
const APP_SDP = sdp(5000);

/** An app answering every call; it records how each Dialog ended. */
async function answeringApp(): Promise<{ ended: string[]; invites: number[] }> {
  const ended: string[] = [];
  const invites: number[] = [];
  const srf = await connectApp(h, (s: Srf) => {
    s.invite((req, res) => {
      invites.push(1);
      void s.createUAS(req, res, { localSdp: APP_SDP }).then((d) => onDestroy(d, (reason) => ended.push(reason)));
    });
  });
  closers.push(() => disconnectApp(srf));
  return { ended, invites };
}

/** drachtio-srf's Dialog emits `destroy(msg, reason)`; its typings give the listener only `msg`. */
function onDestroy(d: object, fn: (reason: string) => void): void {
  (d as EventEmitter).on('destroy', (_msg: unknown, reason: string) => fn(reason));
}

interface Call {
  readonly callId: string;
  readonly fromTag: string;
  ok: Received;
}

async function call(extra: string[]): Promise<Call> {
  const callId = uniq('st');
  const fromTag = uniq('f');
  await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000), extra }), toServer());
  const ok = await sip.waitResponse(200, 'INVITE');
  const c = { callId, fromTag, ok };
  await sip.send(inDialog(c, 'ACK', 1), toServer());
  return c;
}

function inDialog(c: Call, method: string, cseq: number, extra: string[] = []): string {
  const target = /<([^>]+)>/.exec(c.ok.message.headers.get('contact') ?? '')?.[1] ?? '';
  return request({ method, uri: target, peer: sip, callId: c.callId, fromTag: c.fromTag, toTag: c.ok.info.toTag!, cseq, to: `<sip:1000@127.0.0.1:${h.udp.port}>`, extra });
}

/** Answers the server's requests (refreshes with 200 + `se`, BYE with 200). */
function answerServer(se: string | undefined, status = 200): void {
  sip.onMessage = (r) => {
    if (r.message.kind !== 'request' || r.message.method === 'ACK') return;
    const extra = se !== undefined && r.message.method !== 'BYE' ? [`Session-Expires: ${se}`] : [];
    void sip.send(respond(r, r.message.method === 'BYE' ? 200 : status, 'Reply', { extra, body: r.message.method === 'INVITE' ? sdp(4000) : '' }), toServer());
  };
}

/** Nothing left: no dialog, no request for an app, and (unless a Timer D of 32 s runs, RFC 3261 §17.1.1.2) no timer. */
async function idle(timers = true): Promise<void> {
  const quiet = (): boolean => {
    const s = h.server.status();
    return s.dialogs === 0 && s.pendingAppRequests === 0 && (!timers || s.timers === 0);
  };
  await eventually(quiet, 64 * T1 + 5000, 'no dialog, request or timer left').catch((e: unknown) => {
    throw new Error(`${String(e)}: ${JSON.stringify(h.server.status())}`);
  });
}

describe('RFC 4028 as UAS', () => {
  it('a Session-Expires below our minimum gets 422 with Min-SE; the app never sees the INVITE', async () => {
    const seen = await answeringApp();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), extra: ['Supported: timer', `Session-Expires: ${MIN - 1}`] }), toServer());
    const r = await sip.waitResponse(422, 'INVITE');
    expect(r.message.headers.get('min-se')).toBe(String(MIN));
    expect(seen.invites).toEqual([]);
  });

  it('a malformed Session-Expires gets 400 with the reason', async () => {
    await answeringApp();
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), extra: ['Session-Expires: soon'] }), toServer());
    const r = await sip.waitResponse(400, 'INVITE');
    expect(r.message.kind === 'response' && r.message.reason).toContain('Session-Expires');
  });

  it('Require: timer is accepted; a caller that refreshes (UPDATE) keeps the call up past the interval; the 2xx carry Session-Expires, Require: timer and Supported: 100rel, timer', async () => {
    const seen = await answeringApp();
    const se = 2 * MIN;
    const c = await call(['Require: timer', 'Supported: timer', `Session-Expires: ${se};refresher=uac`]);
    expect(c.ok.message.headers.get('session-expires')).toBe(`${se};refresher=uac`);
    expect(c.ok.message.headers.entries('require')).toContain('timer');
    // What the server implements, said where Require asks for one of it (RFC 3261 §13.3.1.4).
    expect(c.ok.message.headers.entries('supported')).toEqual(['100rel', 'timer']);
    // Refresh well inside each interval, for longer than one interval in all.
    for (let i = 0; i < 4; i++) {
      await sleep((se * 1000) / 4);
      await sip.send(inDialog(c, 'UPDATE', 2 + i, ['Supported: timer', `Session-Expires: ${se};refresher=uac`]), toServer());
      const upd = await sip.waitResponse(200, 'UPDATE');
      expect(upd.message.headers.get('session-expires')).toBe(`${se};refresher=uac`);
    }
    expect(sip.count((r) => r.message.kind === 'request' && r.message.method === 'BYE')).toBe(0);
    expect(seen.ended).toEqual([]);
    await sip.send(inDialog(c, 'BYE', 10), toServer());
    await sip.waitResponse(200, 'BYE');
    await idle();
  });

  it('a caller that was to refresh and does not: BYE with a Reason on the wire, the app’s Dialog is destroyed, nothing is left', async () => {
    const seen = await answeringApp();
    answerServer(undefined);
    await call(['Supported: timer', `Session-Expires: ${MIN};refresher=uac`]);
    const bye = await sip.waitRequest('BYE', MIN * 1000 + 15_000);
    // RFC 3326: a timer that ran out (Q.850 102), not SIP cause 200.
    expect(bye.message.headers.get('reason')).toBe('Q.850;cause=102;text="session timer expired"');
    await eventually(() => seen.ended.length === 1, 10_000, 'the Dialog to be destroyed');
    expect(seen.ended[0]).toBe('session timer expired');
    await idle();
  });

  it('we refresh with UPDATE (no body) when the caller allows it, again and again; the caller then hangs up', async () => {
    await answeringApp();
    answerServer(`${MIN};refresher=uac`);
    const c = await call(['Supported: timer', `Session-Expires: ${MIN};refresher=uas`, 'Allow: INVITE, ACK, CANCEL, BYE, UPDATE']);
    expect(c.ok.message.headers.get('session-expires')).toBe(`${MIN};refresher=uas`);
    expect(c.ok.message.headers.entries('require')).not.toContain('timer');
    const first = await sip.waitRequest('UPDATE', MIN * 1000 + 15_000);
    expect(first.message.headers.get('session-expires')).toBe(`${MIN};refresher=uac`);
    expect(first.message.body.length).toBe(0);
    expect(first.info.toTag).toBe(c.fromTag);
    await sip.waitRequest('UPDATE', MIN * 1000 + 15_000);
    await sip.send(inDialog(c, 'BYE', 5), toServer());
    await sip.waitResponse(200, 'BYE');
    await idle();
  });

  it('a caller knowing nothing of timers and not allowing UPDATE: we are the refresher and re-INVITE with the app’s SDP, and ACK the 200', async () => {
    await answeringApp();
    answerServer(undefined);
    const c = await call([]);
    expect(c.ok.message.headers.get('session-expires')).toBe(`${MIN};refresher=uas`);
    const re = await sip.nextRequest('INVITE', MIN * 1000 + 15_000);
    expect(re.info.toTag).toBe(c.fromTag);
    expect(re.message.body.toString()).toBe(APP_SDP);
    const ack = await sip.waitRequest('ACK');
    expect(ack.info.cseq).toBe(re.info.cseq);
    await sip.send(inDialog(c, 'BYE', 5), toServer());
    await sip.waitResponse(200, 'BYE');
    await idle();
  });

  it('a refresh answered 481: the dialog ends with BYE and the app’s Dialog is destroyed', async () => {
    const seen = await answeringApp();
    answerServer(undefined, 481);
    await call(['Supported: timer', `Session-Expires: ${MIN};refresher=uas`, 'Allow: UPDATE']);
    await sip.waitRequest('UPDATE', MIN * 1000 + 15_000);
    const bye = await sip.waitRequest('BYE');
    expect(bye.message.headers.get('reason')).toContain('session refresh failed');
    await eventually(() => seen.ended.length === 1, 10_000, 'the Dialog to be destroyed');
    await idle();
  });
});

describe('RFC 4028 as UAC', () => {
  it('our INVITE offers timers; a 422 is retried with the Min-SE asked for; the callee’s 200 makes us refresher; then the callee stops answering refreshes usefully', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const srf = await connectApp(h);
    closers.push(() => disconnectApp(srf));
    const pending = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000) });
    const first = await far.nextRequest('INVITE');
    expect(first.message.headers.entries('supported')).toContain('timer');
    expect(first.message.headers.get('session-expires')).toBe(String(MIN));
    expect(first.message.headers.get('min-se')).toBe(String(MIN));
    await far.send(respond(first, 422, 'Session Interval Too Small', { toTag: uniq('x'), extra: [`Min-SE: ${MIN + 1}`] }), toServer());
    await far.waitRequest('ACK');
    const second = await far.nextRequest('INVITE');
    expect(second.info.callId).toBe(first.info.callId);
    expect(second.info.fromTag).toBe(first.info.fromTag);
    expect(second.info.cseq).toBe(first.info.cseq + 1);
    expect(second.info.via.branch).not.toBe(first.info.via.branch);
    expect(second.message.headers.get('session-expires')).toBe(String(MIN + 1));
    const toTag = uniq('ft');
    const contact = `<sip:callee@127.0.0.1:${far.port}>`;
    await far.send(respond(second, 200, 'OK', { toTag, contact, body: sdp(7000), extra: [`Session-Expires: ${MIN + 1};refresher=uac`, 'Require: timer', 'Allow: INVITE, ACK, BYE, UPDATE'] }), toServer());
    const dialog = await pending;
    await far.waitRequest('ACK');
    const ended: string[] = [];
    onDestroy(dialog, (reason) => ended.push(reason));
    const refresh = await far.waitRequest('UPDATE', (MIN + 1) * 1000 + 3000);
    expect(refresh.message.headers.get('session-expires')).toBe(`${MIN + 1};refresher=uac`);
    expect(refresh.info.fromTag).toBe(first.info.fromTag);
    expect(refresh.info.toTag).toBe(toTag);
    // The callee answers the refresh without Session-Expires: per §7.2 there is no expiry any more.
    await far.send(respond(refresh, 200, 'OK'), toServer());
    expect(await far.quiet((r) => r.message.kind === 'request' && r.message.method === 'UPDATE', (MIN + 1) * 1000)).toEqual([]);
    expect(ended).toEqual([]);
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    dialog.destroy();
    // The 422's transaction keeps its Timer D (32 s over UDP); everything else is gone.
    await idle(false);
  });

  it('a callee granting an interval below our minimum (here 0 s) does not make us refresh in a loop: our refresh asks for the minimum', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const srf = await connectApp(h);
    closers.push(() => disconnectApp(srf));
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && (r.message.method === 'BYE' || r.message.method === 'UPDATE')) void far.send(respond(r, 200, 'OK'), toServer());
    };
    const pending = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000) });
    const inv = await far.nextRequest('INVITE');
    await far.send(respond(inv, 200, 'OK', { toTag: uniq('ft'), contact: `<sip:callee@127.0.0.1:${far.port}>`, body: sdp(7000), extra: ['Session-Expires: 0;refresher=uac', 'Allow: INVITE, ACK, BYE, UPDATE'] }), toServer());
    const dialog = await pending;
    const refresh = await far.waitRequest('UPDATE', MIN * 1000 + 15_000);
    expect(refresh.message.headers.get('session-expires')).toBe(`${MIN};refresher=uac`);
    expect(far.count((r) => r.message.kind === 'request' && r.message.method === 'UPDATE')).toBe(1);
    dialog.destroy();
    await idle();
  });

  it('a callee that takes the refresher role and never refreshes: we BYE it and the app’s Dialog is destroyed', async () => {
    const far = await SipPeer.create('udp');
    closers.push(() => far.close());
    const srf = await connectApp(h);
    closers.push(() => disconnectApp(srf));
    far.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void far.send(respond(r, 200, 'OK'), toServer());
    };
    const pending = srf.createUAC(`sip:callee@127.0.0.1:${far.port}`, { localSdp: sdp(6000) });
    const inv = await far.nextRequest('INVITE');
    await far.send(respond(inv, 200, 'OK', { toTag: uniq('ft'), contact: `<sip:callee@127.0.0.1:${far.port}>`, body: sdp(7000), extra: [`Session-Expires: ${MIN};refresher=uas`] }), toServer());
    const dialog = await pending;
    const ended: string[] = [];
    onDestroy(dialog, (reason) => ended.push(reason));
    const bye = await far.waitRequest('BYE', MIN * 1000 + 15_000);
    expect(bye.message.headers.get('reason')).toContain('session timer expired');
    await eventually(() => ended.length === 1, 10_000, 'the Dialog to be destroyed');
    await idle();
  });
});
