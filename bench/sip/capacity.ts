/**
 * Call capacity, RFC 7501 style: the highest session attempt rate at which
 * every call succeeds, for SIPp → Switchboard (embedded server in its worker
 * + drachtio-srf B2BUA) → SIPp agent, and in the same run SIPp calling SIPp
 * directly as the ceiling. Each trial offers `rate` calls per second for
 * `trialSeconds`; the search doubles the rate until a trial fails, then
 * bisects to 5 %, and confirms the result with one more trial.
 *
 * Run (after `npm run build`): npx tsx bench/sip/capacity.ts [--trial-seconds 10] [--hold-ms 500]
 * Writes bench/results/sip-capacity.json and .svg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLineChart } from '../lib/chart.js';
import { startEngine } from '../lib/engine-process.js';
import { freePort } from '../../test/support/sipp.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    'trial-seconds': { type: 'string', default: '10' },
    'hold-ms': { type: 'string', default: '500' },
    'start-rate': { type: 'string', default: '100' },
    'max-rate': { type: 'string', default: '6000' },
    transport: { type: 'string', default: 'udp' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const trialSeconds = Number(values['trial-seconds']);
const holdMs = Number(values['hold-ms']);
const transport = values.transport === 'tcp' ? 'tcp' : 'udp';

interface Trial {
  readonly rate: number;
  readonly attempted: number;
  readonly successful: number;
  readonly failed: number;
  readonly pass: boolean;
  readonly p50RingMs: number;
  readonly p99RingMs: number;
  /** CPU time of the engine process per call (ms), when the target is the engine. */
  readonly engineCpuMsPerCall?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

function sipp(args: string[], cwd: string): ChildProcess {
  return spawn('sipp', args, { cwd, stdio: ['ignore', 'ignore', 'ignore'] });
}

async function trial(target: string, rate: number, enginePid?: number): Promise<Trial> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const calls = Math.round(rate * trialSeconds);
  const port = await freePort();
  const cpuBefore = enginePid !== undefined ? procCpuMs(enginePid) : 0;
  const child = sipp(
    [
      target, '-sf', join(root, 'bench/sip/uac-bench.xml'), '-i', '127.0.0.1', '-p', String(port), '-t', transport === 'udp' ? 'u1' : 't1',
      '-s', '1000', '-r', String(rate), '-m', String(calls), '-d', String(holdMs), '-nostdin',
      '-timeout', `${trialSeconds + 30}s`, '-timeout_error', '-max_retrans', '5',
      '-trace_stat', '-stf', join(dir, 'stats.csv'), '-trace_rtt', '-rtt_freq', '200',
      // more open sockets and a deeper scheduler for high rates
      '-max_socket', '60000', '-watchdog_minor_threshold', '5000',
    ],
    dir,
  );
  await new Promise<void>((r) => child.once('close', () => r()));
  const cpuAfter = enginePid !== undefined ? procCpuMs(enginePid) : 0;
  const stats = readFileSync(join(dir, 'stats.csv'), 'utf8').trim().split('\n');
  const head = stats[0]!.split(';');
  const last = stats[stats.length - 1]!.split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0);
  const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  const times = (rttFile !== undefined ? readFileSync(join(dir, rttFile), 'utf8').trim().split('\n').slice(1) : [])
    .map((l) => l.split(';'))
    .filter((f) => f[2] === '1')
    .map((f) => Number(f[1]))
    .sort((a, b) => a - b);
  rmSync(dir, { recursive: true, force: true });
  const successful = col('SuccessfulCall(C)');
  const failed = col('FailedCall(C)');
  const t: Trial = {
    rate,
    attempted: calls,
    successful,
    failed,
    pass: failed === 0 && successful === calls,
    p50RingMs: percentile(times, 50),
    p99RingMs: percentile(times, 99),
    ...(enginePid !== undefined ? { engineCpuMsPerCall: (cpuAfter - cpuBefore) / Math.max(1, successful) } : {}),
  };
  console.log(`rate ${rate}/s: ${successful}/${calls} ok, ${failed} failed, INVITE→180 p50 ${t.p50RingMs} ms p99 ${t.p99RingMs} ms${t.engineCpuMsPerCall !== undefined ? `, engine CPU ${t.engineCpuMsPerCall.toFixed(3)} ms/call` : ''}`);
  // let the previous trial's dialogs and transactions drain
  await new Promise((r) => setTimeout(r, 3000));
  return t;
}

async function search(name: string, target: string, enginePid?: number): Promise<{ maxRate: number; trials: Trial[] }> {
  console.log(`\n== ${name}`);
  const trials: Trial[] = [];
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  let rate = Number(values['start-rate']);
  const max = Number(values['max-rate']);
  while (rate <= max) {
    const t = await trial(target, rate, enginePid);
    trials.push(t);
    if (!t.pass) {
      hi = rate;
      break;
    }
    lo = rate;
    rate *= 2;
  }
  if (hi === Number.POSITIVE_INFINITY) return { maxRate: lo, trials };
  while (lo > 0 ? (hi - lo) / lo > 0.05 : hi > 10) {
    const mid = Math.round((lo + hi) / 2);
    const t = await trial(target, mid, enginePid);
    trials.push(t);
    if (t.pass) lo = mid;
    else hi = mid;
  }
  // RFC 7501 §5: confirm the result with a further trial at that rate.
  if (lo > 0) {
    const confirm = await trial(target, lo, enginePid);
    trials.push(confirm);
    if (!confirm.pass) lo = trials.filter((t) => t.pass && t.rate < lo).reduce((m, t) => Math.max(m, t.rate), 0);
  }
  return { maxRate: lo, trials };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sb-capacity-'));
  const agentPort = await freePort();
  const sipPort = await freePort();
  const statusPort = await freePort();
  const agent = sipp(['-sf', join(root, 'test/sipp/uas-answer.xml'), '-i', '127.0.0.1', '-p', String(agentPort), '-t', transport === 'udp' ? 'u1' : 't1', '-nostdin', '-max_socket', '60000'], work);
  const configFile = join(work, 'bench.yaml');
  writeFileSync(
    configFile,
    [
      'node: { logLevel: warn, recordingsWorker: false, status: { port: ' + statusPort + ' } }',
      'sipServer:',
      '  listen:',
      `    - { transport: udp, host: 127.0.0.1, port: ${sipPort} }`,
      `    - { transport: tcp, host: 127.0.0.1, port: ${sipPort} }`,
      '  control: { port: 0 }',
      // The SIP path alone (bench/engine/full-call.ts measures the anchored, recorded call).
      'media: { enabled: false }',
      'queues:',
      `  - { id: bench, name: Bench, numbers: ["1000"], agents: ["sip:agent@127.0.0.1:${agentPort}${transport === 'tcp' ? ';transport=tcp' : ''}"] }`,
      '',
    ].join('\n'),
  );
  // Ready when the status endpoint says the engine is connected: a fixed sleep lost the first trial to start-up.
  const engine = await startEngine({ configFile, statusPort });
  try {
    const viaEngine = await search('SIPp → Switchboard → SIPp', `127.0.0.1:${sipPort}`, engine.pid);
    const direct = await search('SIPp → SIPp (ceiling)', `127.0.0.1:${agentPort}`);
    const result = {
      benchmark: 'sip-capacity',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      method: `RFC 7501-style search: ${trialSeconds} s trials, ${holdMs} ms call hold, ${transport.toUpperCase()}, pass = every call succeeds`,
      engine: viaEngine,
      direct,
      ratioToCeiling: direct.maxRate > 0 ? viaEngine.maxRate / direct.maxRate : null,
    };
    mkdirSync(values.out, { recursive: true });
    const base = join(values.out, `sip-capacity-${transport}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    writeLineChart(`${base}.svg`, {
      title: `Call capacity (${transport.toUpperCase()}): max all-success rate engine ${viaEngine.maxRate}/s, direct ${direct.maxRate}/s`,
      xLabel: 'offered calls per second',
      yLabel: 'INVITE → 180 p99 (ms)',
      series: [
        { name: 'via Switchboard', points: viaEngine.trials.filter((t) => Number.isFinite(t.p99RingMs)).map((t) => [t.rate, t.p99RingMs]) },
        { name: 'SIPp direct', points: direct.trials.filter((t) => Number.isFinite(t.p99RingMs)).map((t) => [t.rate, t.p99RingMs]) },
      ],
      marks: [{ label: '50 ms goal', y: 50 }],
    });
    console.log(`\nmax all-success rate: engine ${viaEngine.maxRate}/s, direct ${direct.maxRate}/s; written ${base}.json/.svg`);
  } finally {
    await engine.stop();
    agent.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
