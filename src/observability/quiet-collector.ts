/**
 * Gives a thread's memory back when its load falls.
 *
 * V8 shrinks an idle heap with its memory reducer, full collections it
 * starts from the embedder's signals of low allocation. Measured in the soak
 * (bench/sip/soak.ts), the SIP server's worker thread never got one: after
 * the load it held 78 MB of heap for 18 MB of live objects, with no traffic,
 * until a full collection brought it to 17 MB; the main thread got one within
 * 10 s on a quiet machine, and none in 30 s on a busy one (167 MB held for
 * 25 MB live). Scavenges never shrink the young generation, and old-space
 * pages of transactions and calls that ended stay committed until the next
 * full collection, which an idle heap never asks for.
 *
 * So each thread does what the reducer would: it watches its rate of work
 * (SIP messages; calls) and the work in flight (transactions and dialogs;
 * live calls), and when both have fallen
 * to a small fraction of their peak since the last collection (the load
 * dropped, and what it left behind has expired), it runs a full collection,
 * and, as the reducer does, two more at the next samples while it stays
 * quiet (a heap shrinks further once the allocation of the fall is over:
 * measured, 81 → 60 MB at the first, 12 MB after the next ones). The peaks
 * then start again from nothing, so the next round waits for the next rise
 * and fall: a steady load, high or low, never triggers one.
 */

export interface QuietCollectorOptions {
  /** Work done so far (a counter that only grows: messages received, calls taken). */
  readonly messages: () => number;
  /** Work in flight now (transactions and dialogs, live calls). */
  readonly inFlight: () => number;
  /** Runs a full collection. */
  readonly collect: () => void;
  /** Sampling period (ms). */
  readonly intervalMs?: number;
  /** A peak rate below this (per interval) is no load worth collecting after. */
  readonly minPeakMessages?: number;
  /** "Fallen" means at most peak / dropFactor, for both measures. */
  readonly dropFactor?: number;
}

export class QuietCollector {
  private lastMessages: number;
  private peakRate = 0;
  private peakInFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Collections still to run while it stays quiet, and the peaks the load fell from. */
  private followUps = 0;
  private fellFrom = { rate: 0, inFlight: 0 };
  /** Collections run so far (reported in status). */
  collections = 0;
  private readonly minPeak: number;
  private readonly drop: number;

  constructor(private readonly o: QuietCollectorOptions) {
    this.lastMessages = o.messages();
    this.minPeak = o.minPeakMessages ?? 1000;
    this.drop = o.dropFactor ?? 16;
  }

  start(): void {
    // A sample that fails (a counter's source throws: EMFILE while the process is out of files) is skipped:
    // a timer's throw would end the thread (the SIP server's worker).
    this.timer ??= setInterval(() => {
      try {
        this.sample();
      } catch {
        // the next sample tries again
      }
    }, this.o.intervalMs ?? 5000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sampling period is over (called by the interval; by tests directly). */
  sample(): void {
    const messages = this.o.messages();
    const rate = messages - this.lastMessages;
    this.lastMessages = messages;
    const inFlight = this.o.inFlight();
    if (this.followUps > 0) {
      const quiet = rate * this.drop <= this.fellFrom.rate && inFlight * this.drop <= this.fellFrom.inFlight;
      this.followUps = quiet ? this.followUps - 1 : 0;
      if (quiet) this.run();
    }
    this.peakRate = Math.max(this.peakRate, rate);
    this.peakInFlight = Math.max(this.peakInFlight, inFlight);
    if (this.peakRate < this.minPeak) return;
    if (rate * this.drop > this.peakRate || inFlight * this.drop > this.peakInFlight) return;
    this.fellFrom = { rate: this.peakRate, inFlight: this.peakInFlight };
    this.followUps = 2;
    this.run();
    this.peakRate = rate;
    this.peakInFlight = inFlight;
  }

  private run(): void {
    this.o.collect();
    this.collections++;
  }
}
