/**
 * The two BullMQ queues of the pipeline and how jobs are added to them. A job
 * carries only the recording id; its id is derived from it, so adding the same
 * recording twice while its job is known (a retry of the call side, the
 * reconciler) is a no-op. Attempts are unbounded: the recording's retention
 * deadline, not a count, ends the retries (the back-off never schedules past it).
 * A finished job is kept an hour (at most 10,000 per queue), not the retention
 * period: a later duplicate runs and finds the work done (the capture converted,
 * the tombstone on disk), so keeping each finished job for days bought nothing and
 * cost Redis about 2.5 MB per 1,000 calls (probe AA F4).
 */
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';

export const CONVERT_QUEUE = 'recordings-convert';
export const UPLOAD_QUEUE = 'recordings-upload';
/** Name of our custom back-off strategy (see the workers). */
export const BACKOFF_TYPE = 'recording';

export interface RecordingJobData {
  readonly recordingId: string;
}

export function convertJobId(recordingId: string): string {
  return `convert-${recordingId}`;
}

export function uploadJobId(recordingId: string): string {
  return `upload-${recordingId}`;
}

const KEEP_COMPLETED_SECONDS = 3600;
const KEEP_COMPLETED_JOBS = 10_000;

export function jobOptions(jobId: string, retentionSeconds: number): JobsOptions {
  return {
    jobId,
    attempts: 1_000_000,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: { age: Math.min(KEEP_COMPLETED_SECONDS, retentionSeconds), count: KEEP_COMPLETED_JOBS },
    // A failed job (past its recording's retention) is kept for the operator to look at, as long as its tombstone.
    removeOnFail: { age: retentionSeconds },
  };
}

export class RecordingQueues {
  readonly convert: Queue<RecordingJobData>;
  readonly upload: Queue<RecordingJobData>;

  constructor(
    connection: Redis,
    prefix: string,
    private readonly retentionSeconds: number,
    onError: (e: Error) => void = () => undefined,
  ) {
    this.convert = new Queue<RecordingJobData>(CONVERT_QUEUE, { connection, prefix });
    this.upload = new Queue<RecordingJobData>(UPLOAD_QUEUE, { connection, prefix });
    // Connection errors are expected while Redis restarts; without a listener BullMQ prints them.
    this.convert.on('error', onError);
    this.upload.on('error', onError);
  }

  async enqueueConvert(recordingId: string): Promise<void> {
    await this.convert.add('convert', { recordingId }, jobOptions(convertJobId(recordingId), this.retentionSeconds));
  }

  async enqueueUpload(recordingId: string): Promise<void> {
    await this.upload.add('upload', { recordingId }, jobOptions(uploadJobId(recordingId), this.retentionSeconds));
  }

  async close(): Promise<void> {
    await Promise.all([this.convert.close(), this.upload.close()]);
  }
}
