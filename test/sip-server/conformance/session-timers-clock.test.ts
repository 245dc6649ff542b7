/**
 * RFC 4028 with the defaults of RFC 4028 itself (1800 s asked for, Min-SE
 * 90 s) on a fake clock driving the server's timer heap: the refresh goes
 * out at exactly half the interval, the BYE of the non-refresher exactly
 * 32 s before expiry (§10), and 89 s gets 422. The app (drachtio-srf) and
 * the sockets are real; only the server's time is the test's.
 */
import type { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type Srf from 'drachtio-srf';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { request, respond, sdp, SipPeer, uniq, type Received } from '../../support/sip-peer.js';

let h: Harness;
let sip: SipPeer;
let clock: FakeClock;
let srf: Srf;
let acked: () => Promise<void>;

beforeEach(async () => {
  clock = new FakeClock();
  h = await startServer({ clock, sessionTimers: { enabled: true, defaultSeconds: 1800, minSeconds: 90 } });
  sip = await SipPeer.create('udp');
  let ackSeen: (() => void) | undefined;
  const ack = new Promise<void>((r) => (ackSeen = r));
  acked = () => ack;
  srf = await connectApp(h, (s: Srf) => {
    s.invite((req, res) => {
      void s.createUAS(req, res, { localSdp: sdp(5000) }).then((d) => (d as unknown as EventEmitter).on('ack', () => ackSeen?.()));
    });
  });
});
afterEach(async () => {
  disconnectApp(srf);
  await sip.close();
  await h.stop();
});

/** Lets callbacks the clock fired run to their sends (they only wait on promises, never on time). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

async function answeredCall(extra: string[]): Promise<{ ok: Received; callId: string; fromTag: string }> {
  const callId = uniq('fc');
  const fromTag = uniq('f');
  await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, callId, fromTag, body: sdp(4000), extra }), { port: h.udp.port });
  const ok = await sip.waitResponse(200, 'INVITE');
  const target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? '';
  await sip.send(request({ method: 'ACK', uri: target, peer: sip, callId, fromTag, toTag: ok.info.toTag!, to: `<sip:1000@127.0.0.1:${h.udp.port}>` }), { port: h.udp.port });
  // Once the app has the ACK, the 2xx is no longer re-sent: from here only session timers send.
  await acked();
  return { ok, callId, fromTag };
}

describe('RFC 4028 timing with the RFC defaults, on a fake clock', () => {
  it('as refresher we send the UPDATE at exactly 900 s of an 1800 s interval, and the next 900 s after its 2xx', async () => {
    sip.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'UPDATE') void sip.send(respond(r, 200, 'OK', { extra: ['Session-Expires: 1800;refresher=uac'] }), { port: h.udp.port });
    };
    const start = clock.t;
    const { ok } = await answeredCall(['Supported: timer', 'Session-Expires: 1800;refresher=uas', 'Allow: INVITE, ACK, BYE, UPDATE']);
    expect(ok.message.headers.get('session-expires')).toBe('1800;refresher=uas');
    const out = h.server.status().messagesOut;
    clock.advanceTo(start + 900_000 - 1);
    await settle();
    expect(h.server.status().messagesOut).toBe(out);
    const received = h.server.status().messagesIn;
    clock.advanceTo(start + 900_000);
    const first = await sip.waitRequest('UPDATE');
    expect(first.message.headers.get('session-expires')).toBe('1800;refresher=uac');
    expect(first.message.headers.get('min-se')).toBe('90');
    // Our UPDATE got its 200 at (fake) 900 s: the next refresh is due at 1800 s, not before.
    await eventually(() => h.server.status().messagesIn > received, 10_000, 'the 200 to our UPDATE to arrive');
    const afterFirst = h.server.status().messagesOut;
    clock.advanceTo(start + 1_800_000 - 1);
    await settle();
    expect(h.server.status().messagesOut).toBe(afterFirst);
    clock.advanceTo(start + 1_800_000);
    await sip.waitRequest('UPDATE');
  });

  it('when the caller refreshes and stops: BYE exactly 32 s before the 1800 s run out', async () => {
    const start = clock.t;
    sip.onMessage = (r) => {
      if (r.message.kind === 'request' && r.message.method === 'BYE') void sip.send(respond(r, 200, 'OK'), { port: h.udp.port });
    };
    await answeredCall(['Supported: timer', 'Session-Expires: 1800;refresher=uac']);
    const out = h.server.status().messagesOut;
    clock.advanceTo(start + 1_768_000 - 1);
    await settle();
    expect(h.server.status().messagesOut).toBe(out);
    clock.advanceTo(start + 1_768_000);
    const bye = await sip.waitRequest('BYE');
    expect(bye.message.headers.get('reason')).toContain('session timer expired');
  });

  it('89 s is below the RFC minimum of 90 s: 422 with Min-SE: 90', async () => {
    await sip.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${h.udp.port}`, peer: sip, body: sdp(4000), extra: ['Supported: timer', 'Session-Expires: 89'] }), { port: h.udp.port });
    const r = await sip.waitResponse(422, 'INVITE');
    expect(r.message.headers.get('min-se')).toBe('90');
  });
});
