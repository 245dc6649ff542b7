/**
 * Exact to the minute across daylight-saving changes, on both hemispheres.
 * The rule under test (docs/policy.md, "Daylight saving"): a local time maps
 * to the first instant at which the zone's clock reads that time or later.
 * Every expected instant below was worked out by hand from the zone's
 * transition (quoted in each case), not computed by the code under test.
 */
import { describe, expect, it } from 'vitest';
import { decideAt, EVERY_DAY, oneSchedule, policyOf } from './helpers.js';

interface Case {
  readonly rule: string;
  readonly zone: string;
  readonly weekly: Record<string, string[]>;
  readonly entries?: Record<string, unknown>[];
  readonly at: string;
  readonly open: boolean;
  /** nextOpen when closed, closesAt when open. */
  readonly next: string | null;
  readonly reason?: string;
}

const cases: readonly Case[] = [
  // America/New_York 2026: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
  {
    rule: 'New York spring forward: an opening inside the gap opens when the gap ends (02:00 -> 03:00 EDT)',
    zone: 'America/New_York',
    weekly: EVERY_DAY('02:00-04:00'),
    at: '2026-03-08T06:59:00Z',
    open: false,
    next: '2026-03-08T03:00:00-04:00',
  },
  {
    rule: 'New York spring forward: open from the end of the gap, closing at 04:00 EDT (one real hour)',
    zone: 'America/New_York',
    weekly: EVERY_DAY('02:00-04:00'),
    at: '2026-03-08T07:00:00Z',
    open: true,
    next: '2026-03-08T04:00:00-04:00',
  },
  {
    rule: 'New York spring forward: an interval entirely inside the gap does not open that day',
    zone: 'America/New_York',
    weekly: EVERY_DAY('02:15-02:45'),
    at: '2026-03-08T06:00:00Z',
    open: false,
    next: '2026-03-09T02:15:00-04:00',
  },
  {
    rule: 'New York: an interval crossing midnight and the spring-forward change closes at 06:00 EDT',
    zone: 'America/New_York',
    weekly: { saturday: ['22:00-06:00'] },
    at: '2026-03-08T09:59:00Z',
    open: true,
    next: '2026-03-08T06:00:00-04:00',
  },
  {
    rule: 'New York: the same overnight interval opens at 22:00 EST the evening before',
    zone: 'America/New_York',
    weekly: { saturday: ['22:00-06:00'] },
    at: '2026-03-07T21:00:00-05:00',
    open: false,
    next: '2026-03-07T22:00:00-05:00',
  },
  {
    rule: 'New York fall back: an interval crossing midnight and the change is open in the repeated hour and closes at 06:00 EST',
    zone: 'America/New_York',
    weekly: { saturday: ['22:00-06:00'] },
    at: '2026-11-01T06:30:00Z',
    open: true,
    next: '2026-11-01T06:00:00-05:00',
  },
  {
    rule: 'New York fall back: a closing time shown twice closes the first time (01:30 EDT), and does not reopen when 01:15 repeats',
    zone: 'America/New_York',
    weekly: { sunday: ['00:00-01:30'] },
    at: '2026-11-01T06:15:00Z',
    open: false,
    next: '2026-11-08T00:00:00-05:00',
  },
  {
    rule: 'New York fall back: just before the first 01:30 EDT the queue is open, closing at 01:30 EDT',
    zone: 'America/New_York',
    weekly: { sunday: ['00:00-01:30'] },
    at: '2026-11-01T05:29:00Z',
    open: true,
    next: '2026-11-01T01:30:00-04:00',
  },
  {
    rule: 'New York fall back: an opening time shown twice opens the first time and stays open through the repeated hour',
    zone: 'America/New_York',
    weekly: { sunday: ['01:30-03:00'] },
    at: '2026-11-01T06:15:00Z',
    open: true,
    next: '2026-11-01T03:00:00-05:00',
  },
  {
    rule: 'New York fall back: 01:00-02:00 lasts two real hours (02:00 is first shown after the repeated hour)',
    zone: 'America/New_York',
    weekly: { sunday: ['01:00-02:00'] },
    at: '2026-11-01T06:59:00Z',
    open: true,
    next: '2026-11-01T02:00:00-05:00',
  },
  // Europe/Berlin 2026: 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
  {
    rule: 'Berlin spring forward: 02:30 does not exist, the queue opens at 03:00 CEST',
    zone: 'Europe/Berlin',
    weekly: { sunday: ['02:30-03:30'] },
    at: '2026-03-29T00:59:00Z',
    open: false,
    next: '2026-03-29T03:00:00+02:00',
  },
  {
    rule: 'Berlin spring forward: open half an hour, until 03:30 CEST',
    zone: 'Europe/Berlin',
    weekly: { sunday: ['02:30-03:30'] },
    at: '2026-03-29T01:00:00Z',
    open: true,
    next: '2026-03-29T03:30:00+02:00',
  },
  {
    rule: 'Berlin fall back: opened at the first 02:30 (CEST), still open at the second 02:15 (CET), closing at 04:00 CET',
    zone: 'Europe/Berlin',
    weekly: { sunday: ['02:30-04:00'] },
    at: '2026-10-25T01:15:00Z',
    open: true,
    next: '2026-10-25T04:00:00+01:00',
  },
  {
    rule: 'Berlin fall back: closed at the first 02:30 (CEST), still closed when 02:45 repeats in CET',
    zone: 'Europe/Berlin',
    weekly: { sunday: ['00:00-02:30'] },
    at: '2026-10-25T01:45:00Z',
    open: false,
    next: '2026-11-01T00:00:00+01:00',
  },
  // Australia/Sydney 2026 (southern hemisphere): 2026-04-05 03:00 AEDT -> 02:00 AEST (16:00Z on 04-04);
  // 2026-10-04 02:00 AEST -> 03:00 AEDT (16:00Z on 10-03).
  {
    rule: 'Sydney fall back (April): 02:30-03:30 opens at the first 02:30 AEDT and closes at 03:30 AEST, two real hours',
    zone: 'Australia/Sydney',
    weekly: { sunday: ['02:30-03:30'] },
    at: '2026-04-04T16:30:00Z',
    open: true,
    next: '2026-04-05T03:30:00+10:00',
  },
  {
    rule: 'Sydney fall back (April): before the first 02:30 AEDT the queue is closed',
    zone: 'Australia/Sydney',
    weekly: { sunday: ['02:30-03:30'] },
    at: '2026-04-04T15:29:00Z',
    open: false,
    next: '2026-04-05T02:30:00+11:00',
  },
  {
    rule: 'Sydney spring forward (October): a closing time in the gap closes when the gap ends (03:00 AEDT)',
    zone: 'Australia/Sydney',
    weekly: { sunday: ['01:00-02:30'] },
    at: '2026-10-03T15:59:00Z',
    open: true,
    next: '2026-10-04T03:00:00+11:00',
  },
  {
    rule: 'Sydney: an interval crossing midnight and the spring-forward change closes at 06:00 AEDT (seven real hours)',
    zone: 'Australia/Sydney',
    weekly: { saturday: ['22:00-06:00'] },
    at: '2026-10-03T18:59:00Z',
    open: true,
    next: '2026-10-04T06:00:00+11:00',
  },
  {
    rule: 'Sydney: the same overnight interval opened at 22:00 AEST',
    zone: 'Australia/Sydney',
    weekly: { saturday: ['22:00-06:00'] },
    at: '2026-10-03T11:59:00Z',
    open: false,
    next: '2026-10-03T22:00:00+10:00',
  },
  // Feb 29.
  {
    rule: 'Feb 29: weekly hours apply on the leap day (2028-02-29 is a Tuesday)',
    zone: 'America/New_York',
    weekly: { tuesday: ['09:00-17:00'] },
    at: '2028-02-29T10:00:00-05:00',
    open: true,
    next: '2028-02-29T17:00:00-05:00',
  },
  {
    rule: 'Feb 29: an every-year 02-29 closure closes the leap day',
    zone: 'America/New_York',
    weekly: EVERY_DAY('09:00-17:00'),
    entries: [{ name: 'Leap day', date: '02-29', closed: true }],
    at: '2028-02-29T10:00:00-05:00',
    open: false,
    next: '2028-03-01T09:00:00-05:00',
    reason: 'exception',
  },
  {
    rule: 'Feb 29: an every-year 02-29 closure does nothing in a common year (2027-03-01 is a normal day)',
    zone: 'America/New_York',
    weekly: EVERY_DAY('09:00-17:00'),
    entries: [{ name: 'Leap day', date: '02-29', closed: true }],
    at: '2027-03-01T10:00:00-05:00',
    open: true,
    next: '2027-03-01T17:00:00-05:00',
  },
  {
    rule: 'Feb 29: an overnight interval from Feb 28 stops at the midnight that starts a leap-day holiday',
    zone: 'America/New_York',
    weekly: EVERY_DAY('22:00-02:00'),
    entries: [{ name: 'Leap day', date: '2028-02-29', closed: true }],
    at: '2028-02-28T23:30:00-05:00',
    open: true,
    next: '2028-02-29T00:00:00-05:00',
  },
  // Holidays that begin at local midnight.
  {
    rule: 'a holiday begins at local midnight: the overnight shift of the evening before stops at 00:00',
    zone: 'America/New_York',
    weekly: EVERY_DAY('20:00-02:00'),
    entries: [{ name: 'Christmas Day', date: '12-25', closed: true }],
    at: '2026-12-24T23:59:00-05:00',
    open: true,
    next: '2026-12-25T00:00:00-05:00',
  },
  {
    rule: 'a holiday begins at local midnight: closed from 00:00 for the whole date, next opening the evening after',
    zone: 'America/New_York',
    weekly: EVERY_DAY('20:00-02:00'),
    entries: [{ name: 'Christmas Day', date: '12-25', closed: true }],
    at: '2026-12-25T00:00:00-05:00',
    open: false,
    next: '2026-12-26T20:00:00-05:00',
    reason: 'exception',
  },
  // America/Santiago 2026: 2026-09-06 24:00 -04 -> 01:00 -03 (04:00Z): that Sunday has no local midnight;
  // 2026-04-05 00:00 -03 -> 23:00 -04 the day before (03:00Z): the last hour of Saturday is shown twice.
  {
    rule: 'a holiday on a date whose midnight does not exist (Santiago) begins when the clock jumps to 01:00',
    zone: 'America/Santiago',
    weekly: { saturday: ['20:00-24:00'] },
    entries: [{ name: 'Holiday', date: '2026-09-06', closed: true }],
    at: '2026-09-06T03:59:00Z',
    open: true,
    next: '2026-09-06T01:00:00-03:00',
  },
  {
    rule: 'a holiday after a fall back at midnight (Santiago) begins at the first 00:00; the repeated Saturday hour stays open',
    zone: 'America/Santiago',
    weekly: { saturday: ['18:00-24:00'] },
    entries: [{ name: 'Holiday', date: '2026-04-05', closed: true }],
    at: '2026-04-05T03:30:00Z',
    open: true,
    next: '2026-04-05T00:00:00-04:00',
  },
  {
    rule: 'a holiday after a fall back at midnight (Santiago) is closed from 00:00 -04',
    zone: 'America/Santiago',
    weekly: { saturday: ['18:00-24:00'], sunday: ['10:00-12:00'] },
    entries: [{ name: 'Holiday', date: '2026-04-05', closed: true }],
    at: '2026-04-05T04:00:00Z',
    open: false,
    next: '2026-04-11T18:00:00-04:00',
    reason: 'exception',
  },
];

describe('daylight saving, midnight and leap days', () => {
  for (const c of cases) {
    it(c.rule, () => {
      const d = decideAt(policyOf(oneSchedule(c.zone, c.weekly, c.entries ?? [])), 'q', c.at);
      expect(d.open).toBe(c.open);
      expect(c.open ? d.closesAt : d.nextOpen).toBe(c.next);
      if (c.reason !== undefined) expect(d.reason).toBe(c.reason);
    });
  }

  it('the instant decided for is printed in the zone with its offset at that instant', () => {
    const p = policyOf(oneSchedule('Europe/Berlin', EVERY_DAY('09:00-17:00')));
    expect(decideAt(p, 'q', '2026-03-29T00:59:00Z').at).toBe('2026-03-29T01:59:00+01:00');
    expect(decideAt(p, 'q', '2026-03-29T01:00:00Z').at).toBe('2026-03-29T03:00:00+02:00');
  });

  it('seconds inside a minute do not change the decision, and a closing is exact to the minute', () => {
    const p = policyOf(oneSchedule('America/New_York', EVERY_DAY('09:00-17:00')));
    expect(decideAt(p, 'q', '2026-06-01T16:59:59.999-04:00').open).toBe(true);
    expect(decideAt(p, 'q', '2026-06-01T17:00:00-04:00').open).toBe(false);
  });
});
