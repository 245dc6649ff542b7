/**
 * Calls through the whole engine with SIPp on both sides (issue 2, "What must
 * be shown" 3): our scenarios in test/sipp/, run over UDP and over TCP, with
 * exact expected counts on every SIPp and in the engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { describeRun, freePort, runSipp, type SippResult } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

const N = 5;

for (const transport of ['udp', 'tcp'] as const) {
  describe(`SIPp through the engine over ${transport.toUpperCase()}`, () => {
    let sb: RunningSwitchboard;
    let sipPort: number;
    const agents: Record<string, number> = {};
    const uri = (name: string): string => `sip:${name}@127.0.0.1:${agents[name]}${transport === 'tcp' ? ';transport=tcp' : ''}`;

    beforeAll(async () => {
      for (const name of ['answer', 'hangup', 'ring', 'busy', 'answer2', 'ring2', 'answer3', 'reinvite']) agents[name] = await freePort();
      const config = loadConfigObject({
        node: { logLevel: 'silent', status: { enabled: false } },
        sipServer: {
          thread: 'inline',
          listen: [
            { transport: 'udp', host: '127.0.0.1', port: 0 },
            { transport: 'tcp', host: '127.0.0.1', port: 0 },
          ],
          control: { port: 0 },
          // Not what this tests: overload control's 503s on a busy machine would only make it flaky (tested in test/sip-server/conformance/overload.test.ts).
          overload: { enabled: false },
        },
        engine: { ringTimeoutSeconds: 30 },
        queues: [
          { id: 'basic', name: 'Basic', numbers: ['1000'], agents: [uri('answer')] },
          { id: 'agent-hangs-up', name: 'Agent hangs up', numbers: ['1001'], agents: [uri('hangup')] },
          { id: 'cancel', name: 'Cancel', numbers: ['1002'], agents: [uri('ring')] },
          { id: 'busy-then-answer', name: 'Busy then answer', numbers: ['1003'], agents: [uri('busy'), uri('answer2')] },
          { id: 'timeout-then-answer', name: 'Timeout then answer', numbers: ['1004'], ringTimeoutSeconds: 0.5, agents: [uri('ring2'), uri('answer3')] },
          { id: 'reinvite', name: 'Hold and resume', numbers: ['1005'], agents: [uri('reinvite')] },
        ],
      });
      // The call flow does not use media yet: no rtpengine, no recordings worker.
      sb = await startSwitchboard(config, silentLogger(), { media: false, recordingsWorker: false });
      sipPort = sb.sipListeners.find((l) => l.transport === transport)!.port;
    });

    afterAll(async () => {
      await sb.stop();
    });

    /** Runs the agents (each expecting `calls` calls) and the caller; returns every result. */
    async function call(
      uac: string,
      service: string,
      uas: { scenario: string; agent: string; calls?: number }[],
      calls = N,
    ): Promise<{ caller: SippResult; agents: SippResult[] }> {
      const agentRuns = uas.map((a) => runSipp({ scenario: a.scenario, port: agents[a.agent]!, transport, calls: a.calls ?? calls }));
      for (const a of uas) await waitForBound(agents[a.agent]!, transport, `SIPp agent ${a.agent}`, 60_000);
      const caller = runSipp({ scenario: uac, remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport, calls, rate: 10, service });
      const callerResult = await caller.done;
      const agentResults = await Promise.race([
        Promise.all(agentRuns.map((r) => r.done)),
        new Promise<SippResult[]>((_, rej) => setTimeout(() => rej(new Error('agents did not finish')), 20_000)),
      ]).finally(() => agentRuns.forEach((r) => r.kill()));
      return { caller: callerResult, agents: agentResults };
    }

    function expectAll(r: SippResult, calls = N): void {
      expect(r.stats.successful, describeRun(r)).toBe(calls);
      expect(r.stats.failed, describeRun(r)).toBe(0);
      expect(r.code, describeRun(r)).toBe(0);
    }

    it('basic call, caller hangs up', async () => {
      const before = sb.engine.status().callsConnected;
      const r = await call('uac-basic.xml', '1000', [{ scenario: 'uas-answer.xml', agent: 'answer' }]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
      expect(sb.engine.status().callsConnected - before).toBe(N);
    });

    it('agent hangs up', async () => {
      const r = await call('uac-wait-bye.xml', '1001', [{ scenario: 'uas-answer-hangup.xml', agent: 'hangup' }]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
    });

    it('caller CANCEL while the agent rings', async () => {
      const r = await call('uac-cancel.xml', '1002', [{ scenario: 'uas-ring-cancel.xml', agent: 'ring' }]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
    });

    it('first agent busy, second answers', async () => {
      const r = await call('uac-basic.xml', '1003', [
        { scenario: 'uas-busy.xml', agent: 'busy' },
        { scenario: 'uas-answer.xml', agent: 'answer2' },
      ]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
      expectAll(r.agents[1]!);
    });

    it('first agent does not answer within the ring timeout, the next one does', async () => {
      const r = await call('uac-basic.xml', '1004', [
        { scenario: 'uas-ring-cancel.xml', agent: 'ring2' },
        { scenario: 'uas-answer.xml', agent: 'answer3' },
      ]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
      expectAll(r.agents[1]!);
    });

    it('re-INVITE (hold, then resume) passes through to the agent', async () => {
      const r = await call('uac-reinvite.xml', '1005', [{ scenario: 'uas-answer-reinvite.xml', agent: 'reinvite' }]);
      expectAll(r.caller);
      expectAll(r.agents[0]!);
    });

    it('OPTIONS is answered 200', async () => {
      const caller = runSipp({ scenario: 'uac-options.xml', remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport, calls: N, rate: 20 });
      expectAll(await caller.done);
    });

    it('an unknown number gets 404', async () => {
      const before = sb.engine.status().callsRejected;
      const caller = runSipp({ scenario: 'uac-unknown-number.xml', remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport, calls: N, rate: 20, service: '9999' });
      expectAll(await caller.done);
      expect(sb.engine.status().callsRejected - before).toBe(N);
    });

    it('afterwards no call, dialog or pending request is left', async () => {
      await eventually(async () => {
        const s = (await sb.status()) as { engine: { liveCalls: number }; sipServer: { dialogs: number; pendingAppRequests: number; pendingInvites: number } };
        return s.engine.liveCalls === 0 && s.sipServer.dialogs === 0 && s.sipServer.pendingAppRequests === 0 && s.sipServer.pendingInvites === 0;
      }, 5000, 'engine and server to be idle');
    });
  });
}
