/** Reading instants (ISO-8601 with an offset) and writing them in a zone. */
import { describe, expect, it } from 'vitest';
import { parseInstant } from '../../src/policy/index.js';
import { formatInstant, instantOfWall } from '../../src/policy/time-zone.js';

describe('instants', () => {
  it('an offset or Z is required, and the instant is exact', () => {
    expect(parseInstant('2026-03-08T02:30:00-05:00')).toBe(Date.UTC(2026, 2, 8, 7, 30));
    expect(parseInstant('2026-03-08T07:30Z')).toBe(Date.UTC(2026, 2, 8, 7, 30));
    expect(parseInstant('2026-03-08T07:30:00.250+00:00')).toBe(Date.UTC(2026, 2, 8, 7, 30, 0, 250));
  });

  const bad: [string, string][] = [
    ['2026-03-08T02:30:00', '"2026-03-08T02:30:00" has no UTC offset; add Z or ±hh:mm (e.g. 2026-03-08T02:30:00-05:00) so the instant is unambiguous'],
    ['tomorrow', '"tomorrow" is not an ISO-8601 instant such as 2026-03-08T09:30:00-05:00 or 2026-03-08T14:30:00Z'],
    ['2026-02-29T10:00:00Z', '"2026-02-29T10:00:00Z": 2026-02 has no day 29'],
    ['2026-01-01T24:00:00Z', '"2026-01-01T24:00:00Z": the time of day is out of range'],
    ['2026-01-01T10:00:00+25:00', '"2026-01-01T10:00:00+25:00": the offset is out of range'],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${text}`, () => expect(parseInstant(text)).toBe(message));
  }

  it('formats with the offset in effect at that instant', () => {
    expect(formatInstant('America/New_York', Date.UTC(2026, 2, 8, 6, 59))).toBe('2026-03-08T01:59:00-05:00');
    expect(formatInstant('America/New_York', Date.UTC(2026, 2, 8, 7, 0))).toBe('2026-03-08T03:00:00-04:00');
    expect(formatInstant('Asia/Kolkata', Date.UTC(2026, 0, 1))).toBe('2026-01-01T05:30:00+05:30');
    expect(formatInstant('Pacific/Chatham', Date.UTC(2026, 0, 1))).toBe('2026-01-01T13:45:00+13:45');
  });

  it('a local time maps to the first instant the clock reads it (gap → its end, repeat → first occurrence)', () => {
    const wall = (h: number, m: number, d = 8, mo = 3): number => Date.UTC(2026, mo - 1, d, h, m);
    expect(instantOfWall('America/New_York', wall(2, 30))).toBe(Date.UTC(2026, 2, 8, 7, 0));
    expect(instantOfWall('America/New_York', wall(1, 30, 1, 11))).toBe(Date.UTC(2026, 10, 1, 5, 30));
    expect(instantOfWall('America/New_York', wall(2, 0, 1, 11))).toBe(Date.UTC(2026, 10, 1, 7, 0));
    // Lord Howe moves its clocks by half an hour.
    expect(instantOfWall('Australia/Lord_Howe', Date.UTC(2026, 9, 4, 2, 15))).toBe(Date.UTC(2026, 9, 3, 15, 30));
  });
});
