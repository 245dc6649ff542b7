/**
 * What happened to each recording, said out loud: every event is appended to
 * an audit file (`events.jsonl` in the spool), logged, offered to in-process
 * listeners and, when configured, POSTed to a webhook. A recording is never
 * lost silently: each one ends in `uploaded`, `failed` or `expired`, with a
 * reason. Events carry metadata only, never audio.
 */
import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import type { Logger } from '../../observability/logger.js';

export type RecordingEventType =
  | 'captured'
  | 'converted'
  | 'part-uploaded'
  /** Every part confirmed by the CRM; local files deleted. */
  | 'uploaded'
  /** An attempt failed and another is scheduled. */
  | 'retrying'
  /** Delivery stopped for good (the CRM refused, the file is corrupt or missing); files kept until expiry. */
  | 'failed'
  /** Deleted at the retention limit without complete delivery: a lost recording. */
  | 'expired';

export interface RecordingEvent {
  readonly type: RecordingEventType;
  readonly recordingId: string;
  readonly callId?: string;
  readonly at: string;
  readonly reason?: string;
  readonly part?: number;
  readonly parts?: number;
  readonly attempt?: number;
  /** `retrying`: when the failed attempt started (before the retention deadline, always). */
  readonly attemptedAt?: string;
  readonly retryInMs?: number;
  readonly bytes?: number;
}

export interface RecordingEventSink {
  emit(event: Omit<RecordingEvent, 'at'> & { at?: string }): Promise<void>;
}

export interface WebhookOptions {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}

const LEVEL: Record<RecordingEventType, 'info' | 'warn' | 'error'> = {
  captured: 'info',
  converted: 'info',
  'part-uploaded': 'info',
  uploaded: 'info',
  retrying: 'warn',
  failed: 'error',
  expired: 'error',
};

export class RecordingEvents implements RecordingEventSink {
  private webhookQueue: Promise<void> = Promise.resolve();
  private readonly listeners = new EventEmitter<{ event: [RecordingEvent] }>();

  constructor(
    private readonly file: string,
    private readonly logger: Logger,
    private readonly webhook?: WebhookOptions,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  subscribe(listener: (e: RecordingEvent) => void): () => void {
    this.listeners.on('event', listener);
    return () => this.listeners.off('event', listener);
  }

  async emit(partial: Omit<RecordingEvent, 'at'> & { at?: string }): Promise<void> {
    const event: RecordingEvent = { ...partial, at: partial.at ?? new Date(this.clock()).toISOString() };
    this.logger[LEVEL[event.type]]({ recording: event }, `recording ${event.recordingId} ${event.type}${event.reason !== undefined ? `: ${event.reason}` : ''}`);
    try {
      await appendFile(this.file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    } catch (err) {
      this.logger.error({ err: (err as Error).message, file: this.file }, 'cannot append to the recording events file');
    }
    this.listeners.emit('event', event);
    if (this.webhook !== undefined) {
      const hook = this.webhook;
      this.webhookQueue = this.webhookQueue.then(() => this.post(hook, event));
    }
  }

  /** Resolves once every webhook call queued so far has finished. */
  async flush(): Promise<void> {
    await this.webhookQueue;
  }

  private async post(hook: WebhookOptions, event: RecordingEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const res = await fetch(hook.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...hook.headers },
          body,
          signal: AbortSignal.timeout(hook.timeoutMs),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        this.logger.warn({ status: res.status, attempt, recording: event.recordingId }, 'recording webhook refused the event');
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, attempt, recording: event.recordingId }, 'recording webhook unreachable');
      }
      await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    }
    this.logger.error({ recording: event.recordingId, type: event.type }, 'recording webhook gave up; the event is in the events file');
  }
}
