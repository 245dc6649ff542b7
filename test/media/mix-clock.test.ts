import { describe, expect, it } from 'vitest';
import { MixClock } from '../../src/media/monitor/mix-clock.js';
import { eventually } from '../support/harness.js';

describe('MixClock (one timer for every monitored call)', () => {
  it('polls every member with the same time, and stops when the last member leaves', async () => {
    const clock = new MixClock(5);
    const seen: number[][] = [[], []];
    const members = seen.map((times) => ({ poll: (now: number) => times.push(now) }));
    for (const m of members) clock.add(m);
    await eventually(() => seen[0]!.length >= 3 && seen[1]!.length >= 3, 10_000, 'three polls of each member');
    // Both are polled in the same round, so their latest times agree (round by round).
    const n = Math.min(seen[0]!.length, seen[1]!.length);
    expect(seen[0]!.slice(0, n)).toEqual(seen[1]!.slice(0, n));
    clock.delete(members[0]!);
    const before = seen[0]!.length;
    await eventually(() => seen[1]!.length >= n + 3, 10_000, 'more polls of the remaining member');
    expect(seen[0]!.length).toBe(before);
    clock.delete(members[1]!);
    expect(clock.size).toBe(0);
  });
});
