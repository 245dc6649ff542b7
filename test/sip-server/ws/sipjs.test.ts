/**
 * Browser-like traffic: SIP.js softphones over WS and WSS (RFC 7118) against
 * the server and a small test-only drachtio-srf B2BUA. They register, call
 * out to a SIPp agent over UDP, take calls from a SIPp caller (the server
 * reaching them over the connection they registered on), and call each other
 * with both legs over WebSocket.
 */
import { readFileSync } from 'node:fs';
import type Srf from 'drachtio-srf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApp, disconnectApp, eventually, startServer, type Harness } from '../../support/harness.js';
import { describeRun, freePort, runSipp } from '../../support/sipp.js';
import { SipJsPhone, waitState } from '../../support/sipjs-phone.js';
import { waitForBound } from '../../support/interop/port-ready.js';
import { TestPki } from '../../support/tls-certs.js';
import { SessionState } from 'sip.js';

let pki: TestPki;
let h: Harness;
let srf: Srf;
const phones: SipJsPhone[] = [];
/** AOR user → the Contact it registered (what a registrar app keeps). */
const registered = new Map<string, string>();
/** How each INVITE reached the app: protocol as drachtio-srf reports it, and the top Via. */
const invites: { user: string; protocol: string; via: string }[] = [];
let pstnPort = 0;

interface Req {
  readonly uri: string;
  readonly protocol: string;
  get(h: string): string;
}
interface Res {
  send(status: number, opts?: { headers?: Record<string, string> }): void;
}
interface Leg {
  on(event: 'destroy', fn: () => void): void;
  destroy(): void;
}

beforeAll(async () => {
  pki = await TestPki.create();
  const cert = await pki.issue('server', { cn: 'localhost', san: ['DNS:localhost', 'IP:127.0.0.1'] });
  pstnPort = await freePort();
  h = await startServer({
    listen: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'ws', host: '127.0.0.1', port: 0 },
      { transport: 'wss', host: '127.0.0.1', port: 0, tls: { certFile: cert.cert, keyFile: cert.key, verifyClient: 'off', verifyServer: true, minVersion: 'TLSv1.2' } },
    ],
    timers: { t1Ms: 100, t2Ms: 800, t4Ms: 1000, appResponseTimeoutMs: 10_000 },
  });
  srf = await connectApp(h, (app) => {
    app.use('register', ((req: Req, res: Res) => {
      const user = /^<?sips?:([^@>]+)@/.exec(req.get('To').replace(/^[^<]*</, '<'))?.[1] ?? '';
      const contact = req.get('Contact');
      const uri = /<([^>]+)>/.exec(contact)?.[1];
      if (/expires=0\b/.test(contact) || req.get('Expires') === '0') registered.delete(user);
      else if (uri !== undefined) registered.set(user, uri);
      res.send(200, { headers: { Contact: contact, Expires: '300' } });
    }) as never);
    app.invite((req: Req, res: Res) => {
      const user = /^sips?:([^@]+)@/.exec(req.uri)?.[1] ?? '';
      invites.push({ user, protocol: req.protocol, via: req.get('Via') });
      const target = registered.get(user) ?? (user === 'pstn' ? `sip:pstn@127.0.0.1:${pstnPort}` : undefined);
      if (target === undefined) {
        res.send(404);
        return;
      }
      const b2b = (app as unknown as { createB2BUA(a: Req, b: Res, uri: string, o: object): Promise<{ uas: Leg; uac: Leg }> }).createB2BUA(req, res, target, {});
      void b2b.then(
        ({ uas, uac }) => {
          uas.on('destroy', () => uac.destroy());
          uac.on('destroy', () => uas.destroy());
        },
        () => undefined,
      );
    });
  });
});

afterAll(async () => {
  for (const p of phones) await p.stop().catch(() => undefined);
  disconnectApp(srf);
  await h?.stop();
  pki?.cleanup();
});

async function phone(user: string, secure = false): Promise<SipJsPhone> {
  const server = secure ? `wss://localhost:${h.listener('wss').port}` : `ws://127.0.0.1:${h.listener('ws').port}`;
  const p = await SipJsPhone.start({ server, aor: `sip:${user}@example.org`, autoAnswer: true, ...(secure ? { ca: readFileSync(pki.ca.cert) } : {}) });
  phones.push(p);
  return p;
}

describe('SIP.js over WebSocket', () => {
  let alice: SipJsPhone;

  it('registers over WS; the server keeps its flow', async () => {
    alice = await phone('alice');
    expect(alice.contact).toMatch(/^sip:\w+@\w+\.invalid;transport=ws$/);
    await alice.register();
    expect(registered.get('alice')).toBe(alice.contact);
    expect(h.server.status().registeredFlows).toBe(1);
  });

  it('places a call to an agent on UDP (SIPp) and hangs up', async () => {
    const agent = runSipp({ scenario: 'uas-answer.xml', port: pstnPort, transport: 'udp', calls: 1, timeoutSec: 20 });
    try {
      await waitForBound(pstnPort, 'udp', 'SIPp listening');
      const session = await alice.call('sip:pstn@example.org');
      expect(invites.at(-1)).toMatchObject({ user: 'pstn', protocol: 'tcp', via: expect.stringMatching(/^SIP\/2\.0\/WS \w+\.invalid;/) as string });
      await session.bye();
      await waitState(session, SessionState.Terminated);
      const r = await agent.done;
      expect(r.stats.successful, describeRun(r)).toBe(1);
    } finally {
      agent.kill();
    }
  });

  it('takes a call from a SIPp caller: the server reaches it over the connection it registered on', async () => {
    const callerPort = await freePort();
    const before = alice.incoming.length;
    const caller = runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${h.listener('udp').port}`, port: callerPort, transport: 'udp', calls: 1, service: 'alice', pauseMs: 300, timeoutSec: 20 });
    const r = await caller.done;
    expect(r.stats.successful, describeRun(r)).toBe(1);
    expect(alice.incoming.length).toBe(before + 1);
    const call = alice.incoming[before]!;
    expect(call.request.getHeader('Via')).toMatch(new RegExp(`^SIP/2\\.0/WS 127\\.0\\.0\\.1:${h.listener('ws').port};branch=z9hG4bK`));
    await waitState(call, SessionState.Terminated);
  });

  it('a WSS phone calls the WS phone: both legs over WebSocket, hung up by the callee', async () => {
    const bob = await phone('bob', true);
    await bob.register();
    expect(h.server.status().registeredFlows).toBe(2);
    const before = alice.incoming.length;
    const session = await bob.call('sip:alice@example.org');
    expect(invites.at(-1)).toMatchObject({ user: 'alice', protocol: 'tls', via: expect.stringMatching(/^SIP\/2\.0\/WSS /) as string });
    const taken = alice.incoming[before]!;
    await waitState(taken, SessionState.Established);
    await taken.bye();
    await waitState(session, SessionState.Terminated);
    await eventually(() => h.server.status().dialogs === 0, 10_000, 'no dialog left');
  });

  it('unregistering forgets the flow', async () => {
    await alice.unregister();
    await eventually(() => h.server.status().registeredFlows === 1, 10_000, 'alice’s flow gone');
  });
});

