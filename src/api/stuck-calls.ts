/**
 * Stuck calls: the lists flag calls older than `api.stuckCalls.thresholdSeconds`
 * (the seed's practice: 5 hours); with `autoEnd` this sweeper also ends them,
 * audited as done by `system`. It looks a few times per threshold (at least
 * once a minute), so a call is ended at most a quarter of the threshold late.
 */
import type { Logger } from '../observability/logger.js';
import type { AuditLog } from './audit/audit-log.js';
import type { LiveCalls } from './views/live-calls.js';

export interface StuckCallSettings {
  readonly thresholdSeconds: number;
  readonly autoEnd: boolean;
}

export class StuckCalls {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<string[]> | undefined;
  private stopped = false;

  constructor(
    private readonly live: LiveCalls,
    private readonly audit: AuditLog,
    private readonly settings: StuckCallSettings,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.settings.autoEnd) return;
    const everyMs = Math.min(60_000, Math.max(250, (this.settings.thresholdSeconds * 1000) / 4));
    this.timer = setInterval(() => void this.sweep(), everyMs);
    this.timer.unref();
  }

  /** Ends every stuck call now; resolves with their ids. A sweep asked for while one runs is that one. */
  sweep(): Promise<string[]> {
    this.running ??= this.sweepOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async sweepOnce(): Promise<string[]> {
    if (this.stopped) return [];
    // A call already ending (its resources still being released) is listed until it is gone: it is not ended twice.
    const stuck = this.live.list().filter((c) => c.stuck && c.state !== 'ended');
    await Promise.all(
      stuck.map(async (c) => {
        const reason = `stuck: older than ${this.settings.thresholdSeconds} s`;
        this.logger.warn({ call: c.id, ageMs: c.ageMs, state: c.state }, 'ending a stuck call');
        this.audit.record({ action: 'call.end', outcome: 'ok', user: 'system', call: c.id, reason });
        await this.live.control.end(c.id, reason, 'engine', 'system').catch(() => undefined);
      }),
    );
    return stuck.map((c) => c.id);
  }

  /** No sweep from now on; resolves once a sweep in flight has ended its calls. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
