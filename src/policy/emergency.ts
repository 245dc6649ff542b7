/**
 * Emergency overrides: force a queue (and the queues under it) or everything
 * closed or open, whatever the schedule says. The nearest override wins: the
 * queue's own, then its parent menu's, ..., then the global one. An override
 * with `until` lapses at that instant and no longer counts.
 */
import type { DeepReadonly, SwitchboardConfig } from '../config/load.js';
import type { EmergencyConfig } from '../config/schema/policy.js';
import { parseInstant } from './instant.js';
import type { QueueTree } from './queue-tree.js';

export interface ActiveEmergency {
  readonly force: 'closed' | 'open';
  /** Config path of the override, e.g. `queues[billing].emergency` or `emergency`. */
  readonly scope: string;
  readonly until: number | undefined;
  readonly config: DeepReadonly<EmergencyConfig>;
}

export function activeEmergency(config: SwitchboardConfig, tree: QueueTree, queueId: string, atMs: number): ActiveEmergency | undefined {
  const candidates = [
    ...tree.lineage(queueId).map((q) => ({ e: q.emergency, scope: `queues[${q.id}].emergency` })),
    { e: config.emergency, scope: 'emergency' },
  ];
  for (const { e, scope } of candidates) {
    if (e === undefined) continue;
    const parsed = e.until === undefined ? undefined : parseInstant(e.until);
    const until = typeof parsed === 'number' ? parsed : undefined;
    if (until !== undefined && atMs >= until) continue;
    return { force: e.force, scope, until, config: e };
  }
  return undefined;
}
