/**
 * A queue's waiting settings with every default filled in (a queue served by
 * agents without a `waiting` section gets the schema's defaults), and which
 * queues are waiting queues: those served by at least one agent, or with a
 * `waiting` section. The others keep the plain hunt of their static agent
 * targets (src/engine/tasks/hunt-agents-task.ts).
 */
import type { Static } from '@sinclair/typebox';
import { loadConfigObject, type DeepReadonly, type SwitchboardConfig } from '../../config/load.js';
import type { WaitingSchema } from '../../config/schema/agents.js';
import type { Queue } from '../queue-directory.js';

export type WaitingSettings = DeepReadonly<Static<typeof WaitingSchema>>;

let defaults: WaitingSettings | undefined;

/** The schema's defaults, filled in by the same validator as any configuration file. */
function defaultSettings(): WaitingSettings {
  defaults ??= loadConfigObject({ queues: [{ id: 'q', name: 'q', waiting: {} }] }).queues[0]!.waiting!;
  return defaults;
}

export function waitingOf(queue: Queue): WaitingSettings {
  return queue.waiting ?? defaultSettings();
}

export function isWaitingQueue(config: SwitchboardConfig, queue: Queue): boolean {
  return queue.waiting !== undefined || config.agents.some((a) => a.queues.some((q) => q.queue === queue.id));
}

/** RFC 3261 §20.26 Priority, as an adjustment of the queue's call priority. */
export function sipPriorityBonus(header: string | undefined): number {
  switch (header?.trim().toLowerCase()) {
    case 'emergency':
      return 2;
    case 'urgent':
      return 1;
    case 'non-urgent':
      return -1;
    default:
      return 0;
  }
}
