/**
 * The BullMQ workers: thin glue between jobs and the conversion and delivery
 * steps. Every outcome of a step maps to one BullMQ mechanism:
 *
 * - a part confirmed, more to go → back to the waiting list (one CRM request
 *   per processing, so the limiter counts requests and recordings interleave);
 * - a retryable failure → failed attempt, re-run after our back-off
 *   (exponential, jittered, Retry-After, capped at the retention deadline);
 * - the CRM's rate limit (429) → the whole queue pauses (`Queue.rateLimit`)
 *   and the job waits without using up an attempt;
 * - a failure retrying cannot fix → UnrecoverableError, with a `failed` event.
 */
import { RateLimitError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { RecordingKeyError } from '../crypto/key-ring.js';
import { RecordingExpiredError, RecordingFormatError, RecordingIntegrityError, RecordingMissingError } from '../errors.js';
import { retryDelay } from '../delivery/backoff.js';
import { convertStep, discardEmpty, RecordingEmptyError, SegmentsPendingError } from '../delivery/convert-step.js';
import { deliverStep, GiveUp, RetryLater } from '../delivery/deliver-step.js';
import { reportFailure } from '../delivery/failure-report.js';
import type { PipelineContext } from '../delivery/pipeline-context.js';
import { CONVERT_QUEUE, UPLOAD_QUEUE, type RecordingJobData, type RecordingQueues } from './recording-queues.js';

export interface WorkerSettings {
  readonly concurrency: number;
  /** Conversions at once (ffmpeg runs). */
  readonly convertConcurrency: number;
  readonly rateLimit: { readonly max: number; readonly durationMs: number };
  /** Job lock duration; a killed worker's job is picked up again after about this long. */
  readonly lockMs: number;
}

export interface RecordingWorkers {
  readonly convert: Worker<RecordingJobData>;
  readonly upload: Worker<RecordingJobData>;
  close(): Promise<void>;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createRecordingWorkers(
  ctx: PipelineContext,
  deps: { readonly connection: Redis; readonly prefix: string; readonly queues: RecordingQueues; readonly settings: WorkerSettings },
): RecordingWorkers {
  const { connection, prefix, queues, settings } = deps;
  const backoffStrategy = (attemptsMade: number, _type?: string, err?: Error): number =>
    err instanceof RetryLater ? err.delayMs : retryDelay(ctx.backoff, attemptsMade, { now: ctx.clock(), expiresAt: Number.POSITIVE_INFINITY });
  const common = {
    connection,
    prefix,
    lockDuration: settings.lockMs,
    stalledInterval: settings.lockMs,
    // A worker killed mid-job leaves it "stalled"; that must never fail the recording.
    maxStalledCount: 1_000_000,
    settings: { backoffStrategy },
  };

  const convert = new Worker<RecordingJobData>(
    CONVERT_QUEUE,
    async (job: Job<RecordingJobData>, _token?: string, signal?: AbortSignal) => {
      const id = job.data.recordingId;
      try {
        const outcome = await convertStep(ctx, id, signal);
        if (outcome !== 'already-finished') await queues.enqueueUpload(id);
        return outcome;
      } catch (e) {
        if (e instanceof RecordingExpiredError) throw new UnrecoverableError(e.message);
        if (e instanceof RetryLater) throw e;
        if (e instanceof SegmentsPendingError) {
          throw new RetryLater(e.message, retryDelay(ctx.backoff, job.attemptsMade + 1, { now: ctx.clock(), expiresAt: Number.POSITIVE_INFINITY }), false, job.attemptsMade + 1);
        }
        if (e instanceof RecordingEmptyError) {
          const reason = `cannot convert: ${describe(e)}`;
          await discardEmpty(ctx, id, reason);
          throw new UnrecoverableError(reason);
        }
        if (e instanceof RecordingFormatError || e instanceof RecordingMissingError || e instanceof RecordingKeyError || e instanceof RecordingIntegrityError) {
          const reason = `cannot convert: ${describe(e)}`;
          await reportFailure(ctx, { type: 'failed', recordingId: id, reason: `${reason}; capture files are kept until the retention limit` }, reason);
          throw new UnrecoverableError(`${reason}; capture files are kept until the retention limit`);
        }
        const delayMs = retryDelay(ctx.backoff, job.attemptsMade + 1, { now: ctx.clock(), expiresAt: Number.POSITIVE_INFINITY });
        await reportFailure(ctx, { type: 'retrying', recordingId: id, attempt: job.attemptsMade + 1, retryInMs: delayMs, reason: `conversion failed: ${describe(e)}` });
        throw new RetryLater(describe(e), delayMs, false, job.attemptsMade + 1);
      }
    },
    { ...common, concurrency: settings.convertConcurrency },
  );

  const upload = new Worker<RecordingJobData>(
    UPLOAD_QUEUE,
    async (job: Job<RecordingJobData>, token?: string, signal?: AbortSignal) => {
      const id = job.data.recordingId;
      let outcome;
      try {
        outcome = await deliverStep(ctx, id, signal);
      } catch (e) {
        if (e instanceof RetryLater) {
          if (e.rateLimited) {
            await queues.upload.rateLimit(Math.max(1, e.delayMs));
            throw new RateLimitError();
          }
          throw e;
        }
        if (e instanceof GiveUp) {
          await reportFailure(ctx, { type: 'failed', recordingId: id, reason: `${e.reason}; files are kept until the retention limit` }, e.reason);
          throw new UnrecoverableError(e.reason);
        }
        if (e instanceof RecordingExpiredError) throw new UnrecoverableError(e.message);
        const delayMs = retryDelay(ctx.backoff, job.attemptsMade + 1, { now: ctx.clock(), expiresAt: Number.POSITIVE_INFINITY });
        await reportFailure(ctx, { type: 'retrying', recordingId: id, attempt: job.attemptsMade + 1, retryInMs: delayMs, reason: describe(e) });
        throw new RetryLater(describe(e), delayMs, false, job.attemptsMade + 1);
      }
      if (outcome.kind === 'part-confirmed' || outcome.kind === 'split') {
        await job.updateProgress({ nextStep: outcome.kind });
        await job.moveToWait(token);
        throw new WaitingError();
      }
      return outcome;
    },
    {
      ...common,
      concurrency: settings.concurrency,
      limiter: { max: settings.rateLimit.max, duration: settings.rateLimit.durationMs },
    },
  );

  for (const w of [convert, upload]) {
    w.on('error', (e) => ctx.logger.warn({ err: e.message, queue: w.name }, 'recording queue worker error'));
  }
  return {
    convert,
    upload,
    async close() {
      await Promise.all([convert.close(), upload.close()]);
    },
  };
}
