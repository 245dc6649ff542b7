/**
 * The adaptive playout deadline, driven with explicit arrival and media times
 * (no clock): RFC 3550 A.8 interarrival jitter, the lateness peak, the floor
 * and the cap.
 */
import { describe, expect, it } from 'vitest';
import { PlayoutDeadline } from '../../src/media/monitor/playout-deadline.js';

/** Feeds packets every 20 ms of media time with the given extra delays (ms); returns the estimator. */
function feed(d: PlayoutDeadline, delays: readonly number[], transit = 3): PlayoutDeadline {
  delays.forEach((extra, i) => d.observe(1000 + i * 20 + transit + extra, i * 20));
  return d;
}

describe('PlayoutDeadline', () => {
  it('a steady stream gets the floor: expected arrival plus minMs', () => {
    const d = feed(new PlayoutDeadline(10, 60), Array<number>(100).fill(0));
    expect(d.jitterMs).toBe(0);
    expect(d.marginMs).toBe(10);
    // The packet ending at media time 2000 ms is expected at 1000 + 3 + 2000, given up 10 ms later.
    expect(d.deadline(2000)).toBeCloseTo(3013, 6);
  });

  it('J follows RFC 3550 A.8: J += (|D| − J)/16 with D the difference of consecutive transits', () => {
    const d = new PlayoutDeadline(0, 500);
    const transits = [5, 9, 4, 4, 12];
    transits.forEach((t, i) => d.observe(i * 20 + t, i * 20));
    let j = 0;
    for (let i = 1; i < transits.length; i++) j += (Math.abs(transits[i]! - transits[i - 1]!) - j) / 16;
    expect(d.jitterMs).toBeCloseTo(j, 10);
  });

  it('steady noise-like jitter: the wait is 3·J (above the floor)', () => {
    const d = feed(new PlayoutDeadline(1, 500), Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? 0 : 8)));
    // Alternating 0/8 ms: |D| = 8 every time, so J → 8; the lateness peak is 8 too.
    expect(d.jitterMs).toBeGreaterThan(7.9);
    expect(d.marginMs).toBeCloseTo(3 * d.jitterMs, 6);
  });

  it('rare spikes: the wait covers the spike although J alone would not', () => {
    const d = feed(new PlayoutDeadline(10, 150), Array.from({ length: 350 }, (_, i) => (i % 7 === 3 ? 45 : 0)));
    expect(3 * d.jitterMs).toBeLessThan(45);
    expect(d.marginMs).toBeGreaterThanOrEqual(44);
  });

  it('the wait never exceeds maxMs, and the floor never exceeds the cap', () => {
    expect(feed(new PlayoutDeadline(10, 60), [0, 200, 0, 200, 0]).marginMs).toBe(60);
    expect(feed(new PlayoutDeadline(10, 0), [0, 0, 0]).marginMs).toBe(0);
  });

  it('after the spikes stop, the wait comes back down to the floor', () => {
    const spikes = Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? 40 : 0));
    const d = feed(new PlayoutDeadline(10, 60), [...spikes, ...Array<number>(3000).fill(0)]);
    expect(d.marginMs).toBe(10);
  });

  it("a sender whose clock runs slow (transit rising 500 ppm) is followed, not taken for ever-growing lateness", () => {
    const d = new PlayoutDeadline(10, 60);
    for (let i = 0; i < 5000; i++) d.observe(i * 20 * 1.0005 + 3, i * 20);
    expect(d.peakLatenessMs).toBeLessThan(1);
    expect(d.marginMs).toBe(10);
  });

  it('rebase starts the transits over (a stream placed anew) and keeps what was learnt of the network', () => {
    const d = feed(new PlayoutDeadline(10, 150), Array.from({ length: 70 }, (_, i) => (i % 7 === 3 ? 45 : 0)));
    d.rebase();
    expect(d.deadline(0)).toBe(Infinity);
    d.observe(5000, 100); // a new transit of 4900 ms: the new floor
    expect(d.marginMs).toBeGreaterThan(40);
    expect(d.deadline(100)).toBeCloseTo(5000 + d.marginMs, 6);
  });

  it('shift: a stream moved a frame earlier on the mix clock is expected a frame later in media terms, with nothing to relearn', () => {
    const d = feed(new PlayoutDeadline(10, 60), Array<number>(50).fill(0));
    const before = d.deadline(2000);
    d.shift(20);
    expect(d.deadline(1980)).toBeCloseTo(before, 6);
    d.observe(1000 + 50 * 20 + 3, 50 * 20 - 20); // the next packet, on time, now placed 20 ms earlier
    expect(d.peakLatenessMs).toBe(0);
    expect(d.jitterMs).toBe(0);
  });
});
