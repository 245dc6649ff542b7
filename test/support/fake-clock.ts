/** A clock for the SIP server's timer heap whose time only moves when the test says so. */
import type { Clock } from '../../src/sip-server/transaction/timer-queue.js';

export class FakeClock implements Clock {
  t = 0;
  private pending: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.ids;
    this.pending.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending = this.pending.filter((p) => p.id !== h);
  }
  /** Advances time to `to`, firing timeouts in order. */
  advanceTo(to: number): void {
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at);
      const next = this.pending[0];
      if (next === undefined || next.at > to) break;
      this.pending.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = to;
  }
}
