/**
 * Cutting a converted recording into parts of at most N bytes, each a playable
 * file: WAV parts are whole sample frames under a fresh 44-byte header; MP3
 * parts are runs of whole frames (the encoder runs without the bit reservoir,
 * so every frame decodes on its own). Parts are computed from where the last
 * confirmed part ended, so the size limit can shrink between parts (a CRM
 * answering 413) without ever sending a byte twice or skipping one.
 */
import { RecordingFormatError } from '../errors.js';
import { blockAlign, WAV_HEADER_BYTES, type PcmFormat } from './wav.js';

export type AudioLayout =
  | {
      readonly format: 'wav';
      readonly pcm: PcmFormat;
      /** Where the samples start in the converted file. */
      readonly dataOffset: number;
      readonly dataBytes: number;
    }
  | {
      readonly format: 'mp3';
      readonly sampleRate: number;
      readonly channels: number;
      readonly dataOffset: number;
      readonly dataBytes: number;
      /** Frame starts relative to dataOffset (see Mp3Indexer). */
      readonly syncPoints: readonly number[];
    };

export interface PlannedPart {
  /** Range of the audio data (relative to dataOffset) this part carries. */
  readonly start: number;
  readonly end: number;
  /** Bytes of the file sent: header plus data. */
  readonly size: number;
}

/** The smallest limit that still leaves room for a header and some audio. */
export const MIN_PART_BYTES = 4096;

/** The part that starts at `start`, or undefined when everything has been sent. */
export function nextPart(layout: AudioLayout, start: number, limit: number): PlannedPart | undefined {
  if (start >= layout.dataBytes) return undefined;
  if (limit < MIN_PART_BYTES) throw new RecordingFormatError(`a part limit of ${limit} bytes is too small to carry audio`);
  const remaining = layout.dataBytes - start;
  if (layout.format === 'wav') {
    const align = blockAlign(layout.pcm);
    const room = Math.floor((limit - WAV_HEADER_BYTES) / align) * align;
    const length = Math.min(remaining - (remaining % align === 0 ? 0 : remaining % align), room);
    if (length <= 0) return undefined;
    return { start, end: start + length, size: WAV_HEADER_BYTES + length };
  }
  if (remaining <= limit) return { start, end: layout.dataBytes, size: remaining };
  const points = layout.syncPoints;
  // Largest sync point p with start < p <= start + limit.
  let lo = 0;
  let hi = points.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]! <= start + limit) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  const end = best >= 0 ? points[best]! : -1;
  if (end <= start) {
    throw new RecordingFormatError(`cannot cut an MP3 part of at most ${limit} bytes at ${start}: no frame boundary indexed in that span`);
  }
  return { start, end, size: end - start };
}

/** Every part, for a given limit, from `start` on. */
export function planParts(layout: AudioLayout, limit: number, start = 0): PlannedPart[] {
  const parts: PlannedPart[] = [];
  for (let p = nextPart(layout, start, limit); p !== undefined; p = nextPart(layout, p.end, limit)) parts.push(p);
  return parts;
}

/** Playing time of a data range, in milliseconds (MP3: estimated from the average bytes per second). */
export function rangeDurationMs(layout: AudioLayout, start: number, end: number, totalDurationMs: number): number {
  if (layout.format === 'wav') return ((end - start) / (layout.pcm.sampleRate * blockAlign(layout.pcm))) * 1000;
  return layout.dataBytes === 0 ? 0 : ((end - start) / layout.dataBytes) * totalDurationMs;
}
