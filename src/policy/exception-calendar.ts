/**
 * Exceptions (holidays, special hours, closures): which local dates an entry
 * covers, and whether two entries collide. An exception owns its dates from
 * local midnight to local midnight (docs/policy.md, "Exceptions").
 */
import type { ExceptionEntryConfig } from '../config/schema/policy.js';
import {
  civilDate,
  dayNumber,
  formatCivilDay,
  monthDayKey,
  parseExceptionDate,
  type CivilDay,
  type ExceptionDate,
} from './civil-date.js';
import type { DeepReadonly } from '../config/load.js';

/** The dates an entry covers: a dated range, or a month-day range repeated every year (may wrap past 12-31). */
export type ExceptionSpan =
  | { readonly kind: 'dated'; readonly from: CivilDay; readonly to: CivilDay }
  | { readonly kind: 'annual'; readonly from: number; readonly to: number };

/** The longest dated range accepted: longer ones are nearly always a mistyped year. */
export const MAX_RANGE_DAYS = 366;

export interface SpanProblem {
  /** The entry field the problem is about (`date`, `from`, `to`) or '' for the entry. */
  readonly field: string;
  readonly message: string;
}

/** Works out an entry's dates, or says what is wrong with them. */
export function analyseSpan(entry: DeepReadonly<ExceptionEntryConfig>): { span?: ExceptionSpan; problems: SpanProblem[] } {
  const problems: SpanProblem[] = [];
  const hasDate = entry.date !== undefined;
  const hasFrom = entry.from !== undefined;
  const hasTo = entry.to !== undefined;
  if (hasDate && (hasFrom || hasTo)) {
    return { problems: [{ field: '', message: 'give either date (one day) or from and to (a range), not both' }] };
  }
  if (!hasDate && !hasFrom && !hasTo) {
    return { problems: [{ field: '', message: 'give the date (date: 2026-12-25) or a range (from: ..., to: ...)' }] };
  }
  if (!hasDate && hasFrom !== hasTo) {
    return { problems: [{ field: hasFrom ? 'to' : 'from', message: `a range needs both from and to (only ${hasFrom ? 'from' : 'to'} is given)` }] };
  }
  const parse = (field: string, text: string): ExceptionDate | undefined => {
    const d = parseExceptionDate(text);
    if (typeof d === 'string') {
      problems.push({ field, message: d });
      return undefined;
    }
    return d;
  };
  const first = entry.date !== undefined ? parse('date', entry.date) : parse('from', entry.from ?? '');
  const last = hasDate ? first : parse('to', entry.to ?? '');
  if (first === undefined || last === undefined) return { problems };
  if ((first.year === undefined) !== (last.year === undefined)) {
    return { problems: [{ field: 'to', message: 'from and to must both have a year (YYYY-MM-DD) or both be every-year dates (MM-DD)' }] };
  }
  if (first.year === undefined) {
    return { span: { kind: 'annual', from: monthDayKey(first.month, first.day), to: monthDayKey(last.month, last.day) }, problems };
  }
  const from = dayNumber(first.year, first.month, first.day);
  const to = dayNumber(last.year!, last.month, last.day);
  if (to < from) return { problems: [{ field: 'to', message: `to ${entry.to} is before from ${entry.from}` }] };
  if (to - from + 1 > MAX_RANGE_DAYS) {
    return {
      problems: [
        {
          field: 'to',
          message: `the range covers ${to - from + 1} days (${entry.from} to ${entry.to}); check the years (for a longer closure use an emergency override)`,
        },
      ],
    };
  }
  return { span: { kind: 'dated', from, to }, problems };
}

export function spanCovers(span: ExceptionSpan, day: CivilDay): boolean {
  if (span.kind === 'dated') return day >= span.from && day <= span.to;
  const { month, day: dom } = civilDate(day);
  const md = monthDayKey(month, dom);
  return span.from <= span.to ? md >= span.from && md <= span.to : md >= span.from || md <= span.to;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The first date two spans share, in words (`2026-12-24` or `12-24 every year`), or undefined. */
export function firstSharedDate(a: ExceptionSpan, b: ExceptionSpan): string | undefined {
  if (a.kind === 'dated' && b.kind === 'dated') {
    const from = Math.max(a.from, b.from);
    return from <= Math.min(a.to, b.to) ? formatCivilDay(from) : undefined;
  }
  if (a.kind === 'annual' && b.kind === 'annual') {
    // Walk the month-days of a leap year so that 02-29 is included.
    for (let d = dayNumber(2000, 1, 1); d <= dayNumber(2000, 12, 31); d++) {
      if (spanCovers(a, d) && spanCovers(b, d)) {
        const { month, day } = civilDate(d);
        return `${pad(month)}-${pad(day)} every year`;
      }
    }
    return undefined;
  }
  const dated = (a.kind === 'dated' ? a : b) as Extract<ExceptionSpan, { kind: 'dated' }>;
  const annual = a.kind === 'annual' ? a : b;
  for (let d = dated.from; d <= dated.to; d++) if (spanCovers(annual, d)) return formatCivilDay(d);
  return undefined;
}
