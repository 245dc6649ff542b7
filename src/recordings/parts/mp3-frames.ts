/**
 * MPEG-1/2/2.5 Audio Layer III frame headers (ISO/IEC 11172-3 §2.4.2.3,
 * ISO/IEC 13818-3; MPEG 2.5 is the Fraunhofer extension for 8–12 kHz). Used
 * to walk an MP3 stream frame by frame so parts are cut exactly between frames
 * (a run of whole frames encoded without the bit reservoir is a playable file).
 *
 * The walker records a sparse index of "sync points": the first frame start at
 * or after every multiple of `granularity` bytes. Any part limit of at least a
 * few granularities can then be cut on a frame boundary without rescanning.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { RecordingFormatError } from '../errors.js';

const BITRATES_V1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const BITRATES_V2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
const RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

export interface Mp3FrameHeader {
  readonly bytes: number;
  readonly samples: number;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
}

/** Parses the 4-byte header at `b[i..i+4)`, or returns undefined if it is not a Layer III frame header. */
export function parseMp3Header(b0: number, b1: number, b2: number, b3: number): Mp3FrameHeader | undefined {
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0) return undefined;
  const version = (b1 >> 3) & 0x03; // 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5, 1 reserved
  const layer = (b1 >> 1) & 0x03; // 1 = Layer III
  if (version === 1 || layer !== 1) return undefined;
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 0x03;
  if (bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return undefined;
  const kbps = (version === 3 ? BITRATES_V1 : BITRATES_V2)[bitrateIndex]!;
  const sampleRate = RATES[version]![rateIndex]!;
  const padding = (b2 >> 1) & 0x01;
  const samples = version === 3 ? 1152 : 576;
  const bytes = Math.floor(((samples / 8) * kbps * 1000) / sampleRate) + padding;
  return { bytes, samples, sampleRate, channels: b3 >> 6 === 3 ? 1 : 2 };
}

export interface Mp3Index {
  /** Offset of the first frame (after an ID3v2 tag, if any). */
  readonly dataOffset: number;
  /** Bytes from the first frame to the end of the last whole frame. */
  readonly dataBytes: number;
  readonly frames: number;
  readonly samples: number;
  readonly sampleRate: number;
  readonly channels: number;
  /** Frame starts relative to dataOffset, ascending, starting with 0. */
  readonly syncPoints: number[];
}

/** Passes an MP3 stream through unchanged while indexing its frames. */
export class Mp3Indexer extends Transform {
  private offset = 0;
  private nextFrame = -1;
  private carry = Buffer.alloc(0);
  private carryOffset = 0;
  private dataOffset = -1;
  private lastFrameStart = -1;
  private lastFrameSamples = 0;
  private frames = 0;
  private samples = 0;
  private sampleRate = 0;
  private channels = 0;
  private readonly syncPoints: number[] = [];
  private nextSyncAt = 0;

  constructor(private readonly granularity = 16 * 1024) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.scan(chunk);
      done(null, chunk);
    } catch (e) {
      done(e as Error);
    }
  }

  private scan(chunk: Buffer): void {
    const buf = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.carry.length > 0 ? this.carryOffset : this.offset;
    this.offset += chunk.length;
    let i = 0;
    if (this.nextFrame < 0) {
      if (buf.length < 10) return this.keep(buf, base, 0);
      if (buf.toString('latin1', 0, 3) === 'ID3') {
        const size = ((buf[6]! & 0x7f) << 21) | ((buf[7]! & 0x7f) << 14) | ((buf[8]! & 0x7f) << 7) | (buf[9]! & 0x7f);
        this.nextFrame = 10 + size + ((buf[5]! & 0x10) !== 0 ? 10 : 0);
      } else {
        this.nextFrame = 0;
      }
    }
    for (;;) {
      i = this.nextFrame - base;
      if (i + 4 > buf.length) break;
      const h = parseMp3Header(buf[i]!, buf[i + 1]!, buf[i + 2]!, buf[i + 3]!);
      if (h === undefined) throw new RecordingFormatError(`MP3 stream lost frame sync at byte ${this.nextFrame}`);
      if (this.dataOffset < 0) {
        this.dataOffset = this.nextFrame;
        this.sampleRate = h.sampleRate;
        this.channels = h.channels;
      }
      const rel = this.nextFrame - this.dataOffset;
      if (rel >= this.nextSyncAt) {
        this.syncPoints.push(rel);
        this.nextSyncAt = (Math.floor(rel / this.granularity) + 1) * this.granularity;
      }
      this.frames++;
      this.samples += h.samples;
      this.lastFrameStart = this.nextFrame;
      this.lastFrameSamples = h.samples;
      this.nextFrame += h.bytes;
    }
    this.keep(buf, base, Math.max(0, Math.min(i, buf.length)));
  }

  private keep(buf: Buffer, base: number, from: number): void {
    this.carry = Buffer.from(buf.subarray(from));
    this.carryOffset = base + from;
  }

  /** The index, once the stream has ended. A last frame cut short does not count. */
  index(): Mp3Index {
    if (this.dataOffset < 0) return { dataOffset: 0, dataBytes: 0, frames: 0, samples: 0, sampleRate: 8000, channels: 1, syncPoints: [] };
    let frames = this.frames;
    let samples = this.samples;
    let end = Math.min(this.nextFrame, this.offset);
    if (this.nextFrame > this.offset) {
      frames--;
      samples -= this.lastFrameSamples;
      end = this.lastFrameStart;
    }
    const dataBytes = end - this.dataOffset;
    return {
      dataOffset: this.dataOffset,
      dataBytes,
      frames,
      samples,
      sampleRate: this.sampleRate,
      channels: this.channels,
      syncPoints: this.syncPoints.filter((p) => p <= dataBytes),
    };
  }
}
