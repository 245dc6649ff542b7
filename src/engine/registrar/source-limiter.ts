/**
 * A token bucket per source address for the registrar (REGISTER and
 * feature-code calls): `perSecond` sustained, `burst` at once. A request that
 * fails authentication costs `failureCost` more, so guessing passwords from
 * one address slows to a crawl while a phone that registers normally never
 * notices. Over the limit: 503 with Retry-After (RFC 3261 §21.5.4). Memory is
 * bounded: the least recently seen sources are forgotten first.
 */

export interface SourceLimits {
  readonly perSourcePerSecond: number;
  readonly burst: number;
  readonly failureCost: number;
  readonly maxSources: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceLimiter {
  private readonly buckets = new Map<string, Bucket>();
  limited = 0;

  constructor(
    private readonly limits: SourceLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private bucket(source: string): Bucket {
    const t = this.now();
    let b = this.buckets.get(source);
    if (b === undefined) {
      b = { tokens: this.limits.burst, at: t };
      if (this.buckets.size >= this.limits.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    } else {
      this.buckets.delete(source);
      b.tokens = Math.min(this.limits.burst, b.tokens + ((t - b.at) / 1000) * this.limits.perSourcePerSecond);
      b.at = t;
    }
    this.buckets.set(source, b);
    return b;
  }

  /** Takes one token; when none is left, the seconds to wait (Retry-After). */
  take(source: string): { readonly ok: true } | { readonly ok: false; readonly retryAfterSeconds: number } {
    const b = this.bucket(source);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    this.limited++;
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.limits.perSourcePerSecond)) };
  }

  /** A request from `source` failed authentication. */
  failed(source: string): void {
    const b = this.bucket(source);
    b.tokens = Math.max(-this.limits.burst, b.tokens - this.limits.failureCost);
  }

  get sources(): number {
    return this.buckets.size;
  }
}
