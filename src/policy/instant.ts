/**
 * Instants written as ISO-8601 with an explicit offset (`2026-03-08T02:30:00-05:00`
 * or `...Z`). A local time without an offset is refused: it is exactly the
 * ambiguity this module exists to remove.
 */
import { daysInMonth } from './civil-date.js';

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** Epoch milliseconds, or a sentence saying what is wrong. */
export function parseInstant(text: string): number | string {
  const m = ISO_RE.exec(text);
  if (m === null) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) {
      return `"${text}" has no UTC offset; add Z or ±hh:mm (e.g. ${text}-05:00) so the instant is unambiguous`;
    }
    return `"${text}" is not an ISO-8601 instant such as 2026-03-08T09:30:00-05:00 or 2026-03-08T14:30:00Z`;
  }
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  if (year < 1970) return `"${text}": years before 1970 are not supported`;
  if (month < 1 || month > 12) return `"${text}": there is no month ${month}`;
  if (day < 1 || day > daysInMonth(year, month)) return `"${text}": ${year}-${m[2]} has no day ${day}`;
  if (hour > 23 || minute > 59 || second > 59) return `"${text}": the time of day is out of range`;
  let offsetMinutes = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 18 || om > 59) return `"${text}": the offset is out of range`;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}
