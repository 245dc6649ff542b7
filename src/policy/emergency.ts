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
  /** Where the override is, for people: `queues[billing].emergency` (by queue id) or `emergency`. */
  readonly scope: string;
  /**
   * The same place as a configuration path, `queues[3].emergency` (by index) or `emergency`: the
   * form every PromptSpec is found and pre-rendered under (media/prompts/configured-prompts.ts),
   * so the form of its message's reference.
   */
  readonly path: string;
  readonly until: number | undefined;
  readonly config: DeepReadonly<EmergencyConfig>;
}

export function activeEmergency(config: SwitchboardConfig, tree: QueueTree, queueId: string, atMs: number): ActiveEmergency | undefined {
  const candidates = [
    ...tree.lineage(queueId).map((q) => ({ e: q.emergency, scope: `queues[${q.id}].emergency`, path: `queues[${tree.indexOf(q.id)}].emergency` })),
    { e: config.emergency, scope: 'emergency', path: 'emergency' },
  ];
  for (const { e, scope, path } of candidates) {
    if (e === undefined) continue;
    const parsed = e.until === undefined ? undefined : parseInstant(e.until);
    const until = typeof parsed === 'number' ? parsed : undefined;
    if (until !== undefined && atMs >= until) continue;
    return { force: e.force, scope, path, until, config: e };
  }
  return undefined;
}
