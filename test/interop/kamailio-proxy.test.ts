/**
 * Kamailio in front of the engine (ARCHITECTURE.md D11): a real Kamailio
 * with the dispatcher module, record-routing every dialog, relays SIPp
 * callers to an engine node that hunts SIPp agents. Calls must succeed and
 * every in-dialog request must take the recorded route through Kamailio in
 * both directions (RFC 3261 §12.2.1.1, §16.12): the caller's ACK, BYE and
 * re-INVITE towards the engine, the engine's BYE and re-INVITE towards the
 * caller. Kamailio's routing log says which requests passed through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEngineNode, type EngineNode } from '../support/interop/engine-node.js';
import { Kamailio, type KamailioEvent } from '../support/interop/kamailio.js';
import { sippCall, type CallRun } from '../support/interop/sipp-call.js';
import { describeRun, freePort, type SippResult } from '../support/sipp.js';

const N = 4;

function expectAll(r: SippResult, calls = N): void {
  expect(r.stats.successful, describeRun(r)).toBe(calls);
  expect(r.stats.failed, describeRun(r)).toBe(0);
  expect(r.code, describeRun(r)).toBe(0);
}

function expectCalls(run: CallRun, calls = N): void {
  expectAll(run.caller, calls);
  for (const a of run.agents) expectAll(a, calls);
}

type Transport = 'udp' | 'tcp';

/** Caller → Kamailio and Kamailio → engine transports; Kamailio record-routes twice where they differ. */
const LEGS: readonly { caller: Transport; engine: Transport }[] = [
  { caller: 'udp', engine: 'udp' },
  { caller: 'tcp', engine: 'udp' },
  { caller: 'udp', engine: 'tcp' },
];

describe('Kamailio (dispatcher, record-route) in front of an engine node', () => {
  let node: EngineNode;
  /** One Kamailio per transport towards the engine. */
  const kams: Partial<Record<Transport, Kamailio>> = {};
  const ports: Record<string, number> = {};

  beforeAll(async () => {
    for (const name of ['answer', 'hangup', 'reinvite', 'hold', 'ring']) ports[name] = await freePort();
    const agent = (name: string): string => `sip:${name}@127.0.0.1:${ports[name]}`;
    node = await startEngineNode({
      queues: [
        { id: 'basic', numbers: ['2000'], agents: [agent('answer')] },
        { id: 'agent-hangs-up', numbers: ['2001'], agents: [agent('hangup')] },
        { id: 'caller-holds', numbers: ['2002'], agents: [agent('reinvite')] },
        { id: 'agent-holds', numbers: ['2003'], agents: [agent('hold')] },
        { id: 'cancel', numbers: ['2004'], agents: [agent('ring')] },
      ],
    });
    const [udp, tcp] = await Promise.all([Kamailio.start({ engines: [node.uri('udp')] }), Kamailio.start({ engines: [node.uri('tcp')] })]);
    kams.udp = udp;
    kams.tcp = tcp;
  });

  afterAll(async () => {
    // The node first: calls it still holds are hung up through Kamailio.
    await node?.stop();
    await Promise.all([kams.udp?.stop(), kams.tcp?.stop()]);
  });

  it('the dispatcher puts the node in rotation only after it answers an OPTIONS probe (over UDP and over TCP)', async () => {
    // The node is listed as inactive + probing: only a 200 to Kamailio's OPTIONS makes it active.
    for (const t of ['udp', 'tcp'] as const) {
      await kams[t]!.waitForState(node.uri(t), 'active');
      expect(await kams[t]!.destinations()).toEqual([{ uri: node.uri(t), state: 'active', probing: true }]);
    }
  });

  for (const legs of LEGS) {
    describe(`caller to Kamailio over ${legs.caller.toUpperCase()}, Kamailio to the engine over ${legs.engine.toUpperCase()}`, () => {
      const kam = (): Kamailio => kams[legs.engine]!;
      // The engine sends from its listener: the UDP socket, or its end of Kamailio's TCP connection.
      const engineSource = (): string => `127.0.0.1:${legs.engine === 'udp' ? node.udpPort : node.tcpPort}`;
      // Requests, not messages: under load a 200 may be retransmitted and answered with a second ACK.
      const since = (mark: number, pred: (e: KamailioEvent) => boolean): number => kam().requests(pred, mark);
      const inDialog = (method: string, fromEngine: boolean) => (e: KamailioEvent) =>
        e.kind === 'in-dialog' && e.method === method && (e.source === engineSource()) === fromEngine;
      const call = (caller: string, service: string, agents: { scenario: string; port: string }[]): Promise<CallRun> =>
        sippCall({
          caller,
          remote: kam().address,
          transport: legs.caller,
          agentTransport: 'udp',
          service,
          calls: N,
          agents: agents.map((a) => ({ scenario: a.scenario, port: ports[a.port]!, calls: N })),
        });

      it('calls succeed; the caller’s ACK and BYE reach the engine through Kamailio', async () => {
        const mark = kam().events.all.length;
        const before = node.connected();
        const run = await call('uac-basic.xml', '2000', [{ scenario: 'uas-answer.xml', port: 'answer' }]);
        expectCalls(run);
        expect(node.connected() - before).toBe(N);
        expect(since(mark, (e) => e.kind === 'initial' && e.method === 'INVITE')).toBe(N);
        expect(since(mark, inDialog('ACK', false))).toBe(N);
        expect(since(mark, inDialog('BYE', false))).toBe(N);
        expect(since(mark, (e) => e.kind === 'not-routed')).toBe(0);
      });

      it('the agent hangs up: the engine’s BYE follows the Record-Route through Kamailio to the caller', async () => {
        const mark = kam().events.all.length;
        const run = await call('uac-wait-bye.xml', '2001', [{ scenario: 'uas-answer-hangup.xml', port: 'hangup' }]);
        expectCalls(run);
        expect(since(mark, inDialog('BYE', true))).toBe(N);
        expect(since(mark, inDialog('BYE', false))).toBe(0);
      });

      it('the caller’s re-INVITEs (hold, resume) reach the agent through Kamailio and the engine', async () => {
        const mark = kam().events.all.length;
        const run = await call('uac-reinvite.xml', '2002', [{ scenario: 'uas-answer-reinvite.xml', port: 'reinvite' }]);
        expectCalls(run);
        expect(since(mark, inDialog('INVITE', false))).toBe(2 * N);
        expect(since(mark, inDialog('ACK', false))).toBe(3 * N);
      });

      it('the agent’s re-INVITE (hold) reaches the caller through the engine and Kamailio', async () => {
        const mark = kam().events.all.length;
        const run = await call('interop:uac-held-by-agent.xml', '2003', [{ scenario: 'interop:uas-answer-then-hold.xml', port: 'hold' }]);
        expectCalls(run);
        expect(since(mark, inDialog('INVITE', true))).toBe(N);
        expect(since(mark, inDialog('ACK', true))).toBe(N);
        expect(since(mark, inDialog('BYE', false))).toBe(N);
      });

      it('the caller’s CANCEL while the agent rings is relayed by Kamailio and cancels the agent leg', async () => {
        const run = await call('interop:uac-cancel-via-proxy.xml', '2004', [{ scenario: 'uas-ring-cancel.xml', port: 'ring' }]);
        expectCalls(run);
      });
    });
  }

  it('afterwards the node has no call, dialog or pending request left', async () => {
    await node.idle();
  });
});
