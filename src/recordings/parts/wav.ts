/**
 * RIFF/WAVE (Microsoft Multimedia Programming Interface and Data
 * Specifications 1.0, "WAVE Form"): the canonical 44-byte header for 16-bit
 * PCM, and finding the data chunk in a stream as ffmpeg writes it to a pipe
 * (where the size fields are left at 0xFFFFFFFF because it cannot seek back).
 */
import { Transform, type TransformCallback } from 'node:stream';
import { RecordingFormatError } from '../errors.js';

export const WAV_HEADER_BYTES = 44;

export interface PcmFormat {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
}

export function blockAlign(f: PcmFormat): number {
  return (f.channels * f.bitsPerSample) / 8;
}

/** `dataBytes` undefined: a stream whose length is not known yet, both sizes 0xFFFFFFFF (as ffmpeg writes to a pipe). */
export function wavHeader(f: PcmFormat, dataBytes: number | undefined): Buffer {
  if (dataBytes !== undefined && dataBytes + WAV_HEADER_BYTES - 8 > 0xffffffff) throw new RecordingFormatError(`a WAV file cannot hold ${dataBytes} bytes of audio`);
  const h = Buffer.alloc(WAV_HEADER_BYTES);
  h.write('RIFF', 0, 'ascii');
  h.writeUInt32LE(dataBytes === undefined ? 0xffffffff : 36 + dataBytes, 4);
  h.write('WAVE', 8, 'ascii');
  h.write('fmt ', 12, 'ascii');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(f.channels, 22);
  h.writeUInt32LE(f.sampleRate, 24);
  h.writeUInt32LE(f.sampleRate * blockAlign(f), 28);
  h.writeUInt16LE(blockAlign(f), 32);
  h.writeUInt16LE(f.bitsPerSample, 34);
  h.write('data', 36, 'ascii');
  h.writeUInt32LE(dataBytes ?? 0xffffffff, 40);
  return h;
}

export interface WavLayoutProbe {
  readonly format: PcmFormat;
  /** Byte offset where the samples start. */
  readonly dataOffset: number;
}

/**
 * Reads the chunk list at the start of a WAV stream. Returns undefined when
 * `head` is too short to reach the data chunk yet.
 */
export function probeWav(head: Buffer): WavLayoutProbe | undefined {
  if (head.length < 12) return undefined;
  if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') {
    throw new RecordingFormatError('encoder output is not a RIFF/WAVE stream');
  }
  let pos = 12;
  let format: PcmFormat | undefined;
  while (pos + 8 <= head.length) {
    const id = head.toString('ascii', pos, pos + 4);
    const size = head.readUInt32LE(pos + 4);
    if (id === 'data') {
      if (format === undefined) throw new RecordingFormatError('WAV data chunk before its fmt chunk');
      return { format, dataOffset: pos + 8 };
    }
    if (pos + 8 + size > head.length) return undefined;
    if (id === 'fmt ') {
      const tag = head.readUInt16LE(pos + 8);
      if (tag !== 1) throw new RecordingFormatError(`WAV encoding ${tag} is not 16-bit PCM`);
      format = { channels: head.readUInt16LE(pos + 10), sampleRate: head.readUInt32LE(pos + 12), bitsPerSample: head.readUInt16LE(pos + 22) };
    }
    pos += 8 + size + (size % 2);
  }
  return undefined;
}

/** Passes a WAV stream through unchanged and finds where its samples start. */
export class WavProber extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private found: WavLayoutProbe | undefined;
  private total = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (this.found === undefined) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      try {
        this.found = probeWav(Buffer.concat(this.head));
      } catch (e) {
        done(e as Error);
        return;
      }
      if (this.found !== undefined) this.head = [];
      else if (this.headBytes > 65536) {
        done(new RecordingFormatError('no WAV data chunk in the first 64 KB of the encoder output'));
        return;
      }
    }
    done(null, chunk);
  }

  /** Layout once the stream has ended. */
  result(): { probe: WavLayoutProbe; totalBytes: number } {
    if (this.found === undefined) throw new RecordingFormatError('the encoder produced no WAV data chunk');
    return { probe: this.found, totalBytes: this.total };
  }
}
