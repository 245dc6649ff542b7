/**
 * baresip (Debian's baresip-core), a real softphone, as an agent's phone: it
 * registers with digest authentication over UDP and TCP (MD5: libre 1.1
 * knows no other, and refuses a challenge list that names one it does not
 * know), works the queue with feature codes (ready, not ready, log out; the
 * codes' INVITEs are challenged like its REGISTER), and takes the queue's
 * calls at the contact it registered. A not-ready agent is never offered a
 * call. A feature code without credentials, or with wrong ones, changes
 * nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { Baresip } from '../support/interop/baresip.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { statusOf } from '../support/registration.js';
import { request, uniq } from '../support/sip-peer.js';
import { digestAuthorization, parseChallenge } from '../../src/engine/signaling/digest-auth.js';

let cc: ContactCenter;
beforeAll(async () => {
  cc = await startContactCenter({
    media: { whisper: { enabled: false, countdown: false } },
    registrar: { algorithms: ['MD5'], keepAlive: { intervalSeconds: 0 } },
    agents: [
      { id: 'alice', name: 'Alice', password: 'alice-secret', queues: [{ queue: 'sales' }] },
      { id: 'bob', name: 'Bob', password: 'bob-secret', queues: [{ queue: 'sales' }] },
    ],
    queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: { maxWaitSeconds: 3, wrapUpSeconds: 0, holdAudio: 'silence' } }],
  });
});
afterAll(async () => {
  await cc?.stop();
});

const agents = () => cc.sb.engine.agents!.agents;

describe.each(['udp', 'tcp'] as const)('baresip over %s', (transport) => {
  it('registers, logs in with *1, takes a call, goes not ready with *2 (then is never offered one), logs out with *3', async () => {
    const server = transport === 'udp' ? cc.udp : cc.tcp;
    const phone = await Baresip.start({ user: 'alice', answer: 'auto', register: { host: '127.0.0.1', port: server.port, transport, password: 'alice-secret' } });
    const caller = await CallerPhone.create(700);
    try {
      await eventually(() => agents().get('alice').contacts.length === 1, 10_000, () => `baresip to register:\n${phone.output()}`);
      expect(agents().get('alice')).toMatchObject({ state: 'logged-out', contacts: [{ userAgent: expect.stringMatching(/^baresip/) }] });
      const code = async (digits: string, state: string): Promise<void> => {
        const mark = phone.events.all.length;
        const dial = await phone.command('dial', `sip:${digits}@127.0.0.1:${server.port};transport=${transport}`);
        expect(dial.ok, dial.data).toBe(true);
        await eventually(() => agents().get('alice').state === state, 10_000, () => `alice ${state} after ${digits}: ${JSON.stringify(agents().get('alice'))}`);
        await phone.waitEvent('CALL_CLOSED', 15_000, mark);
      };
      await code('*1', 'ready');
      const taken = agents().get('alice').callsTaken;
      let mark = phone.events.all.length;
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 15_000);
      await phone.waitEvent('CALL_ESTABLISHED', 5000, mark);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'alice' });
      await eventually(() => agents().get('alice').state === 'ready', 5000, 'alice ready after the call');
      expect(agents().get('alice').callsTaken).toBe(taken + 1);

      await code('*2', 'not-ready');
      expect(agents().get('alice').reason).toBe('break');
      mark = phone.events.all.length;
      const unanswered = caller.dial(cc.udp, '6000');
      const record = await cc.recordOf(unanswered.callId, 20_000);
      expect(record).toMatchObject({ agentsTried: [], agent: null });
      expect(phone.events.all.slice(mark).filter((e) => e.type === 'CALL_INCOMING')).toEqual([]);

      await code('*3', 'logged-out');
    } finally {
      caller.close();
      await phone.stop();
      cc.sb.engine.agents!.registrar!.removeAll('alice');
    }
  });
});

describe('feature codes from a raw phone', () => {
  it('no credentials: 401 and nothing changes; wrong ones: 403; right ones: the state changes, the call is answered and hung up', async () => {
    const phone = await AgentPhone.create(1300);
    try {
      agents().request('bob', 'logged-out', null, 'test');
      const uri = `sip:*1@127.0.0.1:${cc.udp.port}`;
      const callId = uniq('fc');
      const invite = (cseq: number, auth?: string) =>
        request({ method: 'INVITE', uri, peer: phone.peer, callId, cseq, body: phone.rtp.sdp(), extra: auth !== undefined ? [`Authorization: ${auth}`] : [] }).replace(/^From: .*$/m, `From: <sip:bob@127.0.0.1>;tag=${callId}`);
      await phone.peer.send(invite(1), cc.udp);
      const challenge = await phone.peer.waitResponse(401, 'INVITE');
      expect(agents().get('bob').state).toBe('logged-out');
      const c = parseChallenge(challenge.message.headers.values('www-authenticate')[0]!)!;
      await phone.peer.send(invite(2, digestAuthorization(c, { method: 'INVITE', uri, username: 'bob', password: 'wrong' })), cc.udp);
      expect(statusOf(await phone.peer.waitResponse(403, 'INVITE'))).toBe(403);
      expect(agents().get('bob').state).toBe('logged-out');
      await phone.peer.send(invite(3, digestAuthorization(c, { method: 'INVITE', uri, username: 'bob', password: 'bob-secret', nc: 2 })), cc.udp);
      await phone.peer.waitResponse(200, 'INVITE', 10_000);
      // bob's phone is not registered: logged in, but not ready until it is.
      expect(agents().get('bob')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
      await phone.peer.waitRequest('BYE', 10_000);
      // Not a call for a queue: no call record, no live call.
      expect(cc.records().filter((r) => r.sipCallId === callId)).toEqual([]);
      await cc.settled();
    } finally {
      phone.close();
    }
  });
});
