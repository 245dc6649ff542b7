/**
 * Overload control for new INVITEs (RFC 3261 §21.5.4: 503 with Retry-After;
 * the local, sender-agnostic kind RFC 6357 §5.1 describes). Every sampling
 * interval the load is read. The server enters the overloaded state when the
 * event-loop lag of either thread reaches its `enter` level (our own threads
 * are saturated), or when the machine's CPU reaches its `enter` level while
 * new INVITEs queue up unanswered (the machine is saturated and it shows: a
 * busy box alone, with calls answered promptly, is not overload). It leaves
 * only when the lags are under their `leave` level and the CPU criterion no
 * longer holds at its `leave` levels, for `leaveAfterMs` in a row (hysteresis
 * in level and in time, so it does not flap). While
 * overloaded, new out-of-dialog INVITEs get 503; requests inside dialogs, ACK,
 * CANCEL and calls already in progress are never refused. One log line per
 * transition, never per request.
 */
import type { Logger } from '../../observability/logger.js';
import type { LoadSample, LoadSource } from './load-source.js';

export interface OverloadSettings {
  readonly enabled: boolean;
  readonly sampleIntervalMs: number;
  readonly lagEnterMs: number;
  readonly lagLeaveMs: number;
  /** Machine CPU; 0 turns the CPU criterion off. */
  readonly cpuEnterPercent: number;
  readonly cpuLeavePercent: number;
  /** The CPU criterion holds only while at least this many new INVITEs wait for their first response (half of it to stay). */
  readonly cpuMinWaitingInvites: number;
  readonly retryAfterSeconds: number;
  /** The leave condition must hold this long (consecutive samples) before new INVITEs are taken again. */
  readonly leaveAfterMs: number;
}

export const DEFAULT_OVERLOAD: OverloadSettings = {
  enabled: true,
  sampleIntervalMs: 500,
  lagEnterMs: 150,
  lagLeaveMs: 40,
  cpuEnterPercent: 90,
  cpuLeavePercent: 70,
  cpuMinWaitingInvites: 100,
  retryAfterSeconds: 5,
  leaveAfterMs: 1000,
};

export type OverloadCause = 'event_loop_lag' | 'cpu';

export interface OverloadStatus extends LoadSample {
  /** New INVITEs waiting for their first response at the last reading. */
  readonly waitingInvites: number;
  readonly overloaded: boolean;
  /** Why the state was entered (while overloaded). */
  readonly cause: OverloadCause | undefined;
  readonly transitions: number;
}

export class OverloadControl {
  private state: { overloaded: boolean; cause: OverloadCause | undefined } = { overloaded: false, cause: undefined };
  private last: LoadSample = { serverLagMs: 0, appLagMs: 0, cpuPercent: 0 };
  private waiting = 0;
  /** Consecutive samples that met the leave condition while overloaded. */
  private calm = 0;
  private transitions = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly settings: OverloadSettings,
    private readonly source: LoadSource,
    private readonly logger: Logger,
    /** New INVITEs not answered beyond 100 Trying yet. */
    private readonly waitingInvites: () => number = () => 0,
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
    return { ...this.last, waitingInvites: this.waiting, overloaded: this.state.overloaded, cause: this.state.cause, transitions: this.transitions };
  }

  /** Reads the load and moves between the states (also called by tests through the injected source's timing). */
  tick(): void {
    const s = this.source.sample();
    const waiting = this.waitingInvites();
    this.last = s;
    this.waiting = waiting;
    const o = this.settings;
    const lag = Math.max(s.serverLagMs, s.appLagMs);
    const cpuOn = o.cpuEnterPercent > 0;
    if (!this.state.overloaded) {
      const cpuHigh = cpuOn && s.cpuPercent >= o.cpuEnterPercent && waiting >= o.cpuMinWaitingInvites;
      const cause: OverloadCause | undefined = lag >= o.lagEnterMs ? 'event_loop_lag' : cpuHigh ? 'cpu' : undefined;
      if (cause === undefined) return;
      this.state = { overloaded: true, cause };
      this.calm = 0;
      this.transitions++;
      this.logger.warn({ cause, ...round(s), waitingInvites: waiting, retryAfterSeconds: o.retryAfterSeconds }, 'overload: refusing new INVITEs with 503');
      return;
    }
    const cpuStillHigh = cpuOn && s.cpuPercent >= o.cpuLeavePercent && waiting >= o.cpuMinWaitingInvites / 2;
    this.calm = lag < o.lagLeaveMs && !cpuStillHigh ? this.calm + 1 : 0;
    // Dwell: a load shed for one sample comes straight back; leave once it stayed away.
    if (this.calm * o.sampleIntervalMs >= o.leaveAfterMs) {
      this.state = { overloaded: false, cause: undefined };
      this.transitions++;
      this.logger.info({ ...round(s), waitingInvites: waiting }, 'overload over: accepting new INVITEs again');
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
