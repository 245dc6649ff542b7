/**
 * Scheduled-call slots: times a consumer may book a call back, inside the
 * queue's hours. Slots start at the opening time of each interval of a day
 * (as written in the schedule) and then every `slotMinutes`; each slot lies
 * entirely inside that interval (as mapped through the zone, so a DST change
 * inside an interval shortens or lengthens it in real time). The first slot
 * starts at least `leadMinutes` after the request.
 */
import { MS_PER_MINUTE } from './civil-date.js';
import type { ScheduledCallSlot } from './decision.js';
import type { ActiveEmergency } from './emergency.js';
import type { CompiledSchedule } from './schedule.js';
import { intervalImages } from './timeline.js';
import { formatInstant } from './time-zone.js';

export interface SlotOptions {
  readonly atMs: number;
  readonly slotMinutes: number;
  readonly leadMinutes: number;
  readonly count: number;
  readonly emergency: ActiveEmergency | undefined;
}

export function scheduledCallSlots(schedule: CompiledSchedule | undefined, o: SlotOptions): ScheduledCallSlot[] {
  const slotMs = o.slotMinutes * MS_PER_MINUTE;
  let earliest = o.atMs + o.leadMinutes * MS_PER_MINUTE;
  if (o.emergency?.force === 'closed') {
    // A closure with no end cannot promise any time.
    if (o.emergency.until === undefined) return [];
    earliest = Math.max(earliest, o.emergency.until);
  }
  const out: ScheduledCallSlot[] = [];
  const zone = schedule?.zone ?? 'UTC';
  const push = (start: number): void => {
    out.push({ start: formatInstant(zone, start), end: formatInstant(zone, start + slotMs) });
  };
  if (schedule === undefined) {
    // Always open: a grid of whole slots counted from the Unix epoch.
    for (let s = Math.ceil(earliest / slotMs) * slotMs; out.length < o.count; s += slotMs) push(s);
    return out;
  }
  for (const iv of intervalImages(schedule, earliest)) {
    for (let s = iv.start; s + slotMs <= iv.end && out.length < o.count; s += slotMs) {
      if (s >= earliest) push(s);
    }
    if (out.length >= o.count) break;
  }
  return out;
}
