/**
 * The recording's timeline: two channels (caller, agent) of 16-bit samples
 * written at absolute positions, held in a ring buffer of a few seconds so that
 * late and reordered packets still land in place, and emitted in order as
 * interleaved stereo or mixed mono PCM (s16le). Positions nobody wrote (lost
 * packets, pauses, a silent party) come out as zeros: silence of exactly the
 * missing length. Memory is fixed by the window, whatever the call's length.
 */

export type ChannelLayout = 'stereo' | 'mono';

export interface TimelineOptions {
  readonly layout: ChannelLayout;
  /** Samples per channel kept in memory; a packet older than this is dropped as late. */
  readonly windowSamples?: number;
  /** Receives PCM in order. Each buffer is freshly allocated and may be kept. */
  readonly emit: (pcm: Buffer) => void;
}

const DEFAULT_WINDOW = 8000 * 10;

export class Timeline {
  private readonly window: number;
  private readonly step: number;
  private readonly ring: [Int16Array, Int16Array];
  /** Absolute position of the oldest sample still held. */
  private base = 0;
  /** One past the last position written. */
  private end = 0;
  private late = 0;

  constructor(private readonly options: TimelineOptions) {
    this.window = options.windowSamples ?? DEFAULT_WINDOW;
    this.step = Math.max(1, Math.floor(this.window / 4));
    this.ring = [new Int16Array(this.window), new Int16Array(this.window)];
  }

  /** Samples dropped because they arrived after their place had been emitted. */
  get lateSamples(): number {
    return this.late;
  }

  /** One past the last position written (per channel). */
  get lastWritten(): number {
    return this.end;
  }

  /** Samples emitted so far (per channel). */
  get emittedSamples(): number {
    return this.base;
  }

  write(channel: 0 | 1, position: number, samples: Int16Array): void {
    let pos = position;
    let src = samples;
    if (pos + src.length <= this.base) {
      this.late += src.length;
      return;
    }
    if (pos < this.base) {
      this.late += this.base - pos;
      src = src.subarray(this.base - pos);
      pos = this.base;
    }
    const stop = pos + src.length;
    if (stop > this.base + this.window) this.flushTo(stop - this.window + this.step);
    const ring = this.ring[channel];
    let idx = pos % this.window;
    let from = 0;
    while (from < src.length) {
      const n = Math.min(src.length - from, this.window - idx);
      ring.set(src.subarray(from, from + n), idx);
      from += n;
      idx = 0;
    }
    if (stop > this.end) this.end = stop;
  }

  /** Emits everything up to the last written sample, and silence on to `untilSample` if that is later. */
  finish(untilSample = 0): void {
    this.flushTo(Math.max(this.end, untilSample));
  }

  private flushTo(target: number): void {
    while (this.base < target) {
      const idx = this.base % this.window;
      const held = Math.min(target, this.end) - this.base;
      if (held <= 0) {
        // Nothing written this far ahead: a gap larger than the window. Emit silence.
        const n = Math.min(target - this.base, this.window);
        this.options.emit(Buffer.alloc(n * (this.options.layout === 'stereo' ? 4 : 2)));
        this.base += n;
        continue;
      }
      const n = Math.min(held, this.window - idx);
      this.options.emit(this.render(idx, n));
      this.ring[0].fill(0, idx, idx + n);
      this.ring[1].fill(0, idx, idx + n);
      this.base += n;
    }
  }

  private render(idx: number, n: number): Buffer {
    const [left, right] = this.ring;
    if (this.options.layout === 'stereo') {
      const out = Buffer.allocUnsafe(n * 4);
      const view = new Int16Array(out.buffer, out.byteOffset, n * 2);
      for (let i = 0; i < n; i++) {
        view[2 * i] = left[idx + i]!;
        view[2 * i + 1] = right[idx + i]!;
      }
      return out;
    }
    const out = Buffer.allocUnsafe(n * 2);
    const view = new Int16Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) {
      const s = left[idx + i]! + right[idx + i]!;
      view[i] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
    }
    return out;
  }
}
