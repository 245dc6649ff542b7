/** The front door's scanner match and per-source token bucket, on an injected clock. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOURCE_FILTER, SourceFilter } from '../../../src/sip-server/overload/source-filter.js';

describe('scanner user agents', () => {
  const f = new SourceFilter(DEFAULT_SOURCE_FILTER);
  it.each(['friendly-scanner', 'Friendly-Scanner', 'sipvicious 0.3.0', 'sipcli/v1.8', 'VaxSIPUserAgent/3.1', 'pplsip'])('%s is a scanner', (ua) => {
    expect(f.isScanner([ua])).toBe(true);
  });
  it.each(['Linphone/5.2', 'baresip v3.0', 'sipsak 0.9.8', 'Asterisk PBX 20.1'])('%s is not', (ua) => {
    expect(f.isScanner([ua])).toBe(false);
  });
  it('no User-Agent is not; a second User-Agent field naming a scanner is', () => {
    expect(f.isScanner([])).toBe(false);
    expect(f.isScanner(['Polycom/5.9', 'sipvicious'])).toBe(true);
  });
  it('an empty list turns the check off', () => {
    expect(new SourceFilter({ ...DEFAULT_SOURCE_FILTER, scannerUserAgents: [] }).isScanner(['friendly-scanner'])).toBe(false);
  });
});

describe('per-source token bucket', () => {
  it('a burst, then the rate; each source on its own', () => {
    let now = 0;
    const f = new SourceFilter({ ...DEFAULT_SOURCE_FILTER, ratePerSecond: 10, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => f.admit('192.0.2.1'))).toEqual([true, true, true, false]);
    expect(f.admit('192.0.2.2')).toBe(true);
    now += 100; // one token back at 10/s
    expect([f.admit('192.0.2.1'), f.admit('192.0.2.1')]).toEqual([true, false]);
    now += 10_000; // never more than the burst
    expect([1, 2, 3, 4].map(() => f.admit('192.0.2.1'))).toEqual([true, true, true, false]);
  });

  it('off at rate 0; the burst defaults to twice the rate', () => {
    const off = new SourceFilter(DEFAULT_SOURCE_FILTER, () => 0);
    expect(Array.from({ length: 1000 }, () => off.admit('192.0.2.1')).every(Boolean)).toBe(true);
    expect(off.trackedSources).toBe(0);
    const f = new SourceFilter({ ...DEFAULT_SOURCE_FILTER, ratePerSecond: 5, burst: 0 }, () => 0);
    expect(Array.from({ length: 11 }, () => f.admit('192.0.2.1')).filter(Boolean).length).toBe(10);
  });

  it('memory is bounded: past maxSources the least recently seen source is forgotten', () => {
    const f = new SourceFilter({ ...DEFAULT_SOURCE_FILTER, ratePerSecond: 1, burst: 1, maxSources: 3 }, () => 0);
    for (const s of ['a', 'b', 'c']) expect(f.admit(s)).toBe(true);
    expect(f.admit('a')).toBe(false); // a is now the most recent
    expect(f.admit('d')).toBe(true); // b, the least recent, is forgotten
    expect(f.trackedSources).toBe(3);
    expect(f.admit('b')).toBe(true); // a fresh bucket again (c forgotten)
    expect(f.admit('a')).toBe(false); // a was kept
  });
});
