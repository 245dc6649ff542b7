/**
 * Synthetic two-party calls as rtpengine records them: each party's RTP
 * (G.711 tones, 20 ms packets) as seen arriving at rtpengine's local port.
 */
import { encodeG711, type G711Law } from '../../../src/audio/g711.js';
import { sineTone } from '../../../src/audio/analysis.js';
import { PcapWriter, type PcapWriterOptions, type UdpSpec } from './pcap-writer.js';

export interface RtpSpec {
  readonly payloadType: number;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Uint8Array;
  readonly marker?: boolean;
  readonly csrcs?: number;
  readonly extensionWords?: number;
  readonly padding?: number;
}

export function rtpPacket(s: RtpSpec): Buffer {
  const csrcs = s.csrcs ?? 0;
  const ext = s.extensionWords !== undefined ? 4 + s.extensionWords * 4 : 0;
  const pad = s.padding ?? 0;
  const b = Buffer.alloc(12 + csrcs * 4 + ext + s.payload.length + pad);
  b[0] = 0x80 | (pad > 0 ? 0x20 : 0) | (ext > 0 ? 0x10 : 0) | csrcs;
  b[1] = (s.marker === true ? 0x80 : 0) | s.payloadType;
  b.writeUInt16BE(s.sequence & 0xffff, 2);
  b.writeUInt32BE(s.timestamp >>> 0, 4);
  b.writeUInt32BE(s.ssrc >>> 0, 8);
  let off = 12 + csrcs * 4;
  if (ext > 0) {
    b.writeUInt16BE(0xbede, off);
    b.writeUInt16BE(s.extensionWords!, off + 2);
    b.fill(0xee, off + 4, off + ext);
    off += ext;
  }
  Buffer.from(s.payload).copy(b, off);
  if (pad > 0) b[b.length - 1] = pad;
  return b;
}

export type Party = 'caller' | 'agent';

export interface StreamSpec {
  readonly party: Party;
  readonly ssrc: number;
  readonly sequenceStart: number;
  readonly timestampStart: number;
  readonly law?: G711Law;
  readonly tone: number;
  readonly amplitude?: number;
  readonly src?: string;
  readonly srcPort: number;
  readonly dst?: string;
  readonly dstPort: number;
}

export interface SynthPacket {
  time: number;
  readonly party: Party;
  readonly sequence: number;
  readonly timestamp: number;
  readonly udp: UdpSpec;
}

/** `count` packets of 20 ms starting at `startMicros`, packet i carrying samples [i*160, (i+1)*160) of the tone. */
export function synthStream(spec: StreamSpec, startMicros: number, count: number, firstIndex = 0): SynthPacket[] {
  const law = spec.law ?? 'pcmu';
  const out: SynthPacket[] = [];
  for (let k = 0; k < count; k++) {
    const i = firstIndex + k;
    const phase = (2 * Math.PI * spec.tone * i * 160) / 8000;
    const pcm = sineTone(spec.tone, 160, 8000, spec.amplitude ?? 8000, phase);
    const sequence = (spec.sequenceStart + i) & 0xffff;
    const timestamp = (spec.timestampStart + i * 160) >>> 0;
    const payload = rtpPacket({ payloadType: law === 'pcmu' ? 0 : 8, sequence, timestamp, ssrc: spec.ssrc, payload: encodeG711(law, pcm) });
    out.push({
      time: startMicros + k * 20_000,
      party: spec.party,
      sequence,
      timestamp,
      udp: { src: spec.src ?? '127.0.0.1', srcPort: spec.srcPort, dst: spec.dst ?? '127.0.0.1', dstPort: spec.dstPort, payload },
    });
  }
  return out;
}

/** Merges packet lists in arrival-time order (stable). */
export function byTime(...lists: SynthPacket[][]): SynthPacket[] {
  return lists.flat().sort((a, b) => a.time - b.time);
}

export function writePcap(path: string, packets: readonly SynthPacket[], options: PcapWriterOptions = {}): string {
  const w = new PcapWriter(options);
  for (const p of packets) w.udp(p.time, p.udp);
  return w.writeTo(path);
}

export const CALLER_PORT = 40_002;
export const AGENT_PORT = 40_010;

export function callerStream(over: Partial<StreamSpec> = {}): StreamSpec {
  return { party: 'caller', ssrc: 0x11111111, sequenceStart: 1000, timestampStart: 50_000, tone: 440, srcPort: 5004, dstPort: CALLER_PORT, ...over };
}

export function agentStream(over: Partial<StreamSpec> = {}): StreamSpec {
  return { party: 'agent', ssrc: 0x22222222, sequenceStart: 7, timestampStart: 9_000_000, tone: 1000, srcPort: 6004, dstPort: AGENT_PORT, ...over };
}
