/**
 * A call as the engine sees it: the owner of its legs, timers and (later)
 * media endpoints and recording. A session is a sequencer; features are tasks
 * that register what they hold with `own()`. `end()` is the one teardown: it
 * runs on every exit path, once, releasing everything in reverse order, with
 * errors logged and never thrown.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import type { Queue } from './queue-directory.js';

export type CallState = 'routing' | 'ringing' | 'connected' | 'ended';

export interface CallSnapshot {
  readonly id: string;
  readonly callId: string;
  readonly queueId: string | undefined;
  readonly caller: string;
  readonly dialed: string;
  readonly state: CallState;
  readonly agent: string | undefined;
  readonly startedAt: string;
  readonly connectedAt: string | undefined;
  readonly endReason: string | undefined;
}

type Release = () => void | Promise<void>;

export class CallSession {
  readonly id = randomUUID();
  readonly startedAt = new Date();
  state: CallState = 'routing';
  agent: string | undefined;
  connectedAt: Date | undefined;
  endReason: string | undefined;
  private readonly releases: { name: string; fn: Release }[] = [];
  private ending: Promise<void> | undefined;
  readonly log: Logger;

  constructor(
    readonly callId: string,
    readonly caller: string,
    readonly dialed: string,
    readonly queue: Queue | undefined,
    logger: Logger,
  ) {
    this.log = logger.child({ call: this.id, callId, queue: queue?.id });
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /**
   * Registers something to release when the call ends; returns a function that
   * releases it early (and removes it from the list), e.g. when a task is done with it.
   */
  own(name: string, fn: Release): () => Promise<void> {
    const entry = { name, fn };
    if (this.ending !== undefined) {
      void this.runRelease(entry);
      return async () => undefined;
    }
    this.releases.push(entry);
    return async () => {
      const i = this.releases.indexOf(entry);
      if (i < 0) return;
      this.releases.splice(i, 1);
      await this.runRelease(entry);
    };
  }

  /** Ends the call (idempotent): every owned resource is released, most recent first. */
  end(reason: string): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.endReason = reason;
    this.state = 'ended';
    this.ending = (async () => {
      while (this.releases.length > 0) await this.runRelease(this.releases.pop()!);
      this.log.info({ reason, agent: this.agent }, 'call ended');
    })();
    return this.ending;
  }

  private async runRelease(entry: { name: string; fn: Release }): Promise<void> {
    try {
      await entry.fn();
    } catch (e) {
      this.log.warn({ resource: entry.name, err: e instanceof Error ? e.message : String(e) }, 'release failed');
    }
  }

  snapshot(): CallSnapshot {
    return {
      id: this.id,
      callId: this.callId,
      queueId: this.queue?.id,
      caller: this.caller,
      dialed: this.dialed,
      state: this.state,
      agent: this.agent,
      startedAt: this.startedAt.toISOString(),
      connectedAt: this.connectedAt?.toISOString(),
      endReason: this.endReason,
    };
  }
}
