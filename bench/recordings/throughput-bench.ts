/**
 * Recording pipeline throughput (not part of the test run): how many ended
 * calls' recordings a worker turns into delivered recordings per second, for
 * calls of a typical length. The 2 GB bench (recordings-bench.ts) measures one
 * huge recording; a contact centre makes many short ones, where what costs is
 * per recording: the queue round trips, one ffmpeg process each, the manifest
 * and spool writes, one CRM request per part.
 *
 * Each run: `--count` one-segment captures of `--seconds` (caller 440 Hz,
 * agent 1000 Hz, PCMU, as rtpengine writes them) handed over as the engine
 * does (RecordingSubmitter: manifest to the spool, a BullMQ job), drained by a
 * real RecordingsWorker (embedded Redis, encryption on, default upload
 * settings) into a local HTTP CRM that reads every part and confirms it; timed
 * from the first hand-over to the last `uploaded` event, for each format in
 * `--formats` and each convertConcurrency in `--conversions`.
 *
 * Baselines in the same run, on the same count and length, as many at once as
 * the run's convertConcurrency: for MP3 (the default format), ffmpeg alone,
 * one process per recording encoding raw PCM with the pipeline's MP3 settings:
 * the ceiling of any pipeline that encodes each recording with its own ffmpeg;
 * for WAV (written without ffmpeg), a plain copy of each capture file: the
 * disk's floor.
 *
 * Sustained load it implies: a centre whose calls last `--seconds` on average
 * makes (concurrent calls ÷ seconds) recordings a second, so a throughput of
 * R recordings/s keeps up with R × seconds concurrent recorded calls
 * (`keepsUpWithConcurrentCalls`), with the machine to itself. On the engine's
 * own host the worker shares the CPU with the calls (convertConcurrency 1 by
 * default: calls come first).
 *
 * Run: npx tsx bench/recordings/throughput-bench.ts [--count 200] [--seconds 180] [--formats mp3,wav] [--conversions 1,2]
 * Writes bench/results/recordings-throughput.json and recordings-throughput.svg.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { recordingFixture } from '../../test/recordings/support/recording-fixture.js';
import { writeBarChart } from '../lib/chart.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '180' },
    formats: { type: 'string', default: 'mp3,wav' },
    conversions: { type: 'string', default: '1,2' },
    out: { type: 'string', default: join(root, 'bench/results') },
  },
});
const count = Number(values.count);
const seconds = Number(values.seconds);
const conversions = values.conversions.split(',').map(Number);
const formats = values.formats.split(',') as Format[];
if (formats.some((f) => f !== 'mp3' && f !== 'wav')) throw new Error('--formats: mp3 and/or wav');
if (!(count > 0) || !(seconds > 0) || conversions.some((c) => !(c >= 1))) throw new Error('--count, --seconds and --conversions must be positive');
const work = mkdtempSync(join(tmpdir(), 'sb-rec-throughput-'));

/** A CRM that reads every part to the end and confirms it (no fault: the pipeline's own cost is measured). */
async function sinkCrm(): Promise<{ url: string; parts: () => number; close: () => void }> {
  let parts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      parts++;
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ attachmentId: `p${parts}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, parts: () => parts, close: () => server.close() };
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

type Format = 'mp3' | 'wav';

interface Run {
  readonly format: Format;
  readonly convertConcurrency: number;
  readonly recordings: number;
  readonly uploaded: number;
  readonly failed: number;
  readonly parts: number;
  readonly seconds: number;
  readonly recordingsPerSecond: number;
  readonly workerCpuMsPerRecording: number;
  /** The baseline: ffmpeg alone (MP3) or a plain copy of each capture (WAV), recordings per second. */
  readonly baselineRecordingsPerSecond: number;
}

async function pipelineRun(redis: EmbeddedRedis, format: Format, convertConcurrency: number): Promise<Omit<Run, 'baselineRecordingsPerSecond'>> {
  const crm = await sinkCrm();
  const name = `${format}-${convertConcurrency}`;
  const state = join(work, `state-${name}`);
  const config = loadConfigObject({
    node: { stateDir: state, logLevel: 'silent' },
    redis: { url: redis.url, keyPrefix: `bench-${name}` },
    recordings: { format, encryption: { keyId: 'bench', key: randomBytes(32).toString('base64') }, convertConcurrency },
    crm: { adapter: 'http', http: { url: crm.url } },
  });
  const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
  let uploaded = 0;
  let failed = 0;
  let finished: () => void = () => undefined;
  const allDone = new Promise<void>((r) => (finished = r));
  const unsubscribe = worker.events.subscribe((e) => {
    if (e.type === 'uploaded') uploaded++;
    else if (e.type === 'failed' || e.type === 'expired') failed++;
    else return;
    if (uploaded + failed === count) finished();
  });
  // The captures exist before the clock starts: rtpengine wrote them during the calls.
  const fixtures = Array.from({ length: count }, (_, i) => recordingFixture({ recordingId: `bench-${name}-${i}`, captureDir: worker.paths.captureDir, seconds }));
  const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const f of fixtures) await submitter.submit(f.manifest);
  await allDone;
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs(process.cpuUsage(cpu0));
  unsubscribe();
  await worker.stop();
  crm.close();
  rmSync(state, { recursive: true, force: true });
  return {
    format,
    convertConcurrency,
    recordings: count,
    uploaded,
    failed,
    parts: crm.parts(),
    seconds: +wall.toFixed(2),
    recordingsPerSecond: +(count / wall).toFixed(2),
    workerCpuMsPerRecording: Math.round(cpu / count),
  };
}

/** Runs `count` jobs, `parallel` at a time; recordings per second. */
async function perSecond(parallel: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await one(next++);
    }),
  );
  return +(count / ((performance.now() - t0) / 1000)).toFixed(2);
}

/**
 * ffmpeg alone: a process per recording encoding `seconds` of stereo 8 kHz PCM with the pipeline's MP3
 * settings, the same two tones as the captures (the encoder's cost depends on the audio).
 */
async function ffmpegAlone(parallel: number): Promise<number> {
  const pcm = join(work, 'call.pcm');
  const tones = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', `sine=f=440:r=8000:d=${seconds}`, '-f', 'lavfi', '-i', `sine=f=1000:r=8000:d=${seconds}`, '-filter_complex', '[0:a][1:a]join=inputs=2:channel_layout=stereo', '-f', 's16le', '-y', pcm]);
  if (tones.status !== 0) throw new Error(`ffmpeg could not make the baseline's audio: ${tones.stderr.toString()}`);
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 's16le', '-ar', '8000', '-ac', '2', '-i', pcm, '-c:a', 'libmp3lame', '-b:a', '32k', '-reservoir', '0', '-write_xing', '0', '-id3v2_version', '0', '-f', 'mp3', '-y', '/dev/null'];
  const rate = await perSecond(
    parallel,
    () =>
      new Promise((ok, fail) => {
        const p = spawn('ffmpeg', args, { stdio: 'ignore' });
        p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg exited ${String(code)}`))));
        p.on('error', fail);
      }),
  );
  rmSync(pcm, { force: true });
  return rate;
}

/** A plain copy of each capture file (same length, as rtpengine wrote it). */
async function plainCopies(parallel: number): Promise<number> {
  const dir = join(work, 'copies');
  const { pcap } = recordingFixture({ recordingId: 'copy-source', captureDir: dir, seconds });
  const rate = await perSecond(parallel, async (i) => copyFileSync(pcap, join(dir, `copy-${i}.pcap`)));
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

mkdirSync(values.out, { recursive: true });
const redis = new EmbeddedRedis({ dir: join(work, 'redis'), logger: silentLogger() });
await redis.start();
const runs: Run[] = [];
try {
  for (const f of formats) {
    for (const c of conversions) {
      process.stderr.write(`recordings throughput: ${count} recordings of ${seconds} s, ${f}, convertConcurrency ${c} ...\n`);
      const baselineRecordingsPerSecond = f === 'mp3' ? await ffmpegAlone(c) : await plainCopies(c);
      runs.push({ ...(await pipelineRun(redis, f, c)), baselineRecordingsPerSecond });
    }
  }
} finally {
  await redis.stop();
  rmSync(work, { recursive: true, force: true });
}
const summary = runs.map((r) => ({ ...r, keepsUpWithConcurrentCalls: Math.floor(r.recordingsPerSecond * seconds), ofBaseline: +(r.recordingsPerSecond / r.baselineRecordingsPerSecond).toFixed(2) }));
const result = { node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString(), callSeconds: seconds, runs: summary };
writeFileSync(join(values.out, 'recordings-throughput.json'), `${JSON.stringify(result, null, 2)}\n`);
writeBarChart(join(values.out, 'recordings-throughput.svg'), {
  title: `Recordings delivered per second (${count} calls of ${seconds} s, encrypted, HTTP CRM)`,
  yLabel: 'recordings / s',
  bars: summary.flatMap((s) => [
    { label: `${s.format === 'mp3' ? 'ffmpeg alone' : 'plain copy'} ×${s.convertConcurrency}`, value: s.baselineRecordingsPerSecond, note: 'baseline' },
    { label: `${s.format}, convert ×${s.convertConcurrency}`, value: s.recordingsPerSecond, note: `keeps up with ${s.keepsUpWithConcurrentCalls} calls` },
  ]),
});
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
if (runs.some((r) => r.uploaded !== count)) {
  process.stderr.write('not every recording was uploaded\n');
  process.exitCode = 1;
}
