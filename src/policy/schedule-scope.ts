/**
 * Which schedule applies to a contact (queue, channel, language). The most
 * specific one wins; the scopes are tried in this order, first match wins:
 *
 *   the queue itself:   hours.channels.<channel>, hours.languages.<language>, hours.schedule
 *   its parent menu:    the same three
 *   ... up to the root menu
 *   global:             hours.channels.<channel>, hours.languages.<language>, hours.schedule
 *   none:               always open
 *
 * A queue beats a menu above it, which beats the global settings; at one
 * scope a channel schedule beats a language schedule, which beats the plain
 * schedule. Exception folders listed under `hours.exceptions` at any of these
 * scopes are added to the schedule's own folders.
 */
import type { SwitchboardConfig } from '../config/load.js';
import type { Channel, HoursScopeConfig } from '../config/schema/policy.js';
import type { DeepReadonly } from '../config/load.js';
import { matchLanguageKey } from './languages.js';
import type { QueueTree } from './queue-tree.js';

export interface ScheduleChoice {
  /** undefined = no schedule applies (always open). */
  readonly scheduleId: string | undefined;
  /** Config path of the setting that chose it, e.g. `queues[billing].hours.channels.ivr`. */
  readonly scope: string;
  /** Exception folders: the schedule's own, then those of the hours scopes (nearest first). */
  readonly folders: readonly string[];
}

function pickAt(
  hours: DeepReadonly<HoursScopeConfig> | undefined,
  prefix: string,
  channel: Channel,
  language: string | undefined,
): { id: string; scope: string } | undefined {
  if (hours === undefined) return undefined;
  const byChannel = hours.channels?.[channel];
  if (byChannel !== undefined) return { id: byChannel, scope: `${prefix}hours.channels.${channel}` };
  if (language !== undefined && hours.languages !== undefined) {
    const key = matchLanguageKey(Object.keys(hours.languages), language);
    const id = key === undefined ? undefined : hours.languages[key];
    if (key !== undefined && id !== undefined) return { id, scope: `${prefix}hours.languages.${key}` };
  }
  if (hours.schedule !== undefined) return { id: hours.schedule, scope: `${prefix}hours.schedule` };
  return undefined;
}

export function chooseSchedule(
  config: SwitchboardConfig,
  tree: QueueTree,
  queueId: string,
  channel: Channel,
  language: string | undefined,
): ScheduleChoice {
  const scopes = [
    ...tree.lineage(queueId).map((q) => ({ hours: q.hours, prefix: `queues[${q.id}].` })),
    { hours: config.hours, prefix: '' },
  ];
  let chosen: { id: string; scope: string } | undefined;
  for (const s of scopes) {
    chosen = pickAt(s.hours, s.prefix, channel, language);
    if (chosen !== undefined) break;
  }
  const folders: string[] = [];
  const add = (ids: readonly string[] | undefined): void => {
    for (const id of ids ?? []) if (!folders.includes(id)) folders.push(id);
  };
  if (chosen !== undefined) add(config.schedules.find((s) => s.id === chosen.id)?.exceptions);
  for (const s of scopes) add(s.hours?.exceptions);
  return { scheduleId: chosen?.id, scope: chosen?.scope ?? 'none', folders };
}
