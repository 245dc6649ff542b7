/**
 * Property: `decide` agrees with a brute-force reference that walks the clock
 * minute by minute, over random weekly schedules (touching intervals,
 * intervals across midnight and across the end of the week), random
 * exceptions, random zones on both hemispheres (including 30- and 45-minute
 * offsets and a 30-minute DST shift) and instants near DST changes.
 *
 * The reference is deliberately naive and independent of src/policy: it reads
 * the zone's wall clock at every minute, keeps the furthest reading reached so
 * far (a clock set back does not un-pass a time: docs/policy.md), and asks
 * whether that reading lies in the intervals of its local date.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideAt, policyOf } from './helpers.js';

const ZONES = [
  'America/New_York',
  'Europe/Berlin',
  'Europe/London',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'America/Santiago',
  'America/St_Johns',
  'Pacific/Chatham',
  'Asia/Beirut',
  'Asia/Kolkata',
] as const;
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
const MIN = 60_000;
const WEEK = 7 * 1440;

// ---------------------------------------------------------------- reference

const fmt = new Map<string, Intl.DateTimeFormat>();
function wallMinutes(zone: string, t: number): number {
  let f = fmt.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    fmt.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  const day = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / 86_400_000;
  return day * 1440 + Number(p.hour) * 60 + Number(p.minute);
}

function hhmmToMinutes(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return h! * 60 + m!;
}

/** [start, end) minutes of an "HH:MM-HH:MM" string, end past 1440 when it crosses midnight. */
function refInterval(s: string): [number, number] {
  const [a, b] = s.split('-');
  const start = hhmmToMinutes(a!);
  let end = hhmmToMinutes(b!);
  if (end <= start) end += 1440;
  return [start, end];
}

interface RefSchedule {
  readonly weekly: Record<string, string[]>;
  /** date (YYYY-MM-DD) -> special hours ([] = closed) */
  readonly exceptions: Map<string, string[]>;
}

function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function weekdayName(day: number): string {
  return DAYS[(new Date(day * 86_400_000).getUTCDay() + 6) % 7]!;
}

/** Is the furthest wall reading reached, `w` (absolute local minutes), inside the hours? */
function refOpenAt(s: RefSchedule, w: number): boolean {
  const day = Math.floor(w / 1440);
  const x = w - day * 1440;
  const today = s.exceptions.get(isoDay(day));
  const own = today ?? s.weekly[weekdayName(day)] ?? [];
  if (own.map(refInterval).some(([a, b]) => a <= x && x < b)) return true;
  // Yesterday's overnight interval spills into today unless today is an exception
  // (an exception owns its date from midnight) or yesterday was one (they never cross).
  if (today !== undefined || s.exceptions.has(isoDay(day - 1))) return false;
  return (s.weekly[weekdayName(day - 1)] ?? []).map(refInterval).some(([, b]) => b > 1440 && x < b - 1440);
}

/** Open state at every minute of [from, to), reading the clock minute by minute. */
function refTimeline(zone: string, s: RefSchedule, from: number, to: number): boolean[] {
  const out: boolean[] = [];
  let furthest = -Infinity;
  // Start three hours early so a clock set back before `from` is already accounted for.
  for (let t = from - 180 * MIN; t < to; t += MIN) {
    furthest = Math.max(furthest, wallMinutes(zone, t));
    if (t >= from) out.push(refOpenAt(s, furthest));
  }
  return out;
}

// ---------------------------------------------------------------- generators

/** Splits week-circle intervals into config strings per start day (pieces touch, may cross midnight). */
function toWeekly(intervals: [number, number][]): Record<string, string[]> {
  const weekly: Record<string, string[]> = {};
  const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
  for (const [a0, b] of intervals) {
    let a = a0;
    while (a < b) {
      const dayStart = Math.floor(a / 1440) * 1440;
      const end = Math.min(b, a === dayStart ? a + 1440 : a + 1439);
      const startInDay = a - dayStart;
      const endInDay = end - dayStart;
      const text = `${hhmm(startInDay)}-${endInDay === 1440 ? '24:00' : hhmm(endInDay % 1440)}`;
      const day = DAYS[Math.floor(a / 1440) % 7]!;
      (weekly[day] ??= []).push(text);
      a = end;
    }
  }
  return weekly;
}

const weeklyArb = fc
  .uniqueArray(fc.integer({ min: 0, max: WEEK / 15 - 1 }), { minLength: 2, maxLength: 12 })
  .chain((raw) => {
    const points = raw.sort((x, y) => x - y).map((p) => p * 15);
    const usable = points.length - (points.length % 2);
    return fc.boolean().map((wrap) => {
      const intervals: [number, number][] = [];
      if (wrap && usable >= 2) {
        // Shift pairing by one so the last interval runs past the end of the week into Monday.
        for (let i = 1; i + 1 < usable; i += 2) intervals.push([points[i]!, points[i + 1]!]);
        intervals.push([points[usable - 1]!, points[0]! + WEEK]);
      } else {
        for (let i = 0; i + 1 < usable; i += 2) intervals.push([points[i]!, points[i + 1]!]);
      }
      return toWeekly(intervals);
    });
  });

const specialHoursArb = fc.oneof(
  fc.constant([] as string[]),
  fc.uniqueArray(fc.integer({ min: 0, max: 96 }), { minLength: 2, maxLength: 4 }).map((raw) => {
    const pts = raw.sort((x, y) => x - y).map((p) => p * 15);
    const out: string[] = [];
    const hhmm = (m: number): string => (m === 1440 ? '24:00' : `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`);
    for (let i = 0; i + 1 < pts.length; i += 2) out.push(`${hhmm(pts[i]!)}-${hhmm(pts[i + 1]!)}`);
    return out;
  }),
);

/** DST transitions of a zone in 2026-2029 (hour resolution is enough for an anchor). */
function transitions(zone: string): number[] {
  const out: number[] = [];
  let prev = wallMinutes(zone, Date.UTC(2026, 0, 1)) - Date.UTC(2026, 0, 1) / MIN;
  for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2030, 0, 1); t += 3_600_000) {
    const off = wallMinutes(zone, t) - t / MIN;
    if (off !== prev) out.push(t);
    prev = off;
  }
  return out;
}
const transitionCache = new Map<string, number[]>();

const caseArb = fc
  .record({
    zone: fc.constantFrom(...ZONES),
    weekly: weeklyArb,
    nearTransition: fc.boolean(),
    pick: fc.nat(),
    shiftMinutes: fc.integer({ min: -36 * 60, max: 36 * 60 }),
    exceptionDays: fc.uniqueArray(fc.integer({ min: -3, max: 4 }), { maxLength: 3 }),
    exceptionHours: fc.array(specialHoursArb, { minLength: 3, maxLength: 3 }),
    samples: fc.array(fc.integer({ min: 0, max: 60 * 60 - 1 }), { minLength: 12, maxLength: 12 }),
    seconds: fc.integer({ min: 0, max: 59 }),
  })
  .map((c) => {
    let anchor: number;
    if (c.nearTransition && c.zone !== 'Asia/Kolkata') {
      const list = transitionCache.get(c.zone) ?? transitions(c.zone);
      transitionCache.set(c.zone, list);
      anchor = list[c.pick % list.length]!;
    } else {
      anchor = Date.UTC(2026, 0, 1) + (c.pick % (4 * 365 * 24)) * 3_600_000;
    }
    anchor = Math.floor(anchor / MIN) * MIN + c.shiftMinutes * MIN;
    const anchorDay = Math.floor(wallMinutes(c.zone, anchor) / 1440);
    const exceptions = new Map<string, string[]>();
    c.exceptionDays.forEach((offset, i) => exceptions.set(isoDay(anchorDay + offset), c.exceptionHours[i]!));
    return { ...c, anchor, exceptions };
  });

// ---------------------------------------------------------------- property

describe('decide agrees with a minute-by-minute reference', () => {
  it('open/closed, next opening and next closing match at sampled instants', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const entries = [...c.exceptions].map(([date, hours], i) =>
          hours.length === 0 ? { name: `closure ${i}`, date, closed: true } : { name: `special ${i}`, date, hours },
        );
        const policy = policyOf({
          schedules: [{ id: 's', timeZone: c.zone, weekly: c.weekly, ...(entries.length > 0 ? { exceptions: ['f'] } : {}) }],
          exceptions: entries.length > 0 ? [{ id: 'f', entries }] : [],
          hours: { schedule: 's' },
          queues: [{ id: 'q', name: 'Q' }],
        });
        const ref: RefSchedule = { weekly: c.weekly, exceptions: c.exceptions };
        // Samples lie within an hour after the anchor; the reference looks eight days further.
        const from = c.anchor;
        const to = c.anchor + (60 + 8 * 1440) * MIN;
        const timeline = refTimeline(c.zone, ref, from, to);
        for (const offset of [0, ...c.samples]) {
          const t = from + offset * MIN;
          const d = decideAt(policy, 'q', new Date(t + c.seconds * 1000).toISOString());
          const open = timeline[offset]!;
          expect({ at: new Date(t).toISOString(), open: d.open }).toEqual({ at: new Date(t).toISOString(), open });
          let k = offset + 1;
          while (k < timeline.length && timeline[k] === open) k++;
          const next = open ? d.closesAt : d.nextOpen;
          if (k < timeline.length) {
            expect(next === null ? null : Date.parse(next)).toBe(from + k * MIN);
          } else if (next !== null) {
            expect(Date.parse(next)).toBeGreaterThanOrEqual(to);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
