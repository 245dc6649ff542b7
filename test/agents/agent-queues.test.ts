/**
 * Agents' states and the waiting queues without sockets: the state rules
 * (one call at a time, missed, wrap-up, changes asked for during a call,
 * unreachable devices) and the matching of waiting calls with agents (first
 * come first served, call priority, levels, longest idle, a call keeps its
 * place when an offer fails, no agent reserved twice, nobody offered when not
 * ready).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { AgentRegistry, type AgentAssignment } from '../../src/engine/agents/agent-registry.js';
import { CallQueues } from '../../src/engine/queues/call-queues.js';
import type { Binding } from '../../src/engine/registrar/binding-table.js';
import { silentLogger } from '../../src/observability/logger.js';

function setup(agents: Record<string, unknown>[], queues = ['sales', 'support']): { registry: AgentRegistry; queues: CallQueues } {
  const config = loadConfigObject(
    {
      queues: queues.map((id) => ({ id, name: id, numbers: [id === 'sales' ? '6000' : '7000'], waiting: {} })),
      agents,
    },
    { checks: configChecks },
  );
  const registry = new AgentRegistry(config, silentLogger(), Date.now);
  return { registry, queues: new CallQueues(registry, queues.map((id) => ({ id, name: id, priority: 0, maxWaitMs: 60_000, wrapUpSeconds: 0 })), Date.now) };
}

const agent = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id, name: id, device: `sip:${id}@127.0.0.1:5999`, queues: [{ queue: 'sales' }], startState: 'ready', ...extra });

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('agent states', () => {
  it('an agent is offered one call at a time; a missed offer makes it not ready "missed"', () => {
    const { registry } = setup([agent('ann')]);
    const a = registry.reserve('ann', 'call-1', 'sales');
    expect(registry.get('ann')).toMatchObject({ state: 'ringing', call: 'call-1', callQueue: 'sales' });
    expect(() => registry.reserve('ann', 'call-2', 'sales')).toThrow(/ringing/);
    expect(registry.offerable('sales')).toEqual([]);
    a.missed();
    expect(registry.get('ann')).toMatchObject({ state: 'not-ready', reason: 'missed', call: null, callsMissed: 1 });
    expect(registry.offerable('sales')).toEqual([]);
  });

  it('a conversation: whisper, on call, wrap-up, then ready; calls taken and the last call counted', () => {
    const { registry } = setup([agent('ann')]);
    const a = registry.reserve('ann', 'call-1', 'sales');
    a.answered();
    expect(registry.get('ann').state).toBe('whisper');
    a.connected();
    expect(registry.get('ann')).toMatchObject({ state: 'on-call', callsTaken: 1 });
    vi.advanceTimersByTime(5000);
    a.release(10);
    expect(registry.get('ann')).toMatchObject({ state: 'wrap-up', lastCallEndedAt: Date.now(), call: 'call-1' });
    vi.advanceTimersByTime(9999);
    expect(registry.get('ann').state).toBe('wrap-up');
    vi.advanceTimersByTime(1);
    expect(registry.get('ann')).toMatchObject({ state: 'ready', call: null, idleSince: Date.now() });
  });

  it('an offer the caller abandons gives the agent back with its idle time', () => {
    const { registry } = setup([agent('ann')]);
    const idle = registry.get('ann').idleSince;
    vi.advanceTimersByTime(3000);
    const a = registry.reserve('ann', 'call-1', 'sales');
    a.release(10);
    expect(registry.get('ann')).toMatchObject({ state: 'ready', idleSince: idle, callsMissed: 0, callsTaken: 0 });
  });

  it('ready asked for while ready keeps the agent\'s idle time (its place among the longest idle)', () => {
    const { registry } = setup([agent('ann')]);
    const idle = registry.get('ann').idleSince;
    vi.advanceTimersByTime(3000);
    registry.request('ann', 'ready', null, 'api:mia');
    expect(registry.get('ann')).toMatchObject({ state: 'ready', idleSince: idle });
  });

  it('not ready or log out asked for during a call waits for the call and its wrap-up; ready during wrap-up ends it', () => {
    const { registry } = setup([agent('ann'), agent('bob')]);
    const a = registry.reserve('ann', 'c1', 'sales');
    a.answered();
    a.connected();
    expect(registry.request('ann', 'not-ready', 'lunch', 'ann')).toMatchObject({ state: 'on-call', pending: { state: 'not-ready', reason: 'lunch' } });
    a.release(30);
    expect(registry.get('ann').state).toBe('wrap-up');
    vi.advanceTimersByTime(30_000);
    expect(registry.get('ann')).toMatchObject({ state: 'not-ready', reason: 'lunch', pending: null });

    const b = registry.reserve('bob', 'c2', 'sales');
    b.answered();
    b.connected();
    b.release(30);
    expect(registry.request('bob', 'ready', null, 'bob')).toMatchObject({ state: 'ready', pending: null });
    vi.advanceTimersByTime(30_000);
    expect(registry.get('bob').state).toBe('ready');
  });

  it('a registered agent without a live registration cannot be ready; it is again once its phone registers, and not ready "unreachable" when it goes', () => {
    const { registry } = setup([{ id: 'reg', name: 'Reg', password: 'x', queues: [{ queue: 'sales' }] }]);
    expect(registry.request('reg', 'ready', null, 'reg')).toMatchObject({ state: 'not-ready', reason: 'unreachable', reachable: false });
    const binding: Binding = { aor: 'reg', contact: 'sip:reg@127.0.0.1:5070', expiresAt: Date.now() + 60_000, callId: 'c', cseq: 1, q: undefined, registeredAt: Date.now(), source: 'udp:127.0.0.1:5070', userAgent: undefined };
    registry.bindings('reg', [binding]);
    expect(registry.get('reg')).toMatchObject({ state: 'ready', reachable: true });
    registry.bindings('reg', []);
    expect(registry.get('reg')).toMatchObject({ state: 'not-ready', reason: 'unreachable' });
    // Not ready for another reason: a registration does not make it ready.
    registry.request('reg', 'not-ready', 'training', 'sup');
    registry.bindings('reg', [binding]);
    expect(registry.get('reg')).toMatchObject({ state: 'not-ready', reason: 'training' });
  });
});

describe('the waiting queues', () => {
  const take = (q: CallQueues, call: string, queue = 'sales', priority = 0): { call: string; got: AgentAssignment | undefined; place: ReturnType<CallQueues['join']> } => {
    const place = q.join(call, queue, priority);
    return { call, got: place.takeNow(), place };
  };

  it('longest idle first; a busy or not-ready agent is never offered; first come, first served', () => {
    const { registry, queues } = setup([agent('ann'), agent('bob'), agent('cid')]);
    // Idle since: ann (start), then bob and cid become ready later, cid before bob.
    registry.request('bob', 'not-ready', 'x', 't');
    registry.request('cid', 'not-ready', 'x', 't');
    vi.advanceTimersByTime(1000);
    registry.request('cid', 'ready', null, 't');
    vi.advanceTimersByTime(1000);
    registry.request('bob', 'ready', null, 't');
    registry.request('ann', 'not-ready', 'break', 't');
    const one = take(queues, 'c1');
    const two = take(queues, 'c2');
    const three = take(queues, 'c3');
    expect([one.got?.agent, two.got?.agent, three.got?.agent]).toEqual(['cid', 'bob', undefined]);
    expect(queues.position('c3')).toBe(3);
    // ann comes back: the call waiting longest gets her.
    const four = take(queues, 'c4');
    registry.request('ann', 'ready', null, 't');
    queues.dispatch();
    expect(three.place.takeNow()?.agent).toBe('ann');
    expect(four.place.takeNow()).toBeUndefined();
  });

  it('a failed offer: the call is back at its place, ahead of later calls', () => {
    const { registry, queues } = setup([agent('ann'), agent('bob')]);
    registry.request('bob', 'not-ready', 'x', 't');
    const one = take(queues, 'c1');
    expect(one.got?.agent).toBe('ann');
    const two = take(queues, 'c2');
    expect(two.got).toBeUndefined();
    one.got!.missed();
    one.place.back();
    registry.request('bob', 'ready', null, 't');
    queues.dispatch();
    expect(one.place.takeNow()?.agent).toBe('bob');
    expect(two.place.takeNow()).toBeUndefined();
  });

  it('call priority before arrival; levels before idle time', () => {
    const { registry, queues } = setup([agent('ann', { queues: [{ queue: 'sales', level: 2 }] }), agent('bob', { queues: [{ queue: 'sales', level: 1 }, { queue: 'support', level: 1 }] })], ['sales', 'support']);
    registry.request('ann', 'not-ready', 'x', 't');
    registry.request('bob', 'not-ready', 'x', 't');
    const low = take(queues, 'low', 'sales', 0);
    const high = take(queues, 'high', 'support', 5);
    registry.request('ann', 'ready', null, 't');
    vi.advanceTimersByTime(1000);
    registry.request('bob', 'ready', null, 't');
    queues.dispatch();
    // bob serves both: the higher-priority call gets him although it came later; ann (level 2) takes sales.
    expect(high.place.takeNow()?.agent).toBe('bob');
    expect(low.place.takeNow()?.agent).toBe('ann');
    // With both ready, a sales call gets the level-1 agent even though ann has been idle longer.
    const { registry: r2, queues: q2 } = setup([agent('ann', { queues: [{ queue: 'sales', level: 2 }] }), agent('bob', { queues: [{ queue: 'sales', level: 1 }] })]);
    r2.request('bob', 'not-ready', 'x', 't');
    vi.advanceTimersByTime(1000);
    r2.request('bob', 'ready', null, 't');
    expect(take(q2, 'c').got?.agent).toBe('bob');
  });

  it('an agent reserved as the call leaves (maximum wait, caller gone) is given back; figures follow', async () => {
    const { registry, queues } = setup([agent('ann')]);
    registry.request('ann', 'not-ready', 'x', 't');
    const w = take(queues, 'c1');
    expect(queues.stats()[0]).toMatchObject({ id: 'sales', waiting: 1, offering: 0, agents: { loggedIn: 1, ready: 0, notReady: 1 } });
    vi.advanceTimersByTime(4000);
    expect(queues.stats()[0]!.longestWaitMs).toBe(4000);
    registry.request('ann', 'ready', null, 't');
    // The dispatch is scheduled (a microtask); the call leaves before it asks for its agent.
    await Promise.resolve();
    expect(registry.get('ann').state).toBe('ringing');
    w.place.leave('overflowed');
    expect(registry.get('ann').state).toBe('ready');
    expect(queues.stats()[0]).toMatchObject({ waiting: 0, overflowed: 1, answered: 0 });
  });

  it('the estimated wait: none before any call was handled; then position × handle time ÷ agents logged in', () => {
    const { registry, queues } = setup([agent('ann'), agent('bob')]);
    expect(queues.estimatedWaitMs('sales', 1)).toBeUndefined();
    queues.handled('sales', 60_000);
    expect(queues.estimatedWaitMs('sales', 3)).toBe(90_000);
    registry.request('bob', 'logged-out', null, 't');
    expect(queues.estimatedWaitMs('sales', 3)).toBe(180_000);
    // A moving average: recent calls weigh more.
    queues.handled('sales', 160_000);
    expect(queues.stats()[0]!.averageHandleMs).toBe(80_000);
  });

  it('waits for an agent until the deadline; an agent that becomes ready is delivered', async () => {
    vi.useRealTimers();
    const { registry, queues } = setup([agent('ann')]);
    registry.request('ann', 'not-ready', 'x', 't');
    const w = queues.join('c1', 'sales', 0);
    const none = await w.next(Date.now() + 30, new AbortController().signal);
    expect(none).toBeUndefined();
    const pending = w.next(Date.now() + 5000, new AbortController().signal);
    registry.request('ann', 'ready', null, 't');
    expect((await pending)?.agent).toBe('ann');
    const aborted = new AbortController();
    const w2 = queues.join('c2', 'sales', 0);
    const p2 = w2.next(Date.now() + 5000, aborted.signal);
    aborted.abort(new Error('caller hung up'));
    await expect(p2).rejects.toThrow(/caller hung up/);
  });
});

describe('the configuration of agents refuses', () => {
  const load = (extra: Record<string, unknown>): unknown =>
    loadConfigObject(
      {
        queues: [
          { id: 'sales', name: 'Sales', numbers: ['6000'], waiting: {} },
          { id: 'support', name: 'Support', numbers: ['7000'], agents: ['sip:1001@127.0.0.1:8290;transport=udp', 'sip:desk@127.0.0.1:5998'] },
        ],
        agents: [agent('carol', { device: 'sip:1001@127.0.0.1:8290;transport=UDP' })],
        ...extra,
      },
      { checks: configChecks },
    );

  it('an agent\'s static phone that is also a plain hunt\'s target, compared as a contact (probe AN-5): it would be offered a queue call while on the other', () => {
    expect(() => load({})).toThrow(/queues\[1\]\.agents\[0\]: sip:1001@127\.0\.0\.1:8290;transport=udp is agent carol's device/);
  });

  it('a feature code\'s not-ready reason that only the engine sets (probe AN-3)', () => {
    const fine = { queues: [{ id: 'sales', name: 'Sales', numbers: ['6000'], waiting: {} }], agents: [agent('carol')] };
    expect(() => loadConfigObject({ ...fine, registrar: { featureCodes: { notReadyReason: 'unreachable' } } }, { checks: configChecks })).toThrow(
      /registrar\.featureCodes\.notReadyReason: "unreachable" is a reason only the engine sets \(missed, unreachable\)/,
    );
    expect(() => loadConfigObject({ ...fine, registrar: { featureCodes: { notReadyReason: 'lunch' } } }, { checks: configChecks })).not.toThrow();
  });
});
