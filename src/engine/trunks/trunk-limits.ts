/**
 * One trunk's limits: a token bucket for its call rate and a count of its
 * live calls. A call takes a token and a slot at admission; the slot is
 * given back when the call ends. Over a limit the caller gets 503 with
 * Retry-After (RFC 3261 §21.5.4, §20.33): for the rate, when the next token
 * is due; for concurrency, the configured interval. Other trunks have their
 * own buckets, so one trunk's flood never refuses another's calls.
 */

export interface TrunkLimitSettings {
  readonly callsPerSecond?: number | undefined;
  readonly burst?: number | undefined;
  readonly concurrentCalls?: number | undefined;
  readonly retryAfterSeconds: number;
}

export type LimitOutcome =
  | { readonly ok: true; readonly release: () => void }
  | { readonly ok: false; readonly limit: 'rate' | 'concurrency'; readonly retryAfterSeconds: number };

export interface TrunkCounts {
  live: number;
  admitted: number;
  refusedRate: number;
  refusedConcurrency: number;
}

export class TrunkLimiter {
  private tokens: number;
  private at: number;
  private readonly burst: number;
  readonly counts: TrunkCounts = { live: 0, admitted: 0, refusedRate: 0, refusedConcurrency: 0 };

  constructor(
    private readonly settings: TrunkLimitSettings,
    private readonly now: () => number,
  ) {
    const rate = settings.callsPerSecond;
    this.burst = settings.burst ?? (rate !== undefined ? Math.max(1, Math.ceil(2 * rate)) : 0);
    this.tokens = this.burst;
    this.at = now();
  }

  /** Takes a slot (and a token) for a new call, or says which limit refused it. */
  acquire(): LimitOutcome {
    const { concurrentCalls, callsPerSecond: rate } = this.settings;
    if (concurrentCalls !== undefined && this.counts.live >= concurrentCalls) {
      this.counts.refusedConcurrency++;
      return { ok: false, limit: 'concurrency', retryAfterSeconds: this.settings.retryAfterSeconds };
    }
    if (rate !== undefined) {
      const t = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((t - this.at) / 1000) * rate);
      this.at = t;
      if (this.tokens < 1) {
        this.counts.refusedRate++;
        const due = Math.ceil((1 - this.tokens) / rate);
        return { ok: false, limit: 'rate', retryAfterSeconds: Math.min(3600, Math.max(1, due)) };
      }
      this.tokens -= 1;
    }
    this.counts.live++;
    this.counts.admitted++;
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.counts.live--;
      },
    };
  }
}
