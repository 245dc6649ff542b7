/**
 * A SIPp caller against SIPp agents, for interop tests: the agents are
 * started first and the caller only once the kernel shows their sockets
 * bound; every SIPp process is killed when the run is over, pass or fail.
 */
import { relative, resolve } from 'node:path';
import { freePort, runSipp, SCENARIOS, type SippResult, type SippRun } from '../sipp.js';
import { waitForBound } from './port-ready.js';

/** Scenarios written for the interop tests (test/interop/sipp). */
const INTEROP_SCENARIOS = resolve(import.meta.dirname, '../../interop/sipp');

/**
 * A scenario name: `interop:<file>` is one of ours in test/interop/sipp,
 * anything else one in test/sipp (runSipp takes paths relative to test/sipp).
 */
function scenarioPath(name: string): string {
  return name.startsWith('interop:') ? relative(SCENARIOS, resolve(INTEROP_SCENARIOS, name.slice('interop:'.length))) : name;
}

export interface AgentSpec {
  readonly scenario: string;
  readonly port: number;
  readonly calls: number;
}

export interface CallRun {
  readonly caller: SippResult;
  readonly agents: SippResult[];
}

export interface CallOptions {
  readonly caller: string;
  readonly remote: string;
  readonly transport: 'udp' | 'tcp';
  readonly service: string;
  readonly calls: number;
  readonly agents: readonly AgentSpec[];
  readonly agentTransport?: 'udp' | 'tcp';
  readonly pauseMs?: number;
  readonly timeoutMs?: number;
}

export async function sippCall(o: CallOptions): Promise<CallRun> {
  const agentTransport = o.agentTransport ?? o.transport;
  const runs: SippRun[] = [];
  try {
    for (const a of o.agents) {
      runs.push(runSipp({ scenario: scenarioPath(a.scenario), port: a.port, transport: agentTransport, calls: a.calls, timeoutSec: 20 }));
    }
    await Promise.all(o.agents.map((a) => waitForBound(a.port, agentTransport, `SIPp agent ${a.scenario}`)));
    const caller = runSipp({
      scenario: scenarioPath(o.caller),
      remote: o.remote,
      port: await freePort(),
      transport: o.transport,
      calls: o.calls,
      rate: 10,
      service: o.service,
      ...(o.pauseMs !== undefined ? { pauseMs: o.pauseMs } : {}),
      timeoutSec: 20,
    });
    runs.push(caller);
    const callerResult = await caller.done;
    const timeoutMs = o.timeoutMs ?? 20_000;
    let timer: NodeJS.Timeout | undefined;
    const agents = await Promise.race([
      Promise.all(runs.slice(0, o.agents.length).map((r) => r.done)),
      new Promise<SippResult[]>((_, rej) => {
        timer = setTimeout(() => rej(new Error(`SIPp agents did not finish within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    return { caller: callerResult, agents };
  } finally {
    for (const r of runs) r.kill();
  }
}
