/**
 * The product's monitoring pages as API: Calls > Connected and Calls > In
 * Queue (searchable by caller, agent, queue; filterable by queue, team,
 * state, age; stuck calls flagged), one call's details, and Agents with their
 * status, each limited to what the user's role covers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentView, CallDetailsView, CallSummary } from '../../src/api/schemas.js';
import type { CallSession } from '../../src/engine/session/call-session.js';
import { startFixture, type Fixture, type UserName } from './support/api-fixture.js';

let fx: Fixture;
let offsetMs = 0;
const calls: Record<string, CallSession> = {};

beforeAll(async () => {
  fx = await startFixture({ api: { stuckCalls: { thresholdSeconds: 3600 } } }, { now: () => Date.now() + offsetMs });
  calls.salesConnected = fx.call('sales', 'connected', '+15551110001');
  calls.salesQueued = fx.call('sales', 'in-queue', '+15551110002');
  calls.billingWhisper = fx.call('billing', 'whisper', '+15552220003');
  calls.billingQueued = fx.call('billing', 'in-queue', '+15552220004');
  calls.lobby = fx.call('lobby', 'routing', '+15553330005');
  const d = fx.call('sales', 'connected', '+15554440006');
  // Deflected from the lobby to sales, verified customer, with the policy's decisions.
  d.queuePath.unshift('lobby');
  d.decisions.push({ queue: 'lobby', open: false, action: 'queue', reason: 'weekly-hours', deflection: 'queue', schedule: 'office', timeZone: 'UTC', exception: null, at: new Date().toISOString() });
  d.decisions.push({ queue: 'sales', open: true, action: 'enqueue', reason: 'weekly-hours', deflection: null, schedule: 'office', timeZone: 'UTC', exception: null, at: new Date().toISOString() });
  d.deflection = { action: 'queue', target: 'sales' };
  d.reserved.apply({ reserved_verified_customer: true }, 'api:admin');
  calls.deflected = d;
});
afterAll(async () => fx?.close());

async function get<T>(url: string, user: UserName = 'admin'): Promise<T> {
  const res = await fx.api.app.inject({ method: 'GET', url, headers: fx.auth(user) });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as T;
}
const ids = (r: { calls: CallSummary[] }): string[] => r.calls.map((c) => c.id).sort();
const idsOf = (...names: string[]): string[] => names.map((n) => calls[n]!.id).sort();

describe('Calls > Connected and Calls > In Queue', () => {
  it('filter by state: connected, in queue, or both', async () => {
    expect(ids(await get('/calls?state=connected'))).toEqual(idsOf('salesConnected', 'deflected'));
    expect(ids(await get('/calls?state=in-queue'))).toEqual(idsOf('salesQueued', 'billingQueued'));
    expect(ids(await get('/calls?state=in-queue&state=whisper'))).toEqual(idsOf('salesQueued', 'billingQueued', 'billingWhisper'));
  });

  it('search by caller, agent and queue (case-insensitive substring)', async () => {
    expect(ids(await get('/calls?q=2220003'))).toEqual(idsOf('billingWhisper'));
    expect(ids(await get('/calls?q=CID@'))).toEqual(idsOf('billingWhisper', 'billingQueued'));
    expect(ids(await get('/calls?q=bill'))).toEqual(idsOf('billingWhisper', 'billingQueued'));
    // The queue menu path counts: the deflected call passed through the lobby.
    expect(ids(await get('/calls?q=lobby'))).toEqual(idsOf('lobby', 'deflected'));
  });

  it('filter by queue and team', async () => {
    expect(ids(await get('/calls?queue=sales'))).toEqual(idsOf('salesConnected', 'salesQueued', 'deflected'));
    expect(ids(await get('/calls?team=blue'))).toEqual(idsOf('billingWhisper', 'billingQueued'));
    expect(ids(await get('/calls?team=blue&state=in-queue'))).toEqual(idsOf('billingQueued'));
  });

  it('filter by age, and calls older than the threshold are flagged stuck (oldest first)', async () => {
    expect((await get<{ calls: CallSummary[] }>('/calls?minAgeSeconds=60')).calls).toEqual([]);
    offsetMs = 2 * 3600 * 1000;
    try {
      const all = await get<{ calls: CallSummary[] }>('/calls');
      expect(all.calls.length).toBe(6);
      expect(all.calls.every((c) => c.stuck && c.ageMs >= 2 * 3600 * 1000)).toBe(true);
      expect(all.calls.map((c) => c.ageMs)).toEqual([...all.calls.map((c) => c.ageMs)].sort((a, b) => b - a));
      expect(ids(await get('/calls?minAgeSeconds=7000&stuck=true'))).toHaveLength(6);
      expect(ids(await get('/calls?maxAgeSeconds=7000'))).toEqual([]);
      expect(ids(await get('/calls?stuck=false'))).toEqual([]);
    } finally {
      offsetMs = 0;
    }
    expect(ids(await get('/calls?stuck=true'))).toEqual([]);
  });

  it("a manager lists only the calls of their teams; a supervisor (scope all) lists every call", async () => {
    expect(ids(await get('/calls', 'manager'))).toEqual(idsOf('salesConnected', 'salesQueued', 'deflected'));
    expect(ids(await get('/calls?team=blue', 'manager'))).toEqual([]);
    expect(ids(await get('/calls', 'supervisor'))).toHaveLength(6);
  });
});

describe("one call's details", () => {
  it('metrics, participants, queue path and transfers, policy decisions, reserved-data flags, recording and monitors', async () => {
    const d = await get<CallDetailsView>(`/calls/${calls.deflected!.id}`);
    expect(d).toMatchObject({
      id: calls.deflected!.id,
      state: 'connected',
      queue: 'sales',
      queueName: 'Sales',
      team: 'red',
      queuePath: ['lobby', 'sales'],
      transfers: [{ from: 'lobby', to: 'sales', kind: 'deflection' }],
      deflection: { action: 'queue', target: 'sales' },
      reservedData: { reserved_verified_customer: true },
      recording: null,
      monitors: [],
      caller: { number: '+15554440006', withheld: false },
      agent: 'sip:ann@127.0.0.1:5071',
    });
    expect(d.decisions.map((x) => [x.queue, x.action])).toEqual([
      ['lobby', 'queue'],
      ['sales', 'enqueue'],
    ]);
    expect(d.participants.map((p) => [p.role, p.id, p.state])).toEqual([
      ['caller', '+15554440006', 'talking'],
      ['agent', 'sip:ann@127.0.0.1:5071', 'talking'],
    ]);
    expect(Object.keys(d.metrics).sort()).toEqual(['holdMs', 'queueMs', 'talkMs', 'waitMs', 'whisperMs']);
    expect(d.attempts).toEqual([expect.objectContaining({ agent: 'sip:ann@127.0.0.1:5071', queue: 'sales', outcome: 'answered', status: 200 })]);
    expect(d.bridgedAt).not.toBeNull();
  });

  it('a call still hunting shows its agent ringing', async () => {
    const d = await get<CallDetailsView>(`/calls/${calls.salesQueued!.id}`);
    expect(d.participants.find((p) => p.role === 'agent')).toMatchObject({ id: 'sip:ann@127.0.0.1:5071', state: 'ringing' });
    expect(d.attempts[0]).toMatchObject({ outcome: 'ringing', endedAt: null });
    expect(d.bridgedAt).toBeNull();
  });
});

describe('Agents with status', () => {
  it('each configured agent once, with its teams and queues, and its status from the live calls', async () => {
    const { agents } = await get<{ agents: AgentView[] }>('/agents');
    const byUri = Object.fromEntries(agents.filter((a) => a.kind === 'target').map((a) => [a.uri, a]));
    // The configured agents (with states of their own) are listed too: logged out until they log in.
    expect(agents.filter((a) => a.kind === 'agent').map((a) => [a.id, a.state, a.status, a.teams.join()])).toEqual([
      ['agent', 'logged-out', 'logged-out', 'red'],
      ['rita', 'logged-out', 'logged-out', 'red'],
      ['bill', 'logged-out', 'logged-out', 'blue'],
      ['nora', 'logged-out', 'logged-out', ''],
    ]);
    expect(Object.keys(byUri).sort()).toEqual(['sip:ann@127.0.0.1:5071', 'sip:bob@127.0.0.1:5072', 'sip:cid@127.0.0.1:5073']);
    // ann: on a call (sales connected) and rung for another; on-call wins.
    expect(byUri['sip:ann@127.0.0.1:5071']).toMatchObject({ status: 'on-call', teams: ['red'], queues: ['sales'] });
    expect([calls.salesConnected!.id, calls.deflected!.id]).toContain(byUri['sip:ann@127.0.0.1:5071']!.call);
    expect(byUri['sip:cid@127.0.0.1:5073']).toMatchObject({ status: 'whisper', call: calls.billingWhisper!.id });
    expect(byUri['sip:bob@127.0.0.1:5072']).toMatchObject({ status: 'idle', call: null, teams: ['red', 'blue'], queues: ['sales', 'billing'] });
  });

  it('filters by status and search; a manager sees only agents of their teams', async () => {
    expect((await get<{ agents: AgentView[] }>('/agents?status=whisper')).agents.map((a) => a.uri)).toEqual(['sip:cid@127.0.0.1:5073']);
    expect((await get<{ agents: AgentView[] }>('/agents?q=BOB')).agents.map((a) => a.uri)).toEqual(['sip:bob@127.0.0.1:5072']);
    expect((await get<{ agents: AgentView[] }>('/agents', 'manager')).agents.map((a) => a.id).sort()).toEqual(['agent', 'rita', 'sip:ann@127.0.0.1:5071', 'sip:bob@127.0.0.1:5072']);
    expect((await get<{ agents: AgentView[] }>('/agents?q=rit')).agents.map((a) => a.id)).toEqual(['rita']);
    expect((await get<{ agents: AgentView[] }>('/agents?state=logged-out&team=blue')).agents.map((a) => a.id)).toEqual(['bill']);
  });

  it('an agent whose call ends is idle again', async () => {
    const s = fx.call('billing', 'connected');
    expect((await get<{ agents: AgentView[] }>('/agents?status=on-call')).agents.map((a) => a.uri)).toContain('sip:cid@127.0.0.1:5073');
    await s.end('test');
    expect((await get<{ agents: AgentView[] }>('/agents?status=on-call')).agents.map((a) => a.uri)).not.toContain('sip:cid@127.0.0.1:5073');
  });
});
