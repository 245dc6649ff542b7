/**
 * The disk is the truth, the queue is a schedule: every recording in the spool
 * should have a job. This puts back any that lack one — the call side could
 * not reach Redis at hang-up, or Redis lost data (a fresh server, an AOF cut
 * short). Job ids are derived from recording ids, so a recording that has a
 * job (in any state, including failed) is left alone.
 */
import type { Logger } from '../../observability/logger.js';
import type { RecordingStore } from '../store/recording-store.js';
import type { RecordingQueues } from './recording-queues.js';
import { RepeatingTask } from '../service/repeating-task.js';

export class Reconciler {
  private readonly task = new RepeatingTask(async () => {
    try {
      await this.runOnce();
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'recording reconciliation failed; will retry');
    }
    return this.intervalMs;
  });

  constructor(
    private readonly store: RecordingStore,
    private readonly queues: RecordingQueues,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  /** Returns how many recordings were (re)queued or confirmed queued. */
  async runOnce(): Promise<number> {
    let n = 0;
    for (const id of await this.store.list()) {
      const m = await this.store.readManifest(id).catch(() => undefined);
      if (m === undefined) continue;
      if (m.state === 'captured') await this.queues.enqueueConvert(id);
      else await this.queues.enqueueUpload(id);
      n++;
    }
    return n;
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }
}
