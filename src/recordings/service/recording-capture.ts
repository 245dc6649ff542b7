/**
 * The call side of the pipeline, used by the engine: begin a call's
 * recording, and at hang-up hand it over. Handing over is write-then-enqueue:
 * the manifest is made durable in the spool first, then a conversion job is
 * added. The enqueue is bounded in time and may fail (Redis down): the
 * worker's reconciler finds the recording on disk and queues it. A hang-up
 * never waits on Redis and a recording is never dropped for want of a queue.
 * A spool that refuses the manifest (disk full, permissions) is tried again
 * with back-off for a bounded number of times, then the recording is
 * reported `failed` (RecordingSubmitter): never dropped silently either.
 * A recording under way is journaled (capture/live-journal.ts): one whose
 * engine was killed during the call is handed over at the next start.
 */
import type { Redis } from 'ioredis';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { CallRecording, type CallRecordingInfo, type RecordingControl, type RecordingSink } from '../capture/call-recording.js';
import { LiveRecordingJournal, recoveredManifest } from '../capture/live-journal.js';
import { FinalEventWatch } from '../events/final-event-watch.js';
import type { RecordingEventSink, RecordingEvents } from '../events/recording-events.js';
import { RecordingQueues } from '../queue/recording-queues.js';
import { displayRedisUrl, openRedis } from '../queue/redis-connection.js';
import type { RecordingManifest } from '../store/manifest.js';
import type { RecordingStore } from '../store/recording-store.js';
import { setupPipeline } from './recordings-setup.js';

/** How often, and how patiently, a recording the spool refused is offered to it again. */
export interface HandoverPolicy {
  /** Tries in all, the first included. */
  readonly attempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface RecordingSubmitterOptions {
  /** Longest wait for Redis to take the conversion job (default 2000 ms). */
  readonly enqueueTimeoutMs?: number;
  /** Default: 12 tries, 1 s doubling to at most 60 s between them. */
  readonly handover?: HandoverPolicy;
}

const DEFAULT_HANDOVER: HandoverPolicy = { attempts: 12, initialBackoffMs: 1000, maxBackoffMs: 60_000 };

interface PendingHandover {
  readonly manifest: RecordingManifest;
  /** Tries made so far. */
  attempts: number;
  timer: NodeJS.Timeout | undefined;
  /** A try under way (close() lets it finish before the last one). */
  running: Promise<void> | undefined;
  lastError: string;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Hands finished recordings to the pipeline. A spool that cannot be written
 * (disk full, permissions) does not lose the recording silently: it is kept
 * in memory and offered again with back-off (`retrying` events), and if the
 * spool still refuses it after the last try, or the engine stops first, it is
 * reported `failed` with the reason. rtpengine's capture files stay where they
 * are meanwhile (the retention sweeper deletes them at the limit, reported).
 */
export class RecordingSubmitter implements RecordingSink {
  private readonly enqueueTimeoutMs: number;
  private readonly handover: HandoverPolicy;
  private readonly pending = new Map<string, PendingHandover>();
  private closed = false;

  constructor(
    private readonly store: RecordingStore,
    private readonly events: RecordingEventSink,
    private readonly queues: RecordingQueues | undefined,
    private readonly logger: Logger,
    options: RecordingSubmitterOptions = {},
  ) {
    this.enqueueTimeoutMs = options.enqueueTimeoutMs ?? 2000;
    this.handover = options.handover ?? DEFAULT_HANDOVER;
  }

  /** Recordings the spool has refused so far and that are still being offered to it again. */
  get pendingIds(): string[] {
    return [...this.pending.keys()];
  }

  /**
   * Stores the manifest, says `captured` and queues the conversion. Resolves
   * once stored, or once a refused recording is scheduled to be tried again:
   * a hang-up never waits for the disk to come back.
   */
  async submit(manifest: RecordingManifest): Promise<void> {
    try {
      await this.store.create(manifest);
    } catch (e) {
      const entry: PendingHandover = { manifest, attempts: 1, timer: undefined, running: undefined, lastError: describe(e) };
      this.pending.set(manifest.recordingId, entry);
      await this.afterFailure(entry);
      return;
    }
    await this.announce(manifest);
  }

  /**
   * The engine is stopping: each recording still waiting for the spool gets
   * one last try, and is reported `failed` if that fails too.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of [...this.pending.values()]) {
      clearTimeout(entry.timer);
      await entry.running;
      await this.retry(entry, true);
    }
  }

  private async retry(entry: PendingHandover, last = false): Promise<void> {
    entry.timer = undefined;
    if (this.pending.get(entry.manifest.recordingId) !== entry) return;
    try {
      await this.store.create(entry.manifest);
    } catch (e) {
      entry.attempts++;
      entry.lastError = describe(e);
      if (last) {
        this.pending.delete(entry.manifest.recordingId);
        await this.fail(entry, `the engine stopped before the recording could be written to the spool after ${entry.attempts} tries (${entry.lastError})`);
        return;
      }
      await this.afterFailure(entry);
      return;
    }
    this.pending.delete(entry.manifest.recordingId);
    this.logger.info({ recordingId: entry.manifest.recordingId, attempts: entry.attempts + 1 }, 'recording written to the spool after all');
    await this.announce(entry.manifest);
  }

  private async afterFailure(entry: PendingHandover): Promise<void> {
    const { manifest } = entry;
    const h = this.handover;
    if (entry.attempts >= h.attempts || this.closed) {
      this.pending.delete(manifest.recordingId);
      await this.fail(entry, `the spool refused it ${entry.attempts} time(s) (${entry.lastError})`);
      return;
    }
    const delayMs = Math.min(h.maxBackoffMs, h.initialBackoffMs * 2 ** Math.min(entry.attempts - 1, 40));
    entry.timer = setTimeout(() => {
      entry.running = this.retry(entry)
        .catch((e: unknown) => this.logger.error({ recordingId: manifest.recordingId, err: describe(e) }, 'recording hand-over retry failed'))
        .finally(() => (entry.running = undefined));
    }, delayMs);
    // close() settles what is left; a pending try alone does not keep the process alive.
    entry.timer.unref();
    await this.events.emit({
      type: 'retrying',
      recordingId: manifest.recordingId,
      callId: manifest.callId,
      attempt: entry.attempts,
      retryInMs: delayMs,
      reason: `cannot write the recording to the spool (${entry.lastError}); kept in memory and tried again`,
    });
  }

  private async fail(entry: PendingHandover, why: string): Promise<void> {
    await this.events.emit({
      type: 'failed',
      recordingId: entry.manifest.recordingId,
      callId: entry.manifest.callId,
      attempt: entry.attempts,
      reason: `never handed to the pipeline: ${why}; rtpengine's capture files are kept until the retention limit`,
    });
  }

  private async announce(manifest: RecordingManifest): Promise<void> {
    await this.events.emit({
      type: 'captured',
      recordingId: manifest.recordingId,
      callId: manifest.callId,
      reason: `${manifest.capture.segments} segment(s), ${manifest.pauses.length} pause(s)`,
    });
    if (this.queues === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queues.enqueueConvert(manifest.recordingId),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from Redis within ${this.enqueueTimeoutMs} ms`)), this.enqueueTimeoutMs);
        }),
      ]);
    } catch (e) {
      this.logger.warn({ recordingId: manifest.recordingId, err: (e as Error).message }, 'recording stored but not queued; the worker will queue it from disk');
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface RecordingCaptureOptions {
  readonly config: SwitchboardConfig;
  readonly logger: Logger;
  readonly control: RecordingControl;
  /** Redis to enqueue on; default: config.redis.url, else the embedded server's socket. */
  readonly redisUrl?: string;
  readonly cwd?: string;
  readonly clock?: () => number;
}

export class RecordingCapture {
  private constructor(
    private readonly o: RecordingCaptureOptions,
    readonly sink: RecordingSubmitter,
    private readonly events: RecordingEvents,
    private readonly eventsFile: string,
    private readonly redis: Redis,
    private readonly queues: RecordingQueues,
    private readonly journal: LiveRecordingJournal,
  ) {}

  static async create(o: RecordingCaptureOptions): Promise<RecordingCapture> {
    const { ctx, events, paths } = await setupPipeline(o);
    const url = o.redisUrl ?? o.config.redis.url ?? `unix://${paths.redisDir}/redis.sock`;
    const redis = openRedis(url, 'switchboard-recordings-capture');
    // Reconnects by itself and later failures surface as enqueue warnings; but a Redis that cannot be
    // reached at start is said once, with its address (calls are still recorded into the spool).
    let connected = false;
    let warned = false;
    redis.once('ready', () => (connected = true));
    redis.on('error', (e: Error) => {
      if (connected || warned) return;
      warned = true;
      o.logger.warn(
        { redis: displayRedisUrl(url), err: e.message },
        'recordings: Redis cannot be reached; recordings are kept in the spool and a worker queues them once it can',
      );
    });
    const queues = new RecordingQueues(redis, o.config.redis.keyPrefix, o.config.recordings.retentionSeconds, (e) => o.logger.debug({ err: e.message }, 'recording queue error'));
    const sink = new RecordingSubmitter(ctx.store, ctx.events, queues, o.logger, { handover: o.config.recordings.handover });
    const journal = new LiveRecordingJournal(paths.liveDir, o.logger);
    const capture = new RecordingCapture(o, sink, events, paths.eventsFile, redis, queues, journal);
    await capture.recover(ctx.store, paths.captureDir);
    return capture;
  }

  /**
   * Recordings a previous run of the engine began and never handed over (it was killed during their
   * calls): each is handed over now, as it stood, ended when its capture was last written.
   */
  private async recover(store: RecordingStore, captureDir: string): Promise<void> {
    for (const { manifest, savedAt } of await this.journal.leftOver()) {
      const { recordingId, callId } = manifest;
      // Handed over before the engine died and already finished by a worker (delivered, expired or failed):
      // its tombstone says so; handing it over again would report a delivered recording as lost.
      const finished = (await store.readTombstone(recordingId).catch(() => undefined)) !== undefined;
      if (!finished && (await store.readManifest(recordingId).catch(() => undefined)) === undefined) {
        const recovered = await recoveredManifest(manifest, captureDir, savedAt);
        this.o.logger.warn({ recordingId, callId, startedAt: recovered.startedAt, endedAt: recovered.endedAt }, 'recording of a call the engine did not finish (it was stopped during the call) recovered and handed over');
        await this.sink.submit(recovered);
      }
      await this.journal.remove(recordingId);
    }
  }

  /** A recording for one call; call start() when the parties are bridged. */
  begin(info: CallRecordingInfo): CallRecording {
    const c = this.o.config;
    return new CallRecording(info, {
      control: this.o.control,
      sink: this.sink,
      retentionMs: c.recordings.retentionSeconds * 1000,
      contact: { channel: c.crm.channelName, timeZone: c.crm.timeZone },
      ...(this.o.clock !== undefined ? { clock: this.o.clock } : {}),
      journal: this.journal,
    });
  }

  /**
   * Watches for recordings reaching `uploaded`, `failed` or `expired` from now
   * on, whichever process delivers them (the drain waits on it).
   */
  watchFinalEvents(): Promise<FinalEventWatch> {
    return FinalEventWatch.open(this.eventsFile, this.events);
  }

  async close(): Promise<void> {
    // Before Redis goes: a recording the spool took at the last try is still queued.
    await this.sink.close();
    await this.events.flush();
    await this.queues.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
