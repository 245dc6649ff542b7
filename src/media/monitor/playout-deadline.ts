/**
 * How long the mix waits for one party's late packet: an adaptive playout
 * deadline from the party's arrival times, RFC 3550 §6.4.1 (interarrival
 * jitter J, estimated as in appendix A.8) plus a peak-hold of recent lateness.
 *
 * Transit is a packet's arrival time minus its media time (its place on the
 * mix's sample clock, in ms); only differences of transit matter, so the two
 * clocks need no common origin. The earliest a packet can be expected is the
 * stream's lowest recent transit (a minimum that leaks upwards slowly, so a
 * sender whose clock runs slower than ours is followed); the deadline is that
 * plus a margin: the larger of 3·J and the largest lateness seen lately
 * (decaying by half in about 250 packets), bounded below by `minMs` and above
 * by `maxMs`.
 *
 * Why both: J is a mean deviation, right for steady noise-like jitter but blind
 * to rare spikes (a packet delayed 45 ms one time in seven moves J only to
 * about 13 ms); the peak-hold covers those. Waiting costs nothing while
 * packets are on time — the mix goes out as soon as every party's packet is
 * in — so a generous margin only delays the mix when a packet is late or lost.
 */

/** Per observation, how far the transit floor rises when no packet is faster (0.02 ms per 20 ms packet: 1000 ppm). */
const FLOOR_LEAK_MS = 0.02;
/** Per observation, what remains of the lateness peak (half-life of about 250 packets, 5 s at 20 ms). */
const PEAK_DECAY = 0.99723;
const JITTER_FACTOR = 3;

export class PlayoutDeadline {
  /** RFC 3550 interarrival jitter J, in ms. */
  jitterMs = 0;
  /** Largest recent lateness over the transit floor, in ms (decaying). */
  peakLatenessMs = 0;
  private lastTransit: number | undefined;
  private floor: number | undefined;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** One packet arrived at `arrivalMs`; its last sample plays at `mediaMs` on the mix clock. */
  observe(arrivalMs: number, mediaMs: number): void {
    const transit = arrivalMs - mediaMs;
    if (this.lastTransit !== undefined) {
      // A.8: J += (|D| − J) / 16, D the difference of consecutive transits.
      this.jitterMs += (Math.abs(transit - this.lastTransit) - this.jitterMs) / 16;
    }
    this.lastTransit = transit;
    this.floor = this.floor === undefined ? transit : Math.min(transit, this.floor + FLOOR_LEAK_MS);
    this.peakLatenessMs = Math.max(transit - this.floor, this.peakLatenessMs * PEAK_DECAY);
  }

  /** The stream was placed anew on the mix clock (new SSRC, jump, resync): transits start over; J and the peak stay (they describe the network). */
  rebase(): void {
    this.lastTransit = undefined;
    this.floor = undefined;
  }

  /** The stream was moved `ms` earlier on the mix clock: every transit is that much longer from now on. */
  shift(ms: number): void {
    if (this.lastTransit !== undefined) this.lastTransit += ms;
    if (this.floor !== undefined) this.floor += ms;
  }

  /** The wait granted past the earliest expected arrival, in ms. */
  get marginMs(): number {
    const want = Math.max(JITTER_FACTOR * this.jitterMs, this.peakLatenessMs);
    return Math.min(this.maxMs, Math.max(Math.min(this.minMs, this.maxMs), want));
  }

  /** When the packet ending at `mediaMs` is given up on (Infinity before any packet). */
  deadline(mediaMs: number): number {
    return this.floor === undefined ? Infinity : this.floor + mediaMs + this.marginMs;
  }
}
