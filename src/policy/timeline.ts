/**
 * A compiled schedule turned into instants: open intervals of each local date
 * mapped through the zone (time-zone.ts, "first instant the clock reads it"),
 * merged where they touch, in order, lazily from a given instant on.
 */
import { MINUTES_PER_DAY, MS_PER_DAY, MS_PER_MINUTE, type CivilDay } from './civil-date.js';
import { dayPlan, exceptionOn, type CompiledException, type CompiledSchedule } from './schedule.js';
import { instantOfWall, wallAt } from './time-zone.js';

/** How far ahead the policy looks for an opening or a closing (two years and a margin). */
export const HORIZON_DAYS = 800;

/** [start, end) in epoch milliseconds; `end` null = still open at the horizon. */
export interface OpenPeriod {
  readonly start: number;
  readonly end: number | null;
}

/** Local date (day number) of the wall reading at an instant. */
export function wallDay(zone: string, instantMs: number): CivilDay {
  return Math.floor(wallAt(zone, instantMs) / MS_PER_DAY);
}

/** Local wall intervals in absolute minutes (day * 1440 + minutes), date by date, unmerged. */
function* wallIntervals(schedule: CompiledSchedule, firstDay: CivilDay, lastDay: CivilDay): Generator<{ start: number; end: number }> {
  for (let day = firstDay; day <= lastDay; day++) {
    for (const iv of dayPlan(schedule, day).intervals) {
      yield { start: day * MINUTES_PER_DAY + iv.start, end: day * MINUTES_PER_DAY + iv.end };
    }
  }
}

const toInstant = (zone: string, wallMinutes: number): number => instantOfWall(zone, wallMinutes * MS_PER_MINUTE);

/** Each configured interval of each date as instants (empty images, swallowed by a gap, are skipped). */
export function* intervalImages(
  schedule: CompiledSchedule,
  fromMs: number,
  horizonDays = HORIZON_DAYS,
): Generator<{ readonly start: number; readonly end: number }> {
  const firstDay = wallDay(schedule.zone, fromMs) - 2;
  for (const w of wallIntervals(schedule, firstDay, firstDay + horizonDays)) {
    const start = toInstant(schedule.zone, w.start);
    const end = toInstant(schedule.zone, w.end);
    if (end > start) yield { start, end };
  }
}

/**
 * Open periods in order, starting with any period that contains `fromMs` or
 * ends shortly before it. Touching intervals merge (17:00 close and 17:00
 * open, midnight to midnight, or two intervals a spring-forward gap brings
 * together), so an open period's end is a real closing.
 */
export function* openPeriods(schedule: CompiledSchedule, fromMs: number, horizonDays = HORIZON_DAYS): Generator<OpenPeriod> {
  const zone = schedule.zone;
  const firstDay = wallDay(zone, fromMs) - 2;
  const lastDay = firstDay + horizonDays;
  const horizonWall = (lastDay + 1) * MINUTES_PER_DAY;
  let wall: { start: number; end: number } | undefined;
  let pending: { start: number; end: number | null } | undefined;
  // Merging first in wall time keeps a 24-hour run from costing a zone lookup per day.
  const walls = wallIntervals(schedule, firstDay, lastDay);
  while (true) {
    const next = walls.next();
    if (!next.done && wall !== undefined && next.value.start <= wall.end) {
      wall.end = Math.max(wall.end, next.value.end);
      continue;
    }
    if (wall !== undefined) {
      const start = toInstant(zone, wall.start);
      const end = wall.end >= horizonWall ? null : toInstant(zone, wall.end);
      if (end === null || end > start) {
        if (pending !== undefined && pending.end === start) {
          pending.end = end;
        } else {
          if (pending !== undefined) yield pending;
          pending = { start, end };
        }
      }
    }
    if (next.done) break;
    wall = { ...next.value };
  }
  if (pending !== undefined) yield pending;
}

export type ScheduleState =
  | { readonly open: true; readonly closesAt: number | null }
  | { readonly open: false; readonly nextOpen: number | null };

/** Open or closed at an instant, with the next closing or opening (null: none within the horizon). */
export function scheduleState(schedule: CompiledSchedule, atMs: number): ScheduleState {
  for (const p of openPeriods(schedule, atMs)) {
    if (p.end !== null && p.end <= atMs) continue;
    if (p.start <= atMs) return { open: true, closesAt: p.end };
    return { open: false, nextOpen: p.start };
  }
  return { open: false, nextOpen: null };
}

/**
 * The local date whose rules govern an instant: the latest date whose local
 * midnight the clock has already reached (so the hour a clock repeats after
 * falling back across midnight still belongs to the new date).
 */
export function governingDay(zone: string, atMs: number): CivilDay {
  const day = wallDay(zone, atMs);
  return toInstant(zone, (day + 1) * MINUTES_PER_DAY) <= atMs ? day + 1 : day;
}

/** The exception that governs an instant, if any. */
export function exceptionAt(schedule: CompiledSchedule, atMs: number): CompiledException | undefined {
  return exceptionOn(schedule, governingDay(schedule.zone, atMs));
}
