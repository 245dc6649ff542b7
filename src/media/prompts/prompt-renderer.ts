/**
 * Renders prompts into the playback format (µ-law AU, 8 kHz mono: au.ts) through a
 * content-addressed on-disk cache: the file name is a hash of everything that
 * affects the audio (the renderer version, the output format, the text, voice
 * and speed, or the uploaded file's bytes and speed), so a prompt is rendered
 * once, a change to any input renders anew, and a cache hit starts no process.
 * Concurrent renders of the same prompt share one run, and at most
 * `renderConcurrency` renders run espeak-ng or ffmpeg at once: the others wait
 * their turn (a burst of new texts must not fork dozens of processes on the
 * engine's machine and starve its calls).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { FfmpegError, runFfmpeg } from '../../audio/ffmpeg.js';
import type { Logger } from '../../observability/logger.js';
import { PromptInputError, PromptRenderError } from '../media-errors.js';
import { concatWithGaps, normalizePeak, trimSilence } from './audio-shaping.js';
import { espeakVoice, espeakWordsPerMinute, runEspeak } from './espeak.js';
import { ringbackCycle, toneOf, type RingbackPlan } from './ringback.js';
import { decodeMulawAu, encodeMulawAu, isWholeAu, mulawDurationMs, PLAYBACK_RATE } from './au.js';

/**
 * Bump when the rendering pipeline changes what it produces (filters, trimming,
 * levels): every cached prompt is then rendered again.
 */
export const RENDERER_VERSION = 2;
const OUTPUT_FORMAT = 'au/mulaw/8000/mono';

/** What to render. */
export type PromptSource =
  | { readonly kind: 'tts'; readonly text: string; readonly language: string; readonly speed: number }
  | { readonly kind: 'file'; readonly file: string; readonly speed: number }
  | { readonly kind: 'ringback'; readonly plan: RingbackPlan }
  /** A plain tone (a voicemail's beep). */
  | { readonly kind: 'tone'; readonly frequency: number; readonly ms: number }
  | { readonly kind: 'sequence'; readonly parts: readonly PromptSource[]; readonly gapMs: number };

export interface RenderedPrompt {
  /** The cache key (hex SHA-256). */
  readonly key: string;
  /** Absolute path of the cached file. */
  readonly path: string;
  readonly durationMs: number;
  readonly bytes: number;
}

export interface PromptRendererOptions {
  readonly cacheDir: string;
  readonly espeakBinary: string;
  readonly ffmpegBinary: string;
  readonly renderTimeoutMs: number;
  /** Renders running processes at once (default 2). */
  readonly renderConcurrency?: number;
  readonly logger: Logger;
}

export interface PromptRendererStats {
  renders: number;
  cacheHits: number;
  /** espeak-ng and ffmpeg processes started. */
  processesStarted: number;
  /** The most renders that waited for a turn at once. */
  mostWaiting: number;
}

/** Quieter than this (about -50 dBFS) counts as silence when trimming speech. */
const SILENCE_THRESHOLD = 100;
const TRIM_MARGIN_SAMPLES = 0.04 * PLAYBACK_RATE;
/** TTS is brought to this peak (about -2 dBFS). */
const SPEECH_PEAK = 26000;

export class PromptRenderer {
  readonly stats: PromptRendererStats = { renders: 0, cacheHits: 0, processesStarted: 0, mostWaiting: 0 };
  readonly cacheDir: string;
  private readonly inFlight = new Map<string, Promise<RenderedPrompt>>();
  /**
   * Prompts found or rendered by this process, by key: a live call plays the
   * same ringback and whisper over and over, and reading and decoding the file
   * each time was a good part of a call's CPU. A cheap stat still checks the
   * file is there (rtpengine plays it by path), whole.
   */
  private readonly known = new Map<string, RenderedPrompt>();
  /** Content hashes of uploaded files, by path, for as long as their size and mtime stay the same. */
  private readonly uploadHashes = new Map<string, { readonly stamp: string; readonly sha256: string }>();

  private running = 0;
  private readonly turns: (() => void)[] = [];

  constructor(private readonly options: PromptRendererOptions) {
    this.cacheDir = resolve(options.cacheDir);
  }

  /** Renders waiting for a turn to run their processes. */
  get waiting(): number {
    return this.turns.length;
  }

  /** Runs `work` (which starts processes) when a turn is free. */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= (this.options.renderConcurrency ?? 2)) {
      const turn = new Promise<void>((resolveTurn) => this.turns.push(resolveTurn));
      this.stats.mostWaiting = Math.max(this.stats.mostWaiting, this.turns.length);
      await turn;
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The turn passes straight to the next waiting render, or is given back.
      const next = this.turns.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }

  /** Renders (or finds in the cache) one prompt. */
  async render(source: PromptSource): Promise<RenderedPrompt> {
    const key = await this.keyOf(source);
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const job = this.lookupOrRender(key, source).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, job);
    return job;
  }

  /** The cache key of a source: a hash of everything that affects its audio. */
  async keyOf(source: PromptSource): Promise<string> {
    return createHash('sha256')
      .update(JSON.stringify({ v: RENDERER_VERSION, format: OUTPUT_FORMAT, source: await this.identity(source) }))
      .digest('hex');
  }

  private async identity(source: PromptSource): Promise<unknown> {
    switch (source.kind) {
      case 'tts':
        return { kind: 'tts', text: source.text, voice: espeakVoice(source.language), wpm: espeakWordsPerMinute(source.speed) };
      case 'file':
        // The bytes, not the path: a replaced upload renders anew, a moved one does not.
        return { kind: 'file', sha256: await this.uploadHash(source.file), speed: source.speed };
      case 'ringback':
      case 'tone':
        return source;
      case 'sequence':
        return { kind: 'sequence', gapMs: source.gapMs, parts: await Promise.all(source.parts.map((p) => this.keyOf(p))) };
    }
  }

  /** The SHA-256 of an upload, read again only when its size or modification time changed. */
  private async uploadHash(file: string): Promise<string> {
    const s = await stat(file).catch(() => undefined);
    const stamp = s === undefined ? undefined : `${s.size}:${s.mtimeMs}:${s.ino}`;
    const seen = this.uploadHashes.get(file);
    if (stamp !== undefined && seen?.stamp === stamp) return seen.sha256;
    const sha256 = createHash('sha256').update(await readUpload(file)).digest('hex');
    if (stamp !== undefined) this.uploadHashes.set(file, { stamp, sha256 });
    return sha256;
  }

  private pathOf(key: string): string {
    return join(this.cacheDir, `${key}.au`);
  }

  private async lookupOrRender(key: string, source: PromptSource): Promise<RenderedPrompt> {
    const path = this.pathOf(key);
    const known = this.known.get(key);
    if (known !== undefined && (await stat(path).catch(() => undefined))?.size === known.bytes) {
      this.stats.cacheHits++;
      return known;
    }
    const cached = await readFile(path).catch(() => undefined);
    const samples = cached !== undefined && isWholeAu(cached) ? decodeMulawAu(cached) : undefined;
    if (cached !== undefined && samples !== undefined) {
      this.stats.cacheHits++;
      return this.remember({ key, path, durationMs: mulawDurationMs(samples.length), bytes: cached.length });
    }
    const started = performance.now();
    // Whole 20 ms frames: the player sends only whole packets, so a last partial frame would be lost.
    const pcm = toWholeFrames(await this.produce(source));
    const au = encodeMulawAu(pcm);
    await mkdir(this.cacheDir, { recursive: true });
    // Write then rename: a reader never sees half a file, and a crash leaves no bad entry.
    const tmp = join(this.cacheDir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, au);
    await rename(tmp, path);
    this.stats.renders++;
    this.options.logger.debug({ key, kind: source.kind, ms: Math.round(performance.now() - started) }, 'prompt rendered');
    return this.remember({ key, path, durationMs: mulawDurationMs(pcm.length), bytes: au.length });
  }

  private remember(p: RenderedPrompt): RenderedPrompt {
    this.known.set(p.key, p);
    return p;
  }

  private async produce(source: PromptSource): Promise<Int16Array> {
    switch (source.kind) {
      case 'tts':
        return this.inTurn(() => this.speak(source.text, source.language, source.speed));
      case 'file':
        return this.inTurn(() => this.convertUpload(source.file, source.speed));
      case 'ringback':
        return ringbackCycle(source.plan, PLAYBACK_RATE);
      case 'tone':
        return toneOf(source.frequency, source.ms, PLAYBACK_RATE);
      case 'sequence': {
        // allSettled: no part's render may outlive this one (and write into a cache being torn down).
        const settled = await Promise.allSettled(source.parts.map(async (p) => decodeMulawAu(await readFile((await this.render(p)).path))!));
        const failed = settled.find((r) => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
        const parts = settled.map((r) => (r as PromiseFulfilledResult<Int16Array>).value);
        return concatWithGaps(parts, Math.round((source.gapMs * PLAYBACK_RATE) / 1000));
      }
    }
  }

  private async speak(text: string, language: string, speed: number): Promise<Int16Array> {
    const tmpDir = join(this.cacheDir, '.tmp');
    await mkdir(tmpDir, { recursive: true });
    const raw = join(tmpDir, `${randomBytes(8).toString('hex')}.wav`);
    try {
      this.stats.processesStarted++;
      await runEspeak({
        binary: this.options.espeakBinary,
        text,
        voice: espeakVoice(language),
        wordsPerMinute: espeakWordsPerMinute(speed),
        outFile: raw,
        timeoutMs: this.options.renderTimeoutMs,
      });
      let pcm: Int16Array;
      try {
        pcm = await this.decodeToPlaybackRate(raw, []);
      } catch (e) {
        throw new PromptRenderError(`ffmpeg could not convert the speech for "${text}": ${(e as Error).message}`, { cause: e });
      }
      const speech = trimSilence(pcm, SILENCE_THRESHOLD, TRIM_MARGIN_SAMPLES);
      if (speech.length === 0) throw new PromptRenderError(`TTS produced no audible speech for "${text}"`);
      return normalizePeak(speech, SPEECH_PEAK);
    } finally {
      await rm(raw, { force: true });
    }
  }

  private async convertUpload(file: string, speed: number): Promise<Int16Array> {
    await readUpload(file); // a clear error for a missing/unreadable file before ffmpeg's
    // atempo changes speed without changing pitch (ffmpeg accepts 0.5-100 in one stage).
    const filters = speed !== 1 ? ['-af', `atempo=${speed}`] : [];
    let pcm: Int16Array;
    try {
      pcm = await this.decodeToPlaybackRate(file, filters);
    } catch (e) {
      if (e instanceof FfmpegError && e.exitCode !== null) {
        const detail = e.stderrTail.split('\n').filter((l) => l.trim() !== '').slice(-2).join(' | ');
        throw new PromptInputError(`${file} is not an audio file that can be played (ffmpeg: ${detail || 'no detail'})`, file, { cause: e });
      }
      throw new PromptRenderError(`could not convert ${file}: ${(e as Error).message}`, { cause: e });
    }
    if (pcm.length === 0) throw new PromptInputError(`${file} contains no audio`, file);
    return pcm;
  }

  /** Any audio ffmpeg reads → 8 kHz mono 16-bit samples, through our one ffmpeg wrapper. */
  private async decodeToPlaybackRate(input: string, filters: readonly string[]): Promise<Int16Array> {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk);
        done();
      },
    });
    const finished = new Promise<void>((resolveSink) => sink.on('finish', () => resolveSink()));
    this.stats.processesStarted++;
    await runFfmpeg({
      binary: this.options.ffmpegBinary,
      // -map 0:a:0: the first audio stream, so a file without audio fails instead of producing nothing.
      args: ['-i', input, '-map', '0:a:0', ...filters, '-ac', '1', '-ar', String(PLAYBACK_RATE), '-f', 's16le', '-acodec', 'pcm_s16le', 'pipe:1'],
      stdout: sink,
      timeoutMs: this.options.renderTimeoutMs,
    });
    await finished;
    const all = Buffer.concat(chunks);
    const pcm = new Int16Array(all.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = all.readInt16LE(2 * i);
    return pcm;
  }
}

/** Reads an uploaded file, turning "missing", "unreadable" and "a directory" into PromptInputError. */
async function readUpload(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code})`;
    throw new PromptInputError(`uploaded prompt ${file} ${why}`, file, { cause: e });
  }
}

/** `pcm` padded with silence to a whole number of 20 ms packets at the playback rate. */
export function toWholeFrames(pcm: Int16Array): Int16Array {
  const frame = (PLAYBACK_RATE * 20) / 1000;
  const whole = Math.ceil(pcm.length / frame) * frame;
  if (whole === pcm.length) return pcm;
  const out = new Int16Array(whole);
  out.set(pcm);
  return out;
}
