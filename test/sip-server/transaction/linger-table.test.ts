/**
 * The table of transactions that only wait out their RFC 3261 §17 timer
 * (core/lingering.ts): each record is found by its key until its own wait is
 * over, and not a moment longer; each wait time is one queue with one timer,
 * so when the records are gone no timer is left either. On a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { LingerTable } from '../../../src/sip-server/core/lingering.js';
import { TimerQueue } from '../../../src/sip-server/transaction/timer-queue.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup(): { clock: FakeClock; timers: TimerQueue; table: LingerTable<{ n: number }>; expired: string[] } {
  const clock = new FakeClock();
  const timers = new TimerQueue(clock);
  const expired: string[] = [];
  const table = new LingerTable<{ n: number }>(timers, (key) => expired.push(key));
  return { clock, timers, table, expired };
}

describe('LingerTable', () => {
  it('keeps a record for exactly its wait, whatever other wait times are in the table', () => {
    const { clock, timers, table, expired } = setup();
    table.add('j', { n: 1 }, 32_000);
    clock.advanceTo(1000);
    table.add('k', { n: 2 }, 5000);
    expect(timers.size).toBe(2);
    clock.advanceTo(5999);
    expect(table.get('k')).toEqual({ n: 2 });
    clock.advanceTo(6000);
    expect(table.get('k')).toBeUndefined();
    expect(expired).toEqual(['k']);
    clock.advanceTo(31_999);
    expect(table.get('j')).toEqual({ n: 1 });
    clock.advanceTo(32_000);
    expect(table.get('j')).toBeUndefined();
    expect(expired).toEqual(['k', 'j']);
    expect(table.size).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('expires records of one wait time in the order they were made, each at its own time', () => {
    const { clock, table, expired } = setup();
    for (let i = 0; i < 5; i++) {
      clock.advanceTo(i * 100);
      table.add(`r${i}`, { n: i }, 1000);
    }
    clock.advanceTo(1250);
    expect(expired).toEqual(['r0', 'r1', 'r2']);
    expect(table.size).toBe(2);
    expect(table.get('r3')).toEqual({ n: 3 });
    clock.advanceTo(1400);
    expect(expired).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  it('a key added again is replaced: the first record does not end the second one early', () => {
    const { clock, table, expired } = setup();
    table.add('x', { n: 1 }, 1000);
    clock.advanceTo(500);
    table.add('x', { n: 2 }, 1000);
    clock.advanceTo(1000);
    expect(table.get('x')).toEqual({ n: 2 });
    expect(expired).toEqual([]);
    clock.advanceTo(1500);
    expect(table.get('x')).toBeUndefined();
    expect(expired).toEqual(['x']);
  });

  it('stays bounded under a steady stream: what expired is let go, and everything ends at zero', () => {
    const { clock, timers, table } = setup();
    const wait = 32_000;
    // 100 records a second for 100 s: about 3,200 waiting at any time.
    let t = 0;
    for (let i = 0; i < 10_000; i++) {
      t = i * 10;
      clock.advanceTo(t);
      table.add(`k${i}`, { n: i }, wait);
      if (i % 1000 === 999) expect(table.size).toBeLessThanOrEqual(wait / 10 + 1);
    }
    expect(table.get('k9999')).toEqual({ n: 9999 });
    expect(table.get(`k${9999 - wait / 10 - 1}`)).toBeUndefined();
    clock.advanceTo(t + wait);
    expect(table.size).toBe(0);
    expect(timers.size).toBe(0);
  });

  it('clear() drops every record and its timer', () => {
    const { clock, timers, table, expired } = setup();
    table.add('a', { n: 1 }, 1000);
    table.add('b', { n: 2 }, 2000);
    table.clear();
    expect(table.size).toBe(0);
    expect(timers.size).toBe(0);
    clock.advanceTo(5000);
    expect(expired).toEqual([]);
  });
});
