/**
 * Agents through the supervisors' API (the product's Agents page and In Queue
 * figures), on the real Fastify server over the real agent registry and
 * waiting queues: an agent changes its own state, a supervisor another's (a
 * manager only within their teams); changes asked for during a call wait for
 * it; bad requests get 400 with the reason; each change is audited and shows
 * on the event stream; the queues' figures and a waiting call's place.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/api/events/live-events.js';
import type { AgentView } from '../../src/api/schemas.js';
import { startFixture, type Fixture } from '../api/support/api-fixture.js';
import { SseClient } from '../api/support/sse-client.js';

let fx: Fixture & { server?: { port: number } };

beforeAll(async () => {
  fx = await startFixture({}, { listen: true, agentTickMs: 60_000 });
});
afterAll(async () => {
  await fx?.close();
});

type User = Parameters<Fixture['auth']>[0];

async function setState(user: User, agent: string, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fx.api.app.inject({ method: 'POST', url: `/agents/${agent}/state`, headers: fx.auth(user), payload: body });
  return { status: res.statusCode, json: res.json() };
}

describe('agent states through the API', () => {
  it('an agent logs itself in and out; the change is audited with who did it', async () => {
    const r = await setState('agent', 'agent', { state: 'ready' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'agent', kind: 'agent', state: 'ready', status: 'idle', reason: null, idleSince: expect.any(String) });
    const not = await setState('agent', 'agent', { state: 'not-ready', reason: 'lunch' });
    expect(not.json).toMatchObject({ state: 'not-ready', reason: 'lunch', status: 'not-ready' });
    const entry = fx.api.audit.recent(1, (e) => e.action === 'agent.state').at(-1);
    expect(entry).toMatchObject({ user: 'agent', role: 'agent', agent: 'agent', outcome: 'ok', status: 200, reason: 'not-ready (lunch) → not-ready' });
    expect(fx.agents.get('agent')).toMatchObject({ state: 'not-ready', reason: 'lunch' });
  });

  it("a supervisor changes anyone's; a manager only its teams'; an agent nobody else's", async () => {
    expect((await setState('supervisor', 'bill', { state: 'ready' })).json).toMatchObject({ state: 'ready' });
    expect((await setState('manager', 'rita', { state: 'ready' })).status).toBe(200);
    const outside = await setState('manager', 'bill', { state: 'logged-out' });
    expect(outside.status).toBe(403);
    expect(outside.json.reason).toMatch(/team blue/);
    const other = await setState('agent', 'rita', { state: 'logged-out' });
    expect(other.status).toBe(403);
    expect(other.json.reason).toMatch(/not your own agent/);
    expect(fx.agents.get('bill').state).toBe('ready');
    expect(fx.agents.get('rita').state).toBe('ready');
    const denied = fx.api.audit.recent(10, (e) => e.action === 'agent.state' && e.outcome === 'denied');
    expect(denied.map((e) => [e.user, e.agent])).toEqual([
      ['manager', 'bill'],
      ['agent', 'rita'],
    ]);
  });

  it('during a call the change waits for the call; ready during wrap-up ends the wrap-up', async () => {
    await setState('admin', 'nora', { state: 'ready' });
    const a = fx.agents.reserve('nora', 'call-x', 'hall');
    a.answered();
    a.connected();
    const r = await setState('admin', 'nora', { state: 'logged-out' });
    expect(r.json).toMatchObject({ state: 'on-call', status: 'on-call', call: 'call-x', pending: { state: 'logged-out', reason: null } });
    a.release(60);
    expect(fx.agents.get('nora')).toMatchObject({ state: 'wrap-up' });
    expect((await setState('admin', 'nora', { state: 'ready' })).json).toMatchObject({ state: 'ready', pending: null });
  });

  it.each([
    [{ state: 'asleep' }, 400, /state/],
    [{ state: 'ready', reason: 'x' }, 400, /a reason goes only with not-ready/],
    [{ state: 'not-ready', reason: '' }, 400, /reason/],
    [{ state: 'ready', extra: 1 }, 400, /extra|additional/],
    // The engine's own reasons (probe AN-3): a supervisor's "unreachable" would turn ready when the phone registers.
    [{ state: 'not-ready', reason: 'unreachable' }, 400, /reason "unreachable" is the engine's own \(missed, unreachable\)/],
    [{ state: 'not-ready', reason: 'missed' }, 400, /reason "missed" is the engine's own/],
  ])('%j → %i', async (body, status, reason) => {
    const r = await setState('admin', 'rita', body);
    expect(r.status).toBe(status);
    expect(r.json).toMatchObject({ statusCode: status, code: 'SB_API_BAD_REQUEST' });
    expect(String(r.json.reason)).toMatch(reason);
  });

  it('unknown agents are 404; a static target has no state (409)', async () => {
    expect((await setState('admin', 'zed', { state: 'ready' })).status).toBe(404);
    const target = await setState('admin', encodeURIComponent('sip:ann@127.0.0.1:5071'), { state: 'ready' });
    expect(target.status).toBe(409);
    expect(target.json.reason).toMatch(/static target/);
  });

  it('GET /agents/:id: an agent sees itself; others need calls-view and the team', async () => {
    const own = await fx.api.app.inject({ method: 'GET', url: '/agents/agent', headers: fx.auth('agent') });
    expect(own.statusCode).toBe(200);
    expect(own.json<AgentView>()).toMatchObject({ id: 'agent', teams: ['red'], queues: ['care'], uri: 'sip:agent@127.0.0.1:5081', reachable: true, devices: [] });
    expect((await fx.api.app.inject({ method: 'GET', url: '/agents/rita', headers: fx.auth('agent') })).statusCode).toBe(403);
    expect((await fx.api.app.inject({ method: 'GET', url: '/agents/rita', headers: fx.auth('manager') })).statusCode).toBe(200);
  });

  it('the event stream shows state changes at once', async () => {
    const c = await SseClient.open(fx.server!.port, '/events', fx.auth('admin'));
    try {
      await c.next((e) => e.event === 'snapshot', 'snapshot');
      const from = c.events.length;
      await setState('admin', 'bill', { state: 'not-ready', reason: 'meeting' });
      const e = await c.next((x) => x.event === 'agent.updated' && (JSON.parse(x.data) as { agent: AgentView }).agent.id === 'bill', 'bill updated', from);
      expect((JSON.parse(e.data) as Extract<LiveEvent, { type: 'agent.updated' }>).agent).toMatchObject({ state: 'not-ready', reason: 'meeting' });
    } finally {
      c.close();
    }
  });
});

describe('waiting queues through the API', () => {
  it("GET /queues gives each waiting queue's figures (a manager only its teams'); a waiting call's place shows in the lists", async () => {
    await setState('admin', 'agent', { state: 'logged-out' });
    await setState('admin', 'rita', { state: 'logged-out' });
    const s = fx.call('care', 'in-queue');
    const place = fx.queues.join(s.id, 'care', 0);
    try {
      const all = await fx.api.app.inject({ method: 'GET', url: '/queues', headers: fx.auth('admin') });
      const care = all.json<{ queues: { id: string }[] }>().queues.find((q) => q.id === 'care');
      expect(care).toMatchObject({ team: 'red', waiting: 1, offering: 0, agents: { loggedIn: 0, ready: 0 } });
      const mine = await fx.api.app.inject({ method: 'GET', url: '/queues', headers: fx.auth('manager') });
      expect(mine.json<{ queues: { id: string }[] }>().queues.map((q) => q.id)).toEqual(['care']);
      const list = await fx.api.app.inject({ method: 'GET', url: '/calls?state=in-queue&queue=care', headers: fx.auth('admin') });
      expect(list.json<{ calls: { id: string; waiting: unknown }[] }>().calls.find((c) => c.id === s.id)?.waiting).toMatchObject({ position: 1, priority: 0, offering: false, since: expect.any(String) });
    } finally {
      place.leave('abandoned');
      await s.end('test');
    }
  });
});
