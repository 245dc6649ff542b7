/**
 * Ringback tones the caller hears while the agent hears the whisper, as the
 * national tone plans define them (ITU-T E.180 supplement 2 lists them):
 * dual-frequency tones summed at equal level, in their on/off cadence. One
 * cadence cycle is rendered; rtpengine repeats the file.
 */

export type RingbackPlan = 'us' | 'uk' | 'eu';

interface Cadence {
  readonly frequencies: readonly number[];
  /** Alternating on/off durations in ms, starting with "on". */
  readonly pattern: readonly number[];
}

const PLANS: Readonly<Record<RingbackPlan, Cadence>> = {
  us: { frequencies: [440, 480], pattern: [2000, 4000] },
  uk: { frequencies: [400, 450], pattern: [400, 200, 400, 2000] },
  eu: { frequencies: [425], pattern: [1000, 4000] },
};

/** Frequencies of a plan (tests check the caller hears them). */
export function ringbackFrequencies(plan: RingbackPlan): readonly number[] {
  return PLANS[plan].frequencies;
}

/** One cadence cycle at 8 kHz, total peak about -10 dBFS. */
export function ringbackCycle(plan: RingbackPlan, sampleRate = 8000): Int16Array {
  const { frequencies, pattern } = PLANS[plan];
  const total = pattern.reduce((a, b) => a + b, 0);
  const out = new Int16Array(Math.round((total * sampleRate) / 1000));
  const amplitude = 10000 / frequencies.length;
  let t = 0;
  pattern.forEach((ms, i) => {
    const n = Math.round((ms * sampleRate) / 1000);
    if (i % 2 === 0) {
      for (let k = 0; k < n; k++) {
        let v = 0;
        for (const f of frequencies) v += Math.sin((2 * Math.PI * f * (t + k)) / sampleRate);
        out[t + k] = Math.round(amplitude * v);
      }
    }
    t += n;
  });
  return out;
}

/** A tone of `ms` at about -10 dBFS peak, with 10 ms ramps so that it starts and stops without a click. */
export function toneOf(frequency: number, ms: number, sampleRate = 8000): Int16Array {
  const n = Math.round((ms * sampleRate) / 1000);
  const ramp = Math.min(Math.round(sampleRate / 100), Math.floor(n / 2));
  const out = new Int16Array(n);
  for (let k = 0; k < n; k++) {
    const edge = Math.min(1, k / ramp, (n - 1 - k) / ramp);
    out[k] = Math.round(10000 * edge * Math.sin((2 * Math.PI * frequency * k) / sampleRate));
  }
  return out;
}
