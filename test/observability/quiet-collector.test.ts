/**
 * The SIP server thread's stand-in for V8's memory reducer
 * (src/observability/quiet-collector.ts): a full collection when the message
 * rate and the work in flight have both fallen far below their peak (and up
 * to two more while it stays quiet), none under a steady load or before any
 * real load. Sampled by hand.
 */
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/harness.js';
import { QuietCollector } from '../../src/observability/quiet-collector.js';

function setup(): { c: QuietCollector; step: (messages: number, inFlight: number) => void; collected: () => number } {
  let total = 0;
  let inFlight = 0;
  let collected = 0;
  const c = new QuietCollector({ messages: () => total, inFlight: () => inFlight, collect: () => collected++, minPeakMessages: 1000, dropFactor: 16 });
  return {
    c,
    step: (m, f) => {
      total += m;
      inFlight = f;
      c.sample();
    },
    collected: () => collected,
  };
}

describe('QuietCollector', () => {
  it('collects when the load stops and what it left in flight has expired, not before; twice more while quiet, then no more', () => {
    const { c, step, collected } = setup();
    for (let i = 0; i < 10; i++) step(5000, 30_000);
    step(0, 29_000); // traffic stopped, transactions still wait out their timers
    step(0, 10_000);
    expect(collected()).toBe(0);
    step(0, 1000);
    expect(collected()).toBe(1);
    for (let i = 0; i < 5; i++) step(0, 0);
    expect(collected()).toBe(3);
    expect(c.collections).toBe(3);
  });

  it('stops the follow-ups when the load comes back', () => {
    const { step, collected } = setup();
    for (let i = 0; i < 5; i++) step(5000, 30_000);
    step(0, 0);
    for (let i = 0; i < 3; i++) step(4000, 20_000);
    expect(collected()).toBe(1);
  });

  it('collects again only after the next rise and fall', () => {
    const { step, collected } = setup();
    for (let i = 0; i < 5; i++) step(5000, 30_000);
    step(0, 0);
    step(0, 0);
    step(0, 0);
    expect(collected()).toBe(3);
    for (let i = 0; i < 5; i++) step(200, 1000); // a trickle: no load worth collecting after
    step(0, 0);
    expect(collected()).toBe(3);
    for (let i = 0; i < 5; i++) step(3000, 20_000);
    step(100, 500);
    expect(collected()).toBe(4);
  });

  it('never collects under a steady load, high or low, or a load that only eases off a little', () => {
    const { step, collected } = setup();
    for (let i = 0; i < 20; i++) step(5000, 30_000);
    for (let i = 0; i < 20; i++) step(2000, 12_000);
    for (let i = 0; i < 20; i++) step(50, 300);
    const quiet = setup();
    for (let i = 0; i < 20; i++) quiet.step(50, 300);
    expect(collected()).toBe(3); // only the fall from 5000 to 50 counts (with its two follow-ups)
    expect(quiet.collected()).toBe(0);
  });

  it('a sample whose source throws (EMFILE while the process is out of files) is skipped: the timer goes on and nothing escapes it', async () => {
    let calls = 0;
    let inFlight = 0;
    const c = new QuietCollector({
      messages: () => {
        calls++;
        if (calls > 1 && calls < 5) throw new Error('EMFILE: too many open files, uv_resident_set_memory'); // (the first: the constructor's reading)
        return 0;
      },
      inFlight: () => inFlight++,
      collect: () => undefined,
      intervalMs: 5,
    });
    c.start();
    await eventually(() => inFlight >= 3, 5000, 'samples taken again once the source recovers');
    c.stop();
    expect(calls).toBeGreaterThanOrEqual(5);
  });
});
