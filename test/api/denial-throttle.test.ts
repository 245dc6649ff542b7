/**
 * The throttle on unauthenticated denials in the audit log: per address and in
 * total per window, with what it held back reported once the window is over.
 */
import { describe, expect, it } from 'vitest';
import { DenialThrottle, type SuppressedDenials } from '../../src/api/audit/denial-throttle.js';

describe('DenialThrottle', () => {
  it('admits the first per-address denials, then the total; counts the rest and reports them when the window ends', () => {
    let now = 1_000;
    const reported: SuppressedDenials[] = [];
    const t = new DenialThrottle({ windowMs: 100, perAddress: 2, total: 3, now: () => now });
    const admit = (a: string) => t.admit(a, (s) => reported.push(s));
    expect([admit('a'), admit('a'), admit('a'), admit('b'), admit('b'), admit('c')]).toEqual([true, true, false, true, false, false]);
    expect(t.pending).toBe(3);
    now = 1_099;
    t.roll((s) => reported.push(s));
    expect(reported).toEqual([]);
    now = 1_250;
    expect(admit('a')).toBe(true);
    expect(reported).toEqual([
      { address: 'a', count: 1, from: 1_000, to: 1_100 },
      { address: 'b', count: 1, from: 1_000, to: 1_100 },
      { address: 'c', count: 1, from: 1_000, to: 1_100 },
    ]);
    expect(t.pending).toBe(0);
  });

  it('counts addresses beyond its table together as *', () => {
    const reported: SuppressedDenials[] = [];
    const t = new DenialThrottle({ perAddress: 0, maxAddresses: 2, now: () => 5 });
    for (const a of ['a', 'b', 'c', 'd', 'a']) t.admit(a, () => undefined);
    t.roll((s) => reported.push(s), true);
    expect(reported.map((s) => [s.address, s.count])).toEqual([['a', 2], ['b', 1], ['*', 2]]);
  });
});
