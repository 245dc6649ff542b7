/**
 * Front-door filters for new requests outside a dialog, before any work is
 * done for them: known scanner user agents (SIPVicious and its kin probe the
 * internet for open SIP servers and then brute-force accounts), and a token
 * bucket per source address. Both count what they refuse and never log per
 * packet: a flood must not become a log flood.
 */

export interface SourceFilterSettings {
  /** Case-insensitive substrings of User-Agent that mark a scanner; empty turns the check off. */
  readonly scannerUserAgents: readonly string[];
  /** `drop`: no answer at all; `reject`: 403. */
  readonly scannerAction: 'drop' | 'reject';
  /** New requests per second allowed from one source address; 0 turns the limit off. */
  readonly ratePerSecond: number;
  /** Requests a quiet source may send at once (the bucket's size). */
  readonly burst: number;
  /** Sources tracked at most; the least recently seen is forgotten first. */
  readonly maxSources: number;
}

export const DEFAULT_SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'friendly-request',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'sipscan',
  'vaxsipuseragent',
  'pplsip',
  'iwar',
  'sundayddr',
  'sivus',
  'siparmyknife',
];

export const DEFAULT_SOURCE_FILTER: SourceFilterSettings = {
  scannerUserAgents: DEFAULT_SCANNER_USER_AGENTS,
  scannerAction: 'drop',
  ratePerSecond: 0,
  burst: 0,
  maxSources: 10000,
};

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceFilter {
  private readonly needles: readonly string[];
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;

  constructor(
    private readonly settings: SourceFilterSettings,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.needles = settings.scannerUserAgents.map((s) => s.toLowerCase()).filter((s) => s !== '');
    this.burst = settings.burst > 0 ? settings.burst : Math.max(1, 2 * settings.ratePerSecond);
  }

  get scannerAction(): 'drop' | 'reject' {
    return this.settings.scannerAction;
  }

  /** Whether any of the request's User-Agent fields (one is allowed; a scanner may add another) names a scanner. */
  isScanner(userAgents: readonly string[]): boolean {
    if (this.needles.length === 0) return false;
    return userAgents.some((userAgent) => {
      const ua = userAgent.toLowerCase();
      return this.needles.some((n) => ua.includes(n));
    });
  }

  /** Takes a token for a new request from `source`; false when its bucket is empty. */
  admit(source: string): boolean {
    const rate = this.settings.ratePerSecond;
    if (rate <= 0) return true;
    const now = this.now();
    let b = this.buckets.get(source);
    if (b === undefined) {
      b = { tokens: this.burst, at: now };
      if (this.buckets.size >= this.settings.maxSources) {
        // Bounded memory: forget the least recently seen source (Map keeps insertion order).
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
    } else {
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) * rate) / 1000);
      b.at = now;
      this.buckets.delete(source);
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  get trackedSources(): number {
    return this.buckets.size;
  }
}
