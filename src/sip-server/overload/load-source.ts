/**
 * How busy the machine is, for overload control: the event-loop lag of the
 * SIP server's thread (perf_hooks.monitorEventLoopDelay), the lag of the app
 * thread it serves (measured there and reported over the worker protocol), and
 * the CPU of the whole machine. A queue length alone (pending INVITEs) sees
 * overload only once work has piled up; lag and CPU see the machine itself.
 * Tests inject their own {@link LoadSource}.
 */
import { cpus } from 'node:os';
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

export interface LoadSample {
  /** Event-loop lag of the SIP server's thread, 90th percentile over the interval (ms). */
  readonly serverLagMs: number;
  /** The same for the app's thread, as last reported (0 when nothing reports it). */
  readonly appLagMs: number;
  /**
   * CPU of the whole machine over the interval (every process: the app,
   * rtpengine, anything else on the box competes for the same cores), 0–100.
   */
  readonly cpuPercent: number;
}

export interface LoadSource {
  /** A reading covering the time since the previous one. */
  sample(): LoadSample;
  /** The app thread's lag, reported by it (embedded in a worker; ms). */
  reportAppLag(lagMs: number): void;
  stop(): void;
}

const RESOLUTION_MS = 10;

/**
 * An event-loop lag meter for the calling thread: the 90th percentile since
 * the last read, in ms. Not the maximum: one garbage collection or the first
 * calls' compilation stalls the loop once, which is not overload; a saturated
 * loop makes most ticks late.
 */
export class LagMeter {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.histogram.enable();
  }

  /** The histogram records intervals between timer ticks: what exceeds the resolution is lag. */
  read(): number {
    const h = this.histogram;
    const lag = h.count > 0 ? Math.max(0, h.percentile(90) / 1e6 - RESOLUTION_MS) : 0;
    h.reset();
    return lag;
  }

  stop(): void {
    this.histogram.disable();
  }
}

/** Busy and total CPU time of the machine since boot, all cores (ms). */
function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq;
    busy += t;
    total += t + c.times.idle;
  }
  return { busy, total };
}

/** The real measurement: this thread's lag, the reported app lag, the machine's CPU. */
export class ProcessLoadSource implements LoadSource {
  private readonly lag = new LagMeter();
  private cpu = machineTimes();
  private appLagMs = 0;
  private appReportedAt: number | undefined;

  /** `reportIntervalMs`: how often the app reports; a report overdue by more than that is lag in itself. */
  constructor(private readonly reportIntervalMs: number) {}

  reportAppLag(lagMs: number): void {
    this.appLagMs = lagMs;
    this.appReportedAt = performance.now();
  }

  sample(): LoadSample {
    const now = performance.now();
    const cpu = machineTimes();
    const busy = cpu.busy - this.cpu.busy;
    const total = cpu.total - this.cpu.total;
    this.cpu = cpu;
    // An app thread too busy to report is lagging by at least as long as its report is late.
    const overdue = this.appReportedAt === undefined ? 0 : Math.max(0, now - this.appReportedAt - 2 * this.reportIntervalMs);
    return {
      serverLagMs: this.lag.read(),
      appLagMs: Math.max(this.appLagMs, overdue),
      cpuPercent: total > 0 ? Math.min(100, (100 * busy) / total) : 0,
    };
  }

  stop(): void {
    this.lag.stop();
  }
}
