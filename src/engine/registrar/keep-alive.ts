/**
 * OPTIONS keep-alive towards registered devices: every `intervalSeconds`
 * each registered contact gets an OPTIONS (RFC 3261 §11). Any final response,
 * even 405 or 501, proves the device is there; no response within
 * `timeoutSeconds` (or the SIP server's own 408) is a failure, and after
 * `failures` in a row the contact is removed, so its agent leaves the rotation
 * until the phone registers again. At most one round runs at a time, and a
 * round sends at most `concurrency` OPTIONS at once. A contact registered
 * through an edge proxy (a Path) is reached through it, and the proxy answers
 * for a phone it cannot reach (408, 480, 5xx, Kamailio's 477): there only an
 * answer a phone gives proves it is there.
 */
import type { SipPort } from '../signaling/sip-port.js';
import { contactKey } from './contact-list.js';
import type { Registrar } from './registrar.js';

export interface KeepAliveOptions {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly failures: number;
  readonly concurrency?: number;
}

export class KeepAlive {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly misses = new Map<string, number>();
  rounds = 0;

  constructor(
    private readonly registrar: Registrar,
    private readonly sip: SipPort,
    private readonly options: KeepAliveOptions,
  ) {}

  start(): void {
    if (this.options.intervalSeconds <= 0) return;
    this.timer = setInterval(() => void this.round(), this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  /**
   * No round from now on. A round in flight sends no more OPTIONS, and its pings cut off by the shutdown are
   * no misses: no phone is unregistered for them (the binding store is closed next). Not waited for: a ping
   * takes up to its timeout to give up, and its answer no longer matters.
   */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /** One round over every binding (exposed for tests and the first round after a restart). */
  round(): Promise<void> {
    this.running ??= this.roundOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async roundOnce(): Promise<void> {
    if (this.stopped) return;
    const bindings = this.registrar.table.all();
    const seen = new Set<string>();
    const queue = [...bindings];
    const worker = async (): Promise<void> => {
      for (let b = this.stopped ? undefined : queue.shift(); b !== undefined; b = this.stopped ? undefined : queue.shift()) {
        const key = `${b.aor} ${contactKey(b.contact)}`;
        seen.add(key);
        const status = await this.sip.ping(b.contact, this.options.timeoutSeconds * 1000, b.path, b.reachAt);
        if (this.stopped) return;
        if (status !== undefined && (b.path === undefined || b.path.length === 0 || answeredByDevice(status))) {
          this.misses.delete(key);
          continue;
        }
        const n = (this.misses.get(key) ?? 0) + 1;
        this.misses.set(key, n);
        if (n >= this.options.failures) {
          this.misses.delete(key);
          this.registrar.unreachable(b.aor, b.contact);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.concurrency ?? 32, Math.max(1, bindings.length)) }, worker));
    if (this.stopped) return;
    for (const k of this.misses.keys()) if (!seen.has(k)) this.misses.delete(k);
    this.rounds++;
  }
}

/** What a phone itself answers to OPTIONS (RFC 3261 §11.2: what an INVITE would get, or a challenge). */
const DEVICE_ANSWERS: ReadonlySet<number> = new Set([401, 405, 407, 415, 420, 486, 488, 600, 603]);

function answeredByDevice(status: number): boolean {
  return (status >= 200 && status < 300) || DEVICE_ANSWERS.has(status);
}
