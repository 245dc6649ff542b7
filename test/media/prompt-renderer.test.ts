/**
 * Prompt rendering with the real espeak-ng and ffmpeg. The renderer is given
 * wrapper scripts that log every start and then exec the real programs, so
 * "a cache hit starts no process" is checked against real process starts,
 * not against a counter of our own.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel, rms } from '../../src/audio/analysis.js';
import { runFfmpeg } from '../../src/audio/ffmpeg.js';
import { ErrorCodes } from '../../src/errors.js';
import { PromptInputError, PromptRenderError } from '../../src/media/media-errors.js';
import { PromptRenderer } from '../../src/media/prompts/prompt-renderer.js';
import { fillTemplate, placeholdersOf } from '../../src/media/prompts/templates.js';
import { silentLogger } from '../../src/observability/logger.js';
import { readAudio } from '../support/rtp/audio-check.js';

let dir: string;
let log: string;
let espeak: string;
let ffmpeg: string;

function wrapper(name: string, real: string): string {
  const path = join(dir, 'bin', name);
  writeFileSync(path, `#!/bin/sh\necho ${name} >> '${log}'\nexec ${real} "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Process starts logged by the wrappers so far. */
function starts(): string[] {
  try {
    return readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

function renderer(cacheDir = join(dir, 'cache')): PromptRenderer {
  return new PromptRenderer({ cacheDir, espeakBinary: espeak, ffmpegBinary: ffmpeg, renderTimeoutMs: 20_000, logger: silentLogger() });
}

/** A test tone written by ffmpeg in some upload format. */
async function makeUpload(name: string, args: readonly string[]): Promise<string> {
  const file = join(dir, 'uploads', name);
  await runFfmpeg({ args: ['-y', ...args, file] });
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-prompts-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'uploads'));
  log = join(dir, 'starts.log');
  espeak = wrapper('espeak-ng', '/usr/bin/espeak-ng');
  ffmpeg = wrapper('ffmpeg', '/usr/bin/ffmpeg');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prompt rendering and its content-addressed cache', () => {
  it('TTS is rendered by espeak-ng then ffmpeg into an 8 kHz mono µ-law AU with speech in it', async () => {
    const r = renderer();
    const p = await r.render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    expect(starts()).toEqual(['espeak-ng', 'ffmpeg']);
    const wav = readAudio(p.path);
    expect(wav.sampleRate).toBe(8000);
    expect(wav.channels).toBe(1);
    expect(p.durationMs).toBe(Math.round((wav.samples.length * 1000) / 8000));
    expect(p.durationMs).toBeGreaterThan(800);
    expect(p.durationMs).toBeLessThan(4000);
    expect(rms(wav.samples)).toBeGreaterThan(1000);
    expect(readFileSync(p.path).toString('ascii', 0, 4)).toBe('.snd');
    expect(readFileSync(p.path).readUInt32BE(12)).toBe(1); // 8-bit µ-law
    expect(p.path.endsWith('.au')).toBe(true);
  });

  it('libavformat (what rtpengine plays prompts with) reads a rendered prompt in small packets, a µ-law WAV in 512 ms ones', async () => {
    // rtpengine 10.5's player sent each 512 ms WAV packet's audio at twice real time, then nothing for as long.
    const p = await renderer().render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    const packetMs = (file: string): number[] => {
      const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=duration_time', '-of', 'csv=p=0', file], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      return r.stdout.trim().split('\n').map((l) => Math.round(Number(l) * 1000));
    };
    const prompt = packetMs(p.path);
    expect(prompt.length).toBeGreaterThan(10);
    expect(Math.max(...prompt)).toBeLessThanOrEqual(64);
    const wav = join(dir, 'same-as-wav.wav');
    const converted = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', p.path, '-c:a', 'pcm_mulaw', wav]);
    expect(converted.status).toBe(0);
    expect(Math.max(...packetMs(wav))).toBe(512);
  });

  it('the same prompt again is a cache hit: same file, no process started, also for a fresh renderer (restart)', async () => {
    const before = starts().length;
    const first = renderer();
    const a = await first.render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    const b = await renderer().render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    expect(starts().length).toBe(before);
    expect(first.stats).toEqual({ renders: 0, cacheHits: 1, processesStarted: 0, mostWaiting: 0 });
    expect(b.path).toBe(a.path);
    expect(b.durationMs).toBe(a.durationMs);
  });

  it('a prompt this renderer knows is played from memory while its file is whole; a deleted or damaged file is rendered anew', async () => {
    const r = renderer();
    const source = { kind: 'tts', text: 'Kept in memory', language: 'en', speed: 1 } as const;
    const a = await r.render(source);
    const again = await r.render(source);
    expect(again).toEqual(a);
    expect(r.stats.cacheHits).toBe(1);
    rmSync(a.path);
    const b = await r.render(source);
    expect(b).toEqual(a);
    expect(readFileSync(b.path).length).toBe(a.bytes);
    writeFileSync(a.path, readFileSync(a.path).subarray(0, 100));
    await r.render(source);
    expect(readFileSync(a.path).length).toBe(a.bytes);
    expect(r.stats.renders).toBe(3);
  });

  it('changing the speed or the text renders anew; a faster read is shorter', async () => {
    const r = renderer();
    const base = await r.render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    const before = starts().length;
    const fast = await r.render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1.6 });
    const other = await r.render({ kind: 'tts', text: 'Inbound call from Support', language: 'en', speed: 1 });
    expect(starts().length - before).toBe(4);
    expect(new Set([base.key, fast.key, other.key]).size).toBe(3);
    expect(fast.durationMs).toBeLessThan(base.durationMs);
  });

  it('concurrent renders of one prompt share a single run', async () => {
    const r = renderer();
    const before = starts().length;
    const source = { kind: 'tts', text: 'Callback from Billing', language: 'en-US', speed: 1 } as const;
    const [a, b, c] = await Promise.all([r.render(source), r.render(source), r.render(source)]);
    expect(starts().length - before).toBe(2);
    expect(new Set([a.path, b.path, c.path]).size).toBe(1);
  });

  it('a burst of new texts runs at most renderConcurrency processes at once; the others wait their turn and are all rendered', async () => {
    // Wrappers that note how many of them run at that moment (a file per running process).
    const running = join(dir, 'running');
    const counts = join(dir, 'concurrency.log');
    mkdirSync(running, { recursive: true });
    const counting = (name: string, real: string): string => {
      const path = join(dir, 'bin', `counting-${name}`);
      writeFileSync(path, `#!/bin/sh\ntouch '${running}/'$$\nls '${running}' | wc -l >> '${counts}'\n${real} "$@"\nrc=$?\nrm -f '${running}/'$$\nexit $rc\n`);
      chmodSync(path, 0o755);
      return path;
    };
    const r = new PromptRenderer({
      cacheDir: join(dir, 'burst-cache'),
      espeakBinary: counting('espeak-ng', '/usr/bin/espeak-ng'),
      ffmpegBinary: counting('ffmpeg', '/usr/bin/ffmpeg'),
      renderTimeoutMs: 20_000,
      renderConcurrency: 2,
      logger: silentLogger(),
    });
    const rendered = await Promise.all(Array.from({ length: 12 }, (_, i) => r.render({ kind: 'tts', text: `You are caller number ${i + 1}.`, language: 'en', speed: 1 })));
    expect(new Set(rendered.map((p) => p.path)).size).toBe(12);
    expect(rendered.every((p) => p.durationMs > 500)).toBe(true);
    const seen = readFileSync(counts, 'utf8').trim().split('\n').map(Number);
    expect(seen).toHaveLength(24);
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(r.stats.mostWaiting).toBeGreaterThan(0);
  });

  it('an uploaded mp3 (44.1 kHz stereo) becomes 8 kHz mono with its tone intact', async () => {
    const mp3 = await makeUpload('tone.mp3', ['-f', 'lavfi', '-i', 'sine=frequency=1000:sample_rate=44100:duration=2', '-ac', '2', '-c:a', 'libmp3lame']);
    const p = await renderer().render({ kind: 'file', file: mp3, speed: 1 });
    const wav = readAudio(p.path);
    expect(wav.sampleRate).toBe(8000);
    expect(Math.abs(p.durationMs - 2000)).toBeLessThan(120); // mp3 frames pad the ends a little
    const middle = wav.samples.subarray(4000, 4000 + 800);
    expect(goertzel(middle, 1000)).toBeGreaterThan(0.8 * Math.SQRT2 * rms(middle));
  });

  it('speed changes a recording\'s length but not its pitch (atempo)', async () => {
    const wavUpload = await makeUpload('tone.wav', ['-f', 'lavfi', '-i', 'sine=frequency=500:sample_rate=16000:duration=3']);
    const normal = await renderer().render({ kind: 'file', file: wavUpload, speed: 1 });
    const fast = await renderer().render({ kind: 'file', file: wavUpload, speed: 1.5 });
    expect(fast.durationMs / normal.durationMs).toBeGreaterThan(0.62);
    expect(fast.durationMs / normal.durationMs).toBeLessThan(0.71);
    const mid = readAudio(fast.path).samples.subarray(4000, 4800);
    expect(goertzel(mid, 500)).toBeGreaterThan(5 * goertzel(mid, 750)); // 750 Hz is where plain resampling would put it
  });

  it('the cache is keyed by the upload\'s bytes: replacing the file renders anew', async () => {
    const file = await makeUpload('replaced.wav', ['-f', 'lavfi', '-i', 'sine=frequency=600:duration=1']);
    const r = renderer();
    const a = await r.render({ kind: 'file', file, speed: 1 });
    await makeUpload('replaced.wav', ['-f', 'lavfi', '-i', 'sine=frequency=900:duration=1']);
    const b = await r.render({ kind: 'file', file, speed: 1 });
    expect(b.key).not.toBe(a.key);
    expect(r.stats.renders).toBe(2);
  });

  it.each([
    ['a missing file', () => join(dir, 'uploads', 'nope.mp3'), /does not exist/],
    ['a directory', () => join(dir, 'uploads'), /is a directory/],
    [
      'a text file named .mp3',
      () => {
        const f = join(dir, 'uploads', 'notes.mp3');
        writeFileSync(f, 'these are not the sounds you are looking for\n'.repeat(20));
        return f;
      },
      /is not an audio file that can be played/,
    ],
  ])('%s is refused with a clear PromptInputError naming the file', async (_what, file, message) => {
    const path = file();
    const err = await renderer().render({ kind: 'file', file: path, speed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptInputError);
    expect((err as PromptInputError).code).toBe(ErrorCodes.PROMPT_INPUT);
    expect((err as PromptInputError).file).toBe(path);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(path);
  });

  it('a file with no audio stream (a picture) is refused as not audio', async () => {
    const png = await makeUpload('picture.png', ['-f', 'lavfi', '-i', 'color=c=red:s=16x16', '-frames:v', '1']);
    const err = await renderer().render({ kind: 'file', file: png, speed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptInputError);
    expect((err as Error).message).toMatch(/not an audio file/);
  });

  it('a language without a TTS voice is a PromptRenderError naming the voice', async () => {
    const err = await renderer().render({ kind: 'tts', text: 'hello', language: 'xx-zz', speed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptRenderError);
    expect((err as PromptRenderError).code).toBe(ErrorCodes.PROMPT_RENDER);
    expect((err as Error).message).toContain('"xx-zz"');
  });

  it('a text starting with "-" is spoken, not taken for an option', async () => {
    const p = await renderer().render({ kind: 'tts', text: '-s 999 minus', language: 'en', speed: 1 });
    expect(p.durationMs).toBeGreaterThan(300);
  });

  it('a sequence (whisper then countdown) is the parts with the gap between them; ringback needs no process', async () => {
    const r = renderer();
    const whisper = await r.render({ kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 });
    const countdown = await r.render({ kind: 'tts', text: "You're connected - call will begin in 3, 2, 1", language: 'en', speed: 1 });
    const both = await r.render({
      kind: 'sequence',
      gapMs: 250,
      parts: [
        { kind: 'tts', text: 'Inbound call from Sales', language: 'en', speed: 1 },
        { kind: 'tts', text: "You're connected - call will begin in 3, 2, 1", language: 'en', speed: 1 },
      ],
    });
    // Every render is whole 20 ms packets (the player sends no partial one): the sequence too, padded once at its end.
    for (const p of [whisper, countdown, both]) expect(p.durationMs % 20, `${p.durationMs} ms`).toBe(0);
    expect(both.durationMs).toBe(Math.ceil((whisper.durationMs + 250 + countdown.durationMs) / 20) * 20);
    const before = starts().length;
    const ring = await r.render({ kind: 'ringback', plan: 'us' });
    expect(starts().length).toBe(before);
    expect(ring.durationMs).toBe(6000);
    const samples = readAudio(ring.path).samples;
    expect(goertzel(samples.subarray(0, 400), 480)).toBeGreaterThan(3000);
    expect(rms(samples.subarray(3 * 8000, 4 * 8000))).toBe(0);
  });
});

describe('prompt templates', () => {
  it('"{Call Type} from {Queue Name}" is filled from the values', () => {
    expect(fillTemplate('{Call Type} from {Queue Name}', { 'Call Type': 'Inbound call', 'Queue Name': 'Sales' })).toBe('Inbound call from Sales');
    expect(placeholdersOf('{Call Type} from {Queue Name}, {Call Type}')).toEqual(['Call Type', 'Queue Name']);
  });

  it('a placeholder without a value is an error naming it', () => {
    expect(() => fillTemplate('{Call Type} about {Topic}', { 'Call Type': 'x' })).toThrow(/\{Topic\}/);
  });
});
