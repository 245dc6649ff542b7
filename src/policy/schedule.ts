/**
 * A schedule compiled for evaluation: weekly intervals per weekday plus the
 * exceptions of its folders, and the plan of one local date.
 *
 * Evaluation order inside a schedule: an exception that covers the date
 * replaces the weekly hours of that date, from local midnight to midnight
 * (so an overnight weekly interval of the day before stops at the midnight
 * that starts a holiday).
 */
import type { DeepReadonly } from '../config/load.js';
import { WEEKDAYS, type ExceptionFolderConfig, type ScheduleConfig } from '../config/schema/policy.js';
import { MINUTES_PER_DAY, weekdayIndex, type CivilDay } from './civil-date.js';
import { analyseSpan, spanCovers, type ExceptionSpan } from './exception-calendar.js';
import { parseInterval, type WallInterval } from './time-of-day.js';

export interface CompiledException {
  readonly folder: string;
  readonly name: string;
  readonly span: ExceptionSpan;
  /** Empty = closed all day. */
  readonly intervals: readonly WallInterval[];
}

export interface CompiledSchedule {
  readonly id: string;
  readonly zone: string;
  /** Index 0 = Monday; each list sorted by start. */
  readonly weekly: readonly (readonly WallInterval[])[];
  readonly exceptions: readonly CompiledException[];
}

export interface DayPlan {
  /** Minutes from this date's local midnight; an end past 1440 runs into the next date. */
  readonly intervals: readonly WallInterval[];
  readonly exception: CompiledException | undefined;
}

function parseAll(texts: readonly string[] | undefined): WallInterval[] {
  const out: WallInterval[] = [];
  for (const t of texts ?? []) {
    const iv = parseInterval(t);
    if (iv !== undefined) out.push({ start: iv.start, end: iv.end });
  }
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Compiles a schedule with the exception folders that apply to it (its own
 * plus those added by hours scopes). Parts the config check rejects are
 * skipped here; createPolicy refuses a config with problems anyway.
 */
export function compileSchedule(
  schedule: DeepReadonly<ScheduleConfig>,
  folders: readonly DeepReadonly<ExceptionFolderConfig>[],
): CompiledSchedule {
  const exceptions: CompiledException[] = [];
  for (const folder of folders) {
    for (const entry of folder.entries) {
      const { span } = analyseSpan(entry);
      if (span === undefined) continue;
      const intervals = entry.closed === true ? [] : parseAll(entry.hours);
      exceptions.push({ folder: folder.id, name: entry.name, span, intervals });
    }
  }
  return {
    id: schedule.id,
    zone: schedule.timeZone,
    weekly: WEEKDAYS.map((d) => parseAll(schedule.weekly[d])),
    exceptions,
  };
}

export function exceptionOn(schedule: CompiledSchedule, day: CivilDay): CompiledException | undefined {
  return schedule.exceptions.find((e) => spanCovers(e.span, day));
}

/** What a local date contributes: its own intervals, clipped at midnight when the next date is an exception. */
export function dayPlan(schedule: CompiledSchedule, day: CivilDay): DayPlan {
  const exception = exceptionOn(schedule, day);
  const own = exception !== undefined ? exception.intervals : (schedule.weekly[weekdayIndex(day)] ?? []);
  if (!own.some((iv) => iv.end > MINUTES_PER_DAY) || exceptionOn(schedule, day + 1) === undefined) {
    return { intervals: own, exception };
  }
  const clipped = own.map((iv) => ({ start: iv.start, end: Math.min(iv.end, MINUTES_PER_DAY) })).filter((iv) => iv.end > iv.start);
  return { intervals: clipped, exception };
}

/** True when the schedule has no open interval at all, in any week or exception. */
export function neverOpens(schedule: CompiledSchedule): boolean {
  return schedule.weekly.every((d) => d.length === 0) && schedule.exceptions.every((e) => e.intervals.length === 0);
}
