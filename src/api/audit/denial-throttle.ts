/**
 * How many unauthenticated denials (401) the audit log takes one by one.
 *
 * Anyone who reaches the API port can cause a 401, and each audited one is a
 * synchronous write on the engine's own thread: unthrottled, a client looping
 * on a wrong key grows the audit file without bound and spends the engine's
 * time on disk writes. Per one-minute window, each client address has its
 * first `perAddress` denials audited in full, and all addresses together
 * `total`; the rest are counted, and once the window is over (at the next
 * denial, the next timer tick, or the API's close) one entry per address says
 * how many were refused without an entry of their own. Nothing is hidden:
 * every refused request is in the count. Denials of authenticated users
 * (403) are not throttled: only key holders can cause them.
 */

export interface DenialThrottleOptions {
  readonly windowMs?: number;
  readonly perAddress?: number;
  readonly total?: number;
  /** Distinct addresses counted apart within a window; the rest are counted together as `*`. */
  readonly maxAddresses?: number;
  readonly now?: () => number;
}

export interface SuppressedDenials {
  readonly address: string;
  readonly count: number;
  /** Window start and end (ms since the epoch). */
  readonly from: number;
  readonly to: number;
}

export class DenialThrottle {
  private readonly windowMs: number;
  private readonly perAddress: number;
  private readonly total: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;
  private windowStart = Number.NEGATIVE_INFINITY;
  private audited = 0;
  private readonly perSource = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(o: DenialThrottleOptions = {}) {
    this.windowMs = o.windowMs ?? 60_000;
    this.perAddress = o.perAddress ?? 20;
    this.total = o.total ?? 200;
    this.maxAddresses = o.maxAddresses ?? 1000;
    this.now = o.now ?? Date.now;
  }

  /**
   * One more denial from `address`: true when it is to be audited in full.
   * `flushed` gets the counts of a window that ended before it.
   */
  admit(address: string, flushed: (s: SuppressedDenials) => void): boolean {
    this.roll(flushed);
    const seen = (this.perSource.get(address) ?? 0) + 1;
    if (this.perSource.has(address) || this.perSource.size < this.maxAddresses) this.perSource.set(address, seen);
    if (seen <= this.perAddress && this.audited < this.total) {
      this.audited++;
      return true;
    }
    const key = this.suppressed.has(address) || this.suppressed.size < this.maxAddresses ? address : '*';
    this.suppressed.set(key, (this.suppressed.get(key) ?? 0) + 1);
    return false;
  }

  /** Ends the current window if its time is up (or `force`), reporting what it suppressed. */
  roll(flushed: (s: SuppressedDenials) => void, force = false): void {
    const now = this.now();
    if (!force && now < this.windowStart + this.windowMs) return;
    const from = this.windowStart;
    for (const [address, count] of this.suppressed) flushed({ address, count, from, to: Math.min(now, from + this.windowMs) });
    this.suppressed.clear();
    this.perSource.clear();
    this.audited = 0;
    this.windowStart = now;
  }

  /** Denials counted and not yet reported. */
  get pending(): number {
    let n = 0;
    for (const c of this.suppressed.values()) n += c;
    return n;
  }
}
