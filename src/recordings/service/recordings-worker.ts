/**
 * The recordings worker: a process of its own (`switchboard
 * recordings-worker`) that converts, encrypts and delivers recordings. It
 * owns the embedded Redis when no URL is given, runs the BullMQ workers, the
 * reconciler (disk → queue) and the retention sweeper. Killing it loses
 * nothing: jobs stay in Redis, files on disk, and a new worker carries on.
 */
import type { Redis } from 'ioredis';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import type { CrmAdapter } from '../crm/crm-adapter.js';
import { RetentionSweeper } from '../delivery/retention-sweeper.js';
import type { RecordingEvents } from '../events/recording-events.js';
import { EmbeddedRedis } from '../queue/embedded-redis.js';
import { Reconciler } from '../queue/reconciler.js';
import { displayRedisUrl, openRedis } from '../queue/redis-connection.js';
import { RecordingQueues } from '../queue/recording-queues.js';
import { createRecordingWorkers, type RecordingWorkers } from '../queue/recording-workers.js';
import type { PipelineContext } from '../delivery/pipeline-context.js';
import { setupPipeline, type RecordingPaths } from './recordings-setup.js';


/** What `switchboard recordings-worker --announce-ready` prints once running (a supervising parent waits for it, whatever the log level). */
export const WORKER_READY_LINE = 'switchboard recordings-worker: ready';

export interface RecordingsWorkerOptions {
  readonly config: SwitchboardConfig;
  /** The Redis to use; undefined starts the embedded one. The composition root maps REDIS_URL here. */
  readonly redisUrl?: string;
  readonly logger: Logger;
  readonly cwd?: string;
  readonly clock?: () => number;
  readonly crm?: CrmAdapter;
}

export class RecordingsWorker {
  private constructor(
    readonly ctx: PipelineContext,
    readonly events: RecordingEvents,
    readonly paths: RecordingPaths,
    readonly redisUrl: string,
    readonly queues: RecordingQueues,
    private readonly redis: Redis,
    private readonly workers: RecordingWorkers,
    private readonly sweeper: RetentionSweeper,
    private readonly reconciler: Reconciler,
    private readonly embedded: EmbeddedRedis | undefined,
  ) {}

  static async start(o: RecordingsWorkerOptions): Promise<RecordingsWorker> {
    const { ctx, events, paths } = await setupPipeline(o);
    const r = o.config.recordings;
    let embedded: EmbeddedRedis | undefined;
    let url = o.redisUrl ?? o.config.redis.url;
    if (url === undefined) {
      const e = o.config.redis.embedded;
      embedded = new EmbeddedRedis({ dir: paths.redisDir, binary: e.binary, port: e.port, host: e.host, appendfsync: e.appendfsync, logger: o.logger });
      await embedded.start();
      url = embedded.url;
    }
    const redis = openRedis(url, 'switchboard-recordings-worker');
    // ioredis reconnects by itself; say so once per outage instead of crashing on an unhandled 'error'.
    let down = false;
    let connected = false;
    redis.on('error', (e: Error) => {
      if (!down) o.logger.warn({ err: e.message, redis: displayRedisUrl(url) }, connected ? 'Redis connection lost; reconnecting' : 'Redis cannot be reached; waiting for it');
      down = true;
    });
    redis.on('ready', () => {
      if (down) o.logger.info({ redis: displayRedisUrl(url) }, 'Redis connection restored');
      down = false;
      connected = true;
    });
    let workers: ReturnType<typeof createRecordingWorkers> | undefined;
    try {
      await redis.ping();
      const queues = new RecordingQueues(redis, o.config.redis.keyPrefix, r.retentionSeconds, (e) => o.logger.debug({ err: e.message }, 'recording queue error'));
      workers = createRecordingWorkers(ctx, {
        connection: redis,
        prefix: o.config.redis.keyPrefix,
        queues,
        settings: { concurrency: r.upload.concurrency, convertConcurrency: r.convertConcurrency, rateLimit: r.upload.rateLimit, lockMs: r.upload.lockMs },
      });
      await Promise.all([workers.convert.waitUntilReady(), workers.upload.waitUntilReady()]);
      // Started once the worker is sure to run: a failed start leaves nothing sweeping or re-queueing behind it.
      const sweeper = new RetentionSweeper(ctx, r.sweepIntervalSeconds * 1000);
      const reconciler = new Reconciler(ctx.store, queues, o.logger, r.reconcileIntervalSeconds * 1000);
      sweeper.start();
      reconciler.start();
      o.logger.info({ spool: paths.spoolDir, captureDir: paths.captureDir, embeddedRedis: embedded !== undefined, crm: ctx.crm.name }, 'recordings worker started');
      return new RecordingsWorker(ctx, events, paths, url, queues, redis, workers, sweeper, reconciler, embedded);
    } catch (e) {
      // Bounded: closing workers whose Redis is gone may wait for it.
      if (workers !== undefined) await boundedWait(workers.close(), 5000);
      redis.disconnect();
      await embedded?.stop();
      throw e;
    }
  }

  /** Stops taking jobs, lets running steps finish, then closes Redis (and stops the embedded server). */
  async stop(): Promise<void> {
    try {
      await this.reconciler.stop();
      await this.sweeper.stop();
      await this.workers.close();
      await this.queues.close();
      await this.events.flush();
      await this.redis.quit().catch(() => this.redis.disconnect());
    } finally {
      // Whatever failed above, the embedded server does not outlive a worker that stopped.
      this.redis.disconnect();
      await this.embedded?.stop();
    }
  }
}

/** Waits for `p` (its failure included) for at most `ms`. */
async function boundedWait(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
