/**
 * The mix of one call, driven by arrivals: frame n goes out as soon as every
 * sending party's audio for it is in (usually the moment the last party's
 * packet arrives), or, for a party whose packet is late or lost, once that
 * party's playout deadline has passed (its part is silence). A party that
 * stopped sending is not waited for (playout-buffer.ts); with nobody sending,
 * silent frames keep the supervisors' stream going every 20 ms.
 *
 * Packets only ever complete frames; deadlines are looked at by `poll`, which
 * the shared clock (mix-clock.ts) calls after reading the datagrams that
 * queued up, so a stall of our own process never makes a party look late.
 * Time is passed in (`now`, ms) rather than read, which keeps this class
 * deterministic under test.
 */
import { FrameMixer } from './frame-mixer.js';
import { PlayoutBuffer, type PacketHeader } from './playout-buffer.js';

export interface CallMixOptions {
  readonly parties: number;
  /** Least and most wait for a late packet, per party (ms). */
  readonly minWaitMs: number;
  readonly maxWaitMs: number;
  /** Receives each mixed frame, in order; `frameIndex` counts frames since the start (gaps where frames were skipped). */
  readonly onFrame: (frameIndex: number, pcm: Int16Array) => void;
  readonly frameMs?: number;
  readonly sampleRate?: number;
  /** Silent frames (nobody sending) more than this far behind after a stall are skipped, not sent in a burst. */
  readonly maxCatchUp?: number;
}

export interface CallMixStats {
  readonly framesMixed: number;
  /** Frames that went out at a deadline, without a late or lost packet. */
  readonly framesOnDeadline: number;
  /** Silent frames dropped after a stall instead of being sent in a burst. */
  readonly framesSkipped: number;
  readonly limitedFrames: number;
}

export class CallMix {
  readonly buffers: readonly PlayoutBuffer[];
  private readonly mixer: FrameMixer;
  private readonly sum: Int32Array;
  private readonly out: Int16Array;
  private readonly frameMs: number;
  private readonly maxCatchUp: number;
  private frameIndex = 0;
  /** When the last frame went out (for silent frames: when it was due). */
  private lastAt: number;
  private mixed = 0;
  private onDeadline = 0;
  private skipped = 0;

  /** Starts the mix at `now` (the first silent frame is due a frame later). */
  constructor(
    private readonly options: CallMixOptions,
    now: number,
  ) {
    this.frameMs = options.frameMs ?? 20;
    const frameSamples = ((options.sampleRate ?? 8000) * this.frameMs) / 1000;
    this.maxCatchUp = options.maxCatchUp ?? 10;
    this.mixer = new FrameMixer(frameSamples);
    this.sum = new Int32Array(frameSamples);
    this.out = new Int16Array(frameSamples);
    this.lastAt = now;
    this.buffers = Array.from(
      { length: options.parties },
      () => new PlayoutBuffer({ frameSamples, sampleRate: options.sampleRate, minWaitMs: options.minWaitMs, maxWaitMs: options.maxWaitMs }),
    );
  }

  /** A packet of party `party` arrived at `now`; sends every frame it completes. */
  push(party: number, header: PacketHeader, now: number, payload: ArrayLike<number>, table?: Int16Array, start?: number, end?: number): void {
    this.buffers[party]!.push(header, now, payload, table, start, end);
    this.flush(now, false);
  }

  /** Sends the frames whose deadline has passed (and silent frames when nobody sends). */
  poll(now: number): void {
    this.flush(now, true);
  }

  stats(): CallMixStats {
    return { framesMixed: this.mixed, framesOnDeadline: this.onDeadline, framesSkipped: this.skipped, limitedFrames: this.mixer.limitedFrames };
  }

  private flush(now: number, timed: boolean): void {
    for (;;) {
      let sending = 0;
      let waitUntil = -Infinity;
      for (const b of this.buffers) {
        if (!b.isSending) continue;
        sending++;
        if (!b.frameReady) waitUntil = Math.max(waitUntil, b.deadline());
      }
      if (sending > 0 && waitUntil === -Infinity) {
        this.emit(now);
        continue;
      }
      if (!timed) return;
      if (sending > 0) {
        if (now < waitUntil) return;
        // Never skipped: what the parties that are in sent still goes out.
        this.onDeadline++;
        this.emit(now);
        continue;
      }
      // Nobody is sending: silent frames on a drift-free 20 ms grid.
      const due = this.lastAt + this.frameMs;
      if (now < due) return;
      const behind = Math.floor((now - due) / this.frameMs);
      for (let k = behind; k > this.maxCatchUp; k--) {
        this.skip();
        this.lastAt += this.frameMs;
      }
      this.emit(this.lastAt + this.frameMs);
    }
  }

  private emit(at: number): void {
    const sum = this.sum;
    sum.fill(0);
    for (const b of this.buffers) b.takeInto(sum, at);
    this.mixer.limit(sum, this.out);
    this.lastAt = at;
    this.mixed++;
    this.options.onFrame(this.frameIndex++, this.out);
  }

  private skip(): void {
    for (const b of this.buffers) b.takeInto(undefined, NaN);
    this.frameIndex++;
    this.skipped++;
  }
}
