/**
 * One party's RTP, turned into audio placed on the recording's timeline.
 *
 * Sequence numbers and timestamps are extended past their 16/32-bit wrap
 * (RFC 3550 §A.1); a packet seen twice is dropped; the position of a packet is
 * its RTP timestamp relative to an anchor taken from the capture clock when a
 * stream (SSRC) first appears in a segment (from the least delayed of its
 * first packets). Gaps in timestamps therefore become
 * silence of the right length, reordered packets land where they belong, and a
 * pause (a new capture segment) starts again from the capture clock. When an
 * in-order packet's timestamp disagrees with the capture clock by more than
 * `resyncSamples` (a sender that reset or jumped its timestamp), the anchor is
 * taken again from the capture clock.
 */
import { decodeG711, type G711Law } from '../../audio/g711.js';
import type { RtpView } from '../../audio/rtp-header.js';

export type PartyRole = 'caller' | 'agent';

export const SAMPLE_RATE = 8000;

/** Static payload types we decode (RFC 3551 table 4); 13 is comfort noise (silence). */
const G711_TYPES = new Map<number, G711Law>([
  [0, 'pcmu'],
  [8, 'pcma'],
]);
const COMFORT_NOISE = 13;
/** Dynamic payload types (telephone-event, ...) carry no audio we record. */
const DYNAMIC_MIN = 96;

export interface PartyStats {
  packets: number;
  audioPackets: number;
  duplicates: number;
  lost: number;
  reordered: number;
  streams: number;
  resyncs: number;
  nonAudio: number;
  /** Packets in a payload format we cannot decode, by payload type. */
  undecodable: Record<string, number>;
}

/** Receives decoded audio and its position on the timeline (the samples are only valid during the call). */
export type PlaceAudio = (position: number, samples: Int16Array) => void;

interface PendingPacket {
  readonly timestamp: number;
  readonly arrival: number;
  readonly law: G711Law;
  readonly payload: Uint8Array;
}

interface StreamState {
  readonly ssrc: number;
  maxSeq: number;
  /** Extended timestamp of the packet holding maxSeq. */
  refTimestamp: number;
  anchored: boolean;
  anchorPosition: number;
  anchorTimestamp: number;
  /** The stream's first packets, held until the anchor is chosen. */
  pending: PendingPacket[];
  /** Recently seen extended sequence numbers, by slot, to find duplicates. */
  readonly seen: Float64Array;
}

/**
 * Packets used to anchor a new stream. One packet's capture time carries its
 * own queueing delay (a sender's timer firing late sends two at once); the
 * least delayed of the first few gives the stream's true start.
 */
const ANCHOR_PACKETS = 10;
const SEEN_WINDOW = 4096;

function signed16(d: number): number {
  return ((d + 0x8000) & 0xffff) - 0x8000;
}

function signed32(d: number): number {
  return (((d + 0x80000000) % 0x100000000) + 0x100000000) % 0x100000000 - 0x80000000;
}

export class PartyTrack {
  readonly stats: PartyStats = {
    packets: 0,
    audioPackets: 0,
    duplicates: 0,
    lost: 0,
    reordered: 0,
    streams: 0,
    resyncs: 0,
    nonAudio: 0,
    undecodable: {},
  };
  private streams = new Map<number, StreamState>();
  private scratch = new Int16Array(2048);

  constructor(
    readonly role: PartyRole,
    private readonly resyncSamples = SAMPLE_RATE,
  ) {}

  /** A new capture segment begins (after a pause): streams are anchored again from the capture clock. Flush first. */
  startSegment(): void {
    this.streams.clear();
  }

  /**
   * Places one packet: hands its decoded audio to `emit` with its timeline
   * position (at once, or with the stream's first packets once it is
   * anchored). `arrival` is the capture time as a timeline position in samples.
   */
  place(rtp: RtpView, packet: Uint8Array, arrival: number, emit: PlaceAudio): void {
    this.stats.packets++;
    const law = G711_TYPES.get(rtp.payloadType);
    if (law === undefined) {
      if (rtp.payloadType === COMFORT_NOISE || rtp.payloadType >= DYNAMIC_MIN) this.stats.nonAudio++;
      else this.stats.undecodable[rtp.payloadType] = (this.stats.undecodable[rtp.payloadType] ?? 0) + 1;
      return;
    }
    let s = this.streams.get(rtp.ssrc);
    let seq: number;
    let ts: number;
    if (s === undefined) {
      seq = rtp.sequence;
      ts = rtp.timestamp;
      s = { ssrc: rtp.ssrc, maxSeq: seq, refTimestamp: ts, anchored: false, anchorPosition: 0, anchorTimestamp: ts, pending: [], seen: new Float64Array(SEEN_WINDOW).fill(-1) };
      this.streams.set(rtp.ssrc, s);
      this.stats.streams++;
    } else {
      seq = s.maxSeq + signed16(rtp.sequence - (s.maxSeq & 0xffff));
      ts = s.refTimestamp + signed32(rtp.timestamp - (s.refTimestamp % 0x100000000));
      if (s.seen[seq & (SEEN_WINDOW - 1)] === seq) {
        this.stats.duplicates++;
        return;
      }
      if (seq > s.maxSeq) {
        this.stats.lost += seq - s.maxSeq - 1;
        s.maxSeq = seq;
        s.refTimestamp = ts;
        if (s.anchored && Math.abs(s.anchorPosition + (ts - s.anchorTimestamp) - arrival) > this.resyncSamples) {
          s.anchorPosition = Math.round(arrival);
          s.anchorTimestamp = ts;
          this.stats.resyncs++;
        }
      } else {
        this.stats.reordered++;
        if (this.stats.lost > 0) this.stats.lost--;
      }
    }
    s.seen[seq & (SEEN_WINDOW - 1)] = seq;
    this.stats.audioPackets++;
    if (!s.anchored) {
      s.pending.push({ timestamp: ts, arrival, law, payload: packet.slice(rtp.payloadStart, rtp.payloadEnd) });
      if (s.pending.length >= ANCHOR_PACKETS) this.anchor(s, emit);
      return;
    }
    emit(s.anchorPosition + (ts - s.anchorTimestamp), this.decode(law, packet.subarray(rtp.payloadStart, rtp.payloadEnd)));
  }

  /** Anchors streams still collecting their first packets (end of a segment) and emits what they hold. */
  flush(emit: PlaceAudio): void {
    for (const s of this.streams.values()) if (!s.anchored && s.pending.length > 0) this.anchor(s, emit);
  }

  private anchor(s: StreamState, emit: PlaceAudio): void {
    const ref = s.pending[0]!.timestamp;
    let best = Infinity;
    for (const p of s.pending) best = Math.min(best, p.arrival - (p.timestamp - ref));
    s.anchored = true;
    s.anchorTimestamp = ref;
    s.anchorPosition = Math.round(best);
    for (const p of s.pending) emit(s.anchorPosition + (p.timestamp - ref), this.decode(p.law, p.payload));
    s.pending = [];
  }

  private decode(law: G711Law, payload: Uint8Array): Int16Array {
    if (this.scratch.length < payload.length) this.scratch = new Int16Array(payload.length);
    return decodeG711(law, payload, this.scratch.subarray(0, payload.length));
  }
}
