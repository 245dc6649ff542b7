/**
 * One party's RTP, turned into audio placed on the recording's timeline.
 *
 * Sequence numbers and timestamps are extended past their 16/32-bit wrap
 * (RFC 3550 §A.1); a packet seen twice is dropped; the position of a packet is
 * its RTP timestamp relative to an anchor taken from the capture clock when a
 * stream (SSRC) first appears in a segment. Gaps in timestamps therefore become
 * silence of the right length, reordered packets land where they belong, and a
 * pause (a new capture segment) starts again from the capture clock. When an
 * in-order packet's timestamp disagrees with the capture clock by more than
 * `resyncSamples` (a sender that reset or jumped its timestamp), the anchor is
 * taken again from the capture clock.
 */
import { decodeG711, type G711Law } from '../../audio/g711.js';
import type { RtpHeader } from '../rtp/rtp-header.js';

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

export interface PlacedAudio {
  /** First sample's position on the timeline (may be negative near the start; the timeline clips it). */
  readonly position: number;
  /** Decoded samples; valid until the next call to place(). */
  readonly samples: Int16Array;
}

interface StreamState {
  readonly ssrc: number;
  maxSeq: number;
  /** Extended timestamp of the packet holding maxSeq. */
  refTimestamp: number;
  anchorPosition: number;
  anchorTimestamp: number;
  /** Recently seen extended sequence numbers, by slot, to find duplicates. */
  readonly seen: Float64Array;
}

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

  /** A new capture segment begins (after a pause): streams are anchored again from the capture clock. */
  startSegment(): void {
    this.streams.clear();
  }

  /**
   * Places one packet. `arrival` is the capture time as a timeline position in
   * samples. Returns nothing for duplicates and packets without audio.
   */
  place(rtp: RtpHeader, arrival: number): PlacedAudio | undefined {
    this.stats.packets++;
    const law = G711_TYPES.get(rtp.payloadType);
    if (law === undefined) {
      if (rtp.payloadType === COMFORT_NOISE || rtp.payloadType >= DYNAMIC_MIN) this.stats.nonAudio++;
      else this.stats.undecodable[rtp.payloadType] = (this.stats.undecodable[rtp.payloadType] ?? 0) + 1;
      return undefined;
    }
    let s = this.streams.get(rtp.ssrc);
    let seq: number;
    let ts: number;
    if (s === undefined) {
      seq = rtp.sequence;
      ts = rtp.timestamp;
      s = {
        ssrc: rtp.ssrc,
        maxSeq: seq,
        refTimestamp: ts,
        anchorPosition: Math.round(arrival),
        anchorTimestamp: ts,
        seen: new Float64Array(SEEN_WINDOW).fill(-1),
      };
      this.streams.set(rtp.ssrc, s);
      this.stats.streams++;
    } else {
      seq = s.maxSeq + signed16(rtp.sequence - (s.maxSeq & 0xffff));
      ts = s.refTimestamp + signed32(rtp.timestamp - (s.refTimestamp % 0x100000000));
      const slot = seq & (SEEN_WINDOW - 1);
      if (s.seen[slot] === seq) {
        this.stats.duplicates++;
        return undefined;
      }
      if (seq > s.maxSeq) {
        this.stats.lost += seq - s.maxSeq - 1;
        s.maxSeq = seq;
        s.refTimestamp = ts;
        const expected = s.anchorPosition + (ts - s.anchorTimestamp);
        if (Math.abs(expected - arrival) > this.resyncSamples) {
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
    const n = rtp.payload.length;
    if (this.scratch.length < n) this.scratch = new Int16Array(n);
    const samples = decodeG711(law, rtp.payload, this.scratch.subarray(0, n));
    return { position: s.anchorPosition + (ts - s.anchorTimestamp), samples };
  }
}
