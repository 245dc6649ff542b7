/**
 * The caller's DTMF keys, from either place they can arrive: RFC 4733
 * telephone-events in the media (rtpengine reports each one, see
 * src/media/rtpengine/rtpengine-notifications.ts) or SIP INFO on the caller's
 * leg (application/dtmf-relay, application/dtmf). Keys pressed before anyone
 * asks are kept (type-ahead while a prompt plays).
 */
import type { CallMedia } from '../../media/index.js';
import type { SipLeg } from '../signaling/sip-port.js';

export interface Collected {
  readonly digits: string;
  /** Ended by the terminator key (#). */
  readonly terminated: boolean;
  /** Ended because no key came in time. */
  readonly timedOut: boolean;
}

export interface CollectOptions {
  readonly maxDigits: number;
  readonly terminator?: string;
  /** Wait for the first key. */
  readonly firstKeyMs: number;
  /** Wait between keys. */
  readonly nextKeyMs: number;
  readonly signal: AbortSignal;
}

export class DigitCollector {
  private readonly buffer: string[] = [];
  private waiter: (() => void) | undefined;
  private readonly stops: (() => void)[] = [];

  constructor(media: CallMedia | undefined, label: string, leg: SipLeg) {
    if (media !== undefined) {
      this.stops.push(media.onDigit((from, digit) => {
        if (from === label) this.push(digit);
      }));
    }
    leg.onDigit((d) => this.push(d.digit));
  }

  private push(digit: string): void {
    this.buffer.push(digit);
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** True when a key is waiting (e.g. to cut a prompt short). */
  get pending(): boolean {
    return this.buffer.length > 0;
  }

  /** Forgets keys pressed so far. */
  clear(): void {
    this.buffer.length = 0;
  }

  /** Resolves with the next key, or undefined after `ms` or when `signal` aborts. */
  next(ms: number, signal: AbortSignal): Promise<string | undefined> {
    const ready = this.buffer.shift();
    if (ready !== undefined || signal.aborted) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiter = undefined;
        resolve(this.buffer.shift());
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiter = done;
    });
  }

  /** Keys until the terminator, `maxDigits`, or a timeout. */
  async collect(o: CollectOptions): Promise<Collected> {
    let digits = '';
    for (;;) {
      const key = await this.next(digits === '' ? o.firstKeyMs : o.nextKeyMs, o.signal);
      if (key === undefined) return { digits, terminated: false, timedOut: !o.signal.aborted };
      if (key === (o.terminator ?? '#')) return { digits, terminated: true, timedOut: false };
      digits += key;
      if (digits.length >= o.maxDigits) return { digits, terminated: false, timedOut: false };
    }
  }

  close(): void {
    for (const s of this.stops.splice(0)) s();
    this.waiter?.();
  }
}
