/**
 * Configuration mistakes in schedules and exceptions, each with the message an
 * operator sees. Problems are `path: message` as the loader reports them.
 * (References, emergency overrides and deflection: config-checks-deflection.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { problemsOf } from './helpers.js';

const sched = (extra: Record<string, unknown> = {}) => ({ id: 's', timeZone: 'Europe/Berlin', weekly: { monday: ['09:00-17:00'] }, ...extra });
const entry = (e: Record<string, unknown>) => ({ schedules: [sched({ exceptions: ['f'] })], exceptions: [{ id: 'f', entries: [e] }] });

describe('time zones', () => {
  it('an unknown time zone, with the closest real one suggested', () => {
    expect(problemsOf({ schedules: [sched({ timeZone: 'America/NewYork' })] })).toEqual([
      'schedules[0].timeZone: unknown time zone "America/NewYork" (did you mean "America/New_York"?); use an IANA zone name such as America/New_York or Europe/Berlin',
    ]);
  });

  it('an abbreviation such as EST is refused: it names no place and has no daylight saving', () => {
    expect(problemsOf({ schedules: [sched({ timeZone: 'EST' })] })).toEqual([
      'schedules[0].timeZone: "EST" is an abbreviation or legacy name, not the time zone of a place (it would be read as America/Panama); write the zone whose clocks the hours follow, e.g. America/New_York, so daylight saving is applied',
    ]);
  });

  it('UTC and region zones (including old links such as US/Eastern) are accepted', () => {
    expect(problemsOf({ schedules: [sched({ timeZone: 'UTC' }), sched({ id: 't', timeZone: 'US/Eastern' })] })).toEqual([]);
  });
});

describe('intervals', () => {
  it('an empty interval', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { monday: ['09:00-09:00'], tuesday: ['09:00-17:00'] } })] })).toEqual([
      'schedules[0].weekly.monday[0]: "09:00-09:00" is empty (it starts and ends at the same time); for the whole day write 00:00-24:00',
    ]);
  });

  it('overlapping intervals on one day', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { monday: ['10:00-12:00', '11:00-13:00'] } })] })).toEqual([
      'schedules[0].weekly.monday[1]: "11:00-13:00" on monday overlaps "10:00-12:00" on monday (monday[0]); intervals may touch but not overlap',
    ]);
  });

  it('an interval past midnight that overlaps the next day', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { tuesday: ['20:00-03:00'], wednesday: ['01:00-02:00'] } })] })).toEqual([
      'schedules[0].weekly.wednesday[0]: "01:00-02:00" on wednesday overlaps "20:00-03:00" on tuesday (tuesday[0]); "20:00-03:00" runs past midnight into wednesday; intervals may touch but not overlap',
    ]);
  });

  it('a Sunday interval past midnight that overlaps Monday (the week wraps)', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { monday: ['00:30-08:00'], sunday: ['22:00-01:00'] } })] })).toEqual([
      'schedules[0].weekly.sunday[0]: "22:00-01:00" on sunday overlaps "00:30-08:00" on monday (monday[0]); "22:00-01:00" runs past midnight into monday; intervals may touch but not overlap',
    ]);
  });

  it('touching intervals are fine, also across midnight', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { monday: ['09:00-12:00', '12:00-24:00'], tuesday: ['00:00-02:00'] } })] })).toEqual([]);
  });

  it('a badly written interval is refused by the schema with an example', () => {
    expect(problemsOf({ schedules: [sched({ weekly: { monday: ['9-17'] } })] })).toEqual([
      'schedules[0].weekly.monday[0]: expected a time range HH:MM-HH:MM such as 09:00-17:00 (22:00-06:00 crosses midnight; 00:00-24:00 is the whole day), got "9-17"',
    ]);
  });

  it('a schedule that never opens', () => {
    expect(problemsOf({ schedules: [sched({ weekly: {} })] })).toEqual([
      'schedules[0].weekly: schedule "s" is never open (no weekly hours and no special hours); to close queues on purpose use an emergency override',
    ]);
  });
});

describe('exception dates and entries', () => {
  const table: [rule: string, e: Record<string, unknown>, problem: string][] = [
    ['Feb 29 of a common year', { name: 'x', date: '2027-02-29', closed: true }, 'exceptions[0].entries[0].date: "2027-02-29" is not a date: 2027 is not a leap year'],
    ['a month that does not exist', { name: 'x', date: '2026-13-01', closed: true }, 'exceptions[0].entries[0].date: "2026-13-01" is not a date: there is no month 13'],
    ['a day the month does not have', { name: 'x', date: '2026-04-31', closed: true }, 'exceptions[0].entries[0].date: "2026-04-31" is not a date: April has 30 days'],
    ['a year before 1970', { name: 'x', date: '1969-01-01', closed: true }, 'exceptions[0].entries[0].date: "1969-01-01" is before 1970; check the year'],
    ['a range that ends before it starts', { name: 'x', from: '2026-03-05', to: '2026-03-02', closed: true }, 'exceptions[0].entries[0].to: to 2026-03-02 is before from 2026-03-05'],
    [
      'a range over a year long (a mistyped year)',
      { name: 'x', from: '2026-01-01', to: '2028-01-01', closed: true },
      'exceptions[0].entries[0].to: the range covers 731 days (2026-01-01 to 2028-01-01); check the years (for a longer closure use an emergency override)',
    ],
    ['both a date and a range', { name: 'x', date: '2026-05-01', from: '2026-05-01', to: '2026-05-02', closed: true }, 'exceptions[0].entries[0]: give either date (one day) or from and to (a range), not both'],
    ['no date at all', { name: 'x', closed: true }, 'exceptions[0].entries[0]: give the date (date: 2026-12-25) or a range (from: ..., to: ...)'],
    ['half a range', { name: 'x', from: '2026-05-01', closed: true }, 'exceptions[0].entries[0].to: a range needs both from and to (only from is given)'],
    [
      'a range mixing a dated and an every-year end',
      { name: 'x', from: '05-01', to: '2026-05-02', closed: true },
      'exceptions[0].entries[0].to: from and to must both have a year (YYYY-MM-DD) or both be every-year dates (MM-DD)',
    ],
    ['neither closed nor hours', { name: 'x', date: '2026-06-01' }, 'exceptions[0].entries[0]: say closed: true, or give the special hours (hours: [10:00-14:00])'],
    ['both closed and hours', { name: 'x', date: '2026-06-01', closed: true, hours: ['09:00-10:00'] }, 'exceptions[0].entries[0]: give either closed: true or special hours, not both'],
    [
      'special hours across midnight',
      { name: 'x', date: '2026-06-01', hours: ['22:00-02:00'] },
      'exceptions[0].entries[0].hours[0]: "22:00-02:00" crosses midnight, but an exception owns its dates from midnight to midnight; write 22:00-24:00 here and 00:00-02:00 for the next date',
    ],
    [
      'overlapping special hours',
      { name: 'x', date: '2026-06-01', hours: ['09:00-12:00', '11:00-13:00'] },
      'exceptions[0].entries[0].hours[1]: "11:00-13:00" overlaps "09:00-12:00" (hours[0]); intervals may touch but not overlap',
    ],
  ];
  for (const [rule, e, problem] of table) {
    it(rule, () => expect(problemsOf(entry(e))).toEqual([problem]));
  }

  it('a bad date shape is refused by the schema', () => {
    expect(problemsOf(entry({ name: 'x', date: '25.12.2026', closed: true }))).toEqual([
      'exceptions[0].entries[0].date: expected a date YYYY-MM-DD, or MM-DD for the same date every year, got "25.12.2026"',
    ]);
  });

  it('two entries of a folder giving one date different hours', () => {
    const p = problemsOf({
      schedules: [sched({ exceptions: ['f'] })],
      exceptions: [{ id: 'f', entries: [{ name: 'Christmas Eve', date: '12-24', hours: ['09:00-12:00'] }, { name: 'Winter hours', from: '2026-12-20', to: '2026-12-31', hours: ['10:00-11:00'] }] }],
    });
    expect(p).toEqual([
      'exceptions[0].entries[1]: "Winter hours" and "Christmas Eve" (entries[0]) both cover 2026-12-24 with different hours; a date may have one exception (overlapping closures are fine)',
    ]);
  });

  it('two overlapping closures are fine', () => {
    expect(
      problemsOf({ schedules: [sched({ exceptions: ['f'] })], exceptions: [{ id: 'f', entries: [{ name: 'a', date: '12-25', closed: true }, { name: 'b', from: '2026-12-24', to: '2026-12-26', closed: true }] }] }),
    ).toEqual([]);
  });

  it('entries of two folders that end up on one schedule and collide', () => {
    const p = problemsOf({
      schedules: [sched({ exceptions: ['f'] })],
      hours: { schedule: 's' },
      exceptions: [
        { id: 'f', entries: [{ name: 'Xmas Eve', date: '2026-12-24', hours: ['09:00-12:00'] }] },
        { id: 'g', entries: [{ name: 'Winter', from: '2026-12-20', to: '2026-12-31', closed: true }] },
      ],
      queues: [{ id: 'q', name: 'Q', channels: ['ivr'], hours: { exceptions: ['g'] } }],
    });
    expect(p).toEqual([
      'exceptions[1].entries[0]: "Winter" (folder g) and "Xmas Eve" (folder f) both cover 2026-12-24 with different hours, and both apply to schedule "s" (e.g. for queue "q" on ivr); a date may have one exception',
    ]);
  });
});

