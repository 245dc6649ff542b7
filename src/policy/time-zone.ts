/**
 * IANA time zones through Intl.DateTimeFormat (Node's full ICU carries the tz
 * database). Wall-clock readings are handled as "wall milliseconds": the local
 * date and time encoded as if it were UTC, so that calendar arithmetic on them
 * is plain integer arithmetic.
 *
 * The one rule that turns a local time into an instant (docs/policy.md,
 * "Daylight saving"): a local time maps to the FIRST instant at which the
 * zone's clock reads that time or later.
 *   - A time inside a spring-forward gap (02:30 on a night when 02:00 jumps to
 *     03:00) maps to the end of the gap (03:00 new time).
 *   - A time the clock shows twice in a fall-back hour maps to its first
 *     occurrence (the earlier, daylight-time offset).
 * The mapping is monotone, so an interval never turns inside out, and it is
 * what the clock on the wall does: "we open at 02:30" opens as soon as the
 * clock has reached 02:30; "we close at 01:30" closes the first time the clock
 * shows 01:30.
 */
import { MS_PER_DAY } from './civil-date.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

// Memoised formatters: constructing one costs far more than using it. This is
// a cache of pure functions, not state that changes any result.
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's wall-clock reading at an instant, as wall milliseconds (second precision). */
export function wallAt(zone: string, instantMs: number): number {
  let year = 0;
  let month = 1;
  let day = 1;
  let hour = 0;
  let minute = 0;
  let second = 0;
  for (const p of formatter(zone).formatToParts(instantMs)) {
    switch (p.type) {
      case 'year':
        year = Number(p.value);
        break;
      case 'month':
        month = Number(p.value);
        break;
      case 'day':
        day = Number(p.value);
        break;
      case 'hour':
        hour = Number(p.value);
        break;
      case 'minute':
        minute = Number(p.value);
        break;
      case 'second':
        second = Number(p.value);
        break;
      default:
        break;
    }
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** UTC offset in effect at an instant, in milliseconds (wall = instant + offset). */
export function offsetAt(zone: string, instantMs: number): number {
  const whole = Math.floor(instantMs / 1000) * 1000;
  return wallAt(zone, whole) - whole;
}

/**
 * The first instant at which the zone's clock reads `wallMs` or later (see the
 * module comment). Exact to the second.
 */
export function instantOfWall(zone: string, wallMs: number): number {
  // Offsets are within ±14 h, so instants a day either side of the wall value
  // bracket the answer; there is at most one transition in between in any
  // real zone (the widest, Samoa's skipped day in 2011, still fits).
  const before = offsetAt(zone, wallMs - MS_PER_DAY);
  const after = offsetAt(zone, wallMs + MS_PER_DAY);
  const candidates = [...new Set([wallMs - before, wallMs - after])].sort((a, b) => a - b);
  for (const t of candidates) {
    if (wallAt(zone, t) === wallMs) return t;
  }
  // In a gap: find the transition, i.e. the first instant whose reading is past wallMs.
  let lo = Math.floor(Math.min(...candidates) / 1000) - 1; // reading < wallMs here
  let hi = Math.ceil(Math.max(...candidates) / 1000) + 1; // reading > wallMs here
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (wallAt(zone, mid * 1000) >= wallMs) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** ISO-8601 with the zone's offset at that instant, e.g. `2026-03-08T03:00:00-04:00`. */
export function formatInstant(zone: string, instantMs: number): string {
  const whole = Math.floor(instantMs / 1000) * 1000;
  const wall = wallAt(zone, whole);
  const offsetSeconds = Math.round((wall - whole) / 1000);
  const d = new Date(wall);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const sign = offsetSeconds < 0 ? '-' : '+';
  const abs = Math.abs(offsetSeconds);
  const hh = Math.floor(abs / 3600);
  const mm = Math.floor((abs % 3600) / 60);
  const ss = abs % 60;
  // Only local mean times before ~1972 have offsets with seconds.
  const offset = `${sign}${pad(hh)}:${pad(mm)}${ss === 0 ? '' : `:${pad(ss)}`}`;
  return `${date}T${time}${offset}`;
}

/** UTC rendering with the same shape as formatInstant (`+00:00`). */
export function formatUtc(instantMs: number): string {
  return formatInstant('UTC', instantMs);
}

/** The zone name Intl resolves `name` to, or undefined when it knows no such zone. */
export function resolveZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The canonical zone names Intl knows (for "did you mean" suggestions). */
export function knownZones(): readonly string[] {
  return Intl.supportedValuesOf('timeZone');
}
