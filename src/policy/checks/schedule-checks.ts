/**
 * Checks of schedules and exception folders on their own: time zones,
 * intervals, dates, and exceptions that collide inside one folder.
 */
import { forEachItem, type SwitchboardConfig } from '../../config/load.js';
import { WEEKDAYS } from '../../config/schema/policy.js';
import { MINUTES_PER_DAY } from '../civil-date.js';
import { analyseSpan, firstSharedDate, type ExceptionSpan } from '../exception-calendar.js';
import { didYouMean } from '../suggest.js';
import { parseInterval, type ParsedInterval } from '../time-of-day.js';
import { knownZones, resolveZone } from '../time-zone.js';
import { Problems } from './problems.js';

const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** Zone names without a region that Intl accepts but that name no place (EST, CET, EST5EDT, ...). */
const FIXED_OK = new Set(['UTC', 'GMT', 'Etc/UTC', 'Etc/GMT']);

export function timeZoneProblem(name: string): string | undefined {
  const resolved = resolveZone(name);
  if (resolved === undefined) {
    return `unknown time zone "${name}"${didYouMean(name, knownZones())}; use an IANA zone name such as America/New_York or Europe/Berlin`;
  }
  if (!name.includes('/') && !FIXED_OK.has(name.toUpperCase())) {
    return (
      `"${name}" is an abbreviation or legacy name, not the time zone of a place (it would be read as ${resolved}); ` +
      'write the zone whose clocks the hours follow, e.g. America/New_York, so daylight saving is applied'
    );
  }
  return undefined;
}

/** Parses a list of intervals, reporting empty ones; `allowCrossing` false for exception hours. */
function parseList(p: Problems, path: string, texts: readonly string[] | undefined, allowCrossing: boolean): (ParsedInterval & { index: number })[] {
  const out: (ParsedInterval & { index: number })[] = [];
  // One interval that failed the schema leaves the others to be checked (for overlaps among themselves).
  forEachItem(texts ?? [], (text, index) => {
    const iv = parseInterval(text);
    if (iv === undefined) {
      p.add(`${path}[${index}]`, `"${text}" is empty (it starts and ends at the same time); for the whole day write 00:00-24:00`);
      return;
    }
    if (!allowCrossing && iv.crossesMidnight) {
      const [from, to] = text.split('-');
      p.add(
        `${path}[${index}]`,
        `"${text}" crosses midnight, but an exception owns its dates from midnight to midnight; write ${from}-24:00 here and 00:00-${to} for the next date`,
      );
      return;
    }
    out.push({ ...iv, index });
  });
  return out;
}

function checkWeekly(p: Problems, path: string, weekly: SwitchboardConfig['schedules'][number]['weekly']): void {
  // Every interval of the week on one circle of 7 × 1440 minutes, so Sunday night runs into Monday.
  const all: { start: number; end: number; day: number; iv: ParsedInterval & { index: number } }[] = [];
  WEEKDAYS.forEach((day, d) => {
    for (const iv of parseList(p, `${path}.${day}`, weekly[day], true)) {
      all.push({ start: d * MINUTES_PER_DAY + iv.start, end: d * MINUTES_PER_DAY + iv.end, day: d, iv });
    }
  });
  const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }): boolean =>
    [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK].some((shift) => a.start < b.end + shift && b.start + shift < a.end);
  for (let j = 0; j < all.length; j++) {
    for (let i = 0; i < j; i++) {
      const a = all[i]!;
      const b = all[j]!;
      if (!overlaps(a, b)) continue;
      const aDay = WEEKDAYS[a.day]!;
      const bDay = WEEKDAYS[b.day]!;
      const crosser = aDay === bDay ? undefined : a.iv.crossesMidnight ? a : b.iv.crossesMidnight ? b : undefined;
      const spill = crosser === undefined ? '' : `; "${crosser.iv.text}" runs past midnight into ${WEEKDAYS[(crosser.day + 1) % 7]!}`;
      p.add(
        `${path}.${bDay}[${b.iv.index}]`,
        `"${b.iv.text}" on ${bDay} overlaps "${a.iv.text}" on ${aDay} (${aDay}[${a.iv.index}])${spill}; intervals may touch but not overlap`,
      );
    }
  }
}

/** An entry's effect for collision purposes: closed, or the special hours as written. */
function effectOf(entry: { closed?: boolean; hours?: readonly string[] }): string {
  if (entry.closed === true || (entry.hours !== undefined && entry.hours.length === 0)) return 'closed';
  return (entry.hours ?? []).join(',');
}

export function checkSchedules(config: SwitchboardConfig): Problems {
  const p = new Problems();
  const folderIds = config.exceptions.map((f) => f.id);

  const seenSchedules = new Map<string, number>();
  forEachItem(config.schedules, (s, i) => {
    const path = `schedules[${i}]`;
    const first = seenSchedules.get(s.id);
    if (first !== undefined) p.add(`${path}.id`, `duplicate schedule id "${s.id}" (also schedules[${first}])`);
    else seenSchedules.set(s.id, i);
    const zone = timeZoneProblem(s.timeZone);
    if (zone !== undefined) p.add(`${path}.timeZone`, zone);
    checkWeekly(p, `${path}.weekly`, s.weekly);
    const listed = new Set<string>();
    (s.exceptions ?? []).forEach((f, j) => {
      if (listed.has(f)) p.add(`${path}.exceptions[${j}]`, `exception folder "${f}" is listed twice`);
      listed.add(f);
      if (!folderIds.includes(f)) {
        p.add(`${path}.exceptions[${j}]`, `unknown exception folder "${f}"${didYouMean(f, folderIds)}; folders: ${folderIds.join(', ') || '(none)'}`);
      }
    });
    const weeklyOpen = WEEKDAYS.some((d) => (s.weekly[d] ?? []).length > 0);
    const specialOpen = config.exceptions
      .filter((f) => listed.has(f.id))
      .some((f) => f.entries.some((e) => e.closed !== true && (e.hours ?? []).length > 0));
    if (!weeklyOpen && !specialOpen) {
      p.add(`${path}.weekly`, `schedule "${s.id}" is never open (no weekly hours and no special hours); to close queues on purpose use an emergency override`);
    }
  });

  const seenFolders = new Map<string, number>();
  forEachItem(config.exceptions, (folder, i) => {
    const path = `exceptions[${i}]`;
    const first = seenFolders.get(folder.id);
    if (first !== undefined) p.add(`${path}.id`, `duplicate exception folder id "${folder.id}" (also exceptions[${first}])`);
    else seenFolders.set(folder.id, i);
    const spans: { span: ExceptionSpan; index: number; name: string; effect: string }[] = [];
    forEachItem(folder.entries, (entry, j) => {
      const epath = `${path}.entries[${j}]`;
      const { span, problems } = analyseSpan(entry);
      for (const sp of problems) p.add(sp.field === '' ? epath : `${epath}.${sp.field}`, sp.message);
      if (entry.closed === true && entry.hours !== undefined) {
        p.add(epath, 'give either closed: true or special hours, not both');
      } else if (entry.closed !== true && entry.hours === undefined) {
        p.add(epath, 'say closed: true, or give the special hours (hours: [10:00-14:00])');
      }
      const ivs = parseList(p, `${epath}.hours`, entry.hours, false).sort((a, b) => a.start - b.start);
      for (let k = 1; k < ivs.length; k++) {
        const prev = ivs[k - 1]!;
        const cur = ivs[k]!;
        if (cur.start < prev.end) {
          p.add(`${epath}.hours[${cur.index}]`, `"${cur.text}" overlaps "${prev.text}" (hours[${prev.index}]); intervals may touch but not overlap`);
        }
      }
      if (span !== undefined) spans.push({ span, index: j, name: entry.name, effect: effectOf(entry) });
    });
    for (let b = 0; b < spans.length; b++) {
      for (let a = 0; a < b; a++) {
        const x = spans[a]!;
        const y = spans[b]!;
        if (x.effect === 'closed' && y.effect === 'closed') continue;
        const shared = firstSharedDate(x.span, y.span);
        if (shared === undefined) continue;
        p.add(
          `${path}.entries[${y.index}]`,
          `"${y.name}" and "${x.name}" (entries[${x.index}]) both cover ${shared} with different hours; a date may have one exception (overlapping closures are fine)`,
        );
      }
    }
  });
  return p;
}
