/**
 * The prompt playback format: RIFF/WAVE (format tag 7, µ-law, ITU-T G.711),
 * 8 kHz, mono. rtpengine decodes it with libavformat; for PCMU calls µ-law is
 * passed through without loss, and at 8 KB/s a prompt is small enough to be
 * sent inline in an ng message to an external rtpengine.
 */
import { decodeG711, encodeG711 } from '../../audio/g711.js';

export const PLAYBACK_RATE = 8000;

const WAVE_FORMAT_MULAW = 7;

/** A µ-law WAV file holding `pcm` (a non-PCM WAV carries a fact chunk, RFC 2361 / the RIFF spec). */
export function encodeMulawWav(pcm: Int16Array): Buffer {
  const data = encodeG711('pcmu', pcm);
  const fmt = Buffer.alloc(8 + 18);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(18, 4);
  fmt.writeUInt16LE(WAVE_FORMAT_MULAW, 8);
  fmt.writeUInt16LE(1, 10); // channels
  fmt.writeUInt32LE(PLAYBACK_RATE, 12);
  fmt.writeUInt32LE(PLAYBACK_RATE, 16); // bytes per second
  fmt.writeUInt16LE(1, 20); // block align
  fmt.writeUInt16LE(8, 22); // bits per sample
  fmt.writeUInt16LE(0, 24); // no extra format bytes
  const fact = Buffer.alloc(12);
  fact.write('fact', 0, 'ascii');
  fact.writeUInt32LE(4, 4);
  fact.writeUInt32LE(pcm.length, 8);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0, 'ascii');
  dataHeader.writeUInt32LE(data.length, 4);
  const pad = data.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'ascii');
  riff.writeUInt32LE(4 + fmt.length + fact.length + dataHeader.length + data.length + pad.length, 4);
  riff.write('WAVE', 8, 'ascii');
  return Buffer.concat([riff, fmt, fact, dataHeader, Buffer.from(data.buffer, data.byteOffset, data.byteLength), pad]);
}

/** Decodes a file written by encodeMulawWav; undefined if it is anything else. */
export function decodeMulawWav(file: Buffer): Int16Array | undefined {
  if (file.length < 12 || file.toString('ascii', 0, 4) !== 'RIFF' || file.toString('ascii', 8, 12) !== 'WAVE') return undefined;
  let offset = 12;
  let isMulaw = false;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      isMulaw = file.readUInt16LE(offset + 8) === WAVE_FORMAT_MULAW && file.readUInt16LE(offset + 10) === 1 && file.readUInt32LE(offset + 12) === PLAYBACK_RATE;
    } else if (id === 'data') {
      if (!isMulaw) return undefined;
      return decodeG711('pcmu', file.subarray(offset + 8, Math.min(file.length, offset + 8 + size)));
    }
    offset += 8 + size + (size & 1);
  }
  return undefined;
}

/** The file is as long as its RIFF header says (a cache entry cut short by a full disk or a crash is not). */
export function isWholeRiff(file: Buffer): boolean {
  return file.length >= 12 && file.readUInt32LE(4) + 8 === file.length;
}

/** Playback length of a µ-law WAV from its size alone (one byte per sample). */
export function mulawWavDurationMs(pcmSamples: number): number {
  return Math.round((pcmSamples * 1000) / PLAYBACK_RATE);
}
