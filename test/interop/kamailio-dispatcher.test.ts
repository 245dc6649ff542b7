/**
 * Kamailio's dispatcher in front of two engine nodes (ARCHITECTURE.md D11):
 * new calls are spread round-robin over the nodes it has seen answer its
 * OPTIONS probes; a node whose engine stops (its SIP port still answering,
 * but 503 for lack of an application) or that stops altogether (nothing
 * answers) is taken out of rotation, and calls keep succeeding on the other;
 * a node that comes back on its address is put back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode, type QueueSpec } from '../support/interop/engine-node.js';
import { Kamailio } from '../support/interop/kamailio.js';
import { sippCall } from '../support/interop/sipp-call.js';
import { describeRun, freePort, type SippResult } from '../support/sipp.js';

const N = 6;

function expectAll(r: SippResult, calls: number): void {
  expect(r.stats.successful, describeRun(r)).toBe(calls);
  expect(r.stats.failed, describeRun(r)).toBe(0);
  expect(r.code, describeRun(r)).toBe(0);
}

describe('Kamailio dispatcher over two engine nodes', () => {
  let a: EngineNode;
  let b: EngineNode;
  let kam: Kamailio;
  let agentPort: number;
  let queues: QueueSpec[];

  beforeAll(async () => {
    agentPort = await freePort();
    queues = [{ id: 'sales', numbers: ['3000'], agents: [`sip:agent@127.0.0.1:${agentPort}`] }];
    a = await startEngineNode({ queues });
    b = await startEngineNode({ queues });
    kam = await Kamailio.start({ engines: [a.uri('udp'), b.uri('udp')] });
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await kam?.stop();
  });

  /** N calls through Kamailio (the one at `remote`); returns how many each node connected. */
  async function calls(remote = kam.address): Promise<{ a: number; b: number }> {
    const beforeA = a.connected();
    const beforeB = b.connected();
    const run = await sippCall({
      caller: 'uac-basic.xml',
      remote,
      transport: 'udp',
      service: '3000',
      calls: N,
      agents: [{ scenario: 'uas-answer.xml', port: agentPort, calls: N }],
    });
    expectAll(run.caller, N);
    expectAll(run.agents[0]!, N);
    return { a: a.connected() - beforeA, b: b.connected() - beforeB };
  }

  it('both nodes answer the OPTIONS probes and share new calls round-robin', async () => {
    await kam.waitForState(a.uri('udp'), 'active');
    await kam.waitForState(b.uri('udp'), 'active');
    expect(await calls()).toEqual({ a: N / 2, b: N / 2 });
  });

  it('a node that stops altogether no longer answers the probes: it is taken out; back on its address it is put back', async () => {
    const { udpPort, tcpPort } = b;
    const down = kam.events.all.length;
    await b.stop();
    await kam.waitForState(b.uri('udp'), 'inactive');
    await kam.events.waitFor((e) => e.kind === 'dst-down' && e.target === b.uri('udp'), 2000, 'the dst-down event for node B', down);
    expect(await calls()).toEqual({ a: N, b: 0 });
    const up = kam.events.all.length;
    b = await startEngineNode({ queues, udpPort, tcpPort });
    await kam.waitForState(b.uri('udp'), 'active');
    await kam.events.waitFor((e) => e.kind === 'dst-up' && e.target === b.uri('udp'), 2000, 'the dst-up event for node B', up);
    const split = await calls();
    expect(split.a + split.b).toBe(N);
    expect(split.b).toBeGreaterThan(0);
  });

  it('a node whose engine stops answers the probe with 503 (its SIP port still up): it is taken out, calls go to the other', async () => {
    await kam.waitForState(b.uri('udp'), 'active');
    const down = kam.events.all.length;
    await b.sb.engine.stop();
    await kam.waitForState(b.uri('udp'), 'inactive');
    await kam.events.waitFor((e) => e.kind === 'dst-down' && e.target === b.uri('udp'), 2000, 'the dst-down event for node B', down);
    expect(await calls()).toEqual({ a: N, b: 0 });
  });

  it('a node whose engine stopped before any probe noticed: its 503 makes Kamailio fail the call over to the other node', async () => {
    // A second Kamailio that trusts both nodes from the start and probes only every 30 s.
    const slow = await Kamailio.start({ engines: [a.uri('udp'), b.uri('udp')], initiallyActive: true, pingIntervalSec: 30 });
    try {
      expect((await slow.destinations()).map((d) => d.state)).toEqual(['active', 'active']);
      // Node B's engine is stopped (previous test): its SIP server answers INVITE with 503.
      expect((await calls(slow.address)).a).toBe(N);
      // RFC 3261 §16.7/§21.5.4: the proxy tried another node after the 503; ds_mark_dst took B out.
      expect(slow.events.count((e) => e.kind === 'failover' && e.method === 'INVITE')).toBeGreaterThanOrEqual(1);
      expect((await slow.destinations()).find((d) => d.uri === b.uri('udp'))?.state).toBe('inactive');
    } finally {
      await slow.stop();
    }
  });

  it('afterwards neither node has a call, dialog or pending request left', async () => {
    await a.idle();
    await b.idle();
  });
});
