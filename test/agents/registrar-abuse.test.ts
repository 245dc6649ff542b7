/**
 * The registrar under abuse and failure, through the whole engine: a REGISTER
 * flood from one address is rate limited (503 with Retry-After) while other
 * addresses register and calls go on; password guessing from one address
 * locks that address out quickly; unknown users are challenged exactly like
 * known ones. A registered phone that stops answering the OPTIONS keep-alive
 * is removed and its agent taken out of rotation until it registers again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { Registrant, statusOf } from '../support/registration.js';
import { request, SipPeer, uniq, type Received } from '../support/sip-peer.js';

let cc: ContactCenter;
let steve: AgentPhone;
beforeAll(async () => {
  steve = await AgentPhone.create(1300);
  cc = await startContactCenter(
    {
      registrar: { minExpiresSeconds: 1, rateLimit: { perSourcePerSecond: 5, burst: 10, failureCost: 5 }, keepAlive: { intervalSeconds: 1, timeoutSeconds: 1, failures: 2 } },
      agents: [
        { id: 'alice', name: 'Alice', password: 'alice-secret', startState: 'ready', queues: [{ queue: 'sales' }] },
        { id: 'steve', name: 'Steve', device: steve.uri('steve'), startState: 'ready', queues: [{ queue: 'desk' }] },
      ],
      queues: [
        { id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { maxWaitSeconds: 2, wrapUpSeconds: 0 } },
        { id: 'desk', name: 'Desk', numbers: ['7000'], waiting: { maxWaitSeconds: 10, wrapUpSeconds: 0 } },
      ],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  steve?.close();
});

const agents = () => cc.sb.engine.agents!.agents;
const final = (p: SipPeer) => p.received.filter((r) => r.message.kind === 'response' && r.message.status >= 200);

describe('floods and guessing', () => {
  it('a REGISTER flood from one address is limited (503 with Retry-After), unknown users challenged like known ones; other addresses and calls are not affected', async () => {
    const flood = await SipPeer.create('udp', '127.0.0.2');
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      const users = ['alice', 'nobody', 'root', 'admin'];
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 300; i++) {
        const user = users[i % users.length]!;
        sends.push(flood.send(request({ method: 'REGISTER', uri: `sip:127.0.0.1:${cc.udp.port}`, peer: flood, callId: uniq('flood'), to: `<sip:${user}@127.0.0.1>`, contact: `<sip:${user}@127.0.0.2:${flood.port}>` }), cc.udp));
      }
      // While the flood goes on: a call, and a registration from another address.
      const call = caller.dial(cc.udp, '7000');
      expect(statusOf(await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 60 }))).toBe(200);
      await Promise.all(sends);
      await call.waitStatus(200, 10_000);
      await eventually(() => final(flood).length === 300, 15_000, () => `answers to the flood (${final(flood).length})`);
      const statuses = final(flood).map((r) => (r.message.kind === 'response' ? r.message.status : 0));
      const limited = final(flood).filter((r) => r.message.kind === 'response' && r.message.status === 503);
      expect(new Set(statuses)).toEqual(new Set([401, 503]));
      expect(limited.length).toBeGreaterThan(200);
      expect(limited.every((r) => Number(r.message.headers.get('retry-after')) >= 1)).toBe(true);
      // Every user, existing or not, got the same challenge: nothing tells them apart.
      const challenges = final(flood).filter((r) => r.message.kind === 'response' && r.message.status === 401);
      expect(new Set(challenges.map((r) => r.message.headers.values('www-authenticate').join()).map((v) => v.replace(/nonce="[^"]+"/, 'nonce')))).toEqual(new Set(['Digest realm="switchboard", nonce, algorithm=MD5, qop="auth"']));
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'steve', endedBy: 'caller' });
      expect(cc.sb.engine.status().contactCenter!.registrar!.rateLimited).toBeGreaterThan(200);
    } finally {
      await flood.close();
      phone.close();
      caller.close();
      cc.sb.engine.agents!.registrar!.removeAll('alice');
    }
  });

  it('guessing passwords from one address locks that address out, not the agent elsewhere', async () => {
    const guesserPeer = await SipPeer.create('udp', '127.0.0.3');
    const phone = await AgentPhone.create(1300);
    try {
      const seen: number[] = [];
      for (let i = 0; i < 6; i++) seen.push(statusOf(await new Registrant(guesserPeer, cc.udp).register({ user: 'alice', password: `guess${i}` })));
      expect(seen.slice(0, 2)).toEqual([403, 403]);
      expect(seen.at(-1)).toBe(503);
      // The right password from that address is refused too, for now; from the agent's own phone it works.
      expect(statusOf(await new Registrant(guesserPeer, cc.udp).register({ user: 'alice', password: 'alice-secret' }))).toBe(503);
      expect(statusOf(await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 60 }))).toBe(200);
    } finally {
      await guesserPeer.close();
      phone.close();
      cc.sb.engine.agents!.registrar!.removeAll('alice');
    }
  });
});

describe('keep-alive', () => {
  it('a phone that stops answering OPTIONS is removed and its agent leaves the rotation; registering again brings it back', async () => {
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      agents().request('alice', 'ready', null, 'test');
      expect(statusOf(await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 300 }))).toBe(200);
      expect(agents().get('alice').state).toBe('ready');
      const options = (): Received[] => phone.peer.received.filter((r) => r.message.kind === 'request' && r.message.method === 'OPTIONS');
      // Answered OPTIONS keep it: several rounds go by with the agent in rotation.
      await eventually(() => options().length >= 3, 10_000, 'three keep-alive OPTIONS');
      expect(agents().get('alice')).toMatchObject({ state: 'ready', reachable: true });
      phone.peer.dropIf = (r) => r.message.kind === 'request' && r.message.method === 'OPTIONS';
      await eventually(() => agents().get('alice').contacts.length === 0, 15_000, 'the silent phone to be removed');
      expect(agents().get('alice')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
      const call = caller.dial(cc.udp, '6000');
      expect(await call.waitFinal(15_000)).toBe(480);
      expect(phone.calls).toHaveLength(0);
      phone.peer.dropIf = undefined;
      expect(statusOf(await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 300 }))).toBe(200);
      expect(agents().get('alice')).toMatchObject({ state: 'ready', reason: null });
    } finally {
      phone.close();
      caller.close();
      cc.sb.engine.agents!.registrar!.removeAll('alice');
    }
  });
});
