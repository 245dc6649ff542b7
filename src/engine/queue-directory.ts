/** Which queue a dialed number selects (the Request-URI user part; later, IVR menus by DTMF). */
import type { QueueConfig } from '../config/schema/index.js';
import type { DeepReadonly } from '../config/load.js';

export type Queue = DeepReadonly<QueueConfig>;

export class QueueDirectory {
  private readonly byNumber = new Map<string, Queue>();
  private readonly byId = new Map<string, Queue>();

  constructor(queues: readonly Queue[]) {
    for (const q of queues) {
      this.byId.set(q.id, q);
      for (const n of q.numbers ?? []) this.byNumber.set(n, q);
    }
  }

  /** The queue for a dialed number; `+` prefixes are matched either way. */
  forNumber(dialed: string): Queue | undefined {
    return this.byNumber.get(dialed) ?? (dialed.startsWith('+') ? this.byNumber.get(dialed.slice(1)) : this.byNumber.get(`+${dialed}`));
  }

  byQueueId(id: string): Queue | undefined {
    return this.byId.get(id);
  }
}
