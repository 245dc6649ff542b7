/**
 * Media-plane benchmark (not part of the test run). Three measurements, each
 * with its baseline taken in the same run:
 *
 * 1. Relayed calls: N two-way PCMU calls (50 packets/s each way) through the
 *    embedded rtpengine, set up by CallMedia offer/answer; loss, one-way delay
 *    and CPU of rtpengine and of the generator. Baseline: the same generator
 *    with the legs wired to each other directly.
 * 2. Monitor mixer: Node CPU with M calls monitored (one supervisor each),
 *    against M = 0 in the same run; and fan-out (S supervisors on each of a
 *    few calls) to show what one more supervisor on a monitored call costs.
 * 3. Prompt rendering: cold TTS (espeak-ng + ffmpeg), cold upload conversion
 *    (ffmpeg), and a cache hit.
 *
 * Run: npx tsx bench/media/media-bench.ts [--seconds 10] [--calls 25,50,100,200] [--monitored 0,10,25,50]
 * Writes bench/results/media.json and media-*.svg.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { runFfmpeg } from '../../src/audio/ffmpeg.js';
import type { CallMedia } from '../../src/media/call-media.js';
import { MediaService } from '../../src/media/media-service.js';
import { PromptRenderer } from '../../src/media/prompts/prompt-renderer.js';
import { silentLogger } from '../../src/observability/logger.js';
import { mediaTestConfig, tempDir } from '../../test/media/media-test-config.js';
import { writeBarChart, writeLineChart } from '../lib/chart.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    calls: { type: 'string', default: '25,50,100,200' },
    monitored: { type: 'string', default: '0,10,25,50' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const seconds = Number(values.seconds);
const callCounts = values.calls.split(',').map(Number);
const monitoredCounts = values.monitored.split(',').map(Number);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

interface LoadResult {
  sent: number;
  received: number;
  lost: number;
  foreign: number;
  delayMs: { p50: number; p99: number };
  cpuMs: number;
}

/** Starts the generator child with `legs` sockets; resolves with its ports and a function that runs it. */
async function generator(legs: number): Promise<{ ports: number[]; run(targets: ({ host: string; port: number } | null)[]): Promise<LoadResult> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'rtp-load.ts'), String(legs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`load generator exited (${String(code)})`))));
  exited.catch(() => undefined);
  const next = (): Promise<string> => Promise.race([new Promise<string>((r) => lines.once('line', r)), exited]);
  const { ports } = JSON.parse(await next()) as { ports: number[] };
  return {
    ports,
    run: async (targets) => {
      child.stdin.write(`${JSON.stringify({ targets, seconds })}\n`);
      const result = JSON.parse(await next()) as LoadResult;
      await exited.catch(() => undefined);
      return result;
    },
  };
}

const sdp = (port: number): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n`;
const portOf = (s: string): number => Number(/m=audio (\d+)/.exec(s)![1]);

function daemonCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime + stime
}

const pctOfCore = (cpuMs: number): number => Math.round((cpuMs / (seconds * 1000)) * 1000) / 10;

// ---------------------------------------------------------------------------
const dir = tempDir('sb-media-bench-');
const size = 4000;
const portMin = 20000 + Math.floor(Math.random() * 9) * size;
const media = await MediaService.start({
  config: mediaTestConfig(dir, { media: { rtpengine: { embedded: { portMin, portMax: portMin + size - 1, logLevel: 4 } } } }),
  logger: silentLogger(),
});
const rtpenginePid = media.embedded!.pid!;
// Whatever happens, the private rtpengine goes with us.
process.on('uncaughtException', (e) => {
  process.stderr.write(`${e.stack ?? String(e)}\n`);
  void media.close().finally(() => process.exit(1));
});
process.on('unhandledRejection', (e) => {
  process.stderr.write(`${String(e)}\n`);
  void media.close().finally(() => process.exit(1));
});
process.on('SIGINT', () => void media.close().finally(() => process.exit(130)));

/** N calls through rtpengine: leg 2i is the caller, 2i+1 the agent. */
async function setUpCalls(n: number, ports: readonly number[], prefix: string): Promise<{ calls: CallMedia[]; targets: { host: string; port: number }[] }> {
  const calls: CallMedia[] = [];
  const targets: { host: string; port: number }[] = [];
  for (let i = 0; i < n; i++) {
    const call = media.createCallMedia(`${prefix}-${i}`);
    const toAgent = await call.offer('caller', sdp(ports[2 * i]!));
    const toCaller = await call.answer('agent', sdp(ports[2 * i + 1]!));
    calls.push(call);
    targets.push({ host: '127.0.0.1', port: portOf(toCaller) }, { host: '127.0.0.1', port: portOf(toAgent) });
  }
  return { calls, targets };
}

const relay: Record<string, unknown>[] = [];
for (const n of callCounts) {
  // Baseline: legs wired to each other, no rtpengine.
  const direct = await generator(2 * n);
  const directTargets = direct.ports.map((_, leg) => ({ host: '127.0.0.1', port: direct.ports[leg ^ 1]! }));
  const base = await direct.run(directTargets);

  const gen = await generator(2 * n);
  const setupStart = performance.now();
  const { calls, targets } = await setUpCalls(n, gen.ports, `relay${n}`);
  const setupMs = performance.now() - setupStart;
  const cpu0 = daemonCpuMs(rtpenginePid);
  const load = await gen.run(targets);
  const rtpengineCpuMs = daemonCpuMs(rtpenginePid) - cpu0;
  await Promise.all(calls.map((c) => c.release()));
  const row = {
    calls: n,
    packetsPerSecond: n * 100,
    relayed: { sent: load.sent, lost: load.lost, delayMs: load.delayMs, generatorCpuPct: pctOfCore(load.cpuMs), rtpengineCpuPct: pctOfCore(rtpengineCpuMs) },
    direct: { sent: base.sent, lost: base.lost, delayMs: base.delayMs, generatorCpuPct: pctOfCore(base.cpuMs) },
    setupMsPerCall: Math.round((setupMs / n) * 100) / 100,
  };
  relay.push(row);
  process.stderr.write(`relay ${JSON.stringify(row)}\n`);
}

// ---------------------------------------------------------------------------
/** Node CPU of this process while `monitored` of `calls` calls each have `perCall` supervisors. */
async function mixerRun(calls: number, monitored: number, perCall: number): Promise<{ cpuPct: number; mixFrames: number; supervisorPackets: number; lateInputs: number }> {
  const supervisors = monitored * perCall;
  const gen = await generator(2 * calls + supervisors);
  const { calls: callMedia, targets } = await setUpCalls(calls, gen.ports, `mix${calls}-${monitored}-${perCall}`);
  const sessions = [];
  const firstOfCall = [];
  let leg = 2 * calls;
  for (let i = 0; i < monitored; i++) {
    for (let s = 0; s < perCall; s++) {
      const session = await callMedia[i]!.monitor({ destination: { address: '127.0.0.1', port: gen.ports[leg++]!, codec: 'pcmu' } });
      sessions.push(session);
      if (s === 0) firstOfCall.push(session);
    }
  }
  const allTargets = [...targets, ...Array<null>(supervisors).fill(null)];
  const cpu0 = process.cpuUsage();
  const load = await gen.run(allTargets);
  const cpu = process.cpuUsage(cpu0);
  // One mixer per call, shared by its supervisors: count each once.
  const unique = firstOfCall.map((s) => s.stats());
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all(callMedia.map((c) => c.release()));
  return {
    cpuPct: pctOfCore((cpu.user + cpu.system) / 1000),
    mixFrames: unique.reduce((n, s) => n + s.framesMixed, 0),
    supervisorPackets: load.foreign,
    lateInputs: unique.reduce((n, s) => n + Object.values(s.sources).reduce((m, x) => m + x.late, 0), 0),
  };
}

const mixerCalls = Math.max(...monitoredCounts, 10);
const mixer: Record<string, unknown>[] = [];
for (const m of monitoredCounts) {
  const r = await mixerRun(mixerCalls, m, 1);
  mixer.push({ calls: mixerCalls, monitoredCalls: m, supervisorStreams: m, ...r });
  process.stderr.write(`mixer ${JSON.stringify(mixer.at(-1))}\n`);
}
const fanout: Record<string, unknown>[] = [];
for (const s of [1, 2, 4]) {
  const r = await mixerRun(10, 10, s);
  fanout.push({ monitoredCalls: 10, supervisorsPerCall: s, supervisorStreams: 10 * s, ...r });
  process.stderr.write(`fanout ${JSON.stringify(fanout.at(-1))}\n`);
}
await media.close();

// ---------------------------------------------------------------------------
const promptDir = join(dir, 'prompt-bench');
mkdirSync(promptDir, { recursive: true });
const renderer = new PromptRenderer({ cacheDir: join(promptDir, 'cache'), espeakBinary: 'espeak-ng', ffmpegBinary: 'ffmpeg', renderTimeoutMs: 60000, logger: silentLogger() });
const upload = join(promptDir, 'upload.mp3');
await runFfmpeg({ args: ['-y', '-f', 'lavfi', '-i', 'sine=frequency=700:sample_rate=44100:duration=10', '-ac', '2', '-c:a', 'libmp3lame', upload] });
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}
const ttsCold: number[] = [];
const uploadCold: number[] = [];
const hits: number[] = [];
for (let i = 0; i < 7; i++) {
  ttsCold.push(await timed(() => renderer.render({ kind: 'tts', text: `Inbound call from Queue ${i} — you're connected, call will begin in 3, 2, 1`, language: 'en', speed: 1 })));
  uploadCold.push(await timed(() => renderer.render({ kind: 'file', file: upload, speed: 1 + i / 20 })));
}
const processesBeforeHits = renderer.stats.processesStarted;
for (let i = 0; i < 21; i++) hits.push(await timed(() => renderer.render({ kind: 'tts', text: 'Inbound call from Queue 0 — you\'re connected, call will begin in 3, 2, 1', language: 'en', speed: 1 })));
const prompts = {
  ttsColdMs: Math.round(median(ttsCold)),
  uploadColdMs: Math.round(median(uploadCold)),
  uploadSeconds: 10,
  cacheHitMs: Math.round(median(hits) * 100) / 100,
  processesStartedOnHits: renderer.stats.processesStarted - processesBeforeHits,
};
rmSync(dir, { recursive: true, force: true });

// ---------------------------------------------------------------------------
const report = {
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtEnd: loadavg() },
  node: process.version,
  rtpengine: spawnSync('rtpengine', ['--version'], { encoding: 'utf8' }).stderr.trim() || spawnSync('rtpengine', ['--version'], { encoding: 'utf8' }).stdout.trim(),
  secondsPerRun: seconds,
  relay,
  mixer,
  fanout,
  prompts,
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'media.json'), `${JSON.stringify(report, null, 2)}\n`);
type Row = { calls: number; relayed: { rtpengineCpuPct: number; generatorCpuPct: number; delayMs: { p99: number; p50: number } }; direct: { generatorCpuPct: number; delayMs: { p99: number; p50: number } } };
const rows = relay as unknown as Row[];
writeLineChart(join(values.out, 'media-relay-cpu.svg'), {
  title: `Relayed PCMU calls through rtpengine (userspace), ${cpus().length} cores`,
  xLabel: 'concurrent two-way calls (100 packets/s each)',
  yLabel: '% of one core',
  series: [
    { name: 'rtpengine', points: rows.map((r) => [r.calls, r.relayed.rtpengineCpuPct]) },
    { name: 'generator (relayed)', points: rows.map((r) => [r.calls, r.relayed.generatorCpuPct]) },
    { name: 'generator (direct, baseline)', points: rows.map((r) => [r.calls, r.direct.generatorCpuPct]) },
  ],
});
writeLineChart(join(values.out, 'media-relay-delay.svg'), {
  title: 'One-way delay, relayed vs direct (same run)',
  xLabel: 'concurrent two-way calls',
  yLabel: 'ms',
  series: [
    { name: 'p99 relayed', points: rows.map((r) => [r.calls, r.relayed.delayMs.p99]) },
    { name: 'p50 relayed', points: rows.map((r) => [r.calls, r.relayed.delayMs.p50]) },
    { name: 'p99 direct', points: rows.map((r) => [r.calls, r.direct.delayMs.p99]) },
    { name: 'p50 direct', points: rows.map((r) => [r.calls, r.direct.delayMs.p50]) },
  ],
});
writeLineChart(join(values.out, 'media-mixer.svg'), {
  title: 'Monitor mixer: Node CPU by supervisor streams',
  xLabel: 'supervisor streams',
  yLabel: '% of one core',
  series: [
    { name: `one supervisor per call (${mixerCalls} calls relayed)`, points: (mixer as { supervisorStreams: number; cpuPct: number }[]).map((r) => [r.supervisorStreams, r.cpuPct]) },
    { name: 'fan-out: 10 calls, 1/2/4 supervisors each', points: (fanout as { supervisorStreams: number; cpuPct: number }[]).map((r) => [r.supervisorStreams, r.cpuPct]) },
  ],
});
writeBarChart(join(values.out, 'media-prompts.svg'), {
  title: 'Prompt render time (median)',
  yLabel: 'ms',
  bars: [
    { label: 'TTS, cold', value: prompts.ttsColdMs },
    { label: '10 s mp3 upload, cold', value: prompts.uploadColdMs },
    { label: 'cache hit', value: prompts.cacheHitMs },
  ],
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
