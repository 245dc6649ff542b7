/**
 * Events a real peer reports (lines of its log, messages on its control
 * socket): kept in order, countable, and awaitable with a bound.
 */
export class LineEvents<E> {
  readonly all: E[] = [];
  private waiters: { pred: (e: E) => boolean; resolve: (e: E) => void }[] = [];

  push(e: E): void {
    this.all.push(e);
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.pred(e)) w.resolve(e);
      else still.push(w);
    }
    this.waiters = still;
  }

  count(pred: (e: E) => boolean): number {
    return this.all.filter(pred).length;
  }

  /** The first event (already seen or still to come) matching `pred`, within `timeoutMs`. */
  waitFor(pred: (e: E) => boolean, timeoutMs: number, what: string, from = 0): Promise<E> {
    const seen = this.all.slice(from).find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<E>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (e: E) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last events: ${JSON.stringify(this.all.slice(-6))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
