/**
 * Fast generator of long two-party captures (minutes to a day of audio) in
 * rtpengine's format, for size tests and benchmarks: one second of each
 * party's G.711 tone is encoded once and repeated (an integer frequency
 * repeats exactly every second at 8 kHz), records are assembled in a large
 * buffer and written in big blocks.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { encodeG711 } from '../../../src/audio/g711.js';
import { sineTone } from '../../../src/audio/analysis.js';

export interface LongCallOptions {
  readonly seconds: number;
  readonly callerTone?: number;
  readonly agentTone?: number;
  readonly callerPort?: number;
  readonly agentPort?: number;
  readonly startMicros?: number;
}

const RECORD = 16 + 20 + 8 + 12 + 160;

function secondOfTone(freq: number): Buffer {
  return Buffer.from(encodeG711('pcmu', sineTone(Math.round(freq), 8000, 8000, 8000)));
}

/** Writes the capture and returns its size in bytes. */
export function writeLongCall(path: string, o: LongCallOptions): number {
  const parties = [
    { tone: secondOfTone(o.callerTone ?? 440), ssrc: 0x1234, src: 5004, dst: o.callerPort ?? 40_002 },
    { tone: secondOfTone(o.agentTone ?? 1000), ssrc: 0x5678, src: 6004, dst: o.agentPort ?? 40_010 },
  ];
  const packets = Math.round(o.seconds * 50);
  const block = Buffer.alloc(RECORD * 2 * 5000);
  const fd = openSync(path, 'w');
  let size = 0;
  try {
    const header = Buffer.alloc(24);
    header.writeUInt32LE(0xa1b2c3d4, 0);
    header.writeUInt16LE(2, 4);
    header.writeUInt16LE(4, 6);
    header.writeUInt32LE(65535, 16);
    header.writeUInt32LE(101, 20);
    size += writeSync(fd, header);
    // template records: everything but time, sequence, timestamp and payload
    for (let i = 0; i < block.length; i += RECORD) {
      const p = parties[(i / RECORD) % 2]!;
      block.writeUInt32LE(RECORD - 16, i + 8);
      block.writeUInt32LE(RECORD - 16, i + 12);
      const ip = i + 16;
      block[ip] = 0x45;
      block.writeUInt16BE(RECORD - 16, ip + 2);
      block[ip + 8] = 64;
      block[ip + 9] = 17;
      block.set([127, 0, 0, 1], ip + 12);
      block.set([127, 0, 0, 1], ip + 16);
      block.writeUInt16BE(p.src, ip + 20);
      block.writeUInt16BE(p.dst, ip + 22);
      block.writeUInt16BE(8 + 12 + 160, ip + 24);
      block[ip + 28] = 0x80;
      block[ip + 29] = 0;
      block.writeUInt32BE(p.ssrc, ip + 36);
    }
    const start = o.startMicros ?? 1_700_000_000_000_000;
    let used = 0;
    for (let k = 0; k < packets; k++) {
      const micros = start + k * 20_000;
      const sec = Math.floor(micros / 1e6);
      const usec = micros - sec * 1e6;
      const slot = (k % 50) * 160;
      for (const p of parties) {
        const i = used;
        block.writeUInt32LE(sec, i);
        block.writeUInt32LE(usec, i + 4);
        block.writeUInt16BE(k & 0xffff, i + 16 + 30);
        block.writeUInt32BE((k * 160) >>> 0, i + 16 + 32);
        p.tone.copy(block, i + 16 + 40, slot, slot + 160);
        used += RECORD;
      }
      if (used === block.length) {
        size += writeSync(fd, block, 0, used);
        used = 0;
      }
    }
    if (used > 0) size += writeSync(fd, block, 0, used);
  } finally {
    closeSync(fd);
  }
  return size;
}

/** Seconds of call that convert to about `bytes` of 8 kHz 16-bit audio. */
export function secondsForWavBytes(bytes: number, channels: 1 | 2): number {
  return bytes / (8000 * 2 * channels);
}
