/**
 * The registrar through the whole engine (embedded SIP server, drachtio-srf,
 * signaling only): phones register with digest authentication (SHA-256 and
 * MD5, our client; MD5, SIPp) over UDP and TCP, and calls for their queue
 * reach the contact they registered (over TCP, on the connection they
 * registered on). Wrong passwords, unknown users and stale or replayed nonces
 * are refused without telling which users exist; expiries are honoured and
 * bounded; un-REGISTER, queries, Call-ID/CSeq ordering and malformed requests
 * follow RFC 3261 §10.3; registrations survive a restart of the engine.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseChallenge } from '../../src/engine/signaling/digest-auth.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { boundContacts, Registrant, statusOf } from '../support/registration.js';
import type { Received, Transport } from '../support/sip-peer.js';
import { describeRun, freePort, runSipp } from '../support/sipp.js';

const CONFIG = {
  registrar: { algorithms: ['MD5', 'SHA-256'], minExpiresSeconds: 2, defaultExpiresSeconds: 60, maxExpiresSeconds: 120, nonceSeconds: 5, maxContacts: 3, keepAlive: { intervalSeconds: 0 }, rateLimit: { perSourcePerSecond: 200, burst: 400, failureCost: 1 } },
  agents: [
    { id: 'alice', name: 'Alice', password: 'alice-secret', startState: 'ready', queues: [{ queue: 'sales' }] },
    { id: 'bob', name: 'Bob', password: 'bob-secret', queues: [{ queue: 'sales' }] },
    { id: 'carol', name: 'Carol', device: 'sip:carol@127.0.0.1:5999', queues: [{ queue: 'other' }] },
  ],
  queues: [
    { id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { maxWaitSeconds: 3, wrapUpSeconds: 0 } },
    { id: 'other', name: 'Other', numbers: ['6001'] },
  ],
};

let cc: ContactCenter;
beforeAll(async () => {
  cc = await startContactCenter(CONFIG, { media: false });
});
afterAll(async () => {
  await cc?.stop();
});
// Each test starts with no registration, whatever the last one left.
afterEach(() => {
  for (const a of ['alice', 'bob']) cc.sb.engine.agents!.registrar!.removeAll(a);
});

const agents = () => cc.sb.engine.agents!.agents;
const server = (t: Transport) => (t === 'udp' ? cc.udp : cc.tcp);
const header = (r: Received, name: string): string[] => r.message.headers.values(name);

/** Unregisters everything of `user` (a `*` REGISTER from a fresh Call-ID). */
async function clear(phone: AgentPhone, t: Transport, user: string, password: string): Promise<void> {
  const r = await new Registrant(phone.peer, server(t)).register({ user, password, contact: '*', expires: 0 });
  expect(statusOf(r)).toBe(200);
}

describe.each([
  ['udp', 'SHA-256'],
  ['udp', 'MD5'],
  ['tcp', 'SHA-256'],
  ['tcp', 'MD5'],
] as const)('a phone registering over %s with %s', (transport, algorithm) => {
  it('is challenged, registers, and the calls for its queue reach the contact it registered', async () => {
    const phone = await AgentPhone.create(1300, transport);
    const caller = await CallerPhone.create(700);
    try {
      const reg = new Registrant(phone.peer, server(transport));
      const r = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, algorithm });
      expect(statusOf(r)).toBe(200);
      const contact = `sip:alice@127.0.0.1:${phone.peer.port}${transport === 'tcp' ? ';transport=tcp' : ''}`;
      expect(boundContacts(r)).toEqual([{ uri: contact, expires: 90 }]);
      expect(header(r, 'date')).toHaveLength(1);
      expect(agents().get('alice')).toMatchObject({ state: 'ready', reachable: true, contacts: [{ contact }] });
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      expect(phone.calls).toHaveLength(1);
      expect(phone.calls[0]!.invite.message.kind === 'request' && phone.calls[0]!.invite.message.uri).toBe(contact);
      // Over TCP the INVITE came on the connection the phone registered on (drachtio spec §2.9): no new one.
      if (transport === 'tcp') expect(phone.peer.accepted).toBe(0);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'alice', agentsTried: [{ agent: 'alice', outcome: 'answered' }] });
      await clear(phone, transport, 'alice', 'alice-secret');
      expect(agents().get('alice')).toMatchObject({ reachable: false, state: 'not-ready', reason: 'unreachable' });
    } finally {
      phone.close();
      caller.close();
    }
  });
});

describe('a phone registered from two places', () => {
  it('rings at both; the first to answer takes the call, and the other is cancelled as completed elsewhere (RFC 3326)', async () => {
    const desk = await AgentPhone.create(1300);
    const mobile = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      mobile.behaviour = 'ring';
      for (const phone of [mobile, desk]) {
        const r = await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 90 });
        expect(statusOf(r)).toBe(200);
      }
      expect(agents().get('alice').contacts).toHaveLength(2);
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      expect(desk.calls).toHaveLength(1);
      await eventually(() => mobile.calls[0]?.cancel !== undefined, 10_000, 'the CANCEL at the other phone');
      // The phone that did not answer shows no missed call.
      expect(mobile.calls[0]!.cancel!.message.headers.values('reason')).toEqual(['SIP;cause=200;text="Call completed elsewhere"']);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'alice', agentsTried: [{ agent: 'alice', outcome: 'answered' }] });
      await cc.settled();
    } finally {
      desk.close();
      mobile.close();
      caller.close();
    }
  });
});

describe('a phone registered from two places, declined at one (probes AN-2, AO-5)', () => {
  // A 6xx is the agent's final word (RFC 3261 §21.6): the other stops ringing at once, cancelled with that
  // reason (RFC 3326), and the attempt keeps the 6xx, not the other phone's 487, whichever registered first.
  it.each([
    ['603 Decline, the declining phone registered second', 'decline', false, 'SIP;cause=603;text="Decline"', 'declined', 603],
    ['606, the declining phone registered first', 'not-acceptable-606', true, 'SIP;cause=606;text="Not Acceptable"', 'failed', 606],
    ['606, the declining phone registered second', 'not-acceptable-606', false, 'SIP;cause=606;text="Not Acceptable"', 'failed', 606],
  ] as const)('%s', async (_label, behaviour, declinerFirst, reason, outcome, status) => {
    const desk = await AgentPhone.create(1300);
    const mobile = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      desk.behaviour = behaviour;
      mobile.behaviour = 'ring';
      for (const phone of declinerFirst ? [desk, mobile] : [mobile, desk]) {
        const r = await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 90 });
        expect(statusOf(r)).toBe(200);
      }
      await eventually(() => agents().get('alice').state === 'ready', 5_000, 'alice ready');
      const call = caller.dial(cc.udp, '6000');
      await eventually(() => mobile.calls[0]?.cancel !== undefined, 10_000, 'the CANCEL at the other phone');
      expect(desk.calls).toHaveLength(1);
      expect(mobile.calls[0]!.cancel!.message.headers.values('reason')).toEqual([reason]);
      await eventually(() => agents().get('alice').state === 'not-ready', 10_000, 'alice not ready');
      expect(agents().get('alice')).toMatchObject({ state: 'not-ready', reason: 'missed' });
      const final = await call.waitFinal(15_000);
      if (final === 200) call.hangUp();
      expect((await cc.recordOf(call.callId)).agentsTried).toEqual([expect.objectContaining({ agent: 'alice', outcome, status })]);
      await cc.settled();
    } finally {
      desk.close();
      mobile.close();
      caller.close();
      // Alice ready again for the tests after this one (they ring her).
      agents().request('alice', 'ready', null, 'test');
    }
  });
});

describe('a phone registered through an edge proxy (RFC 3327 Path)', () => {
  it('stores the Path and returns it to a device that supports it; calls and keep-alives are routed through it to the Contact', async () => {
    // The phone plays its own edge proxy: the Path names its port, the Contact a port where nothing listens.
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      const dead = await freePort();
      const contact = `sip:alice@127.0.0.1:${dead}`;
      const path = [`<sip:127.0.0.1:${phone.peer.port};lr;received=sip:127.0.0.1%3A${dead}>`, '<sip:edge-2.example.invalid;lr>'];
      const reg = new Registrant(phone.peer, cc.udp);
      const plain = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>`, extra: [`Path: ${path[0]}`, `Path: ${path[1]}`] });
      expect(statusOf(plain)).toBe(200);
      expect(header(plain, 'path')).toEqual([]);
      const supported = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>`, extra: [`Path: ${path.join(', ')}`, 'Supported: path', 'Require: path'] });
      expect(statusOf(supported)).toBe(200);
      expect(header(supported, 'path').flatMap((v) => v.split(/,\s*(?=<)/))).toEqual(path);
      expect(cc.sb.engine.agents!.registrar!.table.list('alice')).toMatchObject([{ contact, path }]);
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      const invite = phone.calls[0]!.invite;
      expect(invite.message.kind === 'request' && invite.message.uri).toBe(contact);
      expect(invite.message.headers.entries('route')).toEqual(path);
      call.hangUp();
      await cc.settled();
      await cc.sb.engine.agents!.keepAliveRound();
      const ping = await phone.peer.wait((r) => r.message.kind === 'request' && r.message.method === 'OPTIONS', 10_000, 'the keep-alive OPTIONS');
      expect(ping.message.headers.entries('route')).toEqual(path);
      const bad = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>`, extra: ['Path: sip:edge.example.invalid;lr'] });
      expect(bad.raw.split('\r\n')[0]).toBe('SIP/2.0 400 Bad Request (Path must be a list of SIP URIs in angle brackets)');
    } finally {
      phone.close();
      caller.close();
    }
  });
});

describe('a TCP phone whose connection is gone (probe AN-1)', () => {
  it('the keep-alive\'s OPTIONS cannot be sent (the SIP server\'s own 503): a miss, so its binding goes and its agent is unreachable', async () => {
    const phone = await AgentPhone.create(1300, 'tcp');
    let closed = false;
    try {
      const r = await new Registrant(phone.peer, cc.tcp).register({ user: 'alice', password: 'alice-secret', expires: 90 });
      expect(statusOf(r)).toBe(200);
      expect(agents().get('alice')).toMatchObject({ state: 'ready', reachable: true });
      // The phone is gone (rebooted, laptop closed): its connection and its port with it.
      phone.close();
      closed = true;
      for (let round = 0; round < 5 && cc.sb.engine.agents!.registrar!.table.list('alice').length > 0; round++) await cc.sb.engine.agents!.keepAliveRound();
      expect(cc.sb.engine.agents!.registrar!.table.list('alice')).toEqual([]);
      expect(agents().get('alice')).toMatchObject({ state: 'not-ready', reason: 'unreachable', reachable: false });
    } finally {
      if (!closed) phone.close();
    }
  });
});

describe('a UDP phone behind NAT (its Contact a private address, RFC 3581)', () => {
  it('is reached where its REGISTER came from, calls and keep-alives alike; a REGISTER relayed by a proxy (two Vias) or a third party\'s is not', async () => {
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      // The address the phone writes in Via and Contact (as behind NAT) is one where nothing listens; it
      // sends from its real one (and asks for rport, so the 200 comes back there).
      const privateAt = `127.0.0.9:${await freePort()}`;
      const contact = `sip:alice@${privateAt}`;
      const reg = new Registrant(phone.peer, cc.udp);
      expect(statusOf(await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>`, sentBy: privateAt }))).toBe(200);
      expect(cc.sb.engine.agents!.registrar!.table.list('alice')).toMatchObject([{ contact, reachAt: `sip:127.0.0.1:${phone.peer.port}` }]);
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      const invite = phone.calls[0]!.invite;
      expect(invite.message.kind === 'request' && invite.message.uri).toBe(contact);
      call.hangUp();
      await cc.settled();
      await cc.sb.engine.agents!.keepAliveRound();
      const ping = await phone.peer.wait((r) => r.message.kind === 'request' && r.message.method === 'OPTIONS', 10_000, 'the keep-alive OPTIONS');
      expect(ping.message.kind === 'request' && ping.message.uri).toBe(contact);
      const relayed = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>`, sentBy: privateAt, extra: ['Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKphone1'] });
      expect(statusOf(relayed)).toBe(200);
      expect(cc.sb.engine.agents!.registrar!.table.list('alice')[0]!.reachAt).toBeUndefined();
      // A third-party registration (RFC 3261 §10.2): the registering UA's own Via, another UA's Contact.
      const thirdParty = await reg.register({ user: 'alice', password: 'alice-secret', expires: 90, contact: `<${contact}>` });
      expect(statusOf(thirdParty)).toBe(200);
      expect(cc.sb.engine.agents!.registrar!.table.list('alice')[0]!.reachAt).toBeUndefined();
    } finally {
      phone.close();
      caller.close();
    }
  });
});

describe('refusals', () => {
  it('the challenge is the same for any user; a wrong password and an unknown user get the same 403; a static agent cannot register', async () => {
    const phone = await AgentPhone.create(1300);
    try {
      const reg = new Registrant(phone.peer, cc.udp);
      const first = await new Registrant(phone.peer, cc.udp).registerWith({ user: 'nobody', password: 'x' }, 'Basic bm9ib2R5Ong=');
      const known = await new Registrant(phone.peer, cc.udp).registerWith({ user: 'alice', password: 'x' }, 'Basic YWxpY2U6eA==');
      for (const r of [first, known]) {
        expect(statusOf(r)).toBe(401);
        expect(header(r, 'www-authenticate').map((v) => parseChallenge(v)?.algorithm)).toEqual(['MD5', 'SHA-256']);
      }
      const wrong = await reg.register({ user: 'alice', password: 'guess' });
      const unknown = await new Registrant(phone.peer, cc.udp).register({ user: 'mallory', password: 'guess' });
      const staticAgent = await new Registrant(phone.peer, cc.udp).register({ user: 'carol', password: 'guess' });
      for (const r of [wrong, unknown, staticAgent]) {
        expect(r.raw.split('\r\n')[0]).toBe('SIP/2.0 403 Forbidden');
        expect(header(r, 'www-authenticate')).toEqual([]);
        expect(header(r, 'contact')).toEqual([]);
      }
      expect(agents().get('alice').contacts).toEqual([]);
    } finally {
      phone.close();
    }
  });

  it('a replayed nonce count and a nonce past its lifetime are stale: challenged again with stale=true, then accepted', async () => {
    const phone = await AgentPhone.create(1300);
    try {
      const reg = new Registrant(phone.peer, cc.udp);
      expect(statusOf(await reg.register({ user: 'alice', password: 'alice-secret', expires: 60 }))).toBe(200);
      const replay = await reg.registerWith({ user: 'alice', password: 'alice-secret', expires: 60 }, reg.lastAuthorization!);
      expect(statusOf(replay)).toBe(401);
      expect(parseChallenge(header(replay, 'www-authenticate')[0]!)?.stale).toBe(true);
      // The same nonce with growing counts is fine until the nonce is older than nonceSeconds.
      let nc = 1;
      let last: Received | undefined;
      await eventually(
        async () => {
          nc++;
          last = await reg.registerAgain({ user: 'alice', password: 'alice-secret', expires: 60 }, nc);
          expect([200, 401]).toContain(statusOf(last));
          return statusOf(last) === 401;
        },
        15_000,
        'the nonce to go stale',
        1000,
      );
      expect(parseChallenge(header(last!, 'www-authenticate')[0]!)?.stale).toBe(true);
      expect(nc).toBeGreaterThan(2);
      expect(statusOf(await reg.register({ user: 'alice', password: 'alice-secret', expires: 60 }))).toBe(200);
      await clear(phone, 'udp', 'alice', 'alice-secret');
    } finally {
      phone.close();
    }
  });

  it.each([
    ['Digest username="alice", realm="switchboard"', /400 Bad Request \(Authorization: parameter nonce is missing\)/],
    ['Digest username="alice", realm="switchboard", nonce="x", uri="sip:127.0.0.1", response="00", algorithm=MD5', /400 Bad Request \(Authorization: response is not 32 hex digits\)/],
    ['Digest username="alice",, realm="switchboard", realm="x", nonce="x", uri="u", response="0123456789abcdef0123456789abcdef"', /400 Bad Request \(Authorization: parameter realm is repeated\)/],
    ['Digest username="alice" realm="switchboard"', /400 Bad Request \(Authorization: unexpected/],
  ])('a malformed Authorization (%s) gets 400 with the reason', async (authorization, line) => {
    const phone = await AgentPhone.create(1300);
    try {
      const r = await new Registrant(phone.peer, cc.udp).registerWith({ user: 'alice', password: 'x' }, authorization);
      expect(r.raw.split('\r\n')[0]).toMatch(line);
    } finally {
      phone.close();
    }
  });

  it('another agent\'s address of record is refused (403) even with good credentials', async () => {
    const phone = await AgentPhone.create(1300);
    try {
      // bob's credentials, alice's address: To names alice, the digest names bob.
      const forged = await new Registrant(phone.peer, cc.udp).register({ user: 'alice', authUser: 'bob', password: 'bob-secret' });
      expect(forged.raw.split('\r\n')[0]).toBe('SIP/2.0 403 Forbidden (bob may register only its own address)');
      expect(agents().get('alice').contacts).toEqual([]);
    } finally {
      phone.close();
    }
  });
});

describe('bindings (RFC 3261 §10.3)', () => {
  it('Min-Expires, the maximum, a query, several contacts, un-REGISTER of one, then of all', async () => {
    const phone = await AgentPhone.create(1300);
    const other = await AgentPhone.create(1300);
    try {
      const reg = new Registrant(phone.peer, cc.udp);
      const brief = await reg.register({ user: 'bob', password: 'bob-secret', expires: 1 });
      expect(brief.raw.split('\r\n')[0]).toBe('SIP/2.0 423 Interval Too Brief');
      expect(header(brief, 'min-expires')).toEqual(['2']);
      const long = await reg.register({ user: 'bob', password: 'bob-secret', expires: 100_000 });
      expect(boundContacts(long).map((c) => c.expires)).toEqual([120]);
      const second = await new Registrant(other.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', expires: 60 });
      expect(boundContacts(second)).toHaveLength(2);
      const query = await new Registrant(other.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', contact: null });
      expect(statusOf(query)).toBe(200);
      expect(boundContacts(query).map((c) => c.uri).sort()).toEqual([`sip:bob@127.0.0.1:${other.peer.port}`, `sip:bob@127.0.0.1:${phone.peer.port}`].sort());
      const gone = await reg.register({ user: 'bob', password: 'bob-secret', expires: 0 });
      expect(boundContacts(gone).map((c) => c.uri)).toEqual([`sip:bob@127.0.0.1:${other.peer.port}`]);
      const starNotZero = await new Registrant(phone.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', contact: '*', expires: 60 });
      expect(starNotZero.raw.split('\r\n')[0]).toMatch(/^SIP\/2\.0 400 Bad Request \(Contact: \* needs Expires: 0\)$/);
      await clear(phone, 'udp', 'bob', 'bob-secret');
      expect(agents().get('bob').contacts).toEqual([]);
    } finally {
      phone.close();
      other.close();
    }
  });

  it('a phone that sends its +sip.instance and comes back from a reboot at a new address replaces its binding (RFC 5626 §6); another device adds one', async () => {
    const before = await AgentPhone.create(1300);
    const after = await AgentPhone.create(1300);
    const desk = await AgentPhone.create(1300);
    const instance = ';+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"';
    try {
      const first = await new Registrant(before.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', contact: `<sip:bob@127.0.0.1:${before.peer.port}>${instance}`, expires: 60 });
      expect(boundContacts(first).map((c) => c.uri)).toEqual([`sip:bob@127.0.0.1:${before.peer.port}`]);
      await new Registrant(desk.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', expires: 60 });
      // The reboot: a new Call-ID, a new port, the same instance id (its URN in other letter case).
      const again = await new Registrant(after.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', contact: `<sip:bob@127.0.0.1:${after.peer.port}>${instance.toLowerCase()}`, expires: 60 });
      expect(boundContacts(again).map((c) => c.uri).sort()).toEqual([`sip:bob@127.0.0.1:${after.peer.port}`, `sip:bob@127.0.0.1:${desk.peer.port}`].sort());
      expect(agents().get('bob').contacts.map((c) => c.contact).sort()).toEqual([`sip:bob@127.0.0.1:${after.peer.port}`, `sip:bob@127.0.0.1:${desk.peer.port}`].sort());
      // Its un-REGISTER names the instance: the device's binding goes, whatever URI it writes.
      const gone = await new Registrant(after.peer, cc.udp).register({ user: 'bob', password: 'bob-secret', contact: `<sip:bob@127.0.0.1:${before.peer.port}>${instance}`, expires: 0 });
      expect(boundContacts(gone).map((c) => c.uri)).toEqual([`sip:bob@127.0.0.1:${desk.peer.port}`]);
    } finally {
      before.close();
      after.close();
      desk.close();
    }
  });

  it('an expired registration is gone: the agent leaves the rotation and calls wait, then overflow', async () => {
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    try {
      agents().request('alice', 'ready', null, 'test');
      const r = await new Registrant(phone.peer, cc.udp).register({ user: 'alice', password: 'alice-secret', expires: 2 });
      expect(boundContacts(r)).toEqual([{ uri: `sip:alice@127.0.0.1:${phone.peer.port}`, expires: 2 }]);
      expect(agents().get('alice').state).toBe('ready');
      await eventually(() => agents().get('alice').contacts.length === 0, 10_000, 'the registration to expire');
      expect(agents().get('alice')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
      const call = caller.dial(cc.udp, '6000');
      expect(await call.waitFinal(15_000)).toBe(480);
      expect(phone.calls).toHaveLength(0);
    } finally {
      phone.close();
      caller.close();
    }
  });

  it.each([
    [['Expires: soon'], /400 Bad Request \(.*Expires/i],
    [['Expires: 60', 'Expires: 30'], /400 Bad Request \(.*Expires/i],
    [['Contact: <sip:alice@127.0.0.1:5999'], /400 Bad Request \(.*Contact/i],
  ])('a malformed REGISTER (%s) gets 400 with the reason', async (extra, line) => {
    const phone = await AgentPhone.create(1300);
    try {
      const text = [
        `REGISTER sip:127.0.0.1:${cc.udp.port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${phone.peer.port};branch=z9hG4bK${Math.random().toString(36).slice(2)};rport`,
        'Max-Forwards: 70',
        `From: <sip:alice@127.0.0.1>;tag=x${Date.now()}`,
        'To: <sip:alice@127.0.0.1>',
        `Call-ID: bad-${Math.random()}`,
        'CSeq: 1 REGISTER',
        ...extra,
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      await phone.peer.send(text, cc.udp);
      const r = await phone.peer.wait((m) => m.message.kind === 'response' && m.message.status >= 400, 5000, 'a refusal');
      expect(r.raw.split('\r\n')[0]).toMatch(line);
    } finally {
      phone.close();
    }
  });
});

describe('SIPp phones (MD5, the first challenge)', () => {
  it.each(['udp', 'tcp'] as const)('register over %s; a wrong password is refused', async (transport) => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-reg-'));
    try {
      const ok = join(dir, 'ok.csv');
      const bad = join(dir, 'bad.csv');
      writeFileSync(ok, 'SEQUENTIAL\nbob;5998;[authentication username=bob password=bob-secret];60;\n');
      writeFileSync(bad, 'SEQUENTIAL\nbob;5998;[authentication username=bob password=wrong];60;\n');
      const remote = `127.0.0.1:${server(transport).port}`;
      const good = await runSipp({ scenario: 'reg-agent.xml', remote, port: await freePort(), transport, calls: 1, extra: ['-inf', ok] }).done;
      expect(good.stats.successful, describeRun(good)).toBe(1);
      expect(agents().get('bob').contacts.map((c) => c.contact)).toEqual([`sip:bob@127.0.0.1:5998;transport=${transport.toUpperCase()}`]);
      const refused = await runSipp({ scenario: 'reg-agent-refused.xml', remote, port: await freePort(), transport, calls: 1, extra: ['-inf', bad] }).done;
      expect(refused.stats.successful, describeRun(refused)).toBe(1);
      const phone = await AgentPhone.create(1300);
      await clear(phone, 'udp', 'bob', 'bob-secret');
      phone.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a restart', () => {
  it('keeps the registrations: the phone is reached after the engine restarts', async () => {
    const phone = await AgentPhone.create(1300);
    const caller = await CallerPhone.create(700);
    let second: ContactCenter | undefined;
    try {
      const listen = [
        { transport: 'udp', host: '127.0.0.1', port: await freePort() },
        { transport: 'tcp', host: '127.0.0.1', port: await freePort() },
      ];
      const first = await startContactCenter({ ...CONFIG, sipServer: { listen } }, { media: false });
      expect(statusOf(await new Registrant(phone.peer, first.udp).register({ user: 'alice', password: 'alice-secret', expires: 120 }))).toBe(200);
      await first.stop(true);
      second = await startContactCenter({ ...CONFIG, sipServer: { listen } }, { media: false, dir: first.dir });
      expect(second.sb.engine.agents!.agents.get('alice')).toMatchObject({ state: 'ready', contacts: [{ contact: `sip:alice@127.0.0.1:${phone.peer.port}` }] });
      const call = caller.dial(second.udp, '6000');
      await call.waitStatus(200, 10_000);
      expect(phone.calls).toHaveLength(1);
      call.hangUp();
      await second.recordOf(call.callId);
    } finally {
      await second?.stop();
      phone.close();
      caller.close();
    }
  });
});
