/**
 * Calendar dates without a time zone ("civil" dates, proleptic Gregorian), as
 * day numbers counted from 1970-01-01. Pure arithmetic: `Date.UTC` is used as
 * a calendar calculator only, never to read the clock.
 */

/** Days since 1970-01-01. */
export type CivilDay = number;

export const MS_PER_MINUTE = 60_000;
export const MINUTES_PER_DAY = 1440;
export const MS_PER_DAY = 86_400_000;

export interface CivilDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

const MONTH_NAMES = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

export function dayNumber(year: number, month: number, day: number): CivilDay {
  return Math.round(Date.UTC(year, month - 1, day) / MS_PER_DAY);
}

export function civilDate(n: CivilDay): CivilDate {
  const d = new Date(n * MS_PER_DAY);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday). */
export function weekdayIndex(n: CivilDay): number {
  return (((n + 3) % 7) + 7) % 7;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

export function formatCivilDay(n: CivilDay): string {
  const { year, month, day } = civilDate(n);
  return `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
}

/** A date as written in an exception: a year, or every year (`year` undefined). */
export interface ExceptionDate {
  readonly year: number | undefined;
  readonly month: number;
  readonly day: number;
}

/**
 * Parses `YYYY-MM-DD` or `MM-DD`. Returns the date, or a sentence saying why
 * it is not one (so the config check can quote it).
 */
export function parseExceptionDate(text: string): ExceptionDate | string {
  const m = /^(?:(\d{4})-)?(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return `"${text}" is not a date: expected YYYY-MM-DD, or MM-DD for the same date every year`;
  const year = m[1] === undefined ? undefined : Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12) return `"${text}" is not a date: there is no month ${month}`;
  const monthName = MONTH_NAMES[month - 1]!;
  if (year !== undefined && year < 1970) return `"${text}" is before 1970; check the year`;
  // Every year: February may have 29 days (the exception then applies in leap years only).
  const max = year === undefined ? (month === 2 ? 29 : daysInMonth(2001, month)) : daysInMonth(year, month);
  if (day < 1 || day > max) {
    if (year !== undefined && month === 2 && day === 29) return `"${text}" is not a date: ${year} is not a leap year`;
    return `"${text}" is not a date: ${monthName} has ${max} days`;
  }
  return { year, month, day };
}

/** `MM-DD` packed as month * 100 + day, so that month-days compare as numbers. */
export function monthDayKey(month: number, day: number): number {
  return month * 100 + day;
}
