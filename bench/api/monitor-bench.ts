/**
 * Supervisors' monitor path under load (not part of the test run): N
 * supervisor streams on M relayed calls, on the media path the API's monitors
 * use (CallMedia.monitor with the rtpengine relay leg to the device), against
 * the same M calls unmonitored in the same run. Measured:
 *
 * - CPU per supervisor stream: this process (the engine's mixer) and the
 *   embedded rtpengine (subscription and relay legs), minus the unmonitored run.
 * - The delay the mix adds: burst by burst, how much later a supervisor hears a
 *   party than the other party of the call does (the same packet relayed
 *   through rtpengine, in the same run). The mix goes out as soon as both
 *   parties' packets are in; `media.monitor.jitterMs` is only the most it
 *   waits for a late packet, so the same load is also run with smaller ones
 *   (on loopback with no jitter the delay should not depend on it).
 * - The call's own relay delay with and without supervisors (monitoring must
 *   not slow the call down).
 * - Start: from the device's answer being accepted to its first mix packet; and
 *   through the whole API path (SIP call to a phone, POST /calls/{id}/monitors).
 *
 * Run: npx tsx bench/api/monitor-bench.ts [--seconds 10] [--per-call 25,50,100,200] [--fanout-calls 50] [--fanout 1,2,4,8] [--jitter 60,20,0] [--api-rounds 10] [--warm-up 25]
 * Writes bench/results/api-monitor.json and api-monitor-cpu.svg, api-monitor-delay.svg.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { CallMedia, MonitorSession } from '../../src/media/index.js';
import { MediaService } from '../../src/media/media-service.js';
import { silentLogger } from '../../src/observability/logger.js';
import { mediaTestConfig, tempDir } from '../../test/media/media-test-config.js';
import { writeLineChart } from '../lib/chart.js';
import { apiStartLatency } from './api-start-latency.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    'per-call': { type: 'string', default: '25,50,100,200' },
    'fanout-calls': { type: 'string', default: '50' },
    fanout: { type: 'string', default: '1,2,4,8' },
    jitter: { type: 'string', default: '60,20,0' },
    'api-rounds': { type: 'string', default: '10' },
    'warm-up': { type: 'string', default: '25' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const seconds = Number(values.seconds);
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
const jitters = values.jitter.split(',').map(Number);
const JITTER_MS = jitters[0]!;

interface LoadResult {
  relay: { sent: number; received: number; delayMs: { p50: number; p99: number } };
  mix: { packets: number; bursts: number; expectedBursts: number; delayMs: { p50: number; p99: number; max: number }; addedMs: { p50: number; p99: number; max: number } };
  firstPacketAt: (number | null)[];
  cpuMs: number;
}

async function generator(callLegs: number, supervisorLegs: number): Promise<{ ports: number[]; run(targets: ({ host: string; port: number } | null)[], supervisorCall: number[]): Promise<LoadResult> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'monitor-load.ts'), String(callLegs), String(supervisorLegs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`load generator exited (${String(code)})`))));
  exited.catch(() => undefined);
  const next = (): Promise<string> => Promise.race([new Promise<string>((r) => lines.once('line', r)), exited]);
  const { ports } = JSON.parse(await next()) as { ports: number[] };
  return {
    ports,
    run: async (targets, supervisorCall) => {
      child.stdin.write(`${JSON.stringify({ targets, supervisorCall, seconds })}\n`);
      const result = JSON.parse(await next()) as LoadResult;
      await exited.catch(() => undefined);
      return result;
    },
  };
}

const sdp = (port: number, direction = 'sendrecv'): string =>
  `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${direction}\r\n`;
const portOf = (s: string): number => Number(/m=audio (\d+)/.exec(s)![1]);
const daemonCpuMs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
};
const pctOfCore = (ms: number): number => Math.round((ms / (seconds * 1000)) * 10000) / 100;
const percentile = (xs: number[], p: number): number => (xs.length === 0 ? 0 : Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))]! * 10) / 10);

const dir = tempDir('sb-monitor-bench-');
const size = 6000;
const portMin = 20000 + Math.floor(Math.random() * 6) * size;
let media: MediaService | undefined;
let rtpenginePid = 0;
/** A media plane whose monitors wait at most `jitterMs` for a late packet. */
async function startMedia(jitterMs: number): Promise<MediaService> {
  await media?.close();
  media = await MediaService.start({
    config: mediaTestConfig(dir, { media: { monitor: { jitterMs }, rtpengine: { embedded: { portMin, portMax: portMin + size - 1, logLevel: 4 } } } }),
    logger: silentLogger(),
  });
  rtpenginePid = media.embedded!.pid!;
  return media;
}
const bail = (code: number) => (e?: unknown) => {
  if (e !== undefined) process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : JSON.stringify(e)}\n`);
  void (media?.close() ?? Promise.resolve()).finally(() => process.exit(code));
};
process.on('uncaughtException', bail(1));
process.on('unhandledRejection', bail(1));
process.on('SIGINT', bail(130));

interface Run {
  readonly calls: number;
  readonly supervisors: number;
  readonly engineCpuPct: number;
  readonly rtpengineCpuPct: number;
  readonly relayDelayMs: { p50: number; p99: number };
  readonly relayLost: number;
  readonly mixDelayMs: { p50: number; p99: number; max: number };
  /** How much later than the other party a supervisor hears each burst. */
  readonly addedDelayMs: { p50: number; p99: number; max: number };
  readonly burstsHeard: number;
  readonly burstsExpected: number;
  readonly startMs: { p50: number; p99: number };
  /** The machine's 1-minute load average when the run started (the cores are shared). */
  readonly loadAverage: number;
}

/** M relayed calls, S supervisors on them (round-robin), through the relay legs the API's monitors use. */
async function run(media: MediaService, calls: number, supervisors: number, tag: string): Promise<Run> {
  const gen = await generator(2 * calls, supervisors);
  const callMedia: CallMedia[] = [];
  const targets: ({ host: string; port: number } | null)[] = [];
  for (let i = 0; i < calls; i++) {
    const c = media.createCallMedia(`${tag}-${i}`);
    const toAgent = await c.offer('caller', sdp(gen.ports[2 * i]!));
    const toCaller = await c.answer('agent', sdp(gen.ports[2 * i + 1]!));
    callMedia.push(c);
    targets.push({ host: '127.0.0.1', port: portOf(toCaller) }, { host: '127.0.0.1', port: portOf(toAgent) });
  }
  const sessions: MonitorSession[] = [];
  const supervisorCall: number[] = [];
  const acceptedAt: number[] = [];
  for (let s = 0; s < supervisors; s++) {
    const call = s % calls;
    const session = await callMedia[call]!.monitor({ label: `supervisor-${s}` });
    // The device's answer: recvonly, at its socket.
    await session.accept(sdp(gen.ports[2 * calls + s]!, 'recvonly'));
    acceptedAt.push(performance.timeOrigin + performance.now());
    sessions.push(session);
    supervisorCall.push(call);
    targets.push(null);
  }
  const loadAverage = loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const rtp0 = daemonCpuMs(rtpenginePid);
  const load = await gen.run(targets, supervisorCall);
  const cpu = process.cpuUsage(cpu0);
  const rtpengineMs = daemonCpuMs(rtpenginePid) - rtp0;
  await Promise.all(sessions.map((s) => s.close()));
  await Promise.all(callMedia.map((c) => c.release()));
  const starts = load.firstPacketAt.map((t, i) => (t === null ? Infinity : t - acceptedAt[i]!));
  return {
    calls,
    supervisors,
    engineCpuPct: pctOfCore((cpu.user + cpu.system) / 1000),
    rtpengineCpuPct: pctOfCore(rtpengineMs),
    relayDelayMs: load.relay.delayMs,
    relayLost: load.relay.sent - load.relay.received,
    mixDelayMs: load.mix.delayMs,
    addedDelayMs: load.mix.addedMs,
    burstsHeard: load.mix.bursts,
    burstsExpected: load.mix.expectedBursts,
    startMs: { p50: percentile(starts, 0.5), p99: percentile(starts, 0.99) },
    loadAverage,
  };
}

function perStream(r: Run, base: Run, jitterMs: number): Record<string, number> {
  const engine = (r.engineCpuPct - base.engineCpuPct) / r.supervisors;
  const rtpengine = (r.rtpengineCpuPct - base.rtpengineCpuPct) / r.supervisors;
  const total = engine + rtpengine;
  return {
    jitterMs,
    engineCpuPctPerStream: Math.round(engine * 1000) / 1000,
    rtpengineCpuPctPerStream: Math.round(rtpengine * 1000) / 1000,
    streamsPerCore: total > 0 ? Math.round(100 / total) : 0,
    callRelayDelayChangeP99Ms: Math.round((r.relayDelayMs.p99 - base.relayDelayMs.p99) * 10) / 10,
  };
}

const rows: Record<string, unknown>[] = [];
const log = (kind: string, row: Record<string, unknown>): void => {
  rows.push({ kind, ...row });
  process.stderr.write(`${kind} ${JSON.stringify(row)}\n`);
};
const loadAverageAtStart = loadavg();
let m = await startMedia(JITTER_MS);
// A warm-up load, not reported: the first run otherwise pays for JIT compilation
// and rtpengine's first allocations (seen as ~1.5x the CPU of the same load
// measured later in the same run).
const warmUp = Number(values['warm-up']);
if (warmUp > 0) await run(m, warmUp, warmUp, 'warmup');
// One supervisor per call: M = N.
for (const n of values['per-call'].split(',').map(Number)) {
  const base = await run(m, n, 0, `base${n}`);
  const r = await run(m, n, n, `one${n}`);
  log('one-per-call', { ...r, baseline: base, ...perStream(r, base, JITTER_MS) });
}
// Fan-out: more supervisors on the same calls.
const fanCalls = Number(values['fanout-calls']);
const fanouts = values.fanout.split(',').map(Number);
const fanBase = await run(m, fanCalls, 0, 'fanbase');
for (const k of fanouts) {
  const r = await run(m, fanCalls, fanCalls * k, `fan${k}`);
  log('fan-out', { ...r, supervisorsPerCall: k, baseline: fanBase, ...perStream(r, fanBase, JITTER_MS) });
}
// The most wait for a late packet: the middle fan-out load again, with smaller ones.
const k = fanouts[Math.floor(fanouts.length / 2)]!;
for (const jitter of jitters.slice(1)) {
  m = await startMedia(jitter);
  const base = await run(m, fanCalls, 0, `jbase${jitter}`);
  const r = await run(m, fanCalls, fanCalls * k, `jitter${jitter}`);
  log('max-wait', { ...r, supervisorsPerCall: k, baseline: base, ...perStream(r, base, jitter) });
}
await media?.close();
rmSync(dir, { recursive: true, force: true });

// Start latency through the whole API path (engine, SIP phones, HTTP).
const api = await apiStartLatency(Number(values['api-rounds']));
process.stderr.write(`api ${JSON.stringify(api)}\n`);

const report = {
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadAverageAtStart, loadAverageAtEnd: loadavg() },
  node: process.version,
  secondsPerRun: seconds,
  warmUpStreams: warmUp,
  jitterMs: JITTER_MS,
  aim: { streamsPerCore: 200, addedDelayP99Ms: 20 },
  runs: rows,
  apiStart: api,
};
mkdirSync(values.out, { recursive: true });
writeFileSync(join(values.out, 'api-monitor.json'), `${JSON.stringify(report, null, 2)}\n`);
type Row = Run & { kind: string; jitterMs: number; baseline: Run };
const typed = rows as unknown as Row[];
const one = typed.filter((r) => r.kind === 'one-per-call');
const fan = typed.filter((r) => r.kind === 'fan-out');
const above = (r: Row, key: 'engineCpuPct' | 'rtpengineCpuPct'): number => Math.round((r[key] - r.baseline[key]) * 10) / 10;
writeLineChart(join(values.out, 'api-monitor-cpu.svg'), {
  title: 'Supervisor streams: CPU above the same calls unmonitored (same run)',
  xLabel: 'supervisor streams',
  yLabel: '% of one core',
  series: [
    { name: 'engine, 1 per call', points: one.map((r) => [r.supervisors, above(r, 'engineCpuPct')]) },
    { name: 'rtpengine, 1 per call', points: one.map((r) => [r.supervisors, above(r, 'rtpengineCpuPct')]) },
    { name: `engine, fan-out on ${fanCalls} calls`, points: fan.map((r) => [r.supervisors, above(r, 'engineCpuPct')]) },
    { name: `rtpengine, fan-out on ${fanCalls} calls`, points: fan.map((r) => [r.supervisors, above(r, 'rtpengineCpuPct')]) },
  ],
  marks: [{ label: 'aim: 200 streams in one core', y: 100 }],
});
writeLineChart(join(values.out, 'api-monitor-delay.svg'), {
  title: `How much later supervisors hear a party than the other party does`,
  xLabel: 'supervisor streams',
  yLabel: 'ms',
  series: [
    { name: `p99, 1 per call (wait ≤ ${JITTER_MS} ms)`, points: one.map((r) => [r.supervisors, r.addedDelayMs.p99]) },
    { name: `p50, 1 per call (wait ≤ ${JITTER_MS} ms)`, points: one.map((r) => [r.supervisors, r.addedDelayMs.p50]) },
    { name: `p99, fan-out on ${fanCalls} (wait ≤ ${JITTER_MS} ms)`, points: fan.map((r) => [r.supervisors, r.addedDelayMs.p99]) },
    ...typed.filter((r) => r.kind === 'max-wait').map((r) => ({ name: `p99, ${r.supervisors} streams, wait ≤ ${r.jitterMs} ms`, points: [[r.supervisors, r.addedDelayMs.p99]] as [number, number][] })),
  ],
  marks: [{ label: 'aim 20 ms', y: 20 }],
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
