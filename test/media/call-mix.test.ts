/**
 * The arrival-driven mix of one call, driven with explicit times (no clock, no
 * sockets, no sleeps): packet arrivals and the shared clock's polls (every
 * 5 ms) are replayed in time order. Frames must go out when the parties'
 * packets are in, wait for a late or lost packet only until the party's
 * deadline, and never stall on a party that stopped sending.
 */
import { describe, expect, it } from 'vitest';
import { CallMix } from '../../src/media/monitor/call-mix.js';

const FRAME = 160;
/** Party 0 sends samples of value 1000, party 1 of value 10: a mixed sample says who is in it. */
const VALUE = [1000, 10] as const;

interface Sent {
  readonly index: number;
  readonly value: number;
  readonly at: number;
}

/** Packet `k` (20 ms each) of party `p` arrives at `at`; `ssrc` to change the source. */
interface Arrival {
  readonly p: number;
  readonly k: number;
  readonly at: number;
  readonly ssrc?: number;
}

function simulate(arrivals: readonly Arrival[], o: { minWaitMs?: number; maxWaitMs?: number; until?: number; pollMs?: number } = {}) {
  const sent: Sent[] = [];
  let now = 0;
  const mix = new CallMix(
    { parties: 2, minWaitMs: o.minWaitMs ?? 10, maxWaitMs: o.maxWaitMs ?? 60, onFrame: (index, pcm) => sent.push({ index, value: pcm[0]!, at: now }) },
    0,
  );
  // By default the clock stops with the last arrival (the streams end there; what follows is not under test).
  const until = o.until ?? Math.max(0, ...arrivals.map((a) => a.at));
  const pollMs = o.pollMs ?? 5;
  // Arrivals before a poll at the same time: the clock runs after the datagrams are read.
  const events = [
    ...arrivals.map((a) => ({ at: a.at, order: 0, a })),
    ...Array.from({ length: Math.floor(until / pollMs) }, (_, i) => ({ at: (i + 1) * pollMs, order: 1, a: undefined })),
  ].sort((x, y) => x.at - y.at || x.order - y.order);
  for (const e of events) {
    now = e.at;
    if (e.a === undefined) mix.poll(now);
    else {
      const { p, k, ssrc } = e.a;
      mix.push(p, { ssrc: ssrc ?? 111 * (p + 1), sequence: k & 0xffff, timestamp: 90_000 * (p + 1) + k * FRAME }, now, new Int16Array(FRAME).fill(VALUE[p]!));
    }
  }
  return { sent, mix, a: mix.buffers[0]!, b: mix.buffers[1]! };
}

/** Party p's packets 0..n-1, packet k arriving at start + 20k + extra(k) (extra undefined: lost). */
function stream(p: number, n: number, start: number, extra: (k: number) => number | undefined = () => 0, ssrc?: (k: number) => number): Arrival[] {
  const out: Arrival[] = [];
  for (let k = 0; k < n; k++) {
    const e = extra(k);
    if (e !== undefined) out.push({ p, k, at: start + 20 * k + e, ...(ssrc ? { ssrc: ssrc(k) } : {}) });
  }
  return out;
}

const after = (sent: readonly Sent[], t: number) => sent.filter((f) => f.at >= t);

describe('CallMix (frames go out when the packets are in)', () => {
  it('parties in phase: once aligned, each frame goes out the moment the last packet arrives, holding both', () => {
    const { sent, b } = simulate([...stream(0, 100, 1000), ...stream(1, 100, 1000.5)]);
    // The second party started a frame behind the first and slipped one frame to meet it (one packet lost, once).
    expect(b.stats.slips).toBe(1);
    const aligned = after(sent, 1600).filter((f) => f.at < 2980);
    expect(aligned.length).toBeGreaterThan(60);
    for (const f of aligned) {
      expect(f.value).toBe(1010);
      expect((f.at - 1000.5) % 20).toBe(0); // on B's arrival, not a frame later, not on a clock tick
    }
  });

  it('parties out of phase: the earlier party waits for the later one, by less than a frame; no frame waits for a deadline', () => {
    const { sent, mix } = simulate([...stream(0, 100, 1000), ...stream(1, 100, 1015)]);
    for (const f of after(sent, 1600).filter((x) => x.at < 2980)) {
      expect(f.value).toBe(1010);
      expect((f.at - 1015) % 20 === 0 || (f.at - 1000) % 20 === 0).toBe(true);
    }
    expect(mix.stats().framesOnDeadline).toBe(0);
  });

  it("a lost packet: the frame waits until the party's deadline (floor 10 ms, clock 5 ms), then goes out with its part silent", () => {
    const { sent, mix, b } = simulate([...stream(0, 60, 1000), ...stream(1, 60, 1000, (k) => (k === 40 ? undefined : 0))]);
    const frame = sent.find((f) => f.value === 1000 && f.at > 1500)!;
    expect(frame).toBeDefined();
    // B's packet 40 was expected at 1800 ms: given up at the first poll at or after 1810.
    expect(frame.at).toBe(1810);
    expect(mix.stats().framesOnDeadline).toBe(1);
    expect(b.stats.concealed).toBe(1);
  });

  it('a late packet within the deadline is waited for and mixed, not dropped', () => {
    const steady = simulate([...stream(0, 60, 1000), ...stream(1, 60, 1000)]);
    const { sent, b } = simulate([...stream(0, 60, 1000), ...stream(1, 60, 1000, (k) => (k === 40 ? 8 : 0))]);
    // Nothing more lost or late than with no late packet at all (start-up alignment included in both).
    expect(b.stats.late).toBe(steady.b.stats.late);
    expect(b.stats.concealed).toBe(steady.b.stats.concealed);
    expect(sent.find((x) => x.at === 1808)?.value).toBe(1010);
  });

  it('the wait adapts: packets 30 ms late one time in five are mixed once learnt; a steady party keeps the floor', () => {
    const { a, b } = simulate([...stream(0, 400, 1000), ...stream(1, 400, 1000, (k) => (k % 5 === 2 ? 30 : 0))], { minWaitMs: 5, maxWaitMs: 60 });
    // Only the first spike (before anything was learnt) is given up on.
    expect(b.stats.concealed).toBeLessThanOrEqual(2);
    expect(b.deadlines.marginMs).toBeGreaterThanOrEqual(30);
    expect(a.deadlines.marginMs).toBe(5);
    expect(a.stats.concealed).toBe(0);
  });

  it('a party that stops sending (hold) is no longer waited for after three frames; the mix never stalls; it is mixed again when it is back', () => {
    // B sends for 1 s, is quiet for 2 s, and is back with timestamps that continued over the pause.
    const bk = (k: number) => (k >= 50 && k < 150 ? undefined : 0);
    const { sent, mix, a, b } = simulate([...stream(0, 250, 1000), ...stream(1, 250, 1000, bk)]);
    expect(mix.stats().framesOnDeadline).toBeLessThanOrEqual(3);
    const quiet = sent.filter((f) => f.at > 2200 && f.at < 2900);
    expect(quiet.length).toBe(34); // A's arrivals from 2220 to 2880 ms
    // While B is quiet, A's frames go out on A's arrival.
    expect(quiet.every((f) => f.value === 1000 && (f.at - 1000) % 20 === 0)).toBe(true);
    expect(after(sent, 4500).filter((f) => f.at < 5900).every((f) => f.value === 1010)).toBe(true);
    expect(a.stats.resyncs).toBe(0);
    expect(b.isSending).toBe(true);
  });

  it('a party that slips and stops sending right after (no packet to learn from) does not stall the mix', () => {
    const { sent, mix, b } = simulate([...stream(0, 100, 1000), ...stream(1, 14, 1000.5)]);
    expect(b.stats.slips).toBe(1);
    expect(b.isSending).toBe(false);
    expect(mix.stats().framesOnDeadline).toBeLessThanOrEqual(4);
    const tail = after(sent, 1600);
    expect(tail.length).toBeGreaterThan(65);
    expect(tail.every((f) => f.value === 1000 && (f.at - 1000) % 20 === 0)).toBe(true);
  });

  it('a party whose packets came in a burst after a 150 ms stall does not stay behind: it slips back within a window', () => {
    // B's packets 40-47 are held up and arrive together at 1950 ms; then B is on time again.
    const held = (k: number) => (k >= 40 && k < 48 ? 1950 - (1000 + 20 * k) : 0);
    const { sent, b } = simulate([...stream(0, 200, 1000), ...stream(1, 200, 1000, held)]);
    expect(b.stats.slips).toBeGreaterThan(1);
    // A second later every frame goes out as both packets arrive (A's and B's at the same time), with both in it.
    const later = sent.filter((f) => f.at >= 3000 && f.at < 4980);
    expect(later.length).toBeGreaterThan(95);
    expect(later.every((f) => f.value === 1010 && (f.at - 1000) % 20 === 0)).toBe(true);
  });

  it('an SSRC change of one party re-anchors only that party; the other is not touched and nothing waits for a deadline', () => {
    const ssrc = (k: number) => (k < 50 ? 222 : 333);
    const { sent, mix, a, b } = simulate([...stream(0, 100, 1000), ...stream(1, 100, 1000, () => 0, ssrc)]);
    expect(b.stats.ssrcChanges).toBe(1);
    expect(a.stats.resyncs).toBe(0);
    expect(mix.stats().framesOnDeadline).toBe(0);
    expect(after(sent, 2100).filter((f) => f.at < 2980).every((f) => f.value === 1010)).toBe(true);
  });

  it('nobody sending: silent frames every 20 ms from the clock', () => {
    const { sent } = simulate([], { until: 200 });
    expect(sent.map((f) => f.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sent.map((f) => f.at)).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    expect(sent.every((f) => f.value === 0)).toBe(true);
  });

  it('after a stall of the clock, at most 10 frames are caught up; the rest are skipped, not sent in a burst', () => {
    const { sent, mix } = simulate([], { until: 1200, pollMs: 1200 });
    expect(mix.stats().framesSkipped).toBe(49);
    expect(sent.length).toBe(11);
    expect(sent.at(-1)!.index).toBe(59);
  });

  it('a party whose clock runs fast is bounded: placed anew instead of queueing without end', () => {
    // A sends two packets per 20 ms while B keeps real time: A piles up ahead of the mix.
    const fast: Arrival[] = Array.from({ length: 400 }, (_, k) => ({ p: 0, k, at: 1000 + 10 * k }));
    const { a, sent } = simulate([...fast, ...stream(1, 200, 1000)]);
    expect(a.stats.resyncs).toBeGreaterThan(0);
    expect(sent.length).toBeGreaterThan(190);
  });
});
