/**
 * Sums the parties' 20 ms frames into one, with a limiter instead of hard
 * clipping: when the sum would exceed 16-bit range the frame's gain drops at
 * once to what fits (no clipped samples, no distortion), then recovers slowly
 * towards 1 so that ordinary levels pass unchanged.
 */

const FULL_SCALE = 32767;
/** Fraction of the remaining distance to unity gain recovered per frame (about 0.5 s to recover at 20 ms). */
const RELEASE_PER_FRAME = 0.04;

export class FrameMixer {
  private gain = 1;
  private readonly sum: Int32Array;
  /** Frames in which the limiter reduced the gain. */
  limitedFrames = 0;

  constructor(readonly frameSamples: number) {
    this.sum = new Int32Array(frameSamples);
  }

  /** Mixes `inputs` (each `frameSamples` long) into `out`. */
  mix(inputs: readonly Int16Array[], out: Int16Array): void {
    const n = this.frameSamples;
    const sum = this.sum;
    sum.fill(0);
    for (const input of inputs) for (let i = 0; i < n; i++) sum[i]! += input[i]!;
    this.limit(sum, out);
  }

  /** Writes `sum` (the parties already added up, `frameSamples` long) into `out` through the limiter. */
  limit(sum: Int32Array, out: Int16Array): void {
    const n = this.frameSamples;
    let peak = 0;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(sum[i]!);
      if (a > peak) peak = a;
    }
    if (peak * this.gain > FULL_SCALE) {
      this.gain = FULL_SCALE / peak;
      this.limitedFrames++;
    }
    const g = this.gain;
    if (g === 1) {
      for (let i = 0; i < n; i++) out[i] = sum[i]!;
    } else {
      for (let i = 0; i < n; i++) out[i] = Math.round(sum[i]! * g);
    }
    this.gain = Math.min(1, g + (1 - g) * RELEASE_PER_FRAME + 1e-6);
  }
}
