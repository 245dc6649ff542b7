/**
 * No leaks under load (issue 2, "What must be shown" 6, in a short form; the
 * 100,000-call soak is bench/sip/soak.ts): SIPp calls through the engine with
 * the SIP server in its worker thread; afterwards every transaction, dialog,
 * pending request and timer count is back to zero, and the live heap of both
 * threads (after a full GC) is back near where it was after warm-up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ServerStatus } from '../../src/sip-server/core/stats.js';
import { eventually } from '../support/harness.js';
import { describeRun, freePort, runSipp, type SippRun } from '../support/sipp.js';
import { waitForBound } from '../support/interop/port-ready.js';

interface Status {
  engine: { liveCalls: number; callsConnected: number };
  sipServer: ServerStatus;
  process: { heapUsedBytes: number };
}

const T1 = 100; // 64·T1 = 6.4 s: transactions drain quickly

describe('leak check under SIPp load (worker thread)', () => {
  let sb: RunningSwitchboard | undefined;
  let agent: SippRun | undefined;
  let sipPort: number;

  beforeAll(async () => {
    const agentPort = await freePort();
    agent = runSipp({ scenario: 'uas-answer.xml', port: agentPort, transport: 'udp', calls: 1_000_000, timeoutSec: 300 });
    await waitForBound(agentPort, 'udp', 'SIPp agent', 60_000);
    const config = loadConfigObject({
      node: { logLevel: 'silent', status: { enabled: false } },
      sipServer: {
        thread: 'worker',
        listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }],
        control: { port: 0 },
        timers: { t1Ms: T1, t2Ms: 800, t4Ms: 1000 },
        // This test counts what every call leaves behind, so every call must be taken: on a busy
        // two-core machine 400 calls/s can trip overload control (tested in conformance/overload.test.ts).
        overload: { enabled: false },
      },
      queues: [{ id: 'leak', name: 'Leak', numbers: ['1000'], agents: [`sip:agent@127.0.0.1:${agentPort}`] }],
    });
    // The call flow does not use media yet: no rtpengine, no recordings worker.
    sb = await startSwitchboard(config, silentLogger(), { media: false, recordingsWorker: false });
    sipPort = sb.sipListeners[0]!.port;
  });

  afterAll(async () => {
    agent?.kill();
    await sb?.stop(); // unset when the set-up itself failed: its own error is the one to read
  });

  async function calls(n: number, rate: number): Promise<void> {
    const r = await runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport: 'udp', calls: n, rate, pauseMs: 200, timeoutSec: 60 }).done;
    expect(r.stats.successful, describeRun(r)).toBe(n);
    expect(r.stats.failed, describeRun(r)).toBe(0);
  }

  async function idle(): Promise<Status> {
    let s: Status | undefined;
    await eventually(async () => {
      s = (await sb!.status()) as unknown as Status;
      const v = s.sipServer;
      return s.engine.liveCalls === 0 && v.dialogs === 0 && v.serverTransactions === 0 && v.clientTransactions === 0 && v.pendingAppRequests === 0 && v.timers === 0 && v.pendingInvites === 0;
    }, 64 * T1 + 10_000, 'every count back to zero');
    return (await sb!.status(true)) as unknown as Status;
  }

  it('counts return to zero and live heap returns near its start after 2,000 calls', async () => {
    await calls(300, 300); // warm-up: JIT, caches, pools
    const base = await idle();
    await calls(2000, 400);
    const after = await idle();
    expect(after.engine.callsConnected).toBe(2300);
    const workerGrowth = after.sipServer.heapUsedBytes - base.sipServer.heapUsedBytes;
    const mainGrowth = after.process.heapUsedBytes - base.process.heapUsedBytes;
    // A leak of even one small object per call (≥ 1 KB) would show as ≥ 2 MB here.
    expect(workerGrowth, `SIP server heap grew by ${workerGrowth} bytes`).toBeLessThan(2 * 1024 * 1024);
    expect(mainGrowth, `engine heap grew by ${mainGrowth} bytes`).toBeLessThan(2 * 1024 * 1024);
  }, 120_000);
});
