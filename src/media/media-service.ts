/**
 * The media plane as the engine sees it: it starts the private rtpengine (or
 * connects to the external ones), renders every configured prompt, and hands
 * out one CallMedia per call. When the embedded rtpengine dies, the calls it
 * carried are released locally and reported through `calls-lost`, and new
 * calls go to it again once it has been restarted. An external one found
 * restarted by the health check has its calls asked about one by one: those
 * it no longer knows go the same way. Sessions a previous run of the engine
 * left at an external rtpengine when it died are deleted at the next start
 * (deleteLeftBehind).
 */
import { EventEmitter } from 'node:events';
import { join, resolve } from 'node:path';
import type { SwitchboardConfig } from '../config/load.js';
import type { Logger } from '../observability/logger.js';
import { CallMedia } from './call-media.js';
import { isUnknownCallError, MediaStateError, RtpengineUnavailableError } from './media-errors.js';
import { NgClient } from './ng/ng-client.js';
import { PromptLibrary } from './prompts/prompt-library.js';
import { PromptRenderer } from './prompts/prompt-renderer.js';
import { DeleteRetries } from './rtpengine/delete-retries.js';
import { EmbeddedRtpengine } from './rtpengine/embedded-rtpengine.js';
import { deleteLeftBehind } from './rtpengine/left-behind.js';
import { RtpengineNotifications } from './rtpengine/rtpengine-notifications.js';
import { mappedPromptPath, RtpenginePool, type RtpengineInstance } from './rtpengine/rtpengine-pool.js';

/** Calls asked about at once after an external rtpengine restarted. */
const CONFIRM_AT_ONCE = 16;

export interface MediaServiceOptions {
  readonly config: SwitchboardConfig;
  readonly logger: Logger;
  /** Relative paths in the config (stateDir, uploads) resolve against this (default: the working directory). */
  readonly baseDir?: string;
  /** Render every configured prompt before resolving (default true). */
  readonly prerender?: boolean;
  /** Restart back-off of the embedded rtpengine (tests shorten it). */
  readonly restart?: { readonly minDelayMs?: number; readonly maxDelayMs?: number };
}

export interface MediaServiceEvents {
  /** rtpengine lost these calls (it died); their CallMedia objects are already released locally. */
  'calls-lost': [callIds: string[]];
  /** rtpengine closed this call: no RTP in either direction for its timeout; its CallMedia is released locally. */
  'media-timeout': [callId: string];
}

export class MediaService extends EventEmitter<MediaServiceEvents> {
  readonly prompts: PromptLibrary;
  private readonly calls = new Map<string, CallMedia>();
  private embeddedDaemon: EmbeddedRtpengine | undefined;
  private pool: RtpenginePool | undefined;
  private notifications: RtpengineNotifications | undefined;
  private closed = false;
  /** Aborted at close: background work (the deletes of sessions a previous run left) stops. */
  private readonly lifetime = new AbortController();
  /** Deletes rtpengine did not answer, asked again (its ng socket drops datagrams under load). */
  readonly deleteRetries: DeleteRetries;

  private constructor(
    private readonly options: MediaServiceOptions,
    private readonly stateDir: string,
  ) {
    super();
    const { config, logger } = options;
    const baseDir = options.baseDir ?? process.cwd();
    const p = config.media.prompts;
    const renderer = new PromptRenderer({
      cacheDir: p.cacheDir !== undefined ? resolve(baseDir, p.cacheDir) : join(stateDir, 'prompts'),
      espeakBinary: p.espeakBinary,
      ffmpegBinary: p.ffmpegBinary,
      renderTimeoutMs: p.renderTimeoutMs,
      renderConcurrency: p.renderConcurrency,
      logger,
    });
    this.prompts = new PromptLibrary({ config, renderer, baseDir, logger });
    this.deleteRetries = new DeleteRetries({ logger, callIsLive: (id) => this.calls.has(id) });
  }

  /** Starts rtpengine (embedded) or checks the external instances, then pre-renders the prompts. */
  static async start(options: MediaServiceOptions): Promise<MediaService> {
    const baseDir = options.baseDir ?? process.cwd();
    const service = new MediaService(options, resolve(baseDir, options.config.node.stateDir));
    try {
      await service.startRtpengine();
      if (options.prerender !== false) await service.prompts.prerenderAll();
    } catch (e) {
      await service.close();
      throw e;
    }
    return service;
  }

  private async startRtpengine(): Promise<void> {
    const { config, logger } = this.options;
    const r = config.media.rtpengine;
    const cacheDir = this.prompts.renderer.cacheDir;
    const notifications = await RtpengineNotifications.start({ ...r.notifications, logger });
    this.notifications = notifications;
    notifications.on('dtmf', (d) => this.calls.get(d.callId)?.receivedDigit(d.label, d.event, d.durationMs));
    notifications.on('timeout', (callId) => {
      const call = this.calls.get(callId);
      if (call === undefined) return;
      logger.info({ callId }, 'rtpengine closed the call: no media in either direction');
      void call.releaseLocal();
      this.emit('media-timeout', callId);
    });
    if (r.mode === 'embedded') {
      const daemon = new EmbeddedRtpengine({
        settings: {
          ...r.embedded,
          // rtpengine's own timeouts are only a safety net for sessions the engine lost: it would
          // close callers waiting in a queue, who send no RTP before the answer. The engine times
          // out connected calls itself (media.timeout, MediaTimeouts in src/engine/).
          timeoutSeconds: config.engine.maxCallSeconds + 60,
          silentTimeoutSeconds: config.engine.maxCallSeconds + 60,
          dtmfLogDest: notifications.dtmfDestination,
          teardownUrl: notifications.teardownUrl,
        },
        stateDir: this.stateDir,
        logger: logger.child({ daemon: 'rtpengine' }),
        requestTimeoutMs: r.requestTimeoutMs,
        retransmitMs: r.retransmitMs,
        ...(this.options.restart !== undefined ? { restart: this.options.restart } : {}),
      });
      this.embeddedDaemon = daemon;
      await daemon.start();
      const instance: RtpengineInstance = {
        id: `127.0.0.1:${daemon.ngPort ?? 0}`,
        client: daemon.client,
        promptDelivery: 'file',
        promptPath: mappedPromptPath(cacheDir, undefined),
        healthy: true,
      };
      daemon.on('lost', () => {
        instance.healthy = false;
        this.loseCallsOn(instance);
      });
      daemon.on('restarted', () => {
        instance.healthy = true;
        logger.info({ rtpengine: instance.id }, 'embedded rtpengine is back');
      });
      this.pool = new RtpenginePool([instance], { healthCheckMs: r.healthCheckMs, logger });
      return;
    }
    const instances: RtpengineInstance[] = r.external.map((x) => ({
      id: `${x.host.includes(':') ? `[${x.host}]` : x.host}:${x.port}`,
      client: new NgClient({ host: x.host, port: x.port, timeoutMs: r.requestTimeoutMs, retransmitMs: r.retransmitMs, logger }),
      promptDelivery: x.promptDelivery,
      promptPath: mappedPromptPath(cacheDir, x.promptDir),
      healthy: false,
    }));
    this.pool = new RtpenginePool(instances, { healthCheckMs: r.healthCheckMs, logger, onRestarted: (i) => void this.confirmLostOn(i) });
    const reachable = await this.pool.checkAll();
    if (reachable === 0) throw new RtpengineUnavailableError(`none of the external rtpengine instances answers ping: ${instances.map((i) => i.id).join(', ')}`);
    this.pool.watch();
  }

  private loseCallsOn(instance: RtpengineInstance): void {
    const lost = [...this.calls.values()].filter((c) => c.instance === instance);
    for (const c of lost) void c.releaseLocal();
    if (lost.length > 0) this.emit('calls-lost', lost.map((c) => c.callId));
  }

  /**
   * An external instance restarted: every call set up on it before is gone
   * there, but the restart's moment is known only to the second, so each call
   * is asked about (a few at a time) and only those the relay no longer knows
   * are lost. Calls placed on it since the restart go on.
   */
  private async confirmLostOn(instance: RtpengineInstance): Promise<void> {
    const unknown = async (c: CallMedia): Promise<boolean> => {
      if (c.released || c.labels.length === 0) return false; // no offer has reached the relay yet
      try {
        await c.query();
        return false;
      } catch (e) {
        return isUnknownCallError(e);
      }
    };
    const candidates = [...this.calls.values()].filter((c) => c.instance === instance);
    const lost: CallMedia[] = [];
    for (let i = 0; i < candidates.length; i += CONFIRM_AT_ONCE) {
      const batch = candidates.slice(i, i + CONFIRM_AT_ONCE);
      const answers = await Promise.all(batch.map(unknown));
      lost.push(...batch.filter((_c, k) => answers[k]));
    }
    const gone = lost.filter((c) => !c.released);
    if (this.closed || gone.length === 0) return;
    for (const c of gone) void c.releaseLocal();
    this.emit('calls-lost', gone.map((c) => c.callId));
  }

  /** The embedded daemon (undefined with external instances). */
  get embedded(): EmbeddedRtpengine | undefined {
    return this.embeddedDaemon;
  }

  /** Where the embedded rtpengine writes pcap recordings (`pcaps/`, `metadata/`); undefined with external instances. */
  get recordingDir(): string | undefined {
    return this.embeddedDaemon?.recordingDir;
  }

  get instances(): readonly RtpengineInstance[] {
    return this.pool?.instances ?? [];
  }

  /** Media of a new call, placed on a healthy rtpengine instance. */
  createCallMedia(callId: string, options: { logger?: Logger } = {}): CallMedia {
    if (this.closed) throw new MediaStateError('media service is closed');
    if (this.calls.has(callId)) throw new MediaStateError(`call ${callId} already has media`);
    if (this.pool === undefined) throw new RtpengineUnavailableError('media service is not started');
    const call = new CallMedia({
      callId,
      instance: this.pool.pick(),
      monitor: this.options.config.media.monitor,
      logger: options.logger ?? this.options.logger,
      onReleased: (c) => {
        if (this.calls.get(c.callId) === c) this.calls.delete(c.callId);
      },
      onDeleteUnanswered: (id) => this.deleteRetries.add(call.instance, id),
    });
    this.calls.set(callId, call);
    return call;
  }

  getCallMedia(callId: string): CallMedia | undefined {
    return this.calls.get(callId);
  }

  get activeCalls(): number {
    return this.calls.size;
  }

  /**
   * `callIds`, calls a previous run of the engine had live when it died (its
   * live-call journal), are deleted at every external rtpengine, with their
   * supervisor relay legs (rtpengine/left-behind.ts), in the background: an
   * rtpengine down now is asked again later, and the start goes on. The
   * embedded rtpengine starts empty with the engine: nothing to do. Resolves
   * once every instance is done or has given up; never rejects.
   */
  deleteLeftBehind(callIds: readonly string[]): Promise<void> {
    if (this.embeddedDaemon !== undefined || callIds.length === 0 || this.closed) return Promise.resolve();
    const o = { logger: this.options.logger, retries: this.deleteRetries, signal: this.lifetime.signal };
    return Promise.all(this.instances.map((i) => deleteLeftBehind(i, callIds, o))).then(() => undefined);
  }

  /** Releases every call (best-effort deletes), stops health checks and the embedded rtpengine. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lifetime.abort();
    await Promise.all([...this.calls.values()].map((c) => c.release()));
    this.deleteRetries.stop();
    this.pool?.stop();
    if (this.embeddedDaemon !== undefined) await this.embeddedDaemon.stop();
    else for (const i of this.pool?.instances ?? []) i.client.close();
    await this.notifications?.close();
  }
}
