/**
 * The rtpengine instances calls can be placed on (the embedded one, or the
 * configured external ones), with how each reads prompts and whether it is
 * healthy. A call stays on the instance it started on (rtpengine keeps calls
 * in its own memory); new calls go round-robin over the healthy instances.
 * External instances are health-checked with a periodic ng `statistics` (a
 * `ping` for an rtpengine without it), which also gives the uptime: one that
 * restarted since the last check (its supervisor brought it back, empty) is
 * reported, since it says nothing itself of the calls it dropped.
 */
import { relative, resolve, join } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { RtpengineError, RtpengineUnavailableError } from '../media-errors.js';
import type { NgClient } from '../ng/ng-client.js';
import type { NgStatisticsReply } from '../ng/ng-types.js';

export interface RtpengineInstance {
  /** `host:port` of its ng port. */
  readonly id: string;
  readonly client: NgClient;
  /** 'file': it reads our prompt cache (see promptPath); 'inline': prompts travel in the ng message. */
  readonly promptDelivery: 'file' | 'inline';
  /** Path under which this instance reads a file of our prompt cache. */
  promptPath(localPath: string): string;
  healthy: boolean;
}

/** A file-delivery instance whose view of the prompt cache is `remoteDir` (a shared mount). */
export function mappedPromptPath(cacheDir: string, remoteDir: string | undefined): (localPath: string) => string {
  if (remoteDir === undefined) return (p) => resolve(p);
  return (p) => join(remoteDir, relative(resolve(cacheDir), resolve(p)));
}

export interface RtpenginePoolOptions {
  readonly healthCheckMs: number;
  readonly logger: Logger;
  /** A check found the instance started again since the previous one: the calls it carried are gone there. */
  readonly onRestarted?: (instance: RtpengineInstance) => void;
  /** A monotonic clock in ms (tests give their own). */
  readonly now?: () => number;
}

/**
 * When an instance started, as far as its uptime tells: rtpengine counts it in
 * whole seconds of its clock (now's second less its start's second), so one
 * reading places the start within two seconds; readings of the same process
 * narrow it down.
 */
interface StartWindow {
  readonly earliest: number;
  readonly latest: number;
}

/** rtpengine reads the time it computes the uptime with once per loop of its poller: a little late. */
const CLOCK_SLACK_MS = 250;

/** rtpengine's uptime in seconds from a `statistics` reply (`totalstatistics.uptime`, a string of digits), if it has one. */
export function uptimeSecondsOf(reply: NgStatisticsReply): number | undefined {
  const stats = reply.statistics;
  const total = typeof stats === 'object' && !Array.isArray(stats) ? stats.totalstatistics : undefined;
  const uptime = typeof total === 'object' && !Array.isArray(total) ? total.uptime : undefined;
  const seconds = typeof uptime === 'string' && /^\d+$/.test(uptime) ? Number(uptime) : uptime;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

export class RtpenginePool {
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set by stop(): a check in flight reports nothing (its ping failed because the clients were closed). */
  private stopped = false;
  private readonly starts = new Map<RtpengineInstance, StartWindow>();
  private readonly now: () => number;

  constructor(
    readonly instances: readonly RtpengineInstance[],
    private readonly options: RtpenginePoolOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  /** The instance for a new call. Throws RtpengineUnavailableError when none is healthy. */
  pick(): RtpengineInstance {
    const n = this.instances.length;
    for (let i = 0; i < n; i++) {
      const candidate = this.instances[(this.next + i) % n]!;
      if (candidate.healthy) {
        this.next = (this.next + i + 1) % n;
        return candidate;
      }
    }
    throw new RtpengineUnavailableError(
      n === 0 ? 'no rtpengine instance is configured' : `no rtpengine instance is reachable (${this.instances.map((x) => x.id).join(', ')})`,
    );
  }

  /**
   * Checks every instance once; resolves with how many answered. One `statistics` request per
   * instance tells both that it answers and its uptime (a restart: noteStart); an rtpengine that
   * refuses the command (older than it) is pinged instead.
   */
  async checkAll(): Promise<number> {
    const results = await Promise.all(
      this.instances.map(async (inst) => {
        const sentAt = this.now();
        let ok = false;
        let uptime: number | undefined;
        try {
          uptime = uptimeSecondsOf(await inst.client.request('statistics', {}));
          ok = true;
        } catch (e) {
          if (e instanceof RtpengineError) ok = await this.ping(inst);
        }
        // Stopped meanwhile (the media plane closing its clients failed the request): nothing to report.
        if (this.stopped) return ok;
        if (ok !== inst.healthy) this.options.logger[ok ? 'info' : 'warn']({ rtpengine: inst.id }, ok ? 'rtpengine reachable' : 'rtpengine unreachable');
        inst.healthy = ok;
        if (uptime !== undefined) this.noteStart(inst, uptime, sentAt);
        return ok;
      }),
    );
    return results.filter(Boolean).length;
  }

  private async ping(inst: RtpengineInstance): Promise<boolean> {
    try {
      return (await inst.client.request('ping', {})).result === 'pong';
    } catch {
      return false;
    }
  }

  /**
   * The instance was up `uptime` seconds when asked at `sentAt`: a start wholly after the one
   * known (narrowed by the earlier checks) is a restart, told for restarts about 2.5 s or more
   * apart. A false alarm (the relay's clock stepped back) costs one `query` per call: the media
   * plane asks about each call before it gives any up.
   */
  private noteStart(inst: RtpengineInstance, uptime: number, sentAt: number): void {
    const seen: StartWindow = { earliest: sentAt - (uptime + 1) * 1000 - CLOCK_SLACK_MS, latest: this.now() - (uptime - 1) * 1000 + CLOCK_SLACK_MS };
    const before = this.starts.get(inst);
    if (before === undefined || seen.latest < before.earliest) {
      this.starts.set(inst, seen); // the first reading, or the relay's clock stepped forward
      return;
    }
    if (seen.earliest <= before.latest) {
      // The same process: its start lies in both windows.
      this.starts.set(inst, { earliest: Math.max(before.earliest, seen.earliest), latest: Math.min(before.latest, seen.latest) });
      return;
    }
    this.starts.set(inst, seen);
    this.options.logger.warn({ rtpengine: inst.id, uptimeSeconds: uptime }, 'rtpengine restarted: the calls it carried are lost there');
    this.options.onRestarted?.(inst);
  }

  /** Starts periodic health checks. */
  watch(): void {
    if (this.timer !== undefined) return;
    this.stopped = false;
    const loop = (): void => {
      this.timer = setTimeout(() => {
        void this.checkAll().finally(() => {
          if (this.timer !== undefined) loop();
        });
      }, this.options.healthCheckMs);
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
