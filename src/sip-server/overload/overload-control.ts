/**
 * Overload control for new INVITEs (RFC 3261 §21.5.4: 503 with Retry-After;
 * the local, sender-agnostic kind RFC 6357 §5.1 describes). Every sampling
 * interval the load is read; the server enters the overloaded state when the
 * event-loop lag of either thread or the process CPU reaches its `enter`
 * level, and leaves it only when all are back under their `leave` levels
 * (hysteresis, so it does not flap). While overloaded, new out-of-dialog
 * INVITEs get 503; requests inside dialogs, ACK, CANCEL and calls already in
 * progress are never refused. One log line per transition, never per request.
 */
import type { Logger } from '../../observability/logger.js';
import type { LoadSample, LoadSource } from './load-source.js';

export interface OverloadSettings {
  readonly enabled: boolean;
  readonly sampleIntervalMs: number;
  readonly lagEnterMs: number;
  readonly lagLeaveMs: number;
  /** 0 turns the CPU criterion off. */
  readonly cpuEnterPercent: number;
  readonly cpuLeavePercent: number;
  readonly retryAfterSeconds: number;
}

export const DEFAULT_OVERLOAD: OverloadSettings = {
  enabled: true,
  sampleIntervalMs: 500,
  lagEnterMs: 150,
  lagLeaveMs: 40,
  cpuEnterPercent: 95,
  cpuLeavePercent: 80,
  retryAfterSeconds: 5,
};

export type OverloadCause = 'event_loop_lag' | 'cpu';

export interface OverloadStatus extends LoadSample {
  readonly overloaded: boolean;
  /** Why the state was entered (while overloaded). */
  readonly cause: OverloadCause | undefined;
  readonly transitions: number;
}

export class OverloadControl {
  private state: { overloaded: boolean; cause: OverloadCause | undefined } = { overloaded: false, cause: undefined };
  private last: LoadSample = { serverLagMs: 0, appLagMs: 0, cpuPercent: 0 };
  private transitions = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: OverloadSettings,
    private readonly source: LoadSource,
    private readonly logger: Logger,
  ) {
    if (settings.enabled) {
      this.timer = setInterval(() => this.tick(), settings.sampleIntervalMs);
      this.timer.unref();
    }
  }

  get overloaded(): boolean {
    return this.state.overloaded;
  }

  /** The cause to count a refusal under. */
  get cause(): OverloadCause {
    return this.state.cause ?? 'event_loop_lag';
  }

  get retryAfterSeconds(): number {
    return this.settings.retryAfterSeconds;
  }

  reportAppLag(lagMs: number): void {
    this.source.reportAppLag(lagMs);
  }

  status(): OverloadStatus {
    return { ...this.last, overloaded: this.state.overloaded, cause: this.state.cause, transitions: this.transitions };
  }

  /** Reads the load and moves between the states (also called by tests through the injected source's timing). */
  tick(): void {
    const s = this.source.sample();
    this.last = s;
    const lag = Math.max(s.serverLagMs, s.appLagMs);
    const cpuOn = this.settings.cpuEnterPercent > 0;
    if (!this.state.overloaded) {
      const cause: OverloadCause | undefined = lag >= this.settings.lagEnterMs ? 'event_loop_lag' : cpuOn && s.cpuPercent >= this.settings.cpuEnterPercent ? 'cpu' : undefined;
      if (cause === undefined) return;
      this.state = { overloaded: true, cause };
      this.transitions++;
      this.logger.warn({ cause, ...round(s), retryAfterSeconds: this.settings.retryAfterSeconds }, 'overload: refusing new INVITEs with 503');
      return;
    }
    if (lag < this.settings.lagLeaveMs && (!cpuOn || s.cpuPercent < this.settings.cpuLeavePercent)) {
      this.state = { overloaded: false, cause: undefined };
      this.transitions++;
      this.logger.info(round(s), 'overload over: accepting new INVITEs again');
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.source.stop();
  }
}

function round(s: LoadSample): LoadSample {
  return { serverLagMs: Math.round(s.serverLagMs), appLagMs: Math.round(s.appLagMs), cpuPercent: Math.round(s.cpuPercent) };
}
