import { describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { FrameMixer } from '../../src/media/monitor/frame-mixer.js';
import { PlayoutBuffer } from '../../src/media/monitor/playout-buffer.js';
import { g711DecodeTable } from '../../src/audio/g711.js';

const FRAME = 160;

/** Packet k of a stream whose sample n has value `base + n` (so every sample says where it belongs). */
function packet(k: number, base: number, samples = FRAME): Int16Array {
  return Int16Array.from({ length: samples }, (_, i) => ((base + k * samples + i) % 30000) + 1);
}

const h = (ssrc: number, sequence: number, timestamp: number) => ({ ssrc, sequence, timestamp });
const newBuffer = (o: { minWaitMs?: number; maxWaitMs?: number; maxLeadSamples?: number } = {}) =>
  new PlayoutBuffer({ frameSamples: FRAME, minWaitMs: o.minWaitMs ?? 10, maxWaitMs: o.maxWaitMs ?? 60, maxLeadSamples: o.maxLeadSamples });

/** Mixes `frames` frames of this one buffer and returns them joined. */
function readFrames(buf: PlayoutBuffer, frames: number): Int32Array {
  const out = new Int32Array(frames * FRAME);
  const sum = new Int32Array(FRAME);
  for (let f = 0; f < frames; f++) {
    sum.fill(0);
    buf.takeInto(sum, 0);
    out.set(sum, f * FRAME);
  }
  return out;
}

describe('PlayoutBuffer (RFC 3550 timestamps place the audio)', () => {
  it('a new stream starts at the next frame to mix, in order, with no delay added', () => {
    const buf = newBuffer();
    for (let k = 0; k < 5; k++) buf.push(h(7, 100 + k, 5000 + k * FRAME), 0, packet(k, 0));
    expect(buf.frameReady).toBe(true);
    const out = readFrames(buf, 5);
    expect(Array.from(out)).toEqual(Array.from({ length: 5 * FRAME }, (_, i) => i + 1));
    expect(buf.frameReady).toBe(false);
  });

  it('G.711 payloads are decoded in place through the table, from the given byte range', () => {
    const buf = newBuffer();
    const table = g711DecodeTable('pcmu');
    const datagram = new Uint8Array(12 + FRAME).fill(0x80, 12); // µ-law 0x80 is +32124
    buf.push(h(7, 1, 0), 0, datagram, table, 12, 12 + FRAME);
    expect(Array.from(readFrames(buf, 1)).every((s) => s === 32124)).toBe(true);
  });

  it('reordered packets land where their timestamps say', () => {
    const buf = newBuffer();
    for (const k of [0, 2, 1, 4, 3, 5]) buf.push(h(7, 100 + k, 5000 + k * FRAME), 0, packet(k, 0));
    const out = readFrames(buf, 6);
    expect(Array.from(out)).toEqual(Array.from({ length: 6 * FRAME }, (_, i) => i + 1));
    expect(buf.stats.late).toBe(0);
  });

  it('a lost packet leaves exactly its samples silent, counted as concealed', () => {
    const buf = newBuffer();
    for (const k of [0, 1, 3, 4]) buf.push(h(7, 100 + k, 9000 + k * FRAME), 0, packet(k, 0));
    const out = readFrames(buf, 5);
    expect(Array.from(out.subarray(2 * FRAME, 3 * FRAME)).every((s) => s === 0)).toBe(true);
    expect(out[FRAME - 1]).toBe(FRAME);
    expect(out[3 * FRAME]).toBe(3 * FRAME + 1);
    expect(buf.stats.concealed).toBe(1);
  });

  it('duplicates are written once and counted', () => {
    const buf = newBuffer();
    buf.push(h(7, 1, 0), 0, packet(0, 0));
    buf.push(h(7, 1, 0), 0, Int16Array.from({ length: FRAME }, () => 9999));
    expect(buf.stats.duplicates).toBe(1);
    expect(readFrames(buf, 1)[0]).toBe(1);
  });

  it('a packet arriving after its frame was mixed is dropped as late', () => {
    const buf = newBuffer();
    buf.push(h(7, 10, 0), 0, packet(0, 0));
    readFrames(buf, 2); // mixes past where packet 1 belonged (the party is still counted as sending)
    buf.push(h(7, 11, FRAME), 0, packet(1, 0));
    expect(buf.stats).toMatchObject({ late: 1, resyncs: 0, concealed: 1 });
  });

  it('sequence numbers and timestamps wrap around without a glitch', () => {
    const buf = newBuffer();
    const ts0 = 2 ** 32 - 2 * FRAME;
    for (let k = 0; k < 5; k++) buf.push(h(7, (65534 + k) & 0xffff, (ts0 + k * FRAME) >>> 0), 0, packet(k, 0));
    const out = readFrames(buf, 5);
    expect(Array.from(out)).toEqual(Array.from({ length: 5 * FRAME }, (_, i) => i + 1));
    expect(buf.stats.resyncs).toBe(0);
  });

  it('survives an SSRC change: the new stream is placed right after what is buffered and plays on', () => {
    const buf = newBuffer();
    for (let k = 0; k < 3; k++) buf.push(h(1, 500 + k, 1000 + k * FRAME), 0, packet(k, 0));
    readFrames(buf, 1);
    // A new source with unrelated sequence numbers and timestamps, while two frames of the old one wait.
    for (let k = 0; k < 3; k++) buf.push(h(2, 40000 + k, 77_000_000 + k * FRAME), 0, packet(k, 20000));
    const out = Array.from(readFrames(buf, 5));
    expect(buf.stats.ssrcChanges).toBe(1);
    expect(out.slice(0, 2 * FRAME)).toEqual(Array.from({ length: 2 * FRAME }, (_, i) => FRAME + i + 1));
    expect(out.slice(2 * FRAME)).toEqual(Array.from({ length: 3 * FRAME }, (_, i) => 20001 + i));
    expect(buf.currentSsrc).toBe(2);
  });

  it('a straggler of the replaced SSRC right after a change is dropped as late, not a switch back; a switch back a second later is followed', () => {
    const buf = newBuffer();
    for (let k = 0; k < 3; k++) buf.push(h(1, 500 + k, 1000 + k * FRAME), 0, packet(k, 0));
    readFrames(buf, 3);
    buf.push(h(2, 40000, 77_000_000), 0, packet(0, 20000));
    buf.push(h(1, 503, 1000 + 3 * FRAME), 0, packet(3, 0)); // the old stream's last packet, overtaken
    buf.push(h(2, 40001, 77_000_000 + FRAME), 0, packet(1, 20000));
    expect(buf.stats).toMatchObject({ ssrcChanges: 1, late: 1 });
    expect(buf.currentSsrc).toBe(2);
    const out = readFrames(buf, 4);
    // The old stream's last packet is not in what plays: its samples (values 481-640) never appear.
    expect(Array.from(out).filter((s) => s > 480 && s <= 640)).toEqual([]);
    expect(Array.from(out).filter((s) => s >= 20001)).toEqual(Array.from({ length: 2 * FRAME }, (_, i) => 20001 + i));
    readFrames(buf, 50); // a second later the old source is back for real
    buf.push(h(1, 600, 9000), 0, packet(0, 5000));
    expect(buf.stats.ssrcChanges).toBe(2);
    expect(buf.currentSsrc).toBe(1);
  });

  it('a timestamp jump far ahead (a new talk spurt after a pause) re-anchors at the next frame instead of waiting', () => {
    const buf = newBuffer({ maxLeadSamples: 1600 });
    buf.push(h(7, 1, 0), 0, packet(0, 0));
    readFrames(buf, 3);
    buf.push(h(7, 2, 8000 * 60), 0, packet(1, 0));
    expect(buf.stats.resyncs).toBe(1);
    expect(buf.frameReady).toBe(true);
    expect(Array.from(readFrames(buf, 1)).filter((s) => s !== 0)).toHaveLength(FRAME);
  });

  it('a quiet party (hold, silence suppression) stops being waited for after three empty frames', () => {
    const buf = newBuffer();
    buf.push(h(7, 1, 0), 0, packet(0, 0));
    readFrames(buf, 3);
    expect(buf.isSending).toBe(true);
    readFrames(buf, 1);
    expect(buf.isSending).toBe(false);
    expect(buf.stats.concealed).toBe(3);
    readFrames(buf, 10); // not counted as concealed while quiet
    expect(buf.stats.concealed).toBe(3);
  });

  it('a talk spurt after silence suppression keeps its place (timestamps say how long the silence was)', () => {
    const buf = newBuffer();
    buf.push(h(7, 1, 0), 0, packet(0, 0));
    readFrames(buf, 10);
    expect(buf.isSending).toBe(false);
    // RFC 3551 §4.1: the timestamp advances over the silence; the sequence number does not.
    buf.push(h(7, 2, 10 * FRAME), 200, packet(1, 0));
    expect(buf.isSending).toBe(true);
    expect(buf.frameReady).toBe(true);
    expect(buf.stats.resyncs).toBe(0);
  });

  it('a quiet party whose packets now come too late for its old anchor is placed at the next frame, not dropped', () => {
    const buf = newBuffer();
    buf.push(h(7, 1, 0), 0, packet(0, 0));
    readFrames(buf, 20);
    buf.push(h(7, 2, 5 * FRAME), 400, packet(1, 0)); // its timestamps say 100 ms: the mix is at 400 ms
    expect(buf.stats).toMatchObject({ late: 0, resyncs: 1 });
    expect(buf.frameReady).toBe(true);
  });

  it('any packet size fits (10 ms and 30 ms packets); a frame is ready only when every sample of it is in', () => {
    const buf = newBuffer();
    let ts = 0;
    let value = 1;
    const sizes = [80, 240, 80, 240];
    const ready: boolean[] = [];
    for (const size of sizes) {
      buf.push(h(7, ts, ts), 0, Int16Array.from({ length: size }, () => value));
      ready.push(buf.frameReady);
      ts += size;
      value++;
    }
    expect(ready).toEqual([false, true, true, true]);
    const out = readFrames(buf, 4);
    expect([out[0], out[80], out[320], out[400], out[639]]).toEqual([1, 2, 3, 4, 4]);
  });

  it('the deadline of a frame completed by a 30 ms packet is that packet\'s expected arrival plus the wait', () => {
    const buf = newBuffer({ minWaitMs: 10 });
    buf.push(h(7, 1, 0), 1000, packet(0, 0, 240)); // samples 0-239 arrive at 1000 ms: transit 1000 − 30
    readFrames(buf, 1);
    // Frame 1 (samples 160-319) needs the packet ending at sample 480 (60 ms): expected at 970 + 60, plus 10 ms.
    expect(buf.deadline()).toBeCloseTo(1040, 6);
  });

  it('memory is bounded: a party far ahead of the mix is re-anchored, not queued', () => {
    const buf = newBuffer({ maxWaitMs: 60 });
    for (let k = 0; k < 200; k++) buf.push(h(7, k, k * FRAME), 0, packet(k, 0));
    expect(buf.stats.resyncs).toBeGreaterThan(0);
    // What is buffered never exceeds the lead allowed: the larger of the wait + 3 frames (120 ms) and 8 frames.
    let frames = 0;
    while (buf.frameReady && frames < 100) {
      readFrames(buf, 1);
      frames++;
    }
    expect(frames).toBeLessThanOrEqual(8);
    expect(frames).toBeGreaterThan(0);
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
