/**
 * The rtpengine instances calls can be placed on (the embedded one, or the
 * configured external ones), with how each reads prompts and whether it is
 * healthy. A call stays on the instance it started on (rtpengine keeps calls
 * in its own memory); new calls go round-robin over the healthy instances.
 * External instances are health-checked with a periodic ng ping.
 */
import { relative, resolve, join } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { RtpengineUnavailableError } from '../media-errors.js';
import type { NgClient } from '../ng/ng-client.js';

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
}

export class RtpenginePool {
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Set by stop(): a check in flight reports nothing (its ping failed because the clients were closed). */
  private stopped = false;

  constructor(
    readonly instances: readonly RtpengineInstance[],
    private readonly options: RtpenginePoolOptions,
  ) {}

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

  /** Pings every instance once; resolves with how many answered. */
  async checkAll(): Promise<number> {
    const results = await Promise.all(
      this.instances.map(async (inst) => {
        let ok = false;
        try {
          ok = (await inst.client.request('ping', {})).result === 'pong';
        } catch {
          ok = false;
        }
        // Stopped meanwhile (the media plane closing its clients failed the ping): nothing to report.
        if (this.stopped) return ok;
        if (ok !== inst.healthy) this.options.logger[ok ? 'info' : 'warn']({ rtpengine: inst.id }, ok ? 'rtpengine reachable' : 'rtpengine unreachable');
        inst.healthy = ok;
        return ok;
      }),
    );
    return results.filter(Boolean).length;
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
