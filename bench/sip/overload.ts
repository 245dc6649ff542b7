/**
 * Overload: SIPp at about twice the capacity measured in the same run, for a
 * bounded time. What must hold: calls beyond capacity get 503 with
 * Retry-After (the scenario checks the header), none time out, calls admitted
 * complete, the engine accepts calls again within seconds after the burst,
 * and nothing is left behind (live calls, dialogs, transactions back to 0).
 *
 * 1. capacity: 5 s trials (500 ms calls) from 200 calls/s, doubling until a
 *    trial has a refusal or a failure, then bisecting; pass = every call completes;
 * 2. the burst: `--factor` (2) × capacity for `--burst-seconds` (10), the
 *    status endpoint sampled every 500 ms until everything has drained;
 * 3. recovery: a trial at half the capacity right after the overload state ends.
 *
 * Run (after `npm run build`): npx tsx bench/sip/overload.ts [--burst-seconds 10] [--factor 2]
 * Writes bench/results/sip-overload.json, sip-overload-rates.svg, sip-overload-state.svg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLineChart } from '../lib/chart.js';
import { freePort } from '../../test/support/sipp.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    'burst-seconds': { type: 'string', default: '10' },
    factor: { type: 'string', default: '2' },
    'trial-seconds': { type: 'string', default: '5' },
    'hold-ms': { type: 'string', default: '500' },
    'max-rate': { type: 'string', default: '3200' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const burstSeconds = Number(values['burst-seconds']);
const factor = Number(values.factor);
const trialSeconds = Number(values['trial-seconds']);
const holdMs = Number(values['hold-ms']);

interface Status {
  engine: { connected: boolean; liveCalls: number; callsTotal: number };
  sipServer: {
    appConnections: number;
    dialogs: number;
    serverTransactions: number;
    clientTransactions: number;
    timers: number;
    pendingInvites: number;
    overloaded: number;
    overload: { overloaded: boolean; serverLagMs: number; appLagMs: number; cpuPercent: number; transitions: number };
  };
  process: { rssBytes: number };
}

interface Sample {
  readonly t: number;
  readonly admittedTotal: number;
  readonly refusedTotal: number;
  readonly overloaded: boolean;
  readonly serverLagMs: number;
  readonly appLagMs: number;
  readonly cpuPercent: number;
  readonly liveCalls: number;
  readonly dialogs: number;
  readonly transactions: number;
  readonly pendingInvites: number;
  readonly rssMb: number;
}

interface SippOutcome {
  readonly attempted: number;
  readonly successful: number;
  readonly failed: number;
  /** SIPp's failure counters that are not zero (FailedMaxUDPRetrans: no answer at all; FailedUnexpectedMessage: e.g. a 480; ...). */
  readonly failures: Record<string, number>;
  /** Offered calls per second, from SIPp's periodic statistics: [seconds since start, calls]. */
  readonly offered: [number, number][];
}

let statusPort = 0;

async function status(): Promise<Status> {
  const r = await fetch(`http://127.0.0.1:${statusPort}/status`);
  return (await r.json()) as Status;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the status endpoint until `ok` holds (bounded). */
async function until(ok: (s: Status) => boolean, timeoutMs: number, what: string): Promise<Status> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const s = await status();
      if (ok(s)) return s;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

const drained = (s: Status): boolean =>
  s.engine.liveCalls === 0 && s.sipServer.dialogs === 0 && s.sipServer.serverTransactions === 0 && s.sipServer.clientTransactions === 0 && s.sipServer.pendingInvites === 0;
const idle = (s: Status): boolean => s.engine.liveCalls === 0 && s.sipServer.pendingInvites === 0 && !s.sipServer.overload.overloaded;

function runSipp(target: string, rate: number, calls: number, dir: string): Promise<SippOutcome> {
  return freePort().then(
    (port) =>
      new Promise<SippOutcome>((resolveRun, rejectRun) => {
        const child: ChildProcess = spawn(
          'sipp',
          [
            target, '-sf', join(root, 'bench/sip/uac-overload.xml'), '-i', '127.0.0.1', '-p', String(port), '-t', 'u1',
            '-s', '1000', '-r', String(rate), '-m', String(calls), '-d', String(holdMs), '-nostdin',
            '-timeout', `${Math.ceil(calls / rate) + 60}s`, '-timeout_error', '-max_retrans', '5',
            '-trace_stat', '-stf', join(dir, 'stats.csv'), '-fd', '1',
            '-max_socket', '60000', '-watchdog_minor_threshold', '5000',
          ],
          { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] },
        );
        child.once('close', (code) => {
          let text = '';
          try {
            text = readFileSync(join(dir, 'stats.csv'), 'utf8');
          } catch {
            rejectRun(new Error(`SIPp wrote no statistics (exit ${code})`));
            return;
          }
          const lines = text.trim().split('\n');
          const head = lines[0]!.split(';');
          const rows = lines.slice(1).map((l) => l.split(';'));
          const col = (row: string[], name: string): number => Number(row[head.indexOf(name)] ?? 0);
          const elapsed = (row: string[]): number => {
            const [h, m, s] = (row[head.indexOf('ElapsedTime(C)')] ?? '0:0:0').split(':').map(Number);
            return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
          };
          const last = rows[rows.length - 1]!;
          resolveRun({
            attempted: col(last, 'OutgoingCall(C)'),
            successful: col(last, 'SuccessfulCall(C)'),
            failed: col(last, 'FailedCall(C)'),
            failures: Object.fromEntries(
              head.filter((h) => /^Failed.+\(C\)$/.test(h) && h !== 'FailedCall(C)').map((h) => [h.slice(0, -3), col(last, h)] as const).filter(([, n]) => n > 0),
            ),
            offered: rows.map((r) => [elapsed(r), col(r, 'OutgoingCall(P)')]),
          });
        });
      }),
  );
}

interface Trial {
  readonly rate: number;
  readonly calls: number;
  readonly completed: number;
  readonly refused: number;
  readonly failed: number;
  readonly pass: boolean;
}

async function trial(target: string, rate: number, seconds: number): Promise<Trial> {
  await until(idle, 120_000, 'the engine to be idle before a trial');
  const dir = mkdtempSync(join(tmpdir(), 'sb-overload-trial-'));
  const before = await status();
  const calls = Math.round(rate * seconds);
  const r = await runSipp(target, rate, calls, dir);
  const after = await status();
  rmSync(dir, { recursive: true, force: true });
  const refused = after.sipServer.overloaded - before.sipServer.overloaded;
  const t: Trial = { rate, calls, completed: r.successful - refused, refused, failed: r.failed, pass: r.successful - refused === calls && r.failed === 0 };
  console.log(`trial ${rate}/s: ${t.completed}/${calls} completed, ${refused} refused (503), ${t.failed} failed`);
  return t;
}

async function capacity(target: string): Promise<{ rate: number; trials: Trial[] }> {
  const trials: Trial[] = [];
  let lo = 0;
  let hi = Number.POSITIVE_INFINITY;
  for (let rate = 200; rate <= Number(values['max-rate']); rate *= 2) {
    const t = await trial(target, rate, trialSeconds);
    trials.push(t);
    if (!t.pass) {
      hi = rate;
      break;
    }
    lo = rate;
  }
  // Failing at the first rate: halve until a rate passes.
  while (lo === 0 && hi > 25) {
    const rate = Math.round(hi / 2);
    const t = await trial(target, rate, trialSeconds);
    trials.push(t);
    if (t.pass) lo = rate;
    else hi = rate;
  }
  // Bisect to about 10 %.
  while (Number.isFinite(hi) && lo > 0 && (hi - lo) / lo > 0.1) {
    const mid = Math.round((lo + hi) / 2);
    const t = await trial(target, mid, trialSeconds);
    trials.push(t);
    if (t.pass) lo = mid;
    else hi = mid;
  }
  return { rate: lo, trials };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sb-overload-'));
  const agentPort = await freePort();
  const sipPort = await freePort();
  statusPort = await freePort();
  const agent = spawn('sipp', ['-sf', join(root, 'test/sipp/uas-answer.xml'), '-i', '127.0.0.1', '-p', String(agentPort), '-t', 'u1', '-nostdin', '-max_socket', '60000'], {
    cwd: work,
    stdio: 'ignore',
  });
  const configFile = join(work, 'overload.yaml');
  writeFileSync(
    configFile,
    [
      `node: { logLevel: info, recordingsWorker: false, status: { port: ${statusPort} } }`,
      'sipServer:',
      `  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]`,
      '  control: { port: 0 }',
      `queues: [{ id: bench, name: Bench, numbers: ["1000"], agents: ["sip:agent@127.0.0.1:${agentPort}"] }]`,
      '',
    ].join('\n'),
  );
  const logFile = join(work, 'engine.log');
  const engine = spawn('sh', ['-c', `exec node ${join(root, 'dist/src/cli/main.js')} start --config ${configFile} > ${logFile} 2>&1`], { stdio: 'ignore' });
  const target = `127.0.0.1:${sipPort}`;
  try {
    await until((s) => s.engine.connected && s.sipServer.appConnections > 0, 60_000, 'the engine to be ready');
    // Warm-up (not measured): the first calls compile the code paths of both threads.
    console.log('== warm-up');
    await trial(target, 50, 4);
    console.log('== capacity (every call completes, no refusal)');
    const cap = await capacity(target);
    if (cap.rate === 0) throw new Error('no rate passed: the capacity could not be measured');
    const rate = Math.round(factor * cap.rate);
    console.log(`== burst: ${rate} calls/s (${factor} × ${cap.rate}) for ${burstSeconds} s`);
    await until(idle, 120_000, 'the engine to be idle before the burst');
    const before = await status();
    const samples: Sample[] = [];
    const t0 = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const s = await status();
        samples.push({
          t: (Date.now() - t0) / 1000,
          admittedTotal: s.engine.callsTotal - before.engine.callsTotal,
          refusedTotal: s.sipServer.overloaded - before.sipServer.overloaded,
          overloaded: s.sipServer.overload.overloaded,
          serverLagMs: s.sipServer.overload.serverLagMs,
          appLagMs: s.sipServer.overload.appLagMs,
          cpuPercent: s.sipServer.overload.cpuPercent,
          liveCalls: s.engine.liveCalls,
          dialogs: s.sipServer.dialogs,
          transactions: s.sipServer.serverTransactions + s.sipServer.clientTransactions,
          pendingInvites: s.sipServer.pendingInvites,
          rssMb: Math.round(s.process.rssBytes / 1048576),
        });
        await sleep(500);
      }
    })();
    const dir = mkdtempSync(join(tmpdir(), 'sb-overload-burst-'));
    const burst = await runSipp(target, rate, rate * burstSeconds, dir);
    rmSync(dir, { recursive: true, force: true });
    const burstEnd = burstSeconds;
    // Recovery: the overload state ended and nothing waits for the app any more.
    const recovered = await until((s) => !s.sipServer.overload.overloaded && s.sipServer.pendingInvites === 0, 120_000, 'recovery');
    const recoveredAt = (Date.now() - t0) / 1000;
    const refusedBurst = recovered.sipServer.overloaded - before.sipServer.overloaded;
    console.log(`burst: ${burst.attempted} offered, ${burst.successful - refusedBurst} completed, ${refusedBurst} refused, ${burst.failed} failed ${JSON.stringify(burst.failures)}; accepting again ${(recoveredAt - burstEnd).toFixed(1)} s after the burst`);
    const after = await trial(target, Math.max(50, Math.round(cap.rate / 2)), trialSeconds);
    // Nothing left behind once the RFC 3261 timers (64·T1) have run out.
    const clean = await until(drained, 120_000, 'every count back to 0');
    const cleanAt = (Date.now() - t0) / 1000;
    sampling = false;
    await sampler;
    const log = readFileSync(logFile, 'utf8');
    const transitions = log.split('\n').filter((l) => /"msg":"overload/.test(l)).length;
    const result = {
      benchmark: 'sip-overload',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      method: `capacity: ${trialSeconds} s trials of ${holdMs} ms calls (UDP), pass = every call completes with no 503; burst: ${factor} × capacity for ${burstSeconds} s; then a ${trialSeconds} s trial at half the capacity`,
      capacity: cap,
      burst: {
        rate,
        seconds: burstSeconds,
        offered: burst.attempted,
        completed: burst.successful - refusedBurst,
        refusedWith503: refusedBurst,
        failed: burst.failed,
        failures: burst.failures,
        acceptingAgainSecondsAfterBurst: Math.round((recoveredAt - burstEnd) * 10) / 10,
        overloadLogLines: transitions,
        peakRssMb: Math.max(...samples.map((s) => s.rssMb)),
      },
      afterBurst: after,
      leftBehind: {
        secondsAfterBurst: Math.round((cleanAt - burstEnd) * 10) / 10,
        liveCalls: clean.engine.liveCalls,
        dialogs: clean.sipServer.dialogs,
        transactions: clean.sipServer.serverTransactions + clean.sipServer.clientTransactions,
        timers: clean.sipServer.timers,
      },
      samples,
    };
    mkdirSync(values.out, { recursive: true });
    const base = join(values.out, 'sip-overload');
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
    const perSecond = (key: 'admittedTotal' | 'refusedTotal'): [number, number][] =>
      samples.slice(1).map((s, i) => [s.t, Math.max(0, (s[key] - samples[i]![key]) / Math.max(0.1, s.t - samples[i]!.t))]);
    writeLineChart(`${base}-rates.svg`, {
      title: `Overload: ${rate}/s (${factor} × capacity ${cap.rate}/s) for ${burstSeconds} s — ${result.burst.completed} completed, ${refusedBurst} refused (503), ${burst.failed} failed`,
      xLabel: 'seconds',
      yLabel: 'calls per second',
      series: [
        { name: 'offered (SIPp)', points: burst.offered },
        { name: 'admitted (engine)', points: perSecond('admittedTotal') },
        { name: 'refused (503)', points: perSecond('refusedTotal') },
      ],
      marks: [{ label: 'capacity', y: cap.rate }],
    });
    writeLineChart(`${base}-state.svg`, {
      title: `After the burst: accepting again after ${result.burst.acceptingAgainSecondsAfterBurst} s, all counts 0 after ${result.leftBehind.secondsAfterBurst} s`,
      xLabel: 'seconds',
      yLabel: 'count',
      series: [
        { name: 'live calls', points: samples.map((s) => [s.t, s.liveCalls]) },
        { name: 'dialogs', points: samples.map((s) => [s.t, s.dialogs]) },
        { name: 'INVITEs waiting', points: samples.map((s) => [s.t, s.pendingInvites]) },
        { name: 'lag ms (max thread)', points: samples.map((s) => [s.t, Math.max(s.serverLagMs, s.appLagMs)]) },
      ],
    });
    console.log(`written ${base}.json and charts`);
  } finally {
    engine.kill('SIGTERM');
    agent.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
