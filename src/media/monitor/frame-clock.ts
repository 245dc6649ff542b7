/**
 * A 20 ms (or any period) tick that does not drift: frame n is due at
 * start + n × period, and every wake-up runs all frames that are due, so a
 * late timer is caught up rather than stretching the stream. After a long
 * stall (the event loop blocked) frames older than `maxCatchUp` are skipped
 * and counted instead of being sent in a burst.
 *
 * Frames run from setImmediate, not from the timer itself: after a stall the
 * timer phase comes before the poll phase that reads the datagrams which
 * queued up meanwhile, and mixing first would play over audio that has in
 * fact arrived.
 */
import { performance } from 'node:perf_hooks';

export class FrameClock {
  private timer: NodeJS.Timeout | undefined;
  private start = 0;
  private frame = 0;
  private running = false;
  /** Frames skipped after stalls. */
  skipped = 0;

  constructor(
    private readonly periodMs: number,
    private readonly onFrame: (frameIndex: number) => void,
    private readonly maxCatchUp = 10,
  ) {}

  begin(): void {
    if (this.running) return;
    this.running = true;
    this.start = performance.now();
    this.frame = 0;
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    const due = this.start + this.frame * this.periodMs;
    this.timer = setTimeout(() => setImmediate(() => this.wake()), Math.max(0, due - performance.now()));
  }

  private wake(): void {
    if (!this.running) return;
    const now = performance.now();
    const behind = Math.floor((now - this.start) / this.periodMs) - this.frame + 1;
    if (behind > this.maxCatchUp) {
      const skip = behind - this.maxCatchUp;
      this.skipped += skip;
      this.frame += skip;
    }
    while (this.running && this.start + this.frame * this.periodMs <= now) {
      this.onFrame(this.frame);
      this.frame++;
    }
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }
}
