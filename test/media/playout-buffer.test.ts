import { describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { FrameMixer } from '../../src/media/monitor/frame-mixer.js';
import { PlayoutBuffer } from '../../src/media/monitor/playout-buffer.js';

const FRAME = 160;

/** Packet k of a stream whose sample n has value `base + n` (so every sample says where it belongs). */
function packet(k: number, base: number, samples = FRAME): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => ((base + k * samples + i) % 30000) + 1);
}

/** Reads `frames` frames and returns them joined. */
function readFrames(buf: PlayoutBuffer, frames: number): Int16Array {
  const out = new Int16Array(frames * FRAME);
  const frame = new Int16Array(FRAME);
  for (let f = 0; f < frames; f++) {
    buf.read(frame);
    out.set(frame, f * FRAME);
  }
  return out;
}

describe('PlayoutBuffer (RFC 3550 timestamps place the audio)', () => {
  it('a new stream starts `delay` samples after the read position, in order', () => {
    const buf = new PlayoutBuffer({ delaySamples: 480 });
    for (let k = 0; k < 5; k++) buf.push(7, 100 + k, 5000 + k * FRAME, packet(k, 0));
    const out = readFrames(buf, 8);
    expect(Array.from(out.subarray(0, 480)).every((s) => s === 0)).toBe(true);
    expect(Array.from(out.subarray(480, 480 + 5 * FRAME))).toEqual(Array.from({ length: 5 * FRAME }, (_, i) => i + 1));
  });

  it('reordered packets land where their timestamps say', () => {
    const buf = new PlayoutBuffer({ delaySamples: 480 });
    const order = [0, 2, 1, 4, 3, 5];
    buf.push(7, 100, 5000, packet(0, 0));
    for (const k of order.slice(1)) buf.push(7, 100 + k, 5000 + k * FRAME, packet(k, 0));
    const out = readFrames(buf, 9).subarray(480, 480 + 6 * FRAME);
    expect(Array.from(out)).toEqual(Array.from({ length: 6 * FRAME }, (_, i) => i + 1));
    expect(buf.stats.late).toBe(0);
  });

  it('a lost packet leaves exactly its samples silent', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    for (const k of [0, 1, 3, 4]) buf.push(7, 100 + k, 9000 + k * FRAME, packet(k, 0));
    const out = readFrames(buf, 7).subarray(320, 320 + 5 * FRAME);
    expect(Array.from(out.subarray(2 * FRAME, 3 * FRAME)).every((s) => s === 0)).toBe(true);
    expect(out[FRAME - 1]).toBe(FRAME);
    expect(out[3 * FRAME]).toBe(3 * FRAME + 1);
  });

  it('duplicates are written once and counted', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    buf.push(7, 1, 0, packet(0, 0));
    buf.push(7, 1, 0, Int16Array.from({ length: FRAME }, () => 9999));
    expect(buf.stats.duplicates).toBe(1);
    expect(readFrames(buf, 3)[320]).toBe(1);
  });

  it('a packet arriving after its time was played is dropped as late', () => {
    const buf = new PlayoutBuffer({ delaySamples: 160 });
    buf.push(7, 10, 0, packet(0, 0));
    readFrames(buf, 4); // plays through where packet 1 would have been
    buf.push(7, 11, FRAME, packet(1, 0));
    expect(buf.stats.late).toBe(1);
  });

  it('sequence numbers and timestamps wrap around without a glitch', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    const ts0 = 2 ** 32 - 2 * FRAME;
    for (let k = 0; k < 5; k++) buf.push(7, (65534 + k) & 0xffff, (ts0 + k * FRAME) >>> 0, packet(k, 0));
    const out = readFrames(buf, 7).subarray(320, 320 + 5 * FRAME);
    expect(Array.from(out)).toEqual(Array.from({ length: 5 * FRAME }, (_, i) => i + 1));
    expect(buf.stats.resyncs).toBe(0);
  });

  it('survives an SSRC change: the new stream is re-anchored and plays on', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    for (let k = 0; k < 3; k++) buf.push(1, 500 + k, 1000 + k * FRAME, packet(k, 0));
    readFrames(buf, 3);
    // A new source with unrelated sequence numbers and timestamps.
    for (let k = 0; k < 3; k++) buf.push(2, 40000 + k, 77_000_000 + k * FRAME, packet(k, 20000));
    const out = readFrames(buf, 6);
    expect(buf.stats.ssrcChanges).toBe(1);
    const played = Array.from(out).filter((s) => s >= 20001);
    expect(played).toEqual(Array.from({ length: 3 * FRAME }, (_, i) => 20001 + i));
    expect(buf.currentSsrc).toBe(2);
  });

  it('a straggler of the replaced SSRC right after a change is dropped as late, not a switch back; a switch back a second later is followed', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    for (let k = 0; k < 3; k++) buf.push(1, 500 + k, 1000 + k * FRAME, packet(k, 0));
    readFrames(buf, 3);
    buf.push(2, 40000, 77_000_000, packet(0, 20000));
    buf.push(1, 503, 1000 + 3 * FRAME, packet(3, 0)); // the old stream's last packet, overtaken
    buf.push(2, 40001, 77_000_000 + FRAME, packet(1, 20000));
    expect(buf.stats).toMatchObject({ ssrcChanges: 1, late: 1 });
    expect(buf.currentSsrc).toBe(2);
    const out = readFrames(buf, 4);
    // The old stream's last packet is not in what plays: its samples (values 481-640) never appear.
    expect(Array.from(out).filter((s) => s > 480 && s <= 640)).toEqual([]);
    expect(Array.from(out).filter((s) => s >= 20001)).toEqual(Array.from({ length: 2 * FRAME }, (_, i) => 20001 + i));
    readFrames(buf, 50); // a second later the old source is back for real
    buf.push(1, 600, 9000, packet(0, 5000));
    expect(buf.stats.ssrcChanges).toBe(2);
    expect(buf.currentSsrc).toBe(1);
  });

  it('a timestamp jump far ahead (a new talk spurt after a pause) re-anchors instead of waiting', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320, maxLeadSamples: 1600 });
    buf.push(7, 1, 0, packet(0, 0));
    readFrames(buf, 3);
    buf.push(7, 2, 8000 * 60, packet(1, 0));
    expect(buf.stats.resyncs).toBe(1);
    const out = readFrames(buf, 4);
    expect(Array.from(out).filter((s) => s !== 0)).toHaveLength(FRAME);
  });

  it('any packet size fits (10 ms and 30 ms packets)', () => {
    const buf = new PlayoutBuffer({ delaySamples: 320 });
    let ts = 0;
    let expected = 1;
    for (const size of [80, 240, 80, 240]) {
      buf.push(7, ts, ts, Int16Array.from({ length: size }, () => expected));
      ts += size;
      expected++;
    }
    const out = readFrames(buf, 6).subarray(320, 320 + 640);
    expect(out[0]).toBe(1);
    expect(out[80]).toBe(2);
    expect(out[320]).toBe(3);
    expect(out[400]).toBe(4);
    expect(out[639]).toBe(4);
  });
});

describe('FrameMixer', () => {
  const tone = (f: number, a: number, n = FRAME, phase = 0) => Int16Array.from({ length: n }, (_, i) => Math.round(a * Math.sin(phase + (2 * Math.PI * f * i) / 8000)));

  it('sums parties at their own levels when the sum fits', () => {
    const mixer = new FrameMixer(FRAME);
    const out = new Int16Array(FRAME);
    mixer.mix([tone(400, 8000), tone(1000, 4000)], out);
    expect(goertzel(out, 400)).toBeCloseTo(8000, -2);
    expect(goertzel(out, 1000)).toBeCloseTo(4000, -2);
    expect(mixer.limitedFrames).toBe(0);
  });

  it('limits instead of clipping when the sum would overflow 16 bits, keeping the balance', () => {
    const mixer = new FrameMixer(800);
    const out = new Int16Array(800);
    mixer.mix([tone(400, 30000, 800), tone(1000, 30000, 800)], out);
    expect(mixer.limitedFrames).toBe(1);
    const peak = Math.max(...Array.from(out, Math.abs));
    expect(peak).toBeLessThanOrEqual(32767);
    const a = goertzel(out, 400);
    const b = goertzel(out, 1000);
    expect(Math.abs(a / b - 1)).toBeLessThan(0.02);
    // Hard clipping would create intermodulation (2·400 − 1000 is negative; 2·1000 − 400 = 1600 Hz).
    expect(goertzel(out, 1600)).toBeLessThan(0.01 * a);
  });

  it('recovers to unity gain after a loud passage', () => {
    const mixer = new FrameMixer(FRAME);
    const out = new Int16Array(FRAME);
    mixer.mix([tone(400, 30000), tone(400, 30000)], out);
    for (let i = 0; i < 300; i++) mixer.mix([tone(400, 1000), tone(1000, 0)], out);
    expect(goertzel(out, 400)).toBeCloseTo(1000, -1);
  });
});
