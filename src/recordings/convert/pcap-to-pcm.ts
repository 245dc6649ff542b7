/**
 * rtpengine's pcap segments of one call → one PCM stream (8 kHz s16le, stereo
 * with the caller on the left and the agent on the right, or both mixed).
 *
 * Segments (one per start/stop of recording, i.e. per pause) are read in order
 * of their first packet; the capture clock places each segment, so a pause
 * becomes silence as long as the pause was. Files are streamed chunk by chunk
 * with back-pressure from the output, so memory stays bounded.
 */
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { RecordingFormatError } from '../errors.js';
import { PcapParser } from '../pcap/pcap-parser.js';
import { decodeUdp, formatAddress, isSupportedLinkType, UdpView } from '../pcap/udp-datagram.js';
import { parseRtp, RtpView } from '../../audio/rtp-header.js';
import { PartyTrack, SAMPLE_RATE, type PartyRole, type PartyStats } from './party-track.js';
import { Timeline, type ChannelLayout } from './timeline.js';

/** How to recognise a party's flow in the capture. */
export interface PartySelector {
  /** rtpengine's local port that receives this party's RTP (the port in the SDP rtpengine gave that party). */
  readonly localPort?: number;
  /** The party's own address as seen by rtpengine. */
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

export interface PcmConversionInput {
  /** pcap files of the recording, one per segment, any order. */
  readonly segments: readonly string[];
  readonly parties?: { readonly caller?: PartySelector; readonly agent?: PartySelector };
  readonly layout: ChannelLayout;
  /**
   * A recording paused when the call ended: this much silence after the last packet (the pause's
   * length by the engine's clock), as a pause resumed later is silence as long as it lasted.
   */
  readonly trailingSilenceMs?: number;
  readonly signal?: AbortSignal;
}

export interface FlowReport {
  readonly source: string;
  readonly destination: string;
  readonly party: PartyRole | 'unassigned';
  packets: number;
}

export interface PcmConversionReport {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Samples per channel written to the output. */
  durationSamples: number;
  readonly segments: number;
  readonly assignment: 'selectors' | 'order-of-appearance';
  readonly parties: Record<PartyRole, PartyStats>;
  readonly flows: FlowReport[];
  lateSamples: number;
  skipped: Record<string, number>;
  /** Bytes of a cut-off last record, per file that had one. */
  truncatedTail: Record<string, number>;
}

const READ_BYTES = 256 * 1024;

interface Segment {
  readonly file: string;
  readonly firstMicros: number;
}

async function firstPacketTime(file: string): Promise<number | undefined> {
  const fh = await open(file, 'r').catch((e: unknown) => {
    throw new RecordingFormatError(`${file}: cannot open capture (${(e as Error).message})`, { cause: e });
  });
  try {
    const head = Buffer.alloc(24 + 16);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    let first: number | undefined;
    const parser = new PcapParser(file, (time) => {
      first ??= time;
    });
    parser.push(head.subarray(0, bytesRead));
    if (bytesRead < 24) parser.end();
    if (first === undefined && bytesRead >= 40) {
      // The record header is enough for the time; the parser wants the whole record.
      const be = parser.fileHeader?.bigEndian === true;
      const sec = be ? head.readUInt32BE(24) : head.readUInt32LE(24);
      const frac = be ? head.readUInt32BE(28) : head.readUInt32LE(28);
      first = sec * 1e6 + frac * (parser.fileHeader?.nanosecond === true ? 0.001 : 1);
    }
    return first;
  } finally {
    await fh.close();
  }
}

function matches(sel: PartySelector | undefined, src: string, srcPort: number, dstPort: number): boolean {
  if (sel === undefined) return false;
  if (sel.localPort === undefined && sel.remoteAddress === undefined && sel.remotePort === undefined) return false;
  if (sel.localPort !== undefined && sel.localPort !== dstPort) return false;
  if (sel.remoteAddress !== undefined && sel.remoteAddress !== src) return false;
  if (sel.remotePort !== undefined && sel.remotePort !== srcPort) return false;
  return true;
}

/** The most silence a paused end adds (a call lasts 4 hours at most). */
const MAX_TAIL_SAMPLES = SAMPLE_RATE * 4 * 3600;

/** Converts the segments to PCM written to `output` (not ended here). */
export async function convertPcapsToPcm(input: PcmConversionInput, output: Writable): Promise<PcmConversionReport> {
  if (input.segments.length === 0) throw new RecordingFormatError('the recording has no capture segments');
  const found: Segment[] = [];
  for (const file of input.segments) {
    const firstMicros = await firstPacketTime(file);
    if (firstMicros !== undefined) found.push({ file, firstMicros });
  }
  found.sort((a, b) => a.firstMicros - b.firstMicros);

  const useSelectors = input.parties?.caller !== undefined || input.parties?.agent !== undefined;
  const tracks: Record<PartyRole, PartyTrack> = { caller: new PartyTrack('caller'), agent: new PartyTrack('agent') };
  const report: PcmConversionReport = {
    sampleRate: SAMPLE_RATE,
    channels: input.layout === 'stereo' ? 2 : 1,
    durationSamples: 0,
    segments: found.length,
    assignment: useSelectors ? 'selectors' : 'order-of-appearance',
    parties: { caller: tracks.caller.stats, agent: tracks.agent.stats },
    flows: [],
    lateSamples: 0,
    skipped: {},
    truncatedTail: {},
  };
  const skip = (why: string): void => {
    report.skipped[why] = (report.skipped[why] ?? 0) + 1;
  };

  let needDrain = false;
  let outputError: Error | undefined;
  const onOutputError = (e: Error): void => {
    outputError = e;
  };
  output.on('error', onOutputError);
  const timeline = new Timeline({
    layout: input.layout,
    emit: (pcm) => {
      if (!output.write(pcm)) needDrain = true;
    },
  });

  /** Flow (dst port, src port) → party, decided once per flow. */
  const flows = new Map<number, { party: PartyRole | undefined; report: FlowReport }>();
  const byLocalPort = new Map<number, PartyRole>();
  const originMicros = found[0]?.firstMicros ?? 0;

  const assign = (srcAddr: Uint8Array, srcPort: number, dstAddr: Uint8Array, dstPort: number): PartyRole | undefined => {
    const src = formatAddress(srcAddr);
    let party: PartyRole | undefined;
    if (useSelectors) {
      if (matches(input.parties?.caller, src, srcPort, dstPort)) party = 'caller';
      else if (matches(input.parties?.agent, src, srcPort, dstPort)) party = 'agent';
    } else {
      party = byLocalPort.get(dstPort);
      if (party === undefined && byLocalPort.size < 2) {
        party = byLocalPort.size === 0 ? 'caller' : 'agent';
        byLocalPort.set(dstPort, party);
      }
    }
    report.flows.push({
      source: `${src}:${srcPort}`,
      destination: `${formatAddress(dstAddr)}:${dstPort}`,
      party: party ?? 'unassigned',
      packets: 0,
    });
    return party;
  };

  const emitCaller = (pos: number, samples: Int16Array): void => timeline.write(0, pos, samples);
  const emitAgent = (pos: number, samples: Int16Array): void => timeline.write(1, pos, samples);
  const readBuffer = Buffer.allocUnsafe(READ_BYTES);
  // Reused for every packet: a day-long capture has tens of millions.
  const udp = new UdpView();
  const rtp = new RtpView();
  for (const segment of found) {
    tracks.caller.startSegment();
    tracks.agent.startSegment();
    let linkType = -1;
    const parser = new PcapParser(segment.file, (timeMicros, buf, start, end, header) => {
      if (linkType !== header.linkType) {
        if (!isSupportedLinkType(header.linkType)) {
          throw new RecordingFormatError(`${segment.file}: unsupported pcap link type ${header.linkType}`);
        }
        linkType = header.linkType;
      }
      const why = decodeUdp(linkType, buf, start, end, udp);
      if (why !== undefined) return skip(why);
      const key = udp.dstPort * 65536 + udp.srcPort + (udp.ipVersion === 6 ? 2 ** 32 : 0);
      let flow = flows.get(key);
      if (flow === undefined) {
        const len = udp.addressLength;
        const party = assign(buf.subarray(udp.srcOffset, udp.srcOffset + len), udp.srcPort, buf.subarray(udp.dstOffset, udp.dstOffset + len), udp.dstPort);
        flow = { party, report: report.flows[report.flows.length - 1]! };
        flows.set(key, flow);
      }
      flow.report.packets++;
      if (flow.party === undefined) return skip('unassigned-flow');
      const notRtp = parseRtp(buf, udp.payloadStart, udp.payloadEnd, rtp);
      if (notRtp !== undefined) return skip(notRtp);
      const arrival = ((timeMicros - originMicros) * SAMPLE_RATE) / 1e6;
      tracks[flow.party].place(rtp, buf, arrival, flow.party === 'caller' ? emitCaller : emitAgent);
    });
    // One read buffer for the whole file: the parser uses each record synchronously and copies
    // only a record split across reads, so nothing per chunk is left for the garbage collector.
    const fh = await open(segment.file, 'r');
    try {
      for (;;) {
        input.signal?.throwIfAborted();
        const { bytesRead } = await fh.read(readBuffer, 0, readBuffer.length, null);
        if (bytesRead === 0) break;
        parser.push(readBuffer.subarray(0, bytesRead));
        if (outputError !== undefined) throw outputError;
        if (needDrain) {
          needDrain = false;
          await once(output, 'drain', input.signal !== undefined ? { signal: input.signal } : {});
        }
      }
    } finally {
      await fh.close();
    }
    const tail = parser.end();
    if (tail > 0) report.truncatedTail[segment.file] = tail;
    tracks.caller.flush(emitCaller);
    tracks.agent.flush(emitAgent);
  }
  const tail = Math.min(Math.max(0, Math.round(((input.trailingSilenceMs ?? 0) * SAMPLE_RATE) / 1000)), MAX_TAIL_SAMPLES);
  timeline.finish(tail > 0 ? timeline.lastWritten + tail : 0);
  output.off('error', onOutputError);
  if (outputError !== undefined) throw outputError;
  report.durationSamples = timeline.emittedSamples;
  report.lateSamples = timeline.lateSamples;
  return report;
}

/**
 * What a conversion could not decode: a party whose audio was all in a codec
 * other than G.711 (its channel is silence). Undefined when nothing is missing.
 */
export function undecodableNote(report: PcmConversionReport): string | undefined {
  const notes: string[] = [];
  for (const role of ['caller', 'agent'] as const) {
    const t = report.parties[role];
    const undecodable = Object.entries(t.undecodable);
    if (t.audioPackets === 0 && undecodable.length > 0) {
      notes.push(`the ${role}'s audio is in a format the converter does not decode (${undecodable.map(([pt, n]) => `payload type ${pt}, ${n} packets`).join('; ')}; only G.711, PCMU 0 and PCMA 8, is)`);
    }
  }
  return notes.length === 0 ? undefined : notes.join('; ');
}
