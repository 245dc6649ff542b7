/**
 * Soak: 100,000 calls (by default) through the engine at a steady rate, with
 * the status endpoint sampled throughout. Afterwards every count must be back
 * to zero and the live heap (after a full GC in both threads) back near the
 * level measured after a warm-up, in the same run.
 *
 * Run (after `npm run build`): npx tsx bench/sip/soak.ts [--calls 100000] [--rate 500]
 * Writes bench/results/sip-soak.json, sip-soak-counts.svg and sip-soak-memory.svg
 * (`--replot FILE.json` redraws the charts of an earlier run).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeLineChart } from '../lib/chart.js';
import { freePort, runSipp } from '../../test/support/sipp.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '500' },
    out: { type: 'string', default: join(root, 'bench/results') },
    /** Redraw the charts of an earlier result JSON without running anything. */
    replot: { type: 'string' },
  },
});
const calls = Number(values.calls);
const rate = Number(values.rate);

interface Sample {
  readonly t: number;
  readonly dialogs: number;
  readonly serverTransactions: number;
  readonly clientTransactions: number;
  readonly timers: number;
  readonly liveCalls: number;
  readonly workerHeapMb: number;
  readonly mainHeapMb: number;
  readonly rssMb: number;
}

interface Status {
  engine: { liveCalls: number; callsConnected: number };
  sipServer: { dialogs: number; serverTransactions: number; clientTransactions: number; timers: number; pendingAppRequests: number; heapUsedBytes: number };
  process: { heapUsedBytes: number; rssBytes: number };
}

async function status(port: number, gc = false): Promise<Status> {
  const r = await fetch(`http://127.0.0.1:${port}/status${gc ? '?gc=1' : ''}`);
  return (await r.json()) as Status;
}

const mb = (b: number): number => Math.round((b / 1048576) * 10) / 10;

interface SoakResult {
  readonly calls: number;
  readonly rate: number;
  readonly liveHeapMb: { sipServer: { baseline: number; after: number }; engine: { baseline: number; after: number } };
  readonly samples: readonly Sample[];
}

/** Two charts: counts (dialogs, transactions) and memory (heaps, RSS), whose scales differ a lot. */
function plot(base: string, r: SoakResult): void {
  writeLineChart(`${base}-counts.svg`, {
    title: `Soak: ${r.calls} calls at ${r.rate}/s — dialogs and transactions`,
    xLabel: 'seconds',
    yLabel: 'count',
    series: [
      { name: 'dialogs', points: r.samples.map((s) => [s.t, s.dialogs]) },
      { name: 'server transactions', points: r.samples.map((s) => [s.t, s.serverTransactions]) },
      { name: 'client transactions', points: r.samples.map((s) => [s.t, s.clientTransactions]) },
      { name: 'live calls', points: r.samples.map((s) => [s.t, s.liveCalls]) },
    ],
  });
  writeLineChart(`${base}-memory.svg`, {
    title: `Soak memory: live heap after GC ${r.liveHeapMb.sipServer.baseline}→${r.liveHeapMb.sipServer.after} MB (server), ${r.liveHeapMb.engine.baseline}→${r.liveHeapMb.engine.after} MB (engine)`,
    xLabel: 'seconds',
    yLabel: 'MB',
    series: [
      { name: 'SIP server heap', points: r.samples.map((s) => [s.t, s.workerHeapMb]) },
      { name: 'engine heap', points: r.samples.map((s) => [s.t, s.mainHeapMb]) },
      { name: 'process RSS', points: r.samples.map((s) => [s.t, s.rssMb]) },
    ],
  });
}

async function main(): Promise<void> {
  if (values.replot !== undefined) {
    plot(values.replot.replace(/\.json$/, ''), JSON.parse(readFileSync(values.replot, 'utf8')) as SoakResult);
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'sb-soak-'));
  const agentPort = await freePort();
  const sipPort = await freePort();
  const statusPort = await freePort();
  const agent = runSipp({ scenario: 'uas-answer.xml', port: agentPort, transport: 'udp', calls: calls * 10, timeoutSec: 36000 });
  const configFile = join(work, 'soak.yaml');
  writeFileSync(
    configFile,
    [
      `node: { logLevel: warn, recordingsWorker: false, status: { port: ${statusPort} } }`,
      'sipServer:',
      `  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]`,
      '  control: { port: 0 }',
      `queues: [{ id: soak, name: Soak, numbers: ["1000"], agents: ["sip:agent@127.0.0.1:${agentPort}"] }]`,
      '',
    ].join('\n'),
  );
  const engine = spawn('node', [join(root, 'dist/src/cli/main.js'), 'start', '--config', configFile], { stdio: ['ignore', 'ignore', 'inherit'] });
  await new Promise((r) => setTimeout(r, 2000));
  const samples: Sample[] = [];
  const t0 = Date.now();
  const sample = async (): Promise<Status> => {
    const s = await status(statusPort);
    samples.push({
      t: (Date.now() - t0) / 1000,
      dialogs: s.sipServer.dialogs,
      serverTransactions: s.sipServer.serverTransactions,
      clientTransactions: s.sipServer.clientTransactions,
      timers: s.sipServer.timers,
      liveCalls: s.engine.liveCalls,
      workerHeapMb: mb(s.sipServer.heapUsedBytes),
      mainHeapMb: mb(s.process.heapUsedBytes),
      rssMb: mb(s.process.rssBytes),
    });
    return s;
  };
  const drained = async (): Promise<Status> => {
    for (;;) {
      const s = await sample();
      const v = s.sipServer;
      if (s.engine.liveCalls === 0 && v.dialogs === 0 && v.serverTransactions === 0 && v.clientTransactions === 0 && v.timers === 0 && v.pendingAppRequests === 0) return s;
      await new Promise((r) => setTimeout(r, 2000));
    }
  };
  try {
    const run = async (n: number): Promise<{ successful: number; failed: number }> => {
      const timer = setInterval(() => void sample(), 2000);
      const r = await runSipp({ scenario: 'uac-basic.xml', remote: `127.0.0.1:${sipPort}`, port: await freePort(), transport: 'udp', calls: n, rate, pauseMs: 1000, timeoutSec: Math.ceil(n / rate) + 120 }).done;
      clearInterval(timer);
      return { successful: r.stats.successful, failed: r.stats.failed };
    };
    console.log('warm-up: 2,000 calls');
    await run(2000);
    await drained();
    const base = await status(statusPort, true);
    console.log(`baseline live heap: SIP server ${mb(base.sipServer.heapUsedBytes)} MB, engine ${mb(base.process.heapUsedBytes)} MB`);
    console.log(`soak: ${calls} calls at ${rate}/s`);
    const soak = await run(calls);
    console.log(`soak done: ${soak.successful} successful, ${soak.failed} failed; draining`);
    await drained();
    const after = await status(statusPort, true);
    const result = {
      benchmark: 'sip-soak',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      calls,
      rate,
      successful: soak.successful,
      failed: soak.failed,
      countsAfterDrain: { dialogs: after.sipServer.dialogs, serverTransactions: after.sipServer.serverTransactions, clientTransactions: after.sipServer.clientTransactions, timers: after.sipServer.timers, liveCalls: after.engine.liveCalls },
      liveHeapMb: {
        sipServer: { baseline: mb(base.sipServer.heapUsedBytes), after: mb(after.sipServer.heapUsedBytes) },
        engine: { baseline: mb(base.process.heapUsedBytes), after: mb(after.process.heapUsedBytes) },
      },
      samples,
    };
    mkdirSync(values.out, { recursive: true });
    const base2 = join(values.out, 'sip-soak');
    writeFileSync(`${base2}.json`, `${JSON.stringify(result, null, 2)}\n`);
    plot(base2, result);
    console.log(JSON.stringify({ ...result, samples: `${samples.length} samples` }, null, 2));
  } finally {
    engine.kill('SIGTERM');
    agent.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
