/**
 * Small signal tools used to check audio by what it sounds like rather than by
 * counting packets: tone synthesis, RMS energy and the Goertzel algorithm
 * (power of one frequency bin, cheaper than an FFT when few tones matter).
 */

/** A sine tone of `frequency` Hz as 16-bit samples. `phase` lets consecutive frames join smoothly. */
export function sineTone(frequency: number, samples: number, sampleRate = 8000, amplitude = 8000, phase = 0): Int16Array {
  const out = new Int16Array(samples);
  const step = (2 * Math.PI * frequency) / sampleRate;
  for (let i = 0; i < samples; i++) out[i] = Math.round(amplitude * Math.sin(phase + step * i));
  return out;
}

/** Root-mean-square level of a block of samples. */
export function rms(samples: ArrayLike<number>): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / samples.length);
}

/**
 * Goertzel: the amplitude of `frequency` in `samples`, normalised so that a pure
 * sine of amplitude A at that frequency yields about A.
 */
export function goertzel(samples: ArrayLike<number>, frequency: number, sampleRate = 8000): number {
  const n = samples.length;
  if (n === 0) return 0;
  const k = Math.round((n * frequency) / sampleRate);
  const w = (2 * Math.PI * k) / n;
  const coeff = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / n;
}
