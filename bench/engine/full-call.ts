/**
 * The full contact-center call against the signaling-only B2BUA, in the same
 * run. Full: every call anchored at rtpengine, ringback to the caller, a
 * whisper to the agent, the bridge, the recording (rtpengine's capture handed
 * to the queue). Signaling only: the same engine with `media.enabled: false`
 * (SDP passed end to end). SIPp plays the callers (`uac-talk.xml`: streams a
 * tone once answered) and the agents (`uas-answer.xml -rtp_echo`).
 *
 * Measured for each:
 *  1. set-up rate: the highest rate at which every call of a trial succeeds
 *     (RFC 7501-style search), with the CPU time per call of the engine's
 *     whole process tree (engine threads + rtpengine) and of rtpengine alone;
 *  2. at one offered rate (half the full call's maximum, the same for both):
 *     p50/p99 from INVITE to the caller's first ringing response and to its
 *     first RTP packet (ringback; with SDP passed through there is none before
 *     the answer), measured by probe calls placed alongside SIPp;
 *  3. concurrent calls held with zero packet loss: SIPp holds N talking calls
 *     while probe calls stream stamped packets that their own agent echoes; N
 *     grows until a probe loses a packet, a socket of the engine or rtpengine
 *     drops one, or a call fails. The load's calls are spread over SIPp agents
 *     of at most LOAD_CALLS_PER_AGENT calls each (one SIPp echoes every call on
 *     one socket from one thread: past a few hundred calls its own receive
 *     buffer overflows), and the kernel's per-socket drop counters say where
 *     any packet was lost (bench/lib/udp-drops.ts).
 *
 * The recordings worker does not run: the conversion and delivery that follow
 * a call are measured by bench/recordings/; here the engine hands each
 * recording to a real Redis queue, as in production.
 *
 * Run (after `npm run build`): npx tsx bench/engine/full-call.ts [--trial-seconds 10]
 * Writes bench/results/engine-full-call.json and engine-full-call-*.svg.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBarChart, writeLineChart } from '../lib/chart.js';
import { startEngine, type EngineProcess } from '../lib/engine-process.js';
import { dropsSince, socketDrops } from '../lib/udp-drops.js';
import { freePort, runSipp, SCENARIOS } from '../../test/support/sipp.js';
import { probeCall, type ProbeResult } from './probe-call.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    'trial-seconds': { type: 'string', default: '10' },
    'hold-ms': { type: 'string', default: '1000' },
    'start-rate': { type: 'string', default: '50' },
    'max-rate': { type: 'string', default: '1600' },
    'latency-seconds': { type: 'string', default: '30' },
    'probe-rate': { type: 'string', default: '4' },
    'concurrency-steps': { type: 'string', default: '100,250,500,750,1000,1500' },
    'probe-talk-ms': { type: 'string', default: '10000' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const trialSeconds = Number(values['trial-seconds']);
const holdMs = Number(values['hold-ms']);

type Mode = 'signaling' | 'full';
const MODES: readonly Mode[] = ['signaling', 'full'];
const LABEL: Record<Mode, string> = { signaling: 'signaling only (SDP passed through)', full: 'full call (anchored, whisper, recording)' };

/** The most talking calls one SIPp agent echoes in the concurrency steps. */
const LOAD_CALLS_PER_AGENT = 250;
/** The number the probes of the concurrency steps dial (their own agent); load agent i answers LOAD_NUMBER_BASE + i. */
const PROBE_NUMBER = '1999';
const LOAD_NUMBER_BASE = 2000;

interface Rig {
  readonly engine: EngineProcess;
  readonly sipPort: number;
  readonly statusPort: number;
  /** The SIPp agents that answer the concurrency steps' load (LOAD_NUMBER_BASE + index). */
  readonly loadAgents: readonly ChildProcess[];
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// The machine's 1-minute load average over the run (this benchmark's own load included): figures
// measured while other work shared the machine are not comparable with a quiet machine's.
const loadSamples: number[] = [loadavg()[0]!];
setInterval(() => loadSamples.push(loadavg()[0]!), 10_000).unref();
function machineLoad(): { start: number; max: number; mean: number } {
  const r = (n: number): number => Number(n.toFixed(2));
  return { start: r(loadSamples[0]!), max: r(Math.max(...loadSamples)), mean: r(loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length) };
}

function percentile(values: readonly number[], p: number): number | null {
  const v = [...values].sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]!;
}

const round = (n: number | null, digits = 1): number | null => (n === null ? null : Number(n.toFixed(digits)));

async function startRedis(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const sock = join(dir, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', sock, '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const { createConnection } = await import('node:net');
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = createConnection(sock, () => (s.end(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return { url: `unix://${sock}`, child };
    await sleep(50);
  }
  throw new Error('redis-server did not start');
}

/** An engine for `mode` with its SIPp agent (echoing RTP), on fresh ports. */
async function rig(mode: Mode, work: string, redisUrl: string): Promise<Rig> {
  const dir = mkdtempSync(join(work, `${mode}-`));
  const [sipPort, statusPort] = [await freePort(), await freePort()];
  const agentAt = async (): Promise<{ port: number; child: ChildProcess }> => {
    const [port, mediaPort] = [await freePort(), await freePort()];
    const child = spawn('sipp', ['-sf', join(SCENARIOS, 'uas-answer.xml'), '-i', '127.0.0.1', '-p', String(port), '-t', 'u1', '-mp', String(mediaPort), '-rtp_echo', '-nostdin', '-max_socket', '60000'], { cwd: dir, stdio: 'ignore' });
    return { port, child };
  };
  const agent = await agentAt();
  const probeAgent = await agentAt();
  const maxStep = Math.max(...values['concurrency-steps'].split(',').map(Number));
  const loadAgents = await Promise.all(Array.from({ length: Math.ceil(maxStep / LOAD_CALLS_PER_AGENT) }, agentAt));
  const queue = (id: string, number: string, port: number): string => `  - { id: ${id}, name: Bench, numbers: ["${number}"], agents: ["sip:agent@127.0.0.1:${port}"] }`;
  const configFile = join(dir, 'engine.yaml');
  const media =
    mode === 'full'
      ? [
          'media:',
          '  whisper: { countdown: false, speed: 2, callTypes: { inbound: Call } }',
          'recordings: { enabled: true, format: wav }',
          `redis: { url: "${redisUrl}" }`,
        ]
      : ['media: { enabled: false }', 'recordings: { enabled: false }'];
  writeFileSync(
    configFile,
    [
      `node: { stateDir: ${join(dir, 'state')}, logLevel: warn, recordingsWorker: false, status: { port: ${statusPort} } }`,
      'sipServer:',
      `  listen: [{ transport: udp, host: 127.0.0.1, port: ${sipPort} }]`,
      '  control: { port: 0 }',
      '  maxPendingInvites: 20000',
      'engine: { ringTimeoutSeconds: 10 }',
      ...media,
      'queues:',
      queue('bench', '1000', agent.port),
      queue('probe', PROBE_NUMBER, probeAgent.port),
      ...loadAgents.map((a, i) => queue(`load${i}`, String(LOAD_NUMBER_BASE + i), a.port)),
      '',
    ].join('\n'),
  );
  const engine = await startEngine({ configFile, statusPort });
  return {
    engine,
    sipPort,
    statusPort,
    loadAgents: loadAgents.map((a) => a.child),
    stop: async () => {
      await engine.stop();
      for (const a of [agent, probeAgent, ...loadAgents]) a.child.kill('SIGKILL');
    },
  };
}

/** Waits (bounded) until the engine has no live call and rtpengine no session. */
async function drained(r: Rig): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    const s = await r.engine.status();
    if (s.engine.liveCalls === 0 && (s.media?.activeCalls ?? 0) === 0) return;
    await sleep(500);
  }
  throw new Error('calls still live 120 s after the load');
}

function callers(r: Rig, o: { port: number; mediaPort: number; rate: number; calls: number; holdMs: number; service?: string; extra?: readonly string[] }): ReturnType<typeof runSipp> {
  return runSipp({
    scenario: 'uac-talk.xml',
    remote: `127.0.0.1:${r.sipPort}`,
    ...(o.service !== undefined ? { service: o.service } : {}),
    port: o.port,
    transport: 'udp',
    calls: o.calls,
    rate: o.rate,
    pauseMs: o.holdMs,
    timeoutSec: Math.ceil(o.calls / o.rate) + Math.ceil(o.holdMs / 1000) + 60,
    cwd: SCENARIOS,
    extra: ['-mp', String(o.mediaPort), '-max_socket', '60000', '-max_retrans', '5', ...(o.extra ?? [])],
  });
}

async function sippPorts(): Promise<{ port: number; mediaPort: number }> {
  return { port: await freePort(), mediaPort: await freePort() };
}

interface Trial {
  readonly rate: number;
  readonly calls: number;
  readonly successful: number;
  readonly failed: number;
  readonly pass: boolean;
  readonly cpuMsPerCall: number;
  readonly rtpengineCpuMsPerCall: number;
  /** New INVITEs the engine refused with 503 for overload during the trial (its metrics). */
  readonly refusedForOverload: number;
  /** Busy CPU of the whole machine per call (every process: the engine, rtpengine, SIPp, Redis, this script). */
  readonly machineCpuMsPerCall: number;
}

/** Busy CPU time of the whole machine since boot, all cores, ms (/proc/stat; time stolen by the hypervisor is not ours). */
function machineBusyMs(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) * 10;
}

/** The engine's count of INVITEs refused for overload, every cause (`/metrics` on the status port). */
async function overloadRefusals(r: Rig): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${r.statusPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('switchboard_sip_server_overload_refusals_total'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function trial(r: Rig, rate: number): Promise<Trial> {
  const calls = Math.round(rate * trialSeconds);
  const cpu0 = r.engine.cpuMs();
  const rtp0 = r.engine.cpuMsOf('rtpengine');
  const machine0 = machineBusyMs();
  const refused0 = await overloadRefusals(r);
  const res = await callers(r, { ...(await sippPorts()), rate, calls, holdMs }).done;
  await drained(r);
  const t: Trial = {
    rate,
    calls,
    successful: res.stats.successful,
    failed: res.stats.failed,
    pass: res.stats.failed === 0 && res.stats.successful === calls,
    cpuMsPerCall: (r.engine.cpuMs() - cpu0) / Math.max(1, res.stats.successful),
    rtpengineCpuMsPerCall: (r.engine.cpuMsOf('rtpengine') - rtp0) / Math.max(1, res.stats.successful),
    refusedForOverload: (await overloadRefusals(r)) - refused0,
    machineCpuMsPerCall: (machineBusyMs() - machine0) / Math.max(1, res.stats.successful),
  };
  console.log(
    `  ${rate}/s: ${t.successful}/${calls} ok, ${t.failed} failed (${t.refusedForOverload} refused for overload); CPU ${t.cpuMsPerCall.toFixed(2)} ms/call ` +
      `(rtpengine ${t.rtpengineCpuMsPerCall.toFixed(2)}; whole machine ${t.machineCpuMsPerCall.toFixed(2)})`,
  );
  return t;
}

async function capacity(r: Rig): Promise<{ maxRate: number; trials: Trial[] }> {
  const trials: Trial[] = [];
  let lo = 0;
  let hi = Infinity;
  for (let rate = Number(values['start-rate']); rate <= Number(values['max-rate']); rate *= 2) {
    const t = await trial(r, rate);
    trials.push(t);
    if (!t.pass) {
      hi = rate;
      break;
    }
    lo = rate;
  }
  if (hi !== Infinity) {
    while (lo > 0 ? (hi - lo) / lo > 0.1 : hi > 10) {
      const mid = Math.round((lo + hi) / 2);
      const t = await trial(r, mid);
      trials.push(t);
      if (t.pass) lo = mid;
      else hi = mid;
    }
  }
  if (lo > 0) {
    // RFC 7501 §5: the result is confirmed by one more trial at that rate.
    const t = await trial(r, lo);
    trials.push(t);
    if (!t.pass) lo = trials.filter((x) => x.pass && x.rate < lo).reduce((m, x) => Math.max(m, x.rate), 0);
  }
  return { maxRate: lo, trials };
}

/** Probe calls at `probeRate`/s while SIPp offers `rate`/s. */
async function latency(r: Rig, rate: number): Promise<{ rate: number; sippFailed: number; probes: ProbeResult[] }> {
  const seconds = Number(values['latency-seconds']);
  const probeRate = Number(values['probe-rate']);
  const before = (await r.engine.status()).engine.callsTotal as number;
  const load = callers(r, { ...(await sippPorts()), rate, calls: rate * seconds, holdMs });
  // Measure once the load runs at its rate: two seconds' worth of its calls have arrived.
  const until = Date.now() + 60_000;
  while (((await r.engine.status()).engine.callsTotal as number) < before + 2 * rate && Date.now() < until) await sleep(100);
  const running: Promise<ProbeResult>[] = [];
  const n = Math.floor((seconds - 4) * probeRate);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    running.push(probeCall({ host: '127.0.0.1', port: r.sipPort }, '1000', { talkMs: 200 }));
    await sleep(Math.max(0, t0 + ((i + 1) * 1000) / probeRate - performance.now()));
  }
  const probes = await Promise.all(running);
  const res = await load.done;
  await drained(r);
  return { rate, sippFailed: res.stats.failed, probes };
}

interface Step {
  readonly calls: number;
  readonly held: number;
  readonly sippFailed: number;
  readonly probePackets: number;
  readonly probeLost: number;
  readonly cpuPercent: number;
  readonly rtpengineCpuPercent: number;
  readonly rssMb: number;
  /** SIPp agents that echoed the load. */
  readonly loadAgents: number;
  /**
   * Datagrams the kernel dropped while the probes ran because a socket's receive buffer was full, by
   * holder: rtpengine, the engine's own processes, the probes' RTP sockets (each read just before it
   * closed), the load's SIPp agents (echo sockets; the load's callers, which never read what comes
   * back, are not counted).
   */
  readonly socketDrops: { readonly rtpengine: number; readonly engine: number; readonly probes: number; readonly loadAgents: number };
  /** Where the lost packets were in each probe that lost some (packet indices, 20 ms apart). */
  readonly lostIndices: readonly (readonly number[])[];
}

/** SIPp holds N talking calls; probes measure the loss while all are up. */
async function concurrency(r: Rig, setupRate: number): Promise<Step[]> {
  const steps: Step[] = [];
  const talkMs = Number(values['probe-talk-ms']);
  for (const n of values['concurrency-steps'].split(',').map(Number)) {
    const agents = Math.ceil(n / LOAD_CALLS_PER_AGENT);
    const rampMs = (n / setupRate) * 1000;
    const hold = Math.round(rampMs + talkMs + 20_000);
    const loads: ReturnType<typeof runSipp>[] = [];
    for (let i = 0; i < agents; i++) {
      const calls = Math.floor(n / agents) + (i < n % agents ? 1 : 0);
      loads.push(callers(r, { ...(await sippPorts()), service: String(LOAD_NUMBER_BASE + i), rate: Math.ceil(setupRate / agents), calls, holdMs: hold, extra: ['-l', String(calls)] }));
    }
    const end = Date.now() + rampMs + 60_000;
    let held = 0;
    while (Date.now() < end) {
      held = (await r.engine.status()).engine.liveCalls;
      if (held >= n) break;
      await sleep(250);
    }
    const cpu0 = r.engine.cpuMs();
    const rtp0 = r.engine.cpuMsOf('rtpengine');
    const drops0 = socketDrops();
    const w0 = performance.now();
    const probes = await Promise.all(Array.from({ length: 10 }, () => probeCall({ host: '127.0.0.1', port: r.sipPort }, PROBE_NUMBER, { talkMs })));
    const wallMs = performance.now() - w0;
    const tree = r.engine.processes();
    const dropped = dropsSince(drops0, {
      rtpengine: tree.filter((p) => p.comm.startsWith('rtpengine')).map((p) => p.pid),
      engine: tree.filter((p) => !p.comm.startsWith('rtpengine')).map((p) => p.pid),
      loadAgents: r.loadAgents.slice(0, agents).map((a) => a.pid!),
    });
    const cpuPercent = ((r.engine.cpuMs() - cpu0) / wallMs) * 100;
    const rtpengineCpuPercent = ((r.engine.cpuMsOf('rtpengine') - rtp0) / wallMs) * 100;
    const rssMb = (await r.engine.status()).process.rssBytes / 1e6;
    const results = await Promise.all(loads.map((l) => l.done));
    await drained(r);
    const sent = probes.reduce((s, p) => s + p.sent, 0);
    const lost = probes.reduce((s, p) => s + (p.sent - p.echoed), 0) + probes.filter((p) => p.finalStatus !== 200).length;
    const socketDropsOf = { rtpengine: dropped.rtpengine!, engine: dropped.engine!, probes: probes.reduce((s, p) => s + p.socketDrops, 0), loadAgents: dropped.loadAgents! };
    const step: Step = {
      calls: n,
      held,
      sippFailed: results.reduce((s, x) => s + x.stats.failed, 0),
      probePackets: sent,
      probeLost: lost,
      cpuPercent,
      rtpengineCpuPercent,
      rssMb,
      loadAgents: agents,
      socketDrops: socketDropsOf,
      lostIndices: probes.filter((p) => p.lostIndices.length > 0).map((p) => p.lostIndices),
    };
    steps.push(step);
    // The load's echo: every load call streams 50 packets/s to its agent for the probes' whole run.
    const echoDropPercent = (socketDropsOf.loadAgents / Math.max(1, (n * 50 * wallMs) / 1000)) * 100;
    console.log(
      `  ${n} calls (${held} held, ${agents} load agents): SIPp failed ${step.sippFailed}; probes lost ${lost} of ${sent} packets; ` +
        `socket drops: rtpengine ${socketDropsOf.rtpengine}, engine ${socketDropsOf.engine}, probes ${socketDropsOf.probes}, load agents ${socketDropsOf.loadAgents} (${echoDropPercent.toFixed(2)} % of the load's echo); ` +
        `CPU ${cpuPercent.toFixed(0)} % (rtpengine ${rtpengineCpuPercent.toFixed(0)} %)`,
    );
    if (!clean(step)) break;
  }
  return steps;
}

/** A step held every call with no loss on the measured path and no drop at the engine's or rtpengine's sockets. */
function clean(s: Step): boolean {
  return s.probeLost === 0 && s.sippFailed === 0 && s.held >= s.calls && s.socketDrops.rtpengine === 0 && s.socketDrops.engine === 0 && s.socketDrops.probes === 0;
}

/**
 * What the rest of the machine spends per call at the maximum (rtpengine, SIPp's callers and agents
 * streaming and echoing RTP, Redis, this script): the whole machine's busy time less the engine's own
 * threads. No engine, however cheap, can set up calls faster than the cores divided by that: the
 * ceiling this machine puts on the same calls with an engine that cost nothing.
 */
function outsideTheEngine(t: Trial | undefined): { machineCpuMsPerCallAtMax: number | null; outsideEngineCpuMsPerCallAtMax: number | null; rateCeilingWithCostlessEngine: number | null } {
  if (t === undefined) return { machineCpuMsPerCallAtMax: null, outsideEngineCpuMsPerCallAtMax: null, rateCeilingWithCostlessEngine: null };
  const outside = t.machineCpuMsPerCall - (t.cpuMsPerCall - t.rtpengineCpuMsPerCall);
  return {
    machineCpuMsPerCallAtMax: round(t.machineCpuMsPerCall, 2),
    outsideEngineCpuMsPerCallAtMax: round(outside, 2),
    rateCeilingWithCostlessEngine: outside > 0 ? Math.round((cpus().length * 1000) / outside) : null,
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'sb-full-call-'));
  const redis = await startRedis(work);
  const results: Record<string, unknown> = {};
  try {
    const cap: Partial<Record<Mode, Awaited<ReturnType<typeof capacity>>>> = {};
    for (const mode of MODES) {
      console.log(`\n== set-up rate: ${LABEL[mode]}`);
      const r = await rig(mode, work, redis.url);
      try {
        cap[mode] = await capacity(r);
      } finally {
        await r.stop();
      }
    }
    const half = Math.max(1, Math.floor(cap.full!.maxRate / 2));
    const lat: Partial<Record<Mode, Awaited<ReturnType<typeof latency>>>> = {};
    const conc: Partial<Record<Mode, Step[]>> = {};
    for (const mode of MODES) {
      const r = await rig(mode, work, redis.url);
      try {
        console.log(`\n== latency at ${half}/s: ${LABEL[mode]}`);
        lat[mode] = await latency(r, half);
        console.log(`\n== concurrent calls: ${LABEL[mode]}`);
        conc[mode] = await concurrency(r, Math.min(100, half));
      } finally {
        await r.stop();
      }
    }
    const summary = (mode: Mode): Record<string, unknown> => {
      const probes = lat[mode]!.probes;
      const ok = probes.filter((p) => p.finalStatus === 200);
      const confirm = cap[mode]!.trials.filter((t) => t.pass && t.rate === cap[mode]!.maxRate).at(-1);
      const steps = conc[mode]!;
      return {
        maxAllSuccessRate: cap[mode]!.maxRate,
        cpuMsPerCallAtMax: round(confirm?.cpuMsPerCall ?? null, 2),
        rtpengineCpuMsPerCallAtMax: round(confirm?.rtpengineCpuMsPerCall ?? null, 2),
        ...outsideTheEngine(confirm),
        latency: {
          offeredRate: half,
          probes: probes.length,
          probesAnswered: ok.length,
          sippFailed: lat[mode]!.sippFailed,
          inviteToRingingMs: { p50: round(percentile(ok.flatMap((p) => p.ringingMs ?? []), 50)), p99: round(percentile(ok.flatMap((p) => p.ringingMs ?? []), 99)) },
          inviteToFirstAudioMs: { p50: round(percentile(ok.flatMap((p) => p.firstAudioMs ?? []), 50)), p99: round(percentile(ok.flatMap((p) => p.firstAudioMs ?? []), 99)) },
          inviteToAnswerMs: { p50: round(percentile(ok.flatMap((p) => p.answerMs ?? []), 50)), p99: round(percentile(ok.flatMap((p) => p.answerMs ?? []), 99)) },
        },
        maxConcurrentWithoutLoss: steps.filter(clean).at(-1)?.calls ?? 0,
        concurrency: steps,
        trials: cap[mode]!.trials,
      };
    };
    Object.assign(results, {
      benchmark: 'engine-full-call',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage1m: machineLoad() },
      method: `RFC 7501-style search (${trialSeconds} s trials, ${holdMs} ms talk, UDP, pass = every call succeeds); latency by probe calls at ${values['probe-rate']}/s for ${values['latency-seconds']} s while SIPp offers half the full call's maximum; concurrency: SIPp holds N talking calls (agents of at most ${LOAD_CALLS_PER_AGENT} calls each), 10 probe calls stream ${values['probe-talk-ms']} ms of stamped packets echoed by their own agent; a step passes with no probe packet lost, no call failed and no datagram dropped at a socket of the engine, rtpengine or the probes`,
      signaling: summary('signaling'),
      full: summary('full'),
    });
    const out = values.out;
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'engine-full-call.json'), `${JSON.stringify(results, null, 2)}\n`);
    const s = results.signaling as ReturnType<typeof summary>;
    const f = results.full as ReturnType<typeof summary>;
    writeBarChart(join(out, 'engine-full-call-rate.svg'), {
      title: 'Highest set-up rate with every call succeeding (calls/s)',
      yLabel: 'calls per second',
      bars: MODES.map((m) => ({ label: LABEL[m], value: (m === 'full' ? f : s).maxAllSuccessRate as number })),
    });
    writeLineChart(join(out, 'engine-full-call-concurrency.svg'), {
      title: 'Concurrent talking calls: CPU of the engine and rtpengine (percent of one core)',
      xLabel: 'concurrent calls',
      yLabel: 'CPU %',
      series: MODES.flatMap((m) => [
        { name: `${m}: engine + rtpengine`, points: conc[m]!.map((x) => [x.calls, x.cpuPercent] as const) },
        ...(m === 'full' ? [{ name: 'full: rtpengine', points: conc[m]!.map((x) => [x.calls, x.rtpengineCpuPercent] as const) }] : []),
      ]),
    });
    console.log(`\n${JSON.stringify({ signaling: { ...s, trials: undefined, concurrency: undefined }, full: { ...f, trials: undefined, concurrency: undefined } }, null, 2)}`);
  } finally {
    redis.child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
