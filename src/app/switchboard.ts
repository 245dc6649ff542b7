/**
 * The composition root: starts the embedded SIP server (unless a real
 * drachtio-server is configured), connects the engine to it, and serves the
 * status endpoint and (when enabled) the supervisors' API. Everything is
 * stopped in reverse order.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Registry } from 'prom-client';
import { startApiServer, type ApiServer } from '../api/api-server.js';
import type { SwitchboardConfig } from '../config/load.js';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { ConfigReload } from '../engine/config-reload.js';
import { Engine } from '../engine/engine.js';
import type { SupervisedProcess } from '../daemon/supervised-process.js';
import { MediaService } from '../media/index.js';
import { RecordingCapture } from '../recordings/service/recording-capture.js';
import { RetentionService } from '../recordings/service/retention-service.js';
import type { Logger } from '../observability/logger.js';
import { collectGarbage, readHeap } from '../observability/memory.js';
import { QuietCollector } from '../observability/quiet-collector.js';
import { exposition, registerEngineMetrics, registerMediaMetrics, registerRecordingsMetrics, registerRecordingsWorkerMetrics, startProcessMetrics } from '../observability/metrics.js';
import { startEmbeddedSipServer, type EmbeddedSipServer } from '../sip-server/embedded.js';
import type { TlsReload } from '../sip-server/transport/transport-layer.js';
import type { ListenerInfo } from '../sip-server/transport/types.js';
import { startRecordingsWorkerProcess } from './recordings-worker-process.js';
import { startStatusServer, type StatusServer } from './status-server.js';

export interface RunningSwitchboard {
  readonly engine: Engine;
  /** The media plane (undefined when started without it). */
  readonly media: MediaService | undefined;
  readonly sipListeners: readonly ListenerInfo[];
  readonly controlPort: number | undefined;
  readonly statusPort: number | undefined;
  /** The supervisors' HTTP API (undefined unless api.enabled). */
  readonly api: ApiServer | undefined;
  /** Engine and server counts and memory; with `gc`, measured after a full garbage collection. */
  status(gc?: boolean): Promise<Record<string, unknown>>;
  /**
   * Graceful shutdown's first half: refuse new calls, let live ones finish (engine.drain.maxSeconds),
   * then, with the recordings worker child running, wait for the drained calls' recordings to be
   * delivered (engine.drain.deliverySeconds). stop() cuts the wait short.
   */
  drain(): Promise<void>;
  /** Re-reads the embedded SIP server's TLS certificates and keys (SIGHUP). */
  reloadTls(): Promise<readonly TlsReload[]>;
  /** Opens the call records and audit log files again (SIGHUP, after a rotation by rename). */
  reopenFiles(): void;
  /** Takes the hours policy and deflection of an edited, checked configuration (SIGHUP; Engine.reloadConfig). */
  reloadConfig(next: SwitchboardConfig): Promise<ConfigReload>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The configuration file, handed on to child processes (the recordings worker). */
  readonly configFile?: string;
  /** Relative paths in the configuration resolve against this (default: the working directory). */
  readonly baseDir?: string;
  /** Start the media plane (rtpengine, prompts). Default: `media.enabled`; signaling tests turn it off. */
  readonly media?: boolean;
  /** Run the recordings worker child (default: `node.recordingsWorker` and `recordings.enabled`). */
  readonly recordingsWorker?: boolean;
  /**
   * The upload queue's Redis, over `redis.url` (the command line maps REDIS_URL here). The engine's
   * capture and the recordings worker child both get it, so they never use two different Redis.
   */
  readonly redisUrl?: string;
}

/** Creates node.stateDir if needed; a directory that cannot be created or written is refused by its setting's name. */
function prepareStateDir(config: SwitchboardConfig, baseDir: string): void {
  const dir = resolve(baseDir, config.node.stateDir);
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new SwitchboardError(ErrorCodes.STATE_DIR, `node.stateDir: ${dir} cannot be created or written (${(e as Error).message})`, { cause: e });
  }
}

/** The spool as /status shows it. */
function spoolStatus(s: { spoolRecordings: number; oldestStartedAtMs: number | undefined }): Record<string, unknown> {
  return { spoolRecordings: s.spoolRecordings, oldestSpoolAgeSeconds: s.oldestStartedAtMs === undefined ? 0 : Math.max(0, Math.round((Date.now() - s.oldestStartedAtMs) / 1000)) };
}

export async function startSwitchboard(config: SwitchboardConfig, logger: Logger, options: StartOptions = {}): Promise<RunningSwitchboard> {
  const baseDir = options.baseDir ?? process.cwd();
  prepareStateDir(config, baseDir);
  const stops: (() => Promise<void>)[] = [];
  let statusServer: StatusServer | undefined;
  const stopAll = async (): Promise<void> => {
    statusServer?.stopping();
    while (stops.length > 0) {
      try {
        await stops.pop()!();
      } catch (e) {
        logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'error while stopping');
      }
    }
  };
  try {
    // First up and last down: an orchestrator sees "starting" / "stopping" (503) instead of a refused connection.
    if (config.node.status.enabled) {
      const s = await startStatusServer(config.node.status.host, config.node.status.port);
      statusServer = s;
      stops.push(() => s.stop());
    }
    const step = (name: string): void => statusServer?.starting(name);
    let sip: EmbeddedSipServer | undefined;
    if (config.sipServer.embedded) {
      step('SIP server');
      sip = await startEmbeddedSipServer(config.sipServer, config.node.logLevel, logger, baseDir);
      stops.push(() => sip!.stop());
    }
    let media: MediaService | undefined;
    if (options.media ?? config.media.enabled) {
      step('media relay (rtpengine)');
      media = await MediaService.start({ config, logger: logger.child({ component: 'media' }), baseDir });
      stops.push(() => media!.close());
    }
    // The retention limit holds while the engine runs, whether or not a worker runs (sweepers sharing
    // a spool report each deletion once); what it finds feeds the recording metrics.
    let retention: RetentionService | undefined;
    if (config.recordings.enabled) {
      step('recordings');
      const r = await RetentionService.start({ config, logger: logger.child({ component: 'recordings' }), cwd: baseDir });
      retention = r;
      stops.push(() => r.stop());
    }
    let worker: SupervisedProcess | undefined;
    if (options.recordingsWorker ?? (config.node.recordingsWorker && config.recordings.enabled)) {
      worker = await startRecordingsWorkerProcess(options.configFile, baseDir, logger.child({ component: 'recordings' }), options.redisUrl);
      stops.push(() => worker!.stop());
    }
    const connection = {
      host: config.drachtio.host ?? config.sipServer.control.host,
      port: config.drachtio.port ?? sip?.controlPort ?? config.sipServer.control.port,
      secret: config.drachtio.secret ?? config.sipServer.control.secret,
    };
    let recordings: RecordingCapture | undefined;
    if (media !== undefined && config.recordings.enabled) {
      const m = media;
      recordings = await RecordingCapture.create({
        config,
        logger: logger.child({ component: 'recordings' }),
        cwd: baseDir,
        ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl } : {}),
        control: {
          start: (callId, metadata) => m.getCallMedia(callId)?.startRecording({ metadata }) ?? Promise.reject(new Error(`call ${callId} has no media`)),
          stop: (callId) => m.getCallMedia(callId)?.stopRecording() ?? Promise.resolve(),
        },
      });
      const r = recordings;
      stops.push(() => r.close());
    }
    step('engine');
    const engine = new Engine(config, connection, logger.child({ component: 'engine' }), { ...(media !== undefined ? { media } : {}), ...(recordings !== undefined ? { recordings } : {}), baseDir });
    await engine.start();
    // This thread's heap given back when the calls stop (V8's own reducer does not always; see quiet-collector.ts).
    const quiet = new QuietCollector({
      messages: () => engine.status().callsTotal,
      inFlight: () => engine.status().liveCalls,
      collect: () => void collectGarbage(),
      minPeakMessages: 100,
    });
    quiet.start();
    stops.push(() => Promise.resolve(quiet.stop()));
    stops.push(() => engine.stop());
    let api: ApiServer | undefined;
    if (config.api.enabled) {
      step('API');
      const sipWebSockets = (sip?.listeners ?? []).flatMap((l) => (l.transport === 'ws' || l.transport === 'wss' ? [{ transport: l.transport, host: l.advertisedHost, port: l.port }] : []));
      const a = await startApiServer({ config, baseDir, logger: logger.child({ component: 'api' }), control: engine.control, calls: engine.calls, agentRegistry: engine.agents?.agents, queues: engine.agents?.queues, sipWebSockets, ...(sip !== undefined ? { sipTransports: sip.listeners.map((l) => l.transport) } : {}) });
      api = a;
      // Stopped after the engine: the monitors and calls the engine ends on the way out are still audited.
      stops.splice(stops.length - 1, 0, () => a.close());
    }
    const status = async (gc = false): Promise<Record<string, unknown>> => {
      const sipStatus = sip !== undefined ? await sip.status(gc) : undefined;
      const heap = readHeap(gc);
      return {
        engine: engine.status(),
        ...(sipStatus !== undefined ? { sipServer: sipStatus } : {}),
        ...(media !== undefined
          ? { media: { activeCalls: media.activeCalls, rtpengine: media.instances.map((i) => ({ id: i.id, healthy: i.healthy })) } }
          : {}),
        ...(worker !== undefined ? { recordingsWorker: { pid: worker.pid ?? null, restarts: worker.restarts } } : {}),
        ...(retention !== undefined ? { recordings: spoolStatus(await retention.snapshot()) } : {}),
        process: { rssBytes: heap.rssBytes, heapUsedBytes: heap.heapUsedBytes, heapTotalBytes: heap.heapTotalBytes, externalBytes: heap.externalBytes, uptimeSeconds: Math.round(process.uptime()) },
      };
    };
    // This instance's status metrics in a registry of its own (a process may run several, as tests do).
    startProcessMetrics();
    const own = new Registry();
    registerEngineMetrics(() => engine.status(), own);
    if (media !== undefined) {
      const m = media;
      registerMediaMetrics(() => ({ activeCalls: m.activeCalls, instances: m.instances.length, healthy: m.instances.filter((i) => i.healthy).length }), own);
    }
    if (worker !== undefined) {
      const w = worker;
      registerRecordingsWorkerMetrics(() => w.restarts, own);
    }
    if (retention !== undefined) {
      const r = retention;
      registerRecordingsMetrics(() => r.snapshot(), own);
    }
    const metricsText = async (): Promise<{ contentType: string; body: string }> => exposition(sip !== undefined ? [await sip.metrics()] : [], [own]);
    statusServer?.serve({ status, calls: () => engine.liveCalls(), metrics: metricsText });
    // stop() ends a drain still waiting for recordings (a second signal stops at once).
    const stopping = new AbortController();
    stops.push(async () => stopping.abort());
    const drain = async (): Promise<void> => {
      statusServer?.draining();
      // Watched from before the calls end: a short call's recording may be delivered while others go on.
      const r = recordings;
      const watch = r !== undefined && worker !== undefined ? await r.watchFinalEvents() : undefined;
      try {
        const ids = await engine.drain();
        if (watch === undefined || ids.length === 0) return;
        const deliverySeconds = config.engine.drain.deliverySeconds;
        const pending = await watch.until(ids, { timeoutMs: deliverySeconds * 1000, signal: stopping.signal }).catch((e: unknown) => {
          logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'drain: cannot follow the recording events; not waiting for delivery');
          return ids;
        });
        if (pending.length === 0) {
          logger.info({ recordings: ids.length }, 'drain: the recordings of the drained calls are delivered (uploaded or failed)');
        } else {
          const pendingHandover = r!.sink.pendingIds.filter((id) => pending.includes(id));
          logger.warn(
            { pending, pendingHandover, deliverySeconds, stoppedEarly: stopping.signal.aborted },
            'drain: recordings of drained calls not delivered yet; those in the spool are delivered when a recordings worker runs again (the next start), those it refused are reported failed',
          );
        }
      } finally {
        watch?.close();
      }
    };
    return {
      engine,
      media,
      sipListeners: sip?.listeners ?? [],
      controlPort: sip?.controlPort,
      statusPort: statusServer?.port,
      api,
      status,
      drain: () => drain(),
      reloadTls: () => sip?.reloadTls() ?? Promise.resolve([]),
      reopenFiles: () => {
        engine.reopenFiles();
        api?.reopenFiles();
      },
      reloadConfig: (next) => engine.reloadConfig(next),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
