/**
 * Recording pipeline benchmark (not part of the test run): a recording whose
 * converted WAV is about 2 GB (about 18.6 hours of stereo call, a 1.45 GB
 * capture) is converted, encrypted, split into 50 MB parts and uploaded to a
 * local HTTP CRM, in a process of its own whose memory is sampled throughout.
 *
 * Reported: peak RSS (the Node process exactly, Node + ffmpeg sampled every
 * 100 ms; and, for scale, the same process idle with every module loaded),
 * conversion speed as a multiple of real time, upload throughput.
 * Baselines measured in the same run on the same data: a plain streamed copy
 * of the capture file (disk throughput) and ffmpeg alone encoding the same
 * length of the same tones from a looped file (the encoder's own speed).
 *
 * Run: npx tsx bench/recordings/recordings-bench.ts [--gb 2] [--formats wav,mp3] [--runner dist|tsx]
 * Writes bench/results/recordings.json, recordings-speed.svg, recordings-rss.svg.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { writeBarChart, writeLineChart } from '../lib/chart.js';
import { writeLongCall } from '../../test/recordings/support/long-call.js';

const root = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '2' },
    formats: { type: 'string', default: 'wav,mp3' },
    out: { type: 'string', default: join(root, 'bench/results') },
    runner: { type: 'string', default: 'dist' },
  },
});
/**
 * The measured process runs the compiled JavaScript, as `switchboard recordings-worker` does in
 * production (`--runner tsx` runs the TypeScript through tsx instead, whose loader and esbuild
 * service add their own memory).
 */
function childArgs(extra: string[]): string[] {
  if (values.runner === 'tsx') return ['--import', 'tsx', join(import.meta.dirname, 'pipeline-run.ts'), ...extra];
  return [join(root, 'dist/bench/recordings/pipeline-run.js'), ...extra];
}
if (values.runner !== 'tsx') {
  // Compile first (tsc emits even if another part of the tree has a type error).
  spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' });
  if (!existsSync(join(root, 'dist/bench/recordings/pipeline-run.js'))) throw new Error('build failed: dist/bench/recordings/pipeline-run.js missing');
}
const wavBytes = Number(values.gb) * 1024 ** 3;
const seconds = wavBytes / 32_000; // 8 kHz, 16-bit, stereo
const formats = values.formats.split(',') as ('wav' | 'mp3')[];
const work = mkdtempSync(join(tmpdir(), 'sb-rec-bench-'));

/** A CRM that reads every part to the end (counting bytes) and confirms it. */
async function sinkCrm(): Promise<{ url: string; bytes: () => number; parts: () => number; close: () => void }> {
  let bytes = 0;
  let parts = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      parts++;
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ attachmentId: `p${parts}` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`, bytes: () => bytes, parts: () => parts, close: () => server.close() };
}

function rssKB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? 0 : Number(m[1]);
  } catch {
    return 0;
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function timed<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  return f().then((value) => ({ ms: performance.now() - t, value }));
}

async function plainCopy(file: string): Promise<number> {
  const target = join(work, 'copy.bin');
  const { ms } = await timed(() => pipeline(createReadStream(file, { highWaterMark: 256 * 1024 }), createWriteStream(target)));
  rmSync(target);
  return ms;
}

/**
 * The encoder alone on the same audio: ten seconds of the benchmark's two tones (caller 440 Hz
 * left, agent 1000 Hz right) looped to the same length. (Digital silence would flatter MP3: the
 * encoder does almost nothing for it.)
 */
async function ffmpegAlone(format: 'wav' | 'mp3'): Promise<number> {
  const tone = join(work, 'tone.wav');
  spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'sine=f=440:r=8000:d=10', '-f', 'lavfi', '-i', 'sine=f=1000:r=8000:d=10', '-filter_complex', '[0:a][1:a]join=inputs=2:channel_layout=stereo', '-c:a', 'pcm_s16le', '-y', tone]);
  const codec = format === 'wav' ? ['-c:a', 'pcm_s16le', '-f', 'wav'] : ['-c:a', 'libmp3lame', '-b:a', '32k', '-reservoir', '0', '-f', 'mp3'];
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-stream_loop', '-1', '-i', tone, '-t', String(seconds), ...codec, '-y', '/dev/null'];
  const { ms } = await timed(
    () =>
      new Promise<void>((ok, fail) => {
        const p = spawn('ffmpeg', args, { stdio: 'ignore' });
        p.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`ffmpeg exited ${String(code)}`))));
      }),
  );
  return ms;
}

/** RSS of the same child process with everything loaded and no work: the fixed cost of Node, tsx and the modules. */
async function idleRssMB(): Promise<number> {
  const child = spawn(process.execPath, childArgs(['--idle']), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise((r) => child.on('exit', r));
  return (JSON.parse(out.trim()) as { nodeMaxRssMB: number }).nodeMaxRssMB;
}

interface Run {
  format: string;
  pcapBytes: number;
  audioBytes: number;
  audioSeconds: number;
  convertMs: number;
  uploadMs: number;
  parts: number;
  nodeMaxRssMB: number;
  treePeakRssMB: number;
  rss: [number, number][];
  crmBytes: number;
  baselineCopyMs: number;
  baselineFfmpegMs: number;
}

async function measure(format: 'wav' | 'mp3'): Promise<Run> {
  const pcap = join(work, `call-${format}.pcap`);
  writeLongCall(pcap, { seconds });
  const baselineCopyMs = await plainCopy(pcap);
  const baselineFfmpegMs = await ffmpegAlone(format);
  const crm = await sinkCrm();
  const state = join(work, `state-${format}`);
  const child = spawn(process.execPath, childArgs(['--pcap', pcap, '--state', state, '--crm', crm.url, '--format', format]), {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const started = performance.now();
  const rss: [number, number][] = [];
  let peak = 0;
  const sampler = setInterval(() => {
    const pids = [child.pid!, ...children(child.pid!)];
    const kb = pids.reduce((s, p) => s + rssKB(p), 0);
    peak = Math.max(peak, kb);
    rss.push([(performance.now() - started) / 1000, kb / 1024]);
  }, 100);
  await new Promise<void>((ok, fail) => child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`pipeline run exited ${String(code)}`)))));
  clearInterval(sampler);
  crm.close();
  rmSync(state, { recursive: true, force: true });
  rmSync(pcap, { force: true });
  const r = JSON.parse(out.trim().split('\n').pop()!) as Omit<Run, 'treePeakRssMB' | 'rss' | 'crmBytes' | 'baselineCopyMs' | 'baselineFfmpegMs'>;
  return { ...r, treePeakRssMB: peak / 1024, rss, crmBytes: crm.bytes(), baselineCopyMs, baselineFfmpegMs };
}

mkdirSync(values.out, { recursive: true });
const runs: Run[] = [];
const idleMB = await idleRssMB();
try {
  for (const f of formats) {
    process.stderr.write(`recordings bench: ${f}, ${(seconds / 3600).toFixed(1)} h of audio ...\n`);
    runs.push(await measure(f));
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const MB = 1024 * 1024;
const summary = runs.map((r) => ({
  format: r.format,
  captureMB: +(r.pcapBytes / MB).toFixed(0),
  recordingMB: +(r.audioBytes / MB).toFixed(0),
  audioHours: +(r.audioSeconds / 3600).toFixed(2),
  parts: r.parts,
  uploadedMB: +(r.crmBytes / MB).toFixed(0),
  convertSeconds: +(r.convertMs / 1000).toFixed(1),
  conversionRealtimeFactor: Math.round(r.audioSeconds / (r.convertMs / 1000)),
  ffmpegAloneRealtimeFactor: Math.round(r.audioSeconds / (r.baselineFfmpegMs / 1000)),
  captureReadMBps: Math.round(r.pcapBytes / MB / (r.convertMs / 1000)),
  plainCopyMBps: Math.round(r.pcapBytes / MB / (r.baselineCopyMs / 1000)),
  uploadSeconds: +(r.uploadMs / 1000).toFixed(1),
  uploadMBps: Math.round(r.crmBytes / MB / (r.uploadMs / 1000)),
  peakRssNodeMB: Math.round(r.nodeMaxRssMB),
  peakRssNodePlusFfmpegMB: Math.round(r.treePeakRssMB),
}));
const result = { runner: values.runner, idleProcessRssMB: Math.round(idleMB), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, date: new Date().toISOString(), wavTargetBytes: wavBytes, runs: summary };
writeFileSync(join(values.out, 'recordings.json'), `${JSON.stringify(result, null, 2)}\n`);
writeBarChart(join(values.out, 'recordings-speed.svg'), {
  title: `Recording conversion speed (${(seconds / 3600).toFixed(1)} h call), × real time`,
  yLabel: '× real time',
  bars: summary.flatMap((s) => [
    { label: `ffmpeg alone (${s.format})`, value: s.ffmpegAloneRealtimeFactor, note: 'baseline' },
    { label: `pipeline (${s.format})`, value: s.conversionRealtimeFactor, note: 'pcap → PCM → ffmpeg → sealed' },
  ]),
});
writeLineChart(join(values.out, 'recordings-rss.svg'), {
  title: 'Memory while converting and uploading (Node + ffmpeg)',
  xLabel: 'seconds',
  yLabel: 'RSS (MB)',
  series: runs.map((r) => ({ name: r.format, points: r.rss.filter((_, i) => i % 5 === 0) })),
  marks: [
    { label: '200 MB aim', y: 200 },
    { label: 'idle process', y: idleMB },
  ],
});
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
