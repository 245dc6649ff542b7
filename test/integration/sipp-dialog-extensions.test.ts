/**
 * Session timers (RFC 4028) and reliable provisional responses (RFC 3262)
 * through the whole B2BUA (caller → embedded server → engine → agent), SIPp
 * on both sides, over UDP and TCP: refresh by either side, a refresher that
 * goes away (both legs get BYE), 422 for a too-small Session-Expires, and a
 * PRACK flow with early media. Intervals are seconds long (minSeconds 2) so
 * the calls last a few seconds; each scenario checks every header it relies
 * on, and SIPp fails a call on anything unexpected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { describeRun, freePort, runSipp, type SippResult } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

const N = 2;

for (const transport of ['udp', 'tcp'] as const) {
  describe(`session timers and 100rel through the engine over ${transport.toUpperCase()}`, () => {
    let sb: RunningSwitchboard;
    let sipPort: number;
    const agents: Record<string, number> = {};
    const uri = (name: string): string => `sip:${name}@127.0.0.1:${agents[name]}${transport === 'tcp' ? ';transport=tcp' : ''}`;

    beforeAll(async () => {
      for (const name of ['refresh', 'server', 'gone', 'small', 'rel']) agents[name] = await freePort();
      const config = loadConfigObject({
        node: { logLevel: 'silent', status: { enabled: false } },
        sipServer: {
          thread: 'inline',
          listen: [
            { transport: 'udp', host: '127.0.0.1', port: 0 },
            { transport: 'tcp', host: '127.0.0.1', port: 0 },
          ],
          control: { port: 0 },
          // RFC 3261's T1: a refresh gives up after 64·T1 = 32 s, which no stall of a busy machine reaches
          // (with T1 = 25 ms a 1.6 s stall of SIPp or the test process once timed out an UPDATE, and
          // RFC 4028 rightly ended the call).
          timers: { t1Ms: 500 },
          sessionTimers: { enabled: true, defaultSeconds: 6, minSeconds: 2 },
          // Not what this tests: overload control's 503s on a busy machine would only make it flaky (tested in test/sip-server/conformance/overload.test.ts).
          overload: { enabled: false },
        },
        engine: { ringTimeoutSeconds: 30 },
        queues: [
          { id: 'timer-refresh', name: 'Peers refresh', numbers: ['1100'], agents: [uri('refresh')] },
          { id: 'timer-server', name: 'Server refreshes', numbers: ['1101'], agents: [uri('server')] },
          { id: 'timer-gone', name: 'Refresher gone', numbers: ['1102'], agents: [uri('gone')] },
          { id: 'timer-small', name: 'Too small', numbers: ['1103'], agents: [uri('small')] },
          { id: 'rel', name: '100rel', numbers: ['1104'], agents: [uri('rel')] },
        ],
      });
      sb = await startSwitchboard(config, silentLogger(), { media: false, recordingsWorker: false });
      sipPort = sb.sipListeners.find((l) => l.transport === transport)!.port;
    });

    afterAll(async () => {
      await sb.stop();
    });

    async function call(uac: string, service: string, uas: { scenario: string; agent: string }): Promise<{ caller: SippResult; agent: SippResult }> {
      const agentRun = runSipp({ scenario: uas.scenario, port: agents[uas.agent]!, transport, calls: N, timeoutSec: 15 });
      await waitForBound(agents[uas.agent]!, transport, `SIPp agent ${uas.agent}`, 60_000);
      const caller = runSipp({ scenario: uac, remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport, calls: N, rate: 10, service, timeoutSec: 15 });
      const callerResult = await caller.done;
      const agentResult = await Promise.race([
        agentRun.done,
        new Promise<SippResult>((_, rej) => setTimeout(() => rej(new Error('agent did not finish')), 20_000)),
      ]).finally(() => agentRun.kill());
      return { caller: callerResult, agent: agentResult };
    }

    function expectAll(r: SippResult): void {
      expect(r.stats.successful, describeRun(r)).toBe(N);
      expect(r.stats.failed, describeRun(r)).toBe(0);
      expect(r.code, describeRun(r)).toBe(0);
    }

    it('both peers refresh (caller and agent send UPDATEs): the calls outlast the interval and end with the caller’s BYE', async () => {
      const r = await call('uac-timer-refresh.xml', '1100', { scenario: 'uas-timer-refresh.xml', agent: 'refresh' });
      expectAll(r.caller);
      expectAll(r.agent);
    });

    it('the server refreshes both legs: re-INVITE with SDP to a caller without UPDATE, UPDATE to an agent that allows it', async () => {
      const r = await call('uac-timer-server-refreshes.xml', '1101', { scenario: 'uas-timer-server-refreshes.xml', agent: 'server' });
      expectAll(r.caller);
      expectAll(r.agent);
    });

    it('the caller was to refresh and does not: the server BYEs the caller and the engine hangs up the agent', async () => {
      const before = sb.engine.status().callsConnected;
      const r = await call('uac-timer-no-refresh.xml', '1102', { scenario: 'uas-answer.xml', agent: 'gone' });
      expectAll(r.caller);
      expectAll(r.agent);
      expect(sb.engine.status().callsConnected - before).toBe(N);
    });

    it('a Session-Expires below the minimum gets 422 with Min-SE; the retry with a larger one connects', async () => {
      const r = await call('uac-timer-too-small.xml', '1103', { scenario: 'uas-answer.xml', agent: 'small' });
      expectAll(r.caller);
      expectAll(r.agent);
    });

    it('100rel: the agent’s reliable 183 with early media is PRACKed by the engine’s leg and relayed reliably to the caller, who PRACKs it', async () => {
      const r = await call('uac-100rel.xml', '1104', { scenario: 'uas-100rel.xml', agent: 'rel' });
      expectAll(r.caller);
      expectAll(r.agent);
    });

    it('afterwards no call, dialog, pending request or session timer is left', async () => {
      await eventually(async () => {
        const s = (await sb.status()) as { engine: { liveCalls: number }; sipServer: { dialogs: number; pendingAppRequests: number; pendingInvites: number } };
        return s.engine.liveCalls === 0 && s.sipServer.dialogs === 0 && s.sipServer.pendingAppRequests === 0 && s.sipServer.pendingInvites === 0;
      }, 5000, 'engine and server to be idle');
    });
  });
}
