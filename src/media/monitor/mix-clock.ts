/**
 * One clock for every monitored call in the process: a single timer that,
 * every few milliseconds while any call is monitored, lets each call's mix
 * send the frames whose playout deadline has passed (and its silent frames
 * when nobody speaks). Frames normally go out when the packets that complete
 * them arrive (call-mix.ts); the clock only matters for late or missing
 * packets, so its period bounds how far past a deadline such a frame may go.
 * One timer rather than one per call keeps the cost of a quiet wake-up from
 * growing with the number of calls.
 *
 * The work runs from setImmediate, not from the timer itself: after a stall
 * the timer phase comes before the poll phase that reads the datagrams which
 * queued up meanwhile, and judging deadlines first would call packets late
 * that have in fact arrived. And the first tick after a stall of this process
 * judges nothing: packets sent at the end of the stall (by peers on this
 * machine that stalled with us, or that rtpengine is still relaying) get one
 * more period to arrive before their frames are given up on.
 */
import { performance } from 'node:perf_hooks';

export interface Polled {
  poll(now: number): void;
}

export class MixClock {
  private readonly members = new Set<Polled>();
  private timer: NodeJS.Timeout | undefined;
  private lastRun = 0;

  constructor(readonly periodMs = 5) {}

  add(member: Polled): void {
    this.members.add(member);
    if (this.timer === undefined) {
      this.timer = setInterval(() => setImmediate(() => this.run()), this.periodMs);
      // The monitors' sockets keep the process alive while they are open.
      this.timer.unref();
    }
  }

  delete(member: Polled): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.members.size;
  }

  private run(): void {
    const now = performance.now();
    const stalled = now - this.lastRun > 4 * this.periodMs;
    this.lastRun = now;
    if (stalled) return;
    for (const m of this.members) m.poll(now);
  }
}

/** The process's clock for monitor mixes. */
export const mixClock = new MixClock();
