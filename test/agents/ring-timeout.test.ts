/**
 * The ring time of an offer is the ring timeout, or what is left of the
 * caller's maximum wait, whichever ends first, whatever the agent's phone does;
 * and a phone that stops answering does not hold its agent.
 *
 * - A phone gone from the network whose address still takes datagrams (a
 *   registration not yet expired, a static device unplugged) answers nothing:
 *   not even 100 Trying. Our INVITE cannot be cancelled before a provisional
 *   (RFC 3261 §9.1) and lives until Timer B, 64·T1. Here T1 is 300 ms, so
 *   Timer B is 19.2 s, far beyond the 1 s ring timeout: the next agent must be
 *   rung long before the dead phone's transaction ends (that transaction, and
 *   the SIP server's dialog slot for it, then run to Timer B: settling waits).
 * - An agent whose phone went away mid-call never answers our BYE: the agent
 *   is free at the caller's hang-up, not when the BYE's Timer F gives up.
 * - An agent who rings when the caller's maximum wait passes is stopped
 *   there: the caller overflows at once, and the agent, not given the whole
 *   ring time, is not counted as having missed the call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let ann: AgentPhone;
let bob: AgentPhone;

beforeAll(async () => {
  ann = await AgentPhone.create(1300);
  bob = await AgentPhone.create(1500);
  cc = await startContactCenter({
    sipServer: { timers: { t1Ms: 300, t2Ms: 4000, t4Ms: 5000 } },
    media: { whisper: { enabled: false } },
    deflection: { messages: { afterHours: { en: { text: 'Nobody is free right now. Goodbye.' } } } },
    agents: [
      { id: 'ann', name: 'Ann', device: ann.uri('ann'), queues: [{ queue: 'sales' }, { queue: 'short' }] },
      { id: 'bob', name: 'Bob', device: bob.uri('bob'), queues: [{ queue: 'sales' }] },
    ],
    queues: [
      { id: 'sales', name: 'Sales', numbers: ['6000'], ringTimeoutSeconds: 1, waiting: { maxWaitSeconds: 120, wrapUpSeconds: 0 } },
      { id: 'short', name: 'Short', numbers: ['6100'], ringTimeoutSeconds: 300, waiting: { maxWaitSeconds: 2, wrapUpSeconds: 0, overflow: { option: 'message' } } },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  ann?.close();
  bob?.close();
});

const agents = () => cc.sb.engine.agents!.agents;

async function onlyReady(...ids: string[]): Promise<void> {
  for (const id of ['ann', 'bob']) agents().request(id, ids.includes(id) ? 'ready' : 'logged-out', null, 'test');
  await eventually(() => ids.every((id) => agents().get(id).state === 'ready'), 10_000, 'agents ready');
}

describe('ring time', () => {
  it('a phone that answers nothing is given up at the ring timeout, not at Timer B: the next agent takes the call', async () => {
    await onlyReady('ann', 'bob');
    ann.behaviour = 'dead';
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '6000');
      // Timer B of ann's INVITE is 19.2 s away; the ring timeout is 1 s.
      await eventually(() => bob.calls.length === 1, 12_000, 'bob rung after the ring timeout, long before Timer B');
      expect(ann.ignored.some((r) => r.message.kind === 'request' && r.message.method === 'INVITE')).toBe(true);
      await call.waitStatus(200, 15_000);
      expect(agents().get('ann')).toMatchObject({ state: 'not-ready', reason: 'missed' });
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([
        ['ann', 'no-answer'],
        ['bob', 'answered'],
      ]);
      await cc.settled();
    } finally {
      ann.behaviour = 'answer';
      caller.close();
    }
  }, 60_000);

  it('an agent whose phone never answers our BYE goes to wrap-up when the caller hangs up, not at the BYE\'s Timer F', async () => {
    await onlyReady('ann');
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 15_000);
      await cc.bridged(call.callId);
      const offered = ann.calls.at(-1)!;
      ann.answersBye = false;
      call.hangUp();
      // Timer F of our BYE to ann is 19.2 s away; wrap-up is 0 s here.
      await eventually(() => offered.requests.includes('BYE') && agents().get('ann').state === 'ready' && cc.sb.engine.calls.size === 0, 12_000, 'ann ready and the call gone while our BYE goes unanswered');
      expect(offered.requests.filter((m) => m === 'BYE').length).toBeGreaterThanOrEqual(1);
      expect((await cc.recordOf(call.callId)).endedBy).toBe('caller');
    } finally {
      ann.answersBye = true;
      caller.close();
    }
  }, 60_000);

  it('the maximum wait stops an agent ringing: the caller overflows, and the agent is ready again, not "missed"', async () => {
    await onlyReady('ann');
    ann.behaviour = 'ring';
    const caller = await CallerPhone.create(700);
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6100');
      await eventually(() => ann.calls.length > n, 10_000, 'ann rung');
      const offered = ann.calls[n]!;
      // The 300 s ring time ends at the 2 s maximum wait: CANCEL, then the after-hours message and BYE.
      await eventually(() => offered.requests.includes('CANCEL'), 20_000, 'the ring stopped at the maximum wait');
      // RFC 3326: the CANCEL says why (Q.850 19, no answer), so the phone logs a missed call, not an error.
      expect(offered.cancel!.message.headers.values('reason')).toEqual(['Q.850;cause=19;text="No answer"']);
      await call.waitRequest('BYE', 30_000);
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([['ann', 'no-answer']]);
      expect(record).toMatchObject({ deflection: { action: 'message' }, facts: { overflow: 'message' }, endReason: 'overflow message played (maximum wait reached)' });
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready again');
      await cc.settled();
    } finally {
      ann.behaviour = 'answer';
      caller.close();
    }
  }, 60_000);
});
