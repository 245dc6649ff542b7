/**
 * The independent retention sweeper: whatever the queue's state (worker down,
 * Redis gone, a job stuck), no recording file outlives the retention limit.
 * It walks the spool and rtpengine's capture directory, deletes everything
 * past its deadline and reports each deletion as an `expired` (loss) event. It
 * wakes at the next known deadline, or after the configured interval at most.
 * Several sweepers (engines and workers sharing a spool) may run at once:
 * every deletion is claimed atomically first (a rename, or the unlink of a
 * capture file) and only the process whose claim succeeded reports it, so each
 * loss is reported once.
 */
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { expireRecording } from './expire.js';
import { RepeatingTask } from '../service/repeating-task.js';
import { deadlineOf, type PipelineContext } from './pipeline-context.js';
import { RecordingStore } from '../store/recording-store.js';

/** How long a claimed directory may take to be deleted before it counts as abandoned (measured from its ctime). */
const TRASH_GRACE_MS = 60_000;

export type SweeperContext = Pick<PipelineContext, 'store' | 'events' | 'captureDir' | 'retentionMs' | 'clock' | 'logger'>;

export interface SweepResult {
  /** Recording ids (or capture file names) deleted in this sweep. */
  readonly deleted: string[];
  /** The earliest deadline still ahead, if any. */
  readonly nextDueAt: number | undefined;
  /** Recordings left in the spool (not delivered, not past their deadline), and when the oldest of them started. */
  readonly waiting: number;
  readonly oldestStartedAt: number | undefined;
}

function bornAt(s: { birthtimeMs: number; mtimeMs: number }): number {
  // Creation time where the filesystem records it; a back-dated mtime counts too (the older wins).
  return s.birthtimeMs > 0 ? Math.min(s.birthtimeMs, s.mtimeMs) : s.mtimeMs;
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}
export class RetentionSweeper {
  /** Sweeps now and then again at every deadline (or interval). */
  private readonly task = new RepeatingTask(async () => {
    let wait = this.intervalMs;
    try {
      const r = await this.sweepOnce();
      if (r.nextDueAt !== undefined) wait = Math.min(wait, Math.max(0, r.nextDueAt - this.ctx.clock()) + 5);
    } catch (e) {
      this.ctx.logger.error({ err: (e as Error).message }, 'retention sweep failed; retrying');
      wait = Math.min(wait, 1000);
    }
    return wait;
  });

  constructor(
    private readonly ctx: SweeperContext,
    private readonly intervalMs: number,
    private readonly trashGraceMs = TRASH_GRACE_MS,
  ) {}

  private lastResult: SweepResult | undefined;
  /** Start and deadline of each spool entry whose manifest an earlier sweep read (dropped once it is gone). */
  private readonly known = new Map<string, { readonly deadline: number; readonly startedAt: number }>();

  /** What the last completed sweep found (undefined before the first). */
  get last(): SweepResult | undefined {
    return this.lastResult;
  }

  async sweepOnce(): Promise<SweepResult> {
    const { store, clock, retentionMs } = this.ctx;
    const deleted: string[] = [];
    let nextDueAt: number | undefined;
    const due = (t: number): void => {
      nextDueAt = nextDueAt === undefined ? t : Math.min(nextDueAt, t);
    };
    let waiting = 0;
    let oldestStartedAt: number | undefined;

    const ids = await store.list();
    const listed = new Set(ids);
    for (const id of this.known.keys()) if (!listed.has(id)) this.known.delete(id);
    for (const id of ids) {
      const seen = this.known.get(id);
      if (seen !== undefined && clock() < seen.deadline) {
        // Read at an earlier sweep and not due yet: a spool that grows while the CRM is down is not read
        // again every sweep (a manifest's start and deadline do not change).
        due(seen.deadline);
        waiting++;
        if (Number.isFinite(seen.startedAt)) oldestStartedAt = Math.min(oldestStartedAt ?? seen.startedAt, seen.startedAt);
        continue;
      }
      const manifest = await store.readManifest(id).catch(() => undefined);
      const startedAt = manifest !== undefined ? Date.parse(manifest.startedAt) : await store.createdAt(id);
      if (startedAt === undefined) continue; // gone meanwhile: delivered or deleted by another process
      const deadline = manifest !== undefined ? deadlineOf(this.ctx, manifest) : startedAt + retentionMs;
      // Only a manifest read is remembered: one that could not be read is tried again next time.
      if (manifest !== undefined) this.known.set(id, { deadline, startedAt });
      if (clock() < deadline) {
        due(deadline);
        waiting++;
        // A manifest whose start does not parse counts as waiting, not as the oldest (NaN in the metrics).
        if (Number.isFinite(startedAt)) oldestStartedAt = Math.min(oldestStartedAt ?? startedAt, startedAt);
        continue;
      }
      const tomb = await store.readTombstone(id).catch(() => undefined);
      if (tomb?.state === 'delivered') {
        // Delivered at the very end; the uploader just had not removed the files yet.
        const claimed = await store.claim(id);
        if (claimed !== false) await store.purge(claimed);
        continue;
      }
      const reason =
        manifest !== undefined
          ? `not delivered within the retention limit (${Math.round(retentionMs / 1000)} s); deleted by the retention sweeper`
          : 'unreadable or missing manifest; deleted by the retention sweeper at the retention limit';
      if (await expireRecording(this.ctx, manifest, id, reason)) deleted.push(id);
    }

    // Directories claimed for deletion by a process that died before finishing. A claim a few
    // seconds old is a deletion still in progress in another process: leave it to that process.
    // An abandoned one is claimed again (atomically) first: of several sweepers, one reports it.
    for (const name of await entries(store.trashDir)) {
      const claimedAt = (await stat(join(store.trashDir, name)).catch(() => undefined))?.ctimeMs;
      if (claimedAt === undefined || clock() - claimedAt < this.trashGraceMs) continue;
      const id = name.replace(/-[0-9a-f]{8}$/, '');
      const mine = await store.reclaim(join(store.trashDir, name)).catch(() => false as const);
      if (mine === false) continue;
      const tomb = await store.readTombstone(id).catch(() => undefined);
      const callId = (await store.claimedManifest(mine))?.callId;
      await store.purge(mine);
      if (tomb === undefined) {
        await store.writeTombstone({ recordingId: id, callId: callId ?? 'unknown', state: 'expired', at: new Date(clock()).toISOString(), reason: 'deletion interrupted by a crash' });
        await this.ctx.events.emit({ type: 'expired', recordingId: id, ...(callId !== undefined ? { callId } : {}), reason: 'deleted after an interrupted deletion (crash); delivery state unknown' });
        deleted.push(id);
      }
    }

    // Capture files that no recording claimed (the call never reached the pipeline).
    for (const sub of ['pcaps', 'metadata']) {
      const dir = join(this.ctx.captureDir, sub);
      for (const name of await entries(dir)) {
        const file = join(dir, name);
        const s = await stat(file).catch(() => undefined);
        if (s === undefined || !s.isFile()) continue;
        const deadline = bornAt(s) + retentionMs;
        if (clock() < deadline) {
          due(deadline);
          continue;
        }
        const marker = sub === 'metadata' ? /switchboard-recording=([A-Za-z0-9_.-]+)/.exec(await readFile(file, 'utf8').catch(() => '')) : null;
        // Whoever removes the file reports it: another sweeper (or a conversion) that got there first does.
        const removed = await unlink(file).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOENT') this.ctx.logger.error({ file, err: e.message }, 'cannot delete a capture file past the retention limit; will retry');
            return false;
          },
        );
        if (!removed) continue;
        deleted.push(name);
        await this.ctx.events.emit({
          type: 'expired',
          recordingId: marker?.[1] ?? 'unknown',
          reason: `capture file ${sub}/${name} reached the retention limit without being converted; deleted by the retention sweeper`,
        });
      }
    }

    // Tombstones hold no audio; they are kept at least one retention period to answer late jobs, a
    // day's directory as a whole once its last tombstone is that old. Flat ones (an older spool) one by one.
    for (const day of await store.tombstoneDays()) {
      if (clock() - RecordingStore.tombstoneDayEnd(day) >= retentionMs) await store.purge(join(store.tombstonesDir, day));
    }
    for (const name of await entries(store.tombstonesDir)) {
      if (!name.endsWith('.json')) continue;
      const file = join(store.tombstonesDir, name);
      const s = await stat(file).catch(() => undefined);
      if (s !== undefined && s.isFile() && clock() - s.mtimeMs >= retentionMs) await unlink(file).catch(() => undefined);
    }
    this.lastResult = { deleted, nextDueAt, waiting, oldestStartedAt };
    return this.lastResult;
  }

  start(): void {
    this.task.start();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }
}
