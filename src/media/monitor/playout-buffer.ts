/**
 * One party's audio on its way into the mix, RFC 3550 §5.1 timestamps and
 * sequence numbers. Packets are placed on the mix's sample clock by their RTP
 * timestamp, so reordered packets land where they belong, any packetisation
 * (10, 20, 30 ms) fits, and a missing packet leaves exactly its samples
 * silent. The buffer counts, per 20 ms frame of the mix, how many of the
 * frame's samples have arrived: the mix goes out as soon as every sending
 * party's frame is complete, and waits for a missing part only until this
 * party's playout deadline (playout-deadline.ts).
 *
 * The mapping from RTP timestamps to the mix clock (the anchor) is set by the
 * first packet, at the next frame to be mixed (or right after what is still
 * buffered), and set again when the stream restarts: a new SSRC, a timestamp
 * jump, a sender that fell behind for good (several packets in a row too late)
 * or ran so far ahead that its lead passes `maxLeadSamples`. Duplicates (same
 * SSRC and sequence number) are written once. A packet of the SSRC just
 * replaced that comes in shortly after the change (reordered, or sent late by
 * a busy sender) is dropped as late rather than taken for the stream switching
 * back; a switch back after that window is followed.
 *
 * Parties send out of phase, so the party whose packets come first waits for
 * the others. When a party's frames were all complete at least `slipMs` before
 * they went out for `slipWindowFrames` frames in a row, it slips: it moves as
 * many whole frames earlier as that least wait allows (dropping that much of
 * its audio, once). Typically the second party to start, placed a frame behind
 * a first party that arrives at the same moment, or a party whose delayed
 * packets came in a burst after a stall and would otherwise stay that far
 * behind for good.
 *
 * A party that stops sending (hold, silence suppression, a lost stream) is no
 * longer waited for once `idleAfterFrames` frames in a row went out without any
 * of its audio; its next packet makes it a sending party again, placed anew if
 * its old anchor would make it late. Memory is fixed: one ring of samples.
 */
import { PlayoutDeadline } from './playout-deadline.js';

export interface PlayoutStats {
  packets: number;
  /** Arrived after their samples were already mixed: dropped. */
  late: number;
  duplicates: number;
  /** Times the anchor was set again (SSRC change, jump, drift, a quiet party back late). */
  resyncs: number;
  ssrcChanges: number;
  /** Frames mixed without all of this party's audio while it was sending (lost, or later than its deadline): silence there. */
  concealed: number;
  /** Frames of the party dropped to move it earlier because it always waited for the others. */
  slips: number;
}

export interface PlayoutBufferOptions {
  /** Samples per mix frame (160: 20 ms at 8 kHz). */
  readonly frameSamples: number;
  readonly sampleRate?: number;
  /** Least wait for a late packet, past its earliest expected arrival (ms; capped by maxWaitMs). */
  readonly minWaitMs: number;
  /** Most wait for a late packet (ms). */
  readonly maxWaitMs: number;
  /** Largest lead over the next frame to mix tolerated before re-anchoring (bounds latency and memory). */
  readonly maxLeadSamples?: number;
  /** Consecutive late packets that mean the sender fell behind: re-anchor. */
  readonly lateLimit?: number;
  /** How long after an SSRC change packets of the replaced SSRC count as stragglers (default 1 s). */
  readonly staleSsrcSamples?: number;
  /** Frames in a row without any of the party's audio after which it is no longer waited for. */
  readonly idleAfterFrames?: number;
  /** Least wait for the other parties, over every frame of a window, that moves the party one frame earlier (default 12 ms). */
  readonly slipMs?: number;
  readonly slipWindowFrames?: number;
}

/** Header fields of one packet (an RtpView fits). */
export interface PacketHeader {
  readonly ssrc: number;
  readonly sequence: number;
  readonly timestamp: number;
}

const RECENT_SEQUENCES = 64;

export class PlayoutBuffer {
  readonly stats: PlayoutStats = { packets: 0, late: 0, duplicates: 0, resyncs: 0, ssrcChanges: 0, concealed: 0, slips: 0 };
  readonly deadlines: PlayoutDeadline;
  private readonly frame: number;
  private readonly msPerSample: number;
  private readonly maxLead: number;
  private readonly maxPacket: number;
  private readonly lateLimit: number;
  private readonly idleAfter: number;
  private readonly staleWindow: number;
  private readonly slots: number;
  private readonly capacity: number;
  private readonly ring: Int16Array;
  /** Samples present per frame slot of the ring. */
  private readonly covered: Int32Array;
  /** When each frame slot became complete (ms). */
  private readonly readyAt: Float64Array;
  private readonly slipMs: number;
  private readonly slipWindow: number;
  private windowFrames = 0;
  private windowLeastWait = Infinity;
  /** Absolute sample index (on the mix clock) of the next frame to mix; a multiple of `frame`. */
  private readPos = 0;
  /** End of the latest audio written (absolute sample index). */
  private lastEnd = 0;
  private ssrc: number | undefined;
  /** The SSRC replaced by the last change, and the read position at the change. */
  private replaced: { ssrc: number; at: number } | undefined;
  private anchored = false;
  private anchorTs = 0;
  private anchorPos = 0;
  private packetSamples = 0;
  private consecutiveLate = 0;
  private sending = false;
  private quietFrames = 0;
  /** One bit per sequence number: the last RECENT_SEQUENCES seen (8 KB). */
  private readonly seen = new Uint8Array(8192);
  private readonly recent = new Uint16Array(RECENT_SEQUENCES);
  private recentCount = 0;
  private recentNext = 0;

  constructor(options: PlayoutBufferOptions) {
    const rate = options.sampleRate ?? 8000;
    this.frame = options.frameSamples;
    this.msPerSample = 1000 / rate;
    this.maxPacket = rate; // a second in one packet: not a phone stream
    const maxWait = Math.ceil((options.maxWaitMs * rate) / 1000);
    this.maxLead = options.maxLeadSamples ?? Math.max(maxWait + 3 * this.frame, 8 * this.frame);
    this.lateLimit = options.lateLimit ?? 5;
    this.idleAfter = options.idleAfterFrames ?? 3;
    this.staleWindow = options.staleSsrcSamples ?? rate;
    this.slots = Math.ceil((this.maxLead + this.maxPacket) / this.frame) + 1;
    this.capacity = this.slots * this.frame;
    this.ring = new Int16Array(this.capacity);
    this.covered = new Int32Array(this.slots);
    this.readyAt = new Float64Array(this.slots);
    this.slipMs = options.slipMs ?? 12;
    this.slipWindow = options.slipWindowFrames ?? 16;
    this.deadlines = new PlayoutDeadline(options.minWaitMs, options.maxWaitMs);
  }

  /** Current SSRC of the stream, once a packet arrived. */
  get currentSsrc(): number | undefined {
    return this.ssrc;
  }

  /** The party is sending: the mix waits for its audio (up to its deadline). */
  get isSending(): boolean {
    return this.sending;
  }

  /** Every sample of the next frame has arrived. */
  get frameReady(): boolean {
    return this.covered[(this.readPos / this.frame) % this.slots]! >= this.frame;
  }

  /** When to stop waiting for the rest of the next frame (ms, the clock of `arrivalMs`). */
  deadline(): number {
    const end = this.readPos + this.frame;
    let packetEnd = end;
    const n = this.packetSamples;
    // The packet that completes the frame may end after it (30 ms packets): expect that packet.
    if (n > 0 && end > this.anchorPos) packetEnd = this.anchorPos + Math.ceil((end - this.anchorPos) / n) * n;
    return this.deadlines.deadline(packetEnd * this.msPerSample);
  }

  /**
   * Adds one packet that arrived at `arrivalMs`: `payload[start, end)`, each
   * byte or sample mapped through `table` when given (a G.711 decode table).
   */
  push(header: PacketHeader, arrivalMs: number, payload: ArrayLike<number>, table?: Int16Array, start = 0, end = payload.length): void {
    const n = end - start;
    this.stats.packets++;
    if (n <= 0 || n > this.maxPacket) return;
    const { ssrc, sequence, timestamp } = header;
    if (this.ssrc !== ssrc) {
      if (this.replaced?.ssrc === ssrc && this.readPos - this.replaced.at < this.staleWindow) {
        this.stats.late++;
        return;
      }
      if (this.ssrc !== undefined) {
        this.stats.ssrcChanges++;
        this.replaced = { ssrc: this.ssrc, at: this.readPos };
      }
      this.ssrc = ssrc;
      this.forgetSequences();
      this.anchor(timestamp, n);
    } else if ((this.seen[sequence >> 3]! & (1 << (sequence & 7))) !== 0) {
      this.stats.duplicates++;
      return;
    }
    let pos = this.positionOf(timestamp);
    if (pos + n <= this.readPos) {
      if (this.sending) {
        this.stats.late++;
        // Too late to play, but just what the deadline has to learn about.
        this.deadlines.observe(arrivalMs, (pos + n) * this.msPerSample);
        if (++this.consecutiveLate < this.lateLimit) return;
      }
      // A quiet party is back with an anchor that no longer fits, or the sender fell behind for good.
      this.anchor(timestamp, n);
      this.forgetSequences();
      pos = this.positionOf(timestamp);
    } else if (pos + n - this.readPos > this.maxLead) {
      // A jump forward (a talk spurt after a pause), or a sender running fast: start over from this packet.
      this.anchor(timestamp, n);
      this.forgetSequences();
      pos = this.positionOf(timestamp);
    }
    this.consecutiveLate = 0;
    this.rememberSequence(sequence);
    this.packetSamples = n;
    this.deadlines.observe(arrivalMs, (pos + n) * this.msPerSample);
    this.write(pos, payload, table, start, n, arrivalMs);
    this.sending = true;
    this.quietFrames = 0;
  }

  /**
   * Adds the next frame into `sum` (or drops it, when undefined), leaves its
   * slot empty, and moves on by one frame; `at` is when the frame goes out.
   */
  takeInto(sum: Int32Array | undefined, at: number): void {
    const f = this.frame;
    const slot = (this.readPos / f) % this.slots;
    const have = this.covered[slot]!;
    if (this.sending) {
      if (have < f) this.stats.concealed++;
      if (have > 0) this.quietFrames = 0;
      else if (++this.quietFrames >= this.idleAfter) this.sending = false;
      this.windowLeastWait = Math.min(this.windowLeastWait, have >= f && sum !== undefined ? at - this.readyAt[slot]! : 0);
    }
    if (have > 0) {
      const ring = this.ring;
      const base = slot * f;
      if (sum !== undefined) for (let i = 0; i < f; i++) sum[i]! += ring[base + i]!;
      ring.fill(0, base, base + f);
      this.covered[slot] = 0;
    }
    this.readPos += f;
    if (this.lastEnd < this.readPos) this.lastEnd = this.readPos;
    if (!this.sending) this.windowLeastWait = Infinity;
    if (++this.windowFrames < this.slipWindow) return;
    const least = this.windowLeastWait;
    if (this.sending && least >= this.slipMs && least !== Infinity) this.slip(Math.floor((least + this.frame * this.msPerSample - this.slipMs) / (this.frame * this.msPerSample)));
    this.windowFrames = 0;
    this.windowLeastWait = Infinity;
  }

  /**
   * Moves the party `frames` frames earlier: its next frames are dropped and
   * what is buffered after them moves up. At most one frame more than is
   * buffered, so at most one packet on its way comes too late.
   */
  private slip(frames: number): void {
    const f = this.frame;
    const buffered = Math.ceil(Math.max(0, this.lastEnd - this.readPos) / f);
    const k = Math.min(frames, buffered + 1);
    const first = this.readPos / f;
    for (let i = 0; i < buffered; i++) {
      const to = (first + i) % this.slots;
      if (i + k < buffered) {
        const from = (first + i + k) % this.slots;
        this.ring.copyWithin(to * f, from * f, (from + 1) * f);
        this.covered[to] = this.covered[from]!;
        this.readyAt[to] = this.readyAt[from]!;
      } else {
        this.ring.fill(0, to * f, (to + 1) * f);
        this.covered[to] = 0;
      }
    }
    this.lastEnd = Math.max(this.readPos, this.lastEnd - k * f);
    this.anchorPos -= k * f;
    this.stats.slips += k;
    this.deadlines.shift(k * f * this.msPerSample);
  }

  private write(pos: number, payload: ArrayLike<number>, table: Int16Array | undefined, start: number, n: number, arrivalMs: number): void {
    // Part of a packet may be due already; write what is still ahead.
    const skip = Math.max(0, this.readPos - pos);
    const from = pos + skip;
    const to = pos + n;
    const ring = this.ring;
    let idx = from % this.capacity;
    if (table !== undefined) {
      for (let i = start + skip; i < start + n; i++) {
        ring[idx] = table[payload[i]!]!;
        if (++idx === this.capacity) idx = 0;
      }
    } else {
      for (let i = start + skip; i < start + n; i++) {
        ring[idx] = payload[i]!;
        if (++idx === this.capacity) idx = 0;
      }
    }
    const f = this.frame;
    for (let s = Math.floor(from / f); s * f < to; s++) {
      const slot = s % this.slots;
      const before = this.covered[slot]!;
      this.covered[slot] = before + Math.min(to, (s + 1) * f) - Math.max(from, s * f);
      if (before < f && this.covered[slot] >= f) this.readyAt[slot] = arrivalMs;
    }
    if (to > this.lastEnd) this.lastEnd = to;
  }

  /** Places the stream's `timestamp` right after what is buffered (or at the next frame, dropping the buffer, if that would lead too far). */
  private anchor(timestamp: number, packetSamples: number): void {
    if (this.anchored) this.stats.resyncs++;
    this.anchored = true;
    let at = Math.max(this.readPos, this.lastEnd);
    if (at + packetSamples - this.readPos > this.maxLead) {
      this.ring.fill(0);
      this.covered.fill(0);
      this.lastEnd = this.readPos;
      at = this.readPos;
    }
    this.anchorTs = timestamp >>> 0;
    this.anchorPos = at;
    this.consecutiveLate = 0;
    this.deadlines.rebase();
  }

  private positionOf(timestamp: number): number {
    // Signed 32-bit difference: timestamps wrap around 2^32.
    return this.anchorPos + ((timestamp - this.anchorTs) | 0);
  }

  private rememberSequence(seq: number): void {
    const i = this.recentNext;
    if (this.recentCount === RECENT_SEQUENCES) this.unsee(this.recent[i]!);
    else this.recentCount++;
    this.recent[i] = seq;
    this.seen[seq >> 3]! |= 1 << (seq & 7);
    this.recentNext = (i + 1) % RECENT_SEQUENCES;
  }

  private unsee(seq: number): void {
    this.seen[seq >> 3]! &= ~(1 << (seq & 7));
  }

  private forgetSequences(): void {
    for (let i = 0; i < this.recentCount; i++) this.unsee(this.recent[i]!);
    this.recentCount = 0;
    this.recentNext = 0;
  }
}
