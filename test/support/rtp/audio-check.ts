/**
 * Turning received RTP back into audio and measuring it: reassemble a stream
 * in sequence order (gaps become silence, placed by timestamp), decode G.711,
 * measure tones with Goertzel over windows whose length puts the tone on an
 * exact bin, and compare with a reference by normalised cross-correlation.
 */
import { readFileSync } from 'node:fs';
import { goertzel, rms } from '../../../src/audio/analysis.js';
import { decodeG711 } from '../../../src/audio/g711.js';
import type { RtpPacket } from './rtp-packet.js';

/** Decodes one packet's payload by its static payload type (0 PCMU, 8 PCMA). */
export function decodePayload(p: Pick<RtpPacket, 'payloadType' | 'payload'>): Int16Array {
  if (p.payloadType === 0) return decodeG711('pcmu', p.payload);
  if (p.payloadType === 8) return decodeG711('pcma', p.payload);
  throw new Error(`payload type ${p.payloadType} is not G.711`);
}

/** Packets grouped by SSRC, in order of first appearance. */
export function bySsrc<P extends RtpPacket>(packets: readonly P[]): Map<number, P[]> {
  const out = new Map<number, P[]>();
  for (const p of packets) {
    const list = out.get(p.ssrc) ?? [];
    list.push(p);
    out.set(p.ssrc, list);
  }
  return out;
}

/**
 * One SSRC's audio as continuous PCM: packets sorted by extended sequence
 * number, each placed at its timestamp offset from the first, so lost packets
 * leave silence and reordered ones land where they belong. G.711 (non-audio
 * payload types such as telephone-event are skipped).
 */
export function streamPcm(packets: readonly RtpPacket[]): Int16Array {
  const audio = packets.filter((p) => p.payloadType === 0 || p.payloadType === 8);
  if (audio.length === 0) return new Int16Array(0);
  const extended = extendSequence(audio);
  const seen = new Set<number>();
  const ordered = extended.filter(({ ext }) => (seen.has(ext) ? false : (seen.add(ext), true))).sort((a, b) => a.ext - b.ext);
  const first = ordered[0]!.packet.timestamp;
  let length = 0;
  const placed = ordered.map(({ packet }) => {
    const offset = (packet.timestamp - first) >>> 0;
    const pcm = decodePayload(packet);
    length = Math.max(length, offset + pcm.length);
    return { offset, pcm };
  });
  const out = new Int16Array(length);
  for (const { offset, pcm } of placed) out.set(pcm, offset);
  return out;
}

function extendSequence<P extends RtpPacket>(packets: readonly P[]): { ext: number; packet: P }[] {
  // Each number is placed within ±32768 of the highest seen so far (RFC 3550 A.1 style).
  let highest = 0x10000 * 1024 + packets[0]!.sequenceNumber;
  return packets.map((packet) => {
    const d = ((packet.sequenceNumber - (highest & 0xffff) + 0x8000) & 0xffff) - 0x8000;
    const ext = highest + d;
    if (ext > highest) highest = ext;
    return { ext, packet };
  });
}

/** Tone amplitude per window of `windowSamples` (choose it so the tone falls on an exact Goertzel bin). */
export function toneLevels(pcm: Int16Array, frequency: number, windowSamples = 400): number[] {
  const out: number[] = [];
  for (let start = 0; start + windowSamples <= pcm.length; start += windowSamples) {
    out.push(goertzel(pcm.subarray(start, start + windowSamples), frequency));
  }
  return out;
}

/**
 * Windows in which `frequency` dominates: its amplitude is at least
 * `minAmplitude` and carries most of the window's energy (a pure sine of
 * amplitude A has RMS A/√2). Speech has energy near any frequency but is never
 * a pure tone for a whole window, so this tells a leaked test tone from speech.
 */
export function toneDominatedWindows(pcm: Int16Array, frequency: number, minAmplitude: number, windowSamples = 400): number {
  let count = 0;
  for (let start = 0; start + windowSamples <= pcm.length; start += windowSamples) {
    const w = pcm.subarray(start, start + windowSamples);
    const a = goertzel(w, frequency);
    if (a >= minAmplitude && a >= 0.7 * rms(w) * Math.SQRT2) count++;
  }
  return count;
}

/** Median of a list (0 for an empty list). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Best normalised cross-correlation of `signal` against `reference` over lags
 * 0..maxLag (the reference starting `lag` samples into the signal). 1 means
 * the same waveform up to a gain.
 */
export function bestCorrelation(signal: Int16Array, reference: Int16Array, maxLag: number): { lag: number; correlation: number } {
  let best = { lag: 0, correlation: -1 };
  const n = reference.length;
  let refEnergy = 0;
  for (let i = 0; i < n; i++) refEnergy += reference[i]! * reference[i]!;
  for (let lag = 0; lag <= maxLag && lag + n <= signal.length; lag++) {
    let dot = 0;
    let sigEnergy = 0;
    for (let i = 0; i < n; i++) {
      const s = signal[lag + i]!;
      dot += s * reference[i]!;
      sigEnergy += s * s;
    }
    const c = sigEnergy > 0 && refEnergy > 0 ? dot / Math.sqrt(sigEnergy * refEnergy) : 0;
    if (c > best.correlation) best = { lag, correlation: c };
  }
  return best;
}

export interface WavAudio {
  readonly sampleRate: number;
  readonly channels: number;
  readonly samples: Int16Array;
}

/**
 * Reads an audio file: RIFF/WAVE holding 16-bit PCM (format 1), A-law (6) or µ-law (7), as recordings
 * are delivered, or Sun AU holding µ-law (encoding 1), as prompts are rendered.
 */
export function readAudio(file: string): WavAudio {
  const buf = readFileSync(file);
  if (buf.length >= 24 && buf.toString('ascii', 0, 4) === '.snd') {
    const offset = buf.readUInt32BE(4);
    if (buf.readUInt32BE(12) !== 1) throw new Error(`${file}: unsupported AU encoding ${buf.readUInt32BE(12)}`);
    return { sampleRate: buf.readUInt32BE(16), channels: buf.readUInt32BE(20), samples: decodeG711('pcmu', buf.subarray(offset, offset + buf.readUInt32BE(8))) };
  }
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV or AU file`);
  let offset = 12;
  let format = 0;
  let channels = 0;
  let sampleRate = 0;
  let bits = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = buf.subarray(offset + 8, offset + 8 + size);
    if (id === 'fmt ') {
      format = body.readUInt16LE(0);
      channels = body.readUInt16LE(2);
      sampleRate = body.readUInt32LE(4);
      bits = body.readUInt16LE(14);
    } else if (id === 'data') {
      let samples: Int16Array;
      if (format === 1 && bits === 16) samples = new Int16Array(body.buffer.slice(body.byteOffset, body.byteOffset + (body.length & ~1)));
      else if (format === 7) samples = decodeG711('pcmu', body);
      else if (format === 6) samples = decodeG711('pcma', body);
      else throw new Error(`${file}: unsupported WAV format ${format}/${bits} bits`);
      return { sampleRate, channels, samples };
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** Normalised correlation of `signal` at `at` with `reference` (1: the same waveform up to a gain). */
function correlationAt(signal: Int16Array, at: number, reference: Int16Array, refEnergy: number): number {
  let dot = 0;
  let energy = 0;
  for (let i = 0; i < reference.length; i++) {
    const x = signal[at + i]!;
    dot += x * reference[i]!;
    energy += x * x;
  }
  return energy > 0 && refEnergy > 0 ? dot / Math.sqrt(energy * refEnergy) : 0;
}

/**
 * Splits packets (in arrival order) into runs of one continuous stream: the
 * same SSRC, and a timestamp that advances with the sequence number. rtpengine
 * may play prompts one after another on one SSRC, each with its own timestamps.
 */
export function runsOf<P extends RtpPacket>(packets: readonly P[]): P[][] {
  const runs: P[][] = [];
  const open = new Map<number, P[]>();
  for (const p of packets) {
    const run = open.get(p.ssrc);
    const last = run?.[run.length - 1];
    const seqStep = last === undefined ? 0 : (p.sequenceNumber - last.sequenceNumber) & 0xffff;
    const tsStep = last === undefined ? 0 : (p.timestamp - last.timestamp) >>> 0;
    // Continuous: a few packets on at most (reordering and loss allowed), 160 samples per packet of 20 ms.
    if (run !== undefined && seqStep > 0 && seqStep < 50 && tsStep === seqStep * 160) run.push(p);
    else {
      const fresh = [p];
      runs.push(fresh);
      open.set(p.ssrc, fresh);
    }
  }
  return runs;
}

/**
 * How many times `reference` (a prompt) was heard in `packets`: each run of
 * continuous audio is searched for the prompt's first 0.3 s; two hits closer
 * than half the prompt count once.
 */
export function timesHeard(packets: readonly RtpPacket[], reference: Int16Array, threshold = 0.8): number {
  const head = reference.subarray(0, Math.min(reference.length, 2400));
  let refEnergy = 0;
  for (const x of head) refEnergy += x * x;
  const gap = Math.max(head.length, reference.length / 2);
  let count = 0;
  for (const run of runsOf(packets)) {
    const pcm = streamPcm(run);
    // Coarse steps find where the prompt may start (speech stays somewhat alike over a few samples); each candidate is then checked sample by sample.
    for (let at = 0; at + head.length <= pcm.length; at += 8) {
      if (correlationAt(pcm, at, head, refEnergy) < threshold / 3) continue;
      let found = false;
      for (let fine = Math.max(0, at - 8); fine <= at + 8 && fine + head.length <= pcm.length; fine++) {
        if (correlationAt(pcm, fine, head, refEnergy) > threshold) found = true;
      }
      if (found) {
        count++;
        at += gap;
      }
    }
  }
  return count;
}
