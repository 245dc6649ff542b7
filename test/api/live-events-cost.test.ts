/**
 * The event stream's cost per change (probe AA F1): it runs on the thread that answers INVITEs, so
 * one agent's change must not rebuild every agent's view, and a burst of call changes must not
 * re-derive the static targets once per change. Counted in views built, not in time.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfiguredAgentSource, type AgentSource } from '../../src/api/agents/agent-source.js';
import { LiveEvents, type LiveEvent, type Subscriber } from '../../src/api/events/live-events.js';
import { LiveCalls } from '../../src/api/views/live-calls.js';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { AgentRegistry } from '../../src/engine/agents/agent-registry.js';
import { CallControl } from '../../src/engine/call-control.js';
import { CallRegistry } from '../../src/engine/session/call-registry.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { makeSession } from './support/api-fixture.js';

const AGENTS = 300;
let events: LiveEvents | undefined;
afterEach(() => events?.close());

function setUp(): { registry: CallRegistry; agents: AgentRegistry; counted: { list: number; get: number; targets: number }; received: LiveEvent[] } {
  const config = loadConfigObject(
    {
      node: { stateDir: '/tmp/sb-unused', logLevel: 'silent' },
      queues: [
        { id: 'care', name: 'Care', team: 'red', numbers: ['400'] },
        { id: 'sales', name: 'Sales', team: 'red', numbers: ['100'], agents: ['sip:ann@127.0.0.1:5071', 'sip:bob@127.0.0.1:5072'] },
      ],
      agents: Array.from({ length: AGENTS }, (_, i) => ({ id: `ag${i}`, name: `Agent ${i}`, team: 'red', device: `sip:ag${i}@127.0.0.1:6000`, queues: [{ queue: 'care' }] })),
    },
    { checks: configChecks },
  );
  const registry = new CallRegistry();
  const control = new CallControl(registry);
  const agents = new AgentRegistry(config, silentLogger());
  const source = new ConfiguredAgentSource(config.queues, () => control.sessions(), agents);
  const counted = { list: 0, get: 0, targets: 0 };
  const counting: AgentSource = {
    list: () => (counted.list++, source.list()),
    get: (id) => (counted.get++, source.get(id)),
    targets: () => (counted.targets++, source.targets()),
    request: (...a) => source.request(...a),
    subscribe: (l) => source.subscribe(l),
  };
  // A tick far away: only the changes themselves are counted.
  events = new LiveEvents(registry, control, new LiveCalls(control, config.queues, 60_000), counting, 3_600_000);
  const received: LiveEvent[] = [];
  const subscriber: Subscriber = { principal: { user: 'admin', role: 'admin', keyId: 'k', scope: 'all', teams: [], permissions: new Set() } as never, send: (e) => received.push(e) };
  events.subscribe(subscriber);
  counted.list = 0;
  return { registry, agents, counted, received };
}

describe('the event stream: cost per change', () => {
  it("one agent's change builds that agent's view only, and is published once", () => {
    const { agents, counted, received } = setUp();
    for (let i = 0; i < 100; i++) agents.request(`ag${i}`, 'not-ready', 'lunch', 'test');
    expect(counted.list).toBe(0);
    expect(counted.get).toBe(100);
    const updated = received.filter((e) => e.type === 'agent.updated');
    expect(updated.map((e) => (e.type === 'agent.updated' ? e.agent.id : ''))).toEqual(Array.from({ length: 100 }, (_, i) => `ag${i}`));
    expect(updated.every((e) => e.type === 'agent.updated' && e.agent.state === 'not-ready' && e.agent.reason === 'lunch')).toBe(true);
  });

  it('a burst of call changes re-derives the static targets once, and their change is still published', async () => {
    const { registry, counted, received } = setUp();
    // 20 calls arriving and ringing in one turn: one pass over the targets after them.
    for (let i = 0; i < 20; i++) makeSession(registry, 'sales', 'in-queue');
    expect(counted.targets).toBe(0);
    await eventually(() => counted.targets > 0, 5000, 'the targets compared');
    expect(counted.targets).toBe(1);
    expect(counted.list).toBe(0);
    expect(received.some((e) => e.type === 'agent.updated' && e.agent.uri === 'sip:ann@127.0.0.1:5071' && e.agent.status === 'ringing')).toBe(true);
  });
});
