/**
 * The call side of the pipeline, used by the engine: begin a call's
 * recording, and at hang-up hand it over. Handing over is write-then-enqueue:
 * the manifest is made durable in the spool first, then a conversion job is
 * added. The enqueue is bounded in time and may fail (Redis down): the
 * worker's reconciler finds the recording on disk and queues it. A hang-up
 * never waits on Redis and a recording is never dropped for want of a queue.
 */
import type { Redis } from 'ioredis';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { CallRecording, type CallRecordingInfo, type RecordingControl, type RecordingSink } from '../capture/call-recording.js';
import type { RecordingEventSink } from '../events/recording-events.js';
import { RecordingQueues } from '../queue/recording-queues.js';
import { openRedis } from '../queue/redis-connection.js';
import type { RecordingManifest } from '../store/manifest.js';
import type { RecordingStore } from '../store/recording-store.js';
import { setupPipeline } from './recordings-setup.js';

export class RecordingSubmitter implements RecordingSink {
  constructor(
    private readonly store: RecordingStore,
    private readonly events: RecordingEventSink,
    private readonly queues: RecordingQueues | undefined,
    private readonly logger: Logger,
    private readonly enqueueTimeoutMs = 2000,
  ) {}

  async submit(manifest: RecordingManifest): Promise<void> {
    await this.store.create(manifest);
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
    private readonly redis: Redis,
    private readonly queues: RecordingQueues,
  ) {}

  static async create(o: RecordingCaptureOptions): Promise<RecordingCapture> {
    const { ctx, paths } = await setupPipeline(o);
    const url = o.redisUrl ?? o.config.redis.url ?? `unix://${paths.redisDir}/redis.sock`;
    const redis = openRedis(url, 'switchboard-recordings-capture');
    redis.on('error', () => undefined); // reconnects by itself; failures surface as enqueue warnings
    const queues = new RecordingQueues(redis, o.config.redis.keyPrefix, o.config.recordings.retentionSeconds, (e) => o.logger.debug({ err: e.message }, 'recording queue error'));
    const sink = new RecordingSubmitter(ctx.store, ctx.events, queues, o.logger);
    return new RecordingCapture(o, sink, redis, queues);
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
    });
  }

  async close(): Promise<void> {
    await this.queues.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
