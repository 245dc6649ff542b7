/** Reading converted audio back to check it by ear, so to speak: tones and silences per channel. */
import { goertzel, rms } from '../../../src/audio/analysis.js';

export interface Channels {
  readonly left: Int16Array;
  readonly right: Int16Array;
}

export function splitStereo(pcm: Buffer): Channels {
  const n = Math.floor(pcm.length / 4);
  const left = new Int16Array(n);
  const right = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    left[i] = pcm.readInt16LE(i * 4);
    right[i] = pcm.readInt16LE(i * 4 + 2);
  }
  return { left, right };
}

export function mono(pcm: Buffer): Int16Array {
  const n = Math.floor(pcm.length / 2);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = pcm.readInt16LE(i * 2);
  return out;
}

/** Amplitude of `freq` over [fromMs, toMs). */
export function toneLevel(samples: Int16Array, fromMs: number, toMs: number, freq: number, rate = 8000): number {
  return goertzel(samples.subarray(Math.round((fromMs * rate) / 1000), Math.round((toMs * rate) / 1000)), freq, rate);
}

export function level(samples: Int16Array, fromMs: number, toMs: number, rate = 8000): number {
  return rms(samples.subarray(Math.round((fromMs * rate) / 1000), Math.round((toMs * rate) / 1000)));
}

/** Start and end (ms, rounded: a tone crossing zero may add a sample) of every run of digital silence at least `minMs` long. */
export function silentSpans(samples: Int16Array, minMs = 10, rate = 8000): { from: number; to: number }[] {
  const spans: { from: number; to: number }[] = [];
  const min = (minMs * rate) / 1000;
  let start = -1;
  for (let i = 0; i <= samples.length; i++) {
    const silent = i < samples.length && Math.abs(samples[i]!) <= 8;
    if (silent && start < 0) start = i;
    if (!silent && start >= 0) {
      if (i - start >= min) spans.push({ from: Math.round((start * 1000) / rate), to: Math.round((i * 1000) / rate) });
      start = -1;
    }
  }
  return spans;
}

/** Median amplitude of `freq` over 100 ms windows of [fromMs, toMs): robust to a discontinuity inside the span. */
export function medianToneLevel(samples: Int16Array, fromMs: number, toMs: number, freq: number): number {
  const levels: number[] = [];
  for (let t = fromMs; t + 100 <= toMs; t += 100) levels.push(toneLevel(samples, t, t + 100, freq));
  levels.sort((a, b) => a - b);
  return levels.length === 0 ? 0 : levels[Math.floor(levels.length / 2)]!;
}
