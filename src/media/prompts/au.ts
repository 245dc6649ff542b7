/**
 * The prompt playback format: Sun/NeXT audio (".snd", AU), encoding 1 (8-bit
 * µ-law, ITU-T G.711), 8 kHz, mono. rtpengine decodes it with libavformat; for
 * PCMU calls µ-law is passed through without loss, and at 8 KB/s a prompt is
 * small enough to be sent inline in an ng message to an external rtpengine.
 *
 * Why AU and not WAV: rtpengine 10.5's player sends what libavformat reads
 * from the file one packet at a time, and the WAV demuxer reads 4 KB packets
 * (512 ms of µ-law): the callee got 20 ms packets every 10 ms for 250 ms, then
 * 260 ms of nothing, which a phone with a small fixed jitter buffer clips. The
 * AU demuxer reads small ones and the player's packets arrive every 20 ms
 * (measured on this rtpengine: docs/media.md "Prompts").
 */
import { decodeG711, encodeG711 } from '../../audio/g711.js';

export const PLAYBACK_RATE = 8000;

const MAGIC = 0x2e736e64; // ".snd"
const ENCODING_MULAW = 1;
/** Six 32-bit big-endian fields, then a 4-byte (empty) annotation the format's readers expect. */
const HEADER_BYTES = 28;

/** An AU file holding `pcm` as µ-law. */
export function encodeMulawAu(pcm: Int16Array): Buffer {
  const data = encodeG711('pcmu', pcm);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(HEADER_BYTES, 4);
  header.writeUInt32BE(data.length, 8);
  header.writeUInt32BE(ENCODING_MULAW, 12);
  header.writeUInt32BE(PLAYBACK_RATE, 16);
  header.writeUInt32BE(1, 20); // channels
  return Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Decodes a file written by encodeMulawAu; undefined if it is anything else. */
export function decodeMulawAu(file: Buffer): Int16Array | undefined {
  if (file.length < 24 || file.readUInt32BE(0) !== MAGIC) return undefined;
  const offset = file.readUInt32BE(4);
  if (offset < 24 || offset > file.length) return undefined;
  if (file.readUInt32BE(12) !== ENCODING_MULAW || file.readUInt32BE(16) !== PLAYBACK_RATE || file.readUInt32BE(20) !== 1) return undefined;
  return decodeG711('pcmu', file.subarray(offset, offset + file.readUInt32BE(8)));
}

/** The file is as long as its header says (a cache entry cut short by a full disk or a crash is not). */
export function isWholeAu(file: Buffer): boolean {
  return file.length >= 24 && file.readUInt32BE(0) === MAGIC && file.readUInt32BE(4) + file.readUInt32BE(8) === file.length;
}

/** Playback length of µ-law audio from its sample count (one byte per sample). */
export function mulawDurationMs(pcmSamples: number): number {
  return Math.round((pcmSamples * 1000) / PLAYBACK_RATE);
}
