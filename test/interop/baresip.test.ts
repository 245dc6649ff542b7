/**
 * baresip, a real softphone, on both sides of the engine: as an agent that
 * auto-answers (reached at a static SIP URI, registering nothing) and as a
 * caller. Calls are placed, answered and hung up from either end; baresip's
 * own call events (ctrl_tcp) say what it saw, SIPp's counts and the engine's
 * status say the rest.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Baresip } from '../support/interop/baresip.js';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { Kamailio } from '../support/interop/kamailio.js';
import { eventually } from '../support/harness.js';
import { describeRun, freePort, runSipp, type SippResult } from '../support/sipp.js';

function expectAll(r: SippResult, calls: number): void {
  expect(r.stats.successful, describeRun(r)).toBe(calls);
  expect(r.stats.failed, describeRun(r)).toBe(0);
  expect(r.code, describeRun(r)).toBe(0);
}

describe('baresip as agent and as caller', () => {
  let node: EngineNode;
  let agent: Baresip;
  let tcpAgent: Baresip;
  /** An agent whose phone rings until told to answer or decline. */
  let ringer: Baresip;
  let caller: Baresip | undefined;

  beforeAll(async () => {
    [agent, tcpAgent, ringer] = await Promise.all([
      Baresip.start({ user: 'agent', answer: 'auto' }),
      Baresip.start({ user: 'tcpagent', answer: 'auto' }),
      Baresip.start({ user: 'ringer', answer: 'manual' }),
    ]);
    node = await startEngineNode({
      queues: [
        { id: 'softphone', numbers: ['4000'], agents: [agent.uri('udp')] },
        { id: 'softphone-tcp', numbers: ['4001'], agents: [tcpAgent.uri('tcp')] },
        { id: 'decline-then-answer', numbers: ['4002'], agents: [ringer.uri('udp'), agent.uri('udp')] },
        { id: 'rings', numbers: ['4003'], agents: [ringer.uri('udp')] },
        { id: 'nobody', numbers: ['4009'], agents: [] },
      ],
    });
  });

  afterEach(async () => {
    await caller?.stop();
    caller = undefined;
  });

  afterAll(async () => {
    await node?.stop();
    await agent?.stop();
    await tcpAgent?.stop();
    await ringer?.stop();
  });

  it('SIPp calls, baresip auto-answers, the caller hangs up: baresip sees the call established and closed', async () => {
    const mark = agent.events.all.length;
    const before = node.connected();
    const r = await runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${node.udpPort}`, port: await freePort(), transport: 'udp', calls: 1, service: '4000', pauseMs: 500 }).done;
    expectAll(r, 1);
    expect(node.connected() - before).toBe(1);
    const established = await agent.waitEvent('CALL_ESTABLISHED', 10_000, mark);
    expect(established.direction).toBe('incoming');
    await agent.waitEvent('CALL_CLOSED', 10_000, mark);
    await node.idle();
  });

  it('SIPp calls, baresip answers and then hangs up: the engine ends the caller’s leg with BYE', async () => {
    const mark = agent.events.all.length;
    const sipp = runSipp({ scenario: 'uac-wait-bye.xml', remote: `127.0.0.1:${node.udpPort}`, port: await freePort(), transport: 'udp', calls: 1, service: '4000' });
    try {
      await agent.waitEvent('CALL_ESTABLISHED', 10_000, mark);
      const hangup = await agent.command('hangup');
      expect(hangup.ok, hangup.data).toBe(true);
      expectAll(await sipp.done, 1);
    } finally {
      sipp.kill();
    }
    await agent.waitEvent('CALL_CLOSED', 10_000, mark);
    await node.idle();
  });

  it('baresip calls baresip through the engine; the caller hangs up and the agent’s call closes', async () => {
    caller = await Baresip.start({ user: 'caller', answer: 'manual' });
    const agentMark = agent.events.all.length;
    const dial = await caller.command('dial', `sip:4000@127.0.0.1:${node.udpPort}`);
    expect(dial.ok, dial.data).toBe(true);
    await caller.waitEvent('CALL_ESTABLISHED');
    await agent.waitEvent('CALL_ESTABLISHED', 10_000, agentMark);
    // The caller's 200 can arrive before the engine has recorded the bridge.
    await eventually(() => node.sb.engine.liveCalls()[0]?.state === 'connected', 10_000, 'the engine to record the call as connected');
    expect(node.sb.engine.liveCalls()).toHaveLength(1);
    expect(node.sb.engine.liveCalls()[0]).toMatchObject({ state: 'connected', dialed: '4000', agent: agent.uri('udp') });
    const callerMark = caller.events.all.length;
    expect((await caller.command('hangup')).ok).toBe(true);
    await caller.waitEvent('CALL_CLOSED', 10_000, callerMark);
    await agent.waitEvent('CALL_CLOSED', 10_000, agentMark);
    await node.idle();
  });

  it('over TCP: baresip calls the engine over TCP and the agent is reached over TCP; the agent hangs up', async () => {
    caller = await Baresip.start({ user: 'caller', answer: 'manual' });
    const agentMark = tcpAgent.events.all.length;
    const dial = await caller.command('dial', `sip:4001@127.0.0.1:${node.tcpPort};transport=tcp`);
    expect(dial.ok, dial.data).toBe(true);
    await caller.waitEvent('CALL_ESTABLISHED');
    await tcpAgent.waitEvent('CALL_ESTABLISHED', 10_000, agentMark);
    expect((await tcpAgent.command('hangup')).ok).toBe(true);
    await caller.waitEvent('CALL_CLOSED');
    await tcpAgent.waitEvent('CALL_CLOSED', 10_000, agentMark);
    await node.idle();
  });

  it('the first agent declines the ringing call (486 from baresip): the engine rings the next agent, who answers', async () => {
    caller = await Baresip.start({ user: 'caller', answer: 'manual' });
    const ringerMark = ringer.events.all.length;
    const agentMark = agent.events.all.length;
    expect((await caller.command('dial', `sip:4002@127.0.0.1:${node.udpPort}`)).ok).toBe(true);
    await ringer.waitEvent('CALL_INCOMING', 10_000, ringerMark);
    expect((await ringer.command('hangup')).ok).toBe(true);
    await agent.waitEvent('CALL_ESTABLISHED', 10_000, agentMark);
    await caller.waitEvent('CALL_ESTABLISHED');
    await eventually(() => node.sb.engine.liveCalls()[0]?.state === 'connected', 10_000, 'the engine to record the call as connected');
    expect(node.sb.engine.liveCalls()[0]).toMatchObject({ state: 'connected', agent: agent.uri('udp') });
    expect((await caller.command('hangup')).ok).toBe(true);
    await agent.waitEvent('CALL_CLOSED', 10_000, agentMark);
    await node.idle();
  });

  it('the caller gives up while the agent’s phone rings: the CANCEL reaches the agent and its call closes', async () => {
    caller = await Baresip.start({ user: 'caller', answer: 'manual' });
    const ringerMark = ringer.events.all.length;
    expect((await caller.command('dial', `sip:4003@127.0.0.1:${node.udpPort}`)).ok).toBe(true);
    await ringer.waitEvent('CALL_INCOMING', 10_000, ringerMark);
    await caller.waitEvent('CALL_RINGING');
    expect((await caller.command('hangup')).ok).toBe(true);
    await ringer.waitEvent('CALL_CLOSED', 10_000, ringerMark);
    expect(ringer.events.all.slice(ringerMark).some((e) => e.type === 'CALL_ESTABLISHED')).toBe(false);
    await node.idle();
  });

  it('through Kamailio: baresip follows the Record-Route for its ACK and BYE, and the engine’s BYE reaches it through Kamailio', async () => {
    const kam = await Kamailio.start({ engines: [node.uri('udp')] });
    try {
      await kam.waitForState(node.uri('udp'), 'active');
      caller = await Baresip.start({ user: 'caller', answer: 'manual' });
      const callerSource = `127.0.0.1:${caller.sipPort}`;
      const engineSource = `127.0.0.1:${node.udpPort}`;
      const inDialog = (method: string, source: string): number => kam.requests((e) => e.kind === 'in-dialog' && e.method === method && e.source === source);
      // First call: the caller hangs up.
      let agentMark = agent.events.all.length;
      expect((await caller.command('dial', `sip:4000@${kam.address}`)).ok).toBe(true);
      await caller.waitEvent('CALL_ESTABLISHED');
      await agent.waitEvent('CALL_ESTABLISHED', 10_000, agentMark);
      let callerMark = caller.events.all.length;
      expect((await caller.command('hangup')).ok).toBe(true);
      await caller.waitEvent('CALL_CLOSED', 10_000, callerMark);
      await agent.waitEvent('CALL_CLOSED', 10_000, agentMark);
      expect(inDialog('ACK', callerSource)).toBe(1);
      expect(inDialog('BYE', callerSource)).toBe(1);
      // Second call: the agent hangs up, so the engine's BYE goes to the caller through Kamailio.
      agentMark = agent.events.all.length;
      callerMark = caller.events.all.length;
      expect((await caller.command('dial', `sip:4000@${kam.address}`)).ok).toBe(true);
      await caller.waitEvent('CALL_ESTABLISHED', 10_000, callerMark);
      await agent.waitEvent('CALL_ESTABLISHED', 10_000, agentMark);
      expect((await agent.command('hangup')).ok).toBe(true);
      await caller.waitEvent('CALL_CLOSED', 10_000, callerMark);
      expect(inDialog('BYE', engineSource)).toBe(1);
      await node.idle();
    } finally {
      await kam.stop();
    }
  });

  it('baresip calling a queue with no agent hears 480; calling an unknown number hears 404', async () => {
    caller = await Baresip.start({ user: 'caller', answer: 'manual' });
    expect((await caller.command('dial', `sip:4009@127.0.0.1:${node.udpPort}`)).ok).toBe(true);
    const noAgent = await caller.waitEvent('CALL_CLOSED');
    expect(noAgent.param).toMatch(/^480\b/);
    const mark = caller.events.all.length;
    expect((await caller.command('dial', `sip:9999@127.0.0.1:${node.udpPort}`)).ok).toBe(true);
    const unknown = await caller.waitEvent('CALL_CLOSED', 10_000, mark);
    expect(unknown.param).toMatch(/^404\b/);
  });
});
