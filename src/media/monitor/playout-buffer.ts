/**
 * A small jitter buffer for one party's RTP stream (RFC 3550 §5.1 timestamps
 * and sequence numbers). Packets are placed on the mixer's sample clock by
 * their RTP timestamp, so reordered packets land where they belong, any
 * packetisation (10, 20, 30 ms) fits, and a missing packet simply leaves
 * silence: every slot is zeroed once it has been read.
 *
 * The mapping from RTP timestamps to the mixer's clock (the anchor) is set by
 * the first packet, `delaySamples` ahead of the read position, and set again
 * when the stream restarts: a new SSRC, a timestamp jump, a sender whose clock
 * drifted so far that its packets arrive too late or pile up too far ahead.
 * Duplicates (same SSRC and sequence number) are written once. A packet of
 * the SSRC just replaced that comes in shortly after the change (reordered,
 * or sent late by a busy sender) is dropped as late rather than taken for the
 * stream switching back (which would re-anchor it twice); a switch back after
 * that window is followed.
 */

export interface PlayoutStats {
  packets: number;
  /** Arrived after their samples were already played: dropped. */
  late: number;
  duplicates: number;
  /** Times the anchor was set again (SSRC change, jump, drift). */
  resyncs: number;
  ssrcChanges: number;
}

export interface PlayoutBufferOptions {
  /** How far ahead of the read position a new stream starts (the jitter allowance). */
  readonly delaySamples: number;
  /** Largest lead over the read position tolerated before re-anchoring (bounds latency). */
  readonly maxLeadSamples?: number;
  /** Consecutive late packets that mean the sender's clock fell behind ours: re-anchor. */
  readonly lateLimit?: number;
  /** How long after an SSRC change packets of the replaced SSRC count as stragglers (default 1 s). */
  readonly staleSsrcSamples?: number;
}

const RECENT_SEQUENCES = 64;

export class PlayoutBuffer {
  readonly stats: PlayoutStats = { packets: 0, late: 0, duplicates: 0, resyncs: 0, ssrcChanges: 0 };
  private readonly ring: Int16Array;
  private readonly capacity: number;
  private readonly delay: number;
  private readonly maxLead: number;
  private readonly lateLimit: number;
  /** Absolute sample index (on the mixer clock) of the next sample to read. */
  private readPos = 0;
  private ssrc: number | undefined;
  /** The SSRC replaced by the last change, and the read position at the change. */
  private replaced: { ssrc: number; at: number } | undefined;
  private readonly staleWindow: number;
  private anchorTs = 0;
  private anchorPos = 0;
  private consecutiveLate = 0;
  private readonly recent: number[] = [];
  private readonly recentSet = new Set<number>();

  constructor(options: PlayoutBufferOptions) {
    this.delay = options.delaySamples;
    this.maxLead = options.maxLeadSamples ?? Math.max(4 * options.delaySamples, 1600);
    this.lateLimit = options.lateLimit ?? 5;
    this.staleWindow = options.staleSsrcSamples ?? 8000;
    // Room for the largest tolerated lead plus a generous packet.
    this.capacity = this.maxLead + 8000;
    this.ring = new Int16Array(this.capacity);
  }

  /** Current SSRC of the stream, once a packet arrived. */
  get currentSsrc(): number | undefined {
    return this.ssrc;
  }

  /** Adds one decoded packet. */
  push(ssrc: number, sequenceNumber: number, timestamp: number, samples: Int16Array): void {
    this.stats.packets++;
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
      this.anchor(timestamp);
    }
    if (this.recentSet.has(sequenceNumber)) {
      this.stats.duplicates++;
      return;
    }
    let pos = this.positionOf(timestamp);
    const end = pos + samples.length;
    if (end <= this.readPos) {
      this.stats.late++;
      if (++this.consecutiveLate < this.lateLimit) return;
      // The sender runs slow (or jumped back): start over from this packet.
      this.anchor(timestamp);
      this.forgetSequences();
      pos = this.positionOf(timestamp);
    } else if (end - this.readPos > this.maxLead) {
      // A jump forward, or a sender running fast: start over from this packet.
      this.anchor(timestamp);
      this.forgetSequences();
      pos = this.positionOf(timestamp);
    }
    this.consecutiveLate = 0;
    this.rememberSequence(sequenceNumber);
    // Part of a packet may already be due; write what is still ahead.
    const skip = Math.max(0, this.readPos - pos);
    for (let i = skip; i < samples.length; i++) this.ring[(pos + i) % this.capacity] = samples[i]!;
  }

  /** Reads the next `out.length` samples (silence where nothing arrived) and advances the clock. */
  read(out: Int16Array): void {
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const slot = (this.readPos + i) % this.capacity;
      out[i] = this.ring[slot]!;
      this.ring[slot] = 0;
    }
    this.readPos += n;
  }

  private anchor(timestamp: number): void {
    if (this.stats.packets > 1) this.stats.resyncs++;
    this.anchorTs = timestamp >>> 0;
    this.anchorPos = this.readPos + this.delay;
    this.consecutiveLate = 0;
    // What the old anchor placed before the new start still plays; anything after it would overlap.
    for (let i = this.delay; i < this.capacity; i++) this.ring[(this.readPos + i) % this.capacity] = 0;
  }

  private positionOf(timestamp: number): number {
    // Signed 32-bit difference: timestamps wrap around 2^32.
    return this.anchorPos + ((timestamp - this.anchorTs) | 0);
  }

  private rememberSequence(seq: number): void {
    this.recent.push(seq);
    this.recentSet.add(seq);
    if (this.recent.length > RECENT_SEQUENCES) this.recentSet.delete(this.recent.shift()!);
  }

  private forgetSequences(): void {
    this.recent.length = 0;
    this.recentSet.clear();
  }
}
