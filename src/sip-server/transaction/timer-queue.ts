/**
 * One shared timer structure for every SIP timer (RFC 3261 §17 A–K and the
 * TU timers): a binary min-heap ordered by due time, driven by a single
 * platform timeout for the earliest entry. Cancelling is O(1) (lazy deletion),
 * so thousands of transactions cost one heap, not thousands of timeouts.
 * The clock is injectable so tests can run RFC timers instantly.
 */

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

interface SystemHandle {
  timeout: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

/**
 * The real clock. A due timeout runs its callback in the same loop turn but
 * after the I/O already waiting has been read (Node runs timers before it
 * polls for I/O, and `setImmediate` after): when the process stalls (a GC
 * pause, a busy machine), a response that arrived before Timer B or F fell due
 * completes its transaction instead of the transaction timing out with the
 * answer unread in the socket. A retransmission timer likewise sees the
 * response first and sends nothing.
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const h: SystemHandle = { timeout: undefined, immediate: undefined };
    h.timeout = setTimeout(() => {
      h.timeout = undefined;
      h.immediate = setImmediate(() => {
        h.immediate = undefined;
        fn();
      });
      h.immediate.unref();
    }, ms);
    h.timeout.unref();
    return h;
  },
  clearTimeout: (handle) => {
    const h = handle as SystemHandle;
    if (h.timeout !== undefined) clearTimeout(h.timeout);
    if (h.immediate !== undefined) clearImmediate(h.immediate);
  },
};

/** The longest delay Node's setTimeout honours (a signed 32-bit count of milliseconds). */
const MAX_PLATFORM_DELAY_MS = 2 ** 31 - 1;

export interface TimerHandle {
  /** Cancels the timer; safe to call more than once. */
  cancel(): void;
}

class Entry implements TimerHandle {
  cancelled = false;
  constructor(
    readonly due: number,
    readonly seq: number,
    public fn: (() => void) | undefined,
    private readonly owner: TimerQueue,
  ) {}

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.fn = undefined;
    this.owner.noteCancelled();
  }
}

export class TimerQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private handle: unknown;
  private armedFor = Infinity;
  private cancelledCount = 0;

  constructor(
    private readonly clock: Clock = systemClock,
    /** Called when a timer callback throws; by default the error is rethrown asynchronously. */
    private readonly onError: (e: unknown) => void = (e) =>
      queueMicrotask(() => {
        throw e;
      }),
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** Number of live (not cancelled, not yet fired) timers. */
  get size(): number {
    return this.heap.length - this.cancelledCount;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const e = new Entry(this.clock.now() + Math.max(0, delayMs), this.seq++, fn, this);
    this.push(e);
    if (e.due < this.armedFor) this.arm();
    return e;
  }

  noteCancelled(): void {
    this.cancelledCount++;
    // Compact when most of the heap is dead, so cancelled timers do not pile up.
    if (this.cancelledCount > 1024 && this.cancelledCount * 2 > this.heap.length) {
      this.heap = this.heap.filter((e) => !e.cancelled);
      this.cancelledCount = 0;
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    }
  }

  /** Stops everything (shutdown). */
  clear(): void {
    for (const e of this.heap) {
      e.cancelled = true;
      e.fn = undefined;
    }
    this.heap = [];
    this.cancelledCount = 0;
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = Infinity;
  }

  private arm(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) {
      this.popTop();
      this.cancelledCount--;
    }
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.armedFor = Infinity;
    const top = this.heap[0];
    if (top === undefined) return;
    this.armedFor = top.due;
    // Node fires a timeout above 2^31−1 ms after 1 ms instead: a distant timer (a session interval of
    // weeks, RFC 4028 sets no upper bound) is reached in steps, and `fire` re-arms at each.
    this.handle = this.clock.setTimeout(() => this.fire(), Math.min(MAX_PLATFORM_DELAY_MS, Math.max(0, top.due - this.clock.now())));
  }

  private fire(): void {
    this.handle = undefined;
    this.armedFor = Infinity;
    const now = this.clock.now();
    // Fire everything due (1 ms slack for timer granularity), in due order. A
    // timer scheduled by a callback for "now" runs in the next turn, not this loop.
    for (;;) {
      const top = this.heap[0];
      if (top === undefined) break;
      if (top.cancelled) {
        this.popTop();
        this.cancelledCount--;
        continue;
      }
      if (top.due > now + 1) break;
      this.popTop();
      const fn = top.fn;
      top.fn = undefined;
      top.cancelled = true; // fired: a later cancel() is a no-op and is not counted
      try {
        fn?.();
      } catch (e) {
        // A throwing timer must not stop the others.
        this.onError(e);
      }
    }
    this.arm();
  }

  private popTop(): Entry {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private push(e: Entry): void {
    this.heap.push(e);
    let i = this.heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(this.heap[i]!, this.heap[p]!)) break;
      [this.heap[i], this.heap[p]] = [this.heap[p]!, this.heap[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && this.less(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
  }

  private less(a: Entry, b: Entry): boolean {
    return a.due < b.due || (a.due === b.due && a.seq < b.seq);
  }
}
