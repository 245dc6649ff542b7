/**
 * Parts: a recording larger than the limit becomes ordered parts of at most
 * that size, each a file ffmpeg plays on its own (70 MB → 50 MB + 20 MB).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeRecording } from '../../src/recordings/convert/encode-recording.js';
import { KeyRing } from '../../src/recordings/crypto/key-ring.js';
import { SealedFile } from '../../src/recordings/crypto/sealed-file.js';
import { partBody } from '../../src/recordings/parts/part-body.js';
import { planParts, type AudioLayout } from '../../src/recordings/parts/part-plan.js';
import { writeLongCall } from './support/long-call.js';
import { splitStereo, toneLevel } from './support/audio-check.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'sb-rec-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ring = new KeyRing('k', randomBytes(32));
const MiB = 1024 * 1024;

async function writeParts(encrypted: string, layout: AudioLayout, limit: number, ext: string): Promise<string[]> {
  const sealed = await SealedFile.open(encrypted, ring);
  try {
    const files: string[] = [];
    for (const [i, p] of planParts(layout, limit).entries()) {
      const file = join(dir, `part${i + 1}-${limit}.${ext}`);
      await pipeline(Readable.from(partBody(sealed, layout, p)), createWriteStream(file));
      expect(statSync(file).size).toBe(p.size);
      files.push(file);
    }
    return files;
  } finally {
    await sealed.close();
  }
}

async function probeSeconds(file: string): Promise<number> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

/** Decodes the whole file; ffmpeg at log level error prints nothing for a clean file. */
async function decodeErrors(file: string): Promise<string> {
  const { stderr } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-i', file, '-f', 'null', '-'], { maxBuffer: 1 << 20 });
  return stderr.trim();
}

async function decodeSlice(file: string, fromSeconds: number, seconds: number): Promise<Buffer> {
  const { stdout } = await run('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-ss', String(fromSeconds), '-t', String(seconds), '-i', file, '-f', 's16le', '-ac', '2', '-ar', '8000', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
  });
  return stdout;
}

describe('the WAV written without ffmpeg', () => {
  it('is, byte for byte, what ffmpeg writes for the same audio (mono and stereo)', async () => {
    const pcap = join(dir, 'short.pcap');
    writeLongCall(pcap, { seconds: 3 });
    for (const channels of ['stereo', 'mono'] as const) {
      const out = join(dir, `short-${channels}.enc`);
      const enc = await encodeRecording({ segments: [pcap], format: 'wav', channels, keyRing: ring, outFile: out });
      const sealed = await SealedFile.open(out, ring);
      const ours: Buffer[] = [];
      try {
        for await (const b of sealed.range(0, enc.audioBytes)) ours.push(b);
      } finally {
        await sealed.close();
      }
      const wav = Buffer.concat(ours);
      // ffmpeg given our samples, with the arguments the encoder used before it wrote WAVs itself.
      const pcm = wav.subarray(enc.layout.dataOffset);
      const n = channels === 'stereo' ? '2' : '1';
      const ffmpegRun = run('ffmpeg', ['-nostdin', '-v', 'error', '-f', 's16le', '-ar', '8000', '-ac', n, '-i', 'pipe:0', '-map_metadata', '-1', '-c:a', 'pcm_s16le', '-fflags', '+bitexact', '-flags:a', '+bitexact', '-f', 'wav', 'pipe:1'], { encoding: 'buffer', maxBuffer: 64 << 20 });
      ffmpegRun.child.stdin!.end(pcm);
      const ffmpeg = (await ffmpegRun).stdout;
      expect(pcm.length).toBe(3 * 8000 * 2 * Number(n));
      expect(wav.equals(ffmpeg), `${channels}: ours ${wav.subarray(0, 48).toString('hex')} ffmpeg ${ffmpeg.subarray(0, 48).toString('hex')}`).toBe(true);
    }
  }, 60_000);
});

describe('parts of at most the limit, each playable', () => {
  const seconds = (70 * MiB) / 32_000; // 70 MiB of 8 kHz 16-bit stereo
  const pcap = join(dir, 'long.pcap');
  writeLongCall(pcap, { seconds });

  it('splits a 70 MB WAV recording into a 50 MB and a 20 MB part that ffmpeg plays, in order, with nothing lost', async () => {
    const out = join(dir, 'long-wav.enc');
    const enc = await encodeRecording({ segments: [pcap], format: 'wav', channels: 'stereo', keyRing: ring, outFile: out });
    expect(enc.layout.dataBytes).toBe(70 * MiB);
    const parts = await writeParts(out, enc.layout, 50 * MiB, 'wav');
    const sizes = parts.map((f) => statSync(f).size);
    expect(sizes.length).toBe(2);
    expect(sizes[0]).toBe(50 * MiB);
    expect(sizes[1]).toBe(70 * MiB - (50 * MiB - 44) + 44);
    const durations = await Promise.all(parts.map(probeSeconds));
    expect(durations[0]! + durations[1]!).toBeCloseTo(seconds, 2);
    for (const f of parts) expect(await decodeErrors(f)).toBe('');
    // the second part carries on where the first stopped: caller left, agent right
    const { left, right } = splitStereo(await decodeSlice(parts[1]!, 10, 1));
    expect(toneLevel(left, 0, 1000, 440)).toBeGreaterThan(6000);
    expect(toneLevel(right, 0, 1000, 1000)).toBeGreaterThan(6000);
  }, 120_000);

  it('splits an MP3 recording on frame boundaries into parts that each decode cleanly', async () => {
    const out = join(dir, 'long-mp3.enc');
    const enc = await encodeRecording({ segments: [pcap], format: 'mp3', channels: 'stereo', mp3BitrateKbps: 32, keyRing: ring, outFile: out });
    const limit = 3 * MiB;
    const parts = await writeParts(out, enc.layout, limit, 'mp3');
    expect(parts.length).toBe(Math.ceil(enc.layout.dataBytes / limit));
    for (const f of parts) {
      expect(statSync(f).size).toBeLessThanOrEqual(limit);
      expect(await decodeErrors(f)).toBe('');
    }
    const total = (await Promise.all(parts.map(probeSeconds))).reduce((a, b) => a + b, 0);
    expect(Math.abs(total - seconds)).toBeLessThan(0.5);
    const { left, right } = splitStereo(await decodeSlice(parts[parts.length - 1]!, 5, 1));
    expect(toneLevel(left, 0, 1000, 440)).toBeGreaterThan(4000);
    expect(toneLevel(right, 0, 1000, 1000)).toBeGreaterThan(4000);
  }, 120_000);
});
