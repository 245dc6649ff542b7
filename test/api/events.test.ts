/**
 * The live event stream (Server-Sent Events) over a real socket: a snapshot
 * first, then call and agent changes as they happen, so a dashboard need not
 * poll; each user sees only what their role covers; a client that leaves is
 * forgotten, and stopping the API ends every stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/api/events/live-events.js';
import type { AgentView, CallSummary } from '../../src/api/schemas.js';
import { CallSession } from '../../src/engine/session/call-session.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { startFixture, type Fixture } from './support/api-fixture.js';
import { SseClient, type SseEvent } from './support/sse-client.js';

let fx: Fixture & { server?: { port: number } };
const clients: SseClient[] = [];

beforeAll(async () => {
  fx = await startFixture({}, { listen: true, agentTickMs: 100 });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await fx?.close();
});

async function open(user: 'admin' | 'manager'): Promise<SseClient> {
  const c = await SseClient.open(fx.server!.port, '/events', fx.auth(user));
  clients.push(c);
  return c;
}
const parsed = (e: SseEvent): LiveEvent => JSON.parse(e.data) as LiveEvent;
const isCall = (type: string, id: string) => (e: SseEvent) => e.event === type && (parsed(e) as { call: { id: string } }).call.id === id;
const isAgent = (uri: string, status: string) => (e: SseEvent) => e.event === 'agent.updated' && (parsed(e) as { agent: AgentView }).agent.uri === uri && (parsed(e) as { agent: AgentView }).agent.status === status;

describe('GET /events', () => {
  it('starts with a snapshot of the calls and agents the user may see', async () => {
    const existing = fx.call('billing', 'connected');
    const c = await open('admin');
    expect(c.status).toBe(200);
    expect(c.headers['content-type']).toMatch(/^text\/event-stream/);
    const snap = await c.next((e) => e.event === 'snapshot', 'snapshot');
    const data = JSON.parse(snap.data) as { calls: CallSummary[]; agents: AgentView[] };
    expect(data.calls.map((x) => x.id)).toEqual([existing.id]);
    expect(data.agents.find((a) => a.uri === 'sip:cid@127.0.0.1:5073')).toMatchObject({ status: 'on-call', call: existing.id });
    await existing.end('test');
    await c.next(isCall('call.ended', existing.id), 'call.ended');
  });

  it('a call arrives, rings an agent, is connected and ends: each step is an event, with increasing ids', async () => {
    const c = await open('admin');
    await c.next((e) => e.event === 'snapshot', 'snapshot');
    const from = c.events.length;
    const call = fx.call('sales', 'in-queue');
    const added = await c.next(isCall('call.added', call.id), 'call.added', from);
    expect((parsed(added) as { call: CallSummary }).call).toMatchObject({ queue: 'sales', team: 'red' });
    await c.next((e) => isCall('call.updated', call.id)(e) && (parsed(e) as { call: CallSummary }).call.state === 'in-queue', 'in-queue', from);
    // The ring starts with no call state change: the agent status is noticed all the same.
    await c.next(isAgent('sip:ann@127.0.0.1:5071', 'ringing'), 'ann ringing', from);
    call.settle(call.attempts[0]!, 'answered', 200);
    call.transition('connected');
    await c.next((e) => isCall('call.updated', call.id)(e) && (parsed(e) as { call: CallSummary }).call.state === 'connected', 'connected', from);
    await c.next(isAgent('sip:ann@127.0.0.1:5071', 'on-call'), 'ann on call', from);
    await fx.control.end(call.id, 'ended by test-user: done', 'supervisor', 'test-user');
    const ended = await c.next(isCall('call.ended', call.id), 'call.ended', from);
    expect((parsed(ended) as { call: object }).call).toMatchObject({ endedBy: 'supervisor', endedByUser: 'test-user', endReason: 'ended by test-user: done' });
    await c.next(isAgent('sip:ann@127.0.0.1:5071', 'idle'), 'ann idle', from);
    const ids = c.events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("a manager's stream carries only their teams' calls and agents", async () => {
    const m = await open('manager');
    const a = await open('admin');
    await m.next((e) => e.event === 'snapshot', 'snapshot');
    await a.next((e) => e.event === 'snapshot', 'snapshot');
    const blue = fx.call('billing', 'connected');
    const red = fx.call('sales', 'connected');
    await a.next(isCall('call.added', blue.id), 'blue call at the admin');
    await m.next(isCall('call.added', red.id), 'red call at the manager');
    await a.next(isAgent('sip:cid@127.0.0.1:5073', 'on-call'), 'cid at the admin');
    await Promise.all([blue.end('test'), red.end('test')]);
    await m.next(isCall('call.ended', red.id), 'red ended at the manager');
    await a.next(isCall('call.ended', blue.id), 'blue ended at the admin');
    const seen = m.events.map((e) => JSON.stringify(parsed(e)));
    expect(seen.some((t) => t.includes(blue.id))).toBe(false);
    expect(seen.some((t) => t.includes('sip:cid@'))).toBe(false);
  });

  it("a team's stream: a call's first visible event is call.added (it arrives with no queue); one that overflows to another team's queue is call.removed there, and its end goes to whoever sees it", async () => {
    const m = await open('manager');
    const a = await open('admin');
    await Promise.all([m.next((e) => e.event === 'snapshot', 'snapshot'), a.next((e) => e.event === 'snapshot', 'snapshot')]);
    const [mFrom, aFrom] = [m.events.length, a.events.length];
    const call = new CallSession({ callId: 'moving@127.0.0.1', caller: { number: '+15550100', name: undefined, withheld: false }, dialed: '100', source: { address: '127.0.0.1', port: 5060, transport: 'udp' }, language: 'en', logger: silentLogger() });
    fx.registry.add(call);
    await a.next(isCall('call.added', call.id), 'call.added at the admin (no team yet)', aFrom);
    call.enterQueue('sales');
    call.transition('in-queue');
    const added = await m.next(isCall('call.added', call.id), 'call.added at the manager once the call is in a red queue', mFrom);
    expect((parsed(added) as { call: CallSummary }).call).toMatchObject({ queue: 'sales', team: 'red' });
    call.enterQueue('billing');
    call.changed();
    const removed = await m.next((e) => e.event === 'call.removed' && (parsed(e) as { call: { id: string } }).call.id === call.id, 'call.removed at the manager', mFrom);
    expect(parsed(removed)).toEqual({ type: 'call.removed', call: { id: call.id, team: 'blue' } });
    await call.end('test');
    await a.next(isCall('call.ended', call.id), 'call.ended at the admin', aFrom);
    // the manager heard of it once each: added, maybe updated while red, removed; never its end
    const mine = m.events.slice(mFrom).filter((e) => e.data.includes(call.id)).map((e) => e.event);
    expect(mine[0]).toBe('call.added');
    expect(mine.at(-1)).toBe('call.removed');
    expect(mine).not.toContain('call.ended');
  });

  it('a client that disconnects is forgotten; stopping the API ends the streams still open', async () => {
    const before = fx.api.events.size;
    const c = await open('admin');
    await c.next((e) => e.event === 'snapshot', 'snapshot');
    expect(fx.api.events.size).toBe(before + 1);
    c.close();
    await eventually(() => fx.api.events.size === before, 10_000, 'the subscriber gone');
    const last = await open('manager');
    await last.next((e) => e.event === 'snapshot', 'snapshot');
    const ended = last.ended();
    await fx.api.close();
    await ended;
    expect(fx.api.events.size).toBe(0);
  });
});
