/**
 * The queue tree: menus (queues with children) and leaf queues (which take
 * contacts), each with its path of ancestors. Malformed trees (unknown
 * parents, cycles, duplicate ids) are reported by the config check; here they
 * are tolerated so the check itself can use this index.
 */
import type { QueueConfig } from '../config/schema/index.js';
import type { DeepReadonly } from '../config/load.js';
import { CHANNELS, type Channel } from '../config/schema/policy.js';

export type Queue = DeepReadonly<QueueConfig>;

export interface QueueTree {
  readonly queues: readonly Queue[];
  get(id: string): Queue | undefined;
  /** Index of the queue in the config list (first occurrence), for problem paths. */
  indexOf(id: string): number;
  children(id: string): readonly Queue[];
  isLeaf(id: string): boolean;
  /** The queue, then its parent, ... up to the root (stops at a cycle or unknown parent). */
  lineage(id: string): readonly Queue[];
  /** Names from the root menu down to the queue ("Main menu > Billing"). */
  menuPath(id: string): readonly string[];
  channels(queue: Queue): readonly Channel[];
  serves(queue: Queue, channel: Channel): boolean;
}

export function buildQueueTree(queues: readonly Queue[]): QueueTree {
  const byId = new Map<string, Queue>();
  const index = new Map<string, number>();
  const kids = new Map<string, Queue[]>();
  queues.forEach((q, i) => {
    if (!byId.has(q.id)) {
      byId.set(q.id, q);
      index.set(q.id, i);
    }
  });
  for (const q of queues) {
    if (q.parent === undefined) continue;
    const list = kids.get(q.parent) ?? [];
    list.push(q);
    kids.set(q.parent, list);
  }
  const lineage = (id: string): Queue[] => {
    const out: Queue[] = [];
    const seen = new Set<string>();
    let cur = byId.get(id);
    while (cur !== undefined && !seen.has(cur.id)) {
      out.push(cur);
      seen.add(cur.id);
      cur = cur.parent === undefined ? undefined : byId.get(cur.parent);
    }
    return out;
  };
  const channels = (q: Queue): readonly Channel[] => q.channels ?? CHANNELS;
  return {
    queues,
    get: (id) => byId.get(id),
    indexOf: (id) => index.get(id) ?? -1,
    children: (id) => kids.get(id) ?? [],
    isLeaf: (id) => (kids.get(id) ?? []).length === 0,
    lineage,
    menuPath: (id) => lineage(id).map((q) => q.name).reverse(),
    channels,
    serves: (q, c) => channels(q).includes(c),
  };
}
