/**
 * Local opening intervals as written in the config (`09:00-17:00`), turned
 * into minutes from the local midnight of the day they start on.
 */
import { MINUTES_PER_DAY } from './civil-date.js';

/** [start, end) in minutes from the local midnight of its day; `end` may exceed 1440 (crosses midnight). */
export interface WallInterval {
  readonly start: number;
  readonly end: number;
}

export interface ParsedInterval extends WallInterval {
  readonly text: string;
  readonly crossesMidnight: boolean;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
}

/**
 * Parses `HH:MM-HH:MM` (already shape-checked by the schema). An end at or
 * before the start means the interval runs past midnight into the next day;
 * `24:00` ends at midnight. Returns undefined for an empty interval
 * (`09:00-09:00`), which the config check reports.
 */
export function parseInterval(text: string): ParsedInterval | undefined {
  const [a, b] = text.split('-');
  if (a === undefined || b === undefined) return undefined;
  const start = minutesOf(a);
  let end = minutesOf(b);
  if (end === start) return undefined;
  if (end < start) end += MINUTES_PER_DAY;
  return { start, end, text, crossesMidnight: end > MINUTES_PER_DAY };
}

export function formatMinutes(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}
