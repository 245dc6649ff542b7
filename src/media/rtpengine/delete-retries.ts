/**
 * Deletes rtpengine did not answer, asked again. Under load rtpengine's ng
 * socket overflows and the kernel drops datagrams, retransmissions included
 * (a probe saw 19 of 3,000 calls so left at 20 calls/s): a `delete` that
 * timed out may never have arrived, and the call would then keep its ports
 * and its capture open at rtpengine for rtpengine's own timeout (hours, set
 * past the longest call). Each such delete is sent again in the background,
 * 2 s, 4 s, 8 s … (at most a minute) apart, up to 8 times, until rtpengine
 * answers it: deleted, or "Unknown call-id" (the first one arrived after
 * all). A supervisor relay leg (`<call>~<label>`) whose call still runs
 * waits: the same label may be listening again under that id.
 */
import type { Logger } from '../../observability/logger.js';
import { isUnknownCallError, RtpengineTimeoutError } from '../media-errors.js';
import type { RtpengineInstance } from './rtpengine-pool.js';

export interface DeleteRetriesOptions {
  readonly logger: Logger;
  /** Whether the call `callId` is live in the engine (its relay legs then wait). */
  readonly callIsLive: (callId: string) => boolean;
  readonly attempts?: number;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class DeleteRetries {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly attempts: number;
  private readonly firstDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(private readonly o: DeleteRetriesOptions) {
    this.attempts = o.attempts ?? 8;
    this.firstDelayMs = o.firstDelayMs ?? 2000;
    this.maxDelayMs = o.maxDelayMs ?? 60_000;
  }

  /** Deletes waiting for their next try. */
  get pending(): number {
    return this.timers.size;
  }

  /** `rtpengineCallId`'s delete timed out at `instance`: ask again later. */
  add(instance: RtpengineInstance, rtpengineCallId: string): void {
    this.schedule(instance, rtpengineCallId, 1);
  }

  private schedule(instance: RtpengineInstance, id: string, attempt: number): void {
    if (this.stopped || instance.client.closed) return;
    if (attempt > this.attempts) {
      this.o.logger.warn({ rtpengine: instance.id, rtpengineCallId: id, attempts: this.attempts }, 'rtpengine never answered the delete: the call stays there until its own timeout');
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.send(instance, id, attempt);
    }, Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** (attempt - 1)));
    timer.unref();
    this.timers.add(timer);
  }

  private async send(instance: RtpengineInstance, id: string, attempt: number): Promise<void> {
    const owner = id.includes('~') ? id.slice(0, id.indexOf('~')) : undefined;
    if (owner !== undefined && this.o.callIsLive(owner)) {
      this.schedule(instance, id, attempt);
      return;
    }
    try {
      await instance.client.request('delete', { 'call-id': id, 'delete-delay': 0 });
      this.o.logger.info({ rtpengine: instance.id, rtpengineCallId: id, attempt }, 'rtpengine delete asked again: done');
    } catch (e) {
      if (isUnknownCallError(e)) return; // the first one arrived after all
      if (e instanceof RtpengineTimeoutError) this.schedule(instance, id, attempt + 1);
      else if (!this.stopped) this.o.logger.warn({ rtpengine: instance.id, rtpengineCallId: id, err: (e as Error).message }, 'rtpengine delete asked again: refused');
    }
  }

  /** Stops asking (the media plane is closing). */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.timers.size > 0) this.o.logger.warn({ deletes: this.timers.size }, 'stopping with rtpengine deletes unanswered');
    this.timers.clear();
  }
}
