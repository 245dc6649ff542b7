/**
 * Turning the configuration into the pipeline's parts: where things live, the
 * key ring, the CRM adapter, the event sink. Shared by the worker process and
 * the call side so both agree on every path. Secrets are passed on, never logged.
 */
import { join, resolve } from 'node:path';
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import type { CrmAdapter } from '../crm/crm-adapter.js';
import { DirectoryCrmAdapter } from '../crm/directory-crm-adapter.js';
import { HttpCrmAdapter } from '../crm/http-crm-adapter.js';
import { loadKeyRing } from '../crypto/key-ring.js';
import type { PipelineContext } from '../delivery/pipeline-context.js';
import { RecordingEvents } from '../events/recording-events.js';
import { RecordingStore } from '../store/recording-store.js';

export interface RecordingPaths {
  readonly stateDir: string;
  readonly spoolDir: string;
  readonly captureDir: string;
  readonly crmDir: string;
  readonly redisDir: string;
  readonly generatedKeyFile: string;
  readonly eventsFile: string;
  /** The engine's journal of recordings under way (capture/live-journal.ts). */
  readonly liveDir: string;
}

export function recordingPaths(config: SwitchboardConfig, cwd: string): RecordingPaths {
  const stateDir = resolve(cwd, config.node.stateDir);
  const spoolDir = resolve(cwd, config.recordings.spoolDir ?? join(stateDir, 'recordings'));
  return {
    stateDir,
    spoolDir,
    // By default, where the embedded rtpengine (src/media) writes its pcaps.
    captureDir: resolve(cwd, config.recordings.captureDir ?? config.media.rtpengine.embedded.recordingDir ?? join(stateDir, 'rtpengine', 'recordings')),
    crmDir: resolve(cwd, config.crm.directory.path ?? join(stateDir, 'crm')),
    redisDir: join(stateDir, 'redis'),
    generatedKeyFile: join(stateDir, 'keys', 'recordings.key'),
    eventsFile: join(spoolDir, 'events.jsonl'),
    liveDir: join(stateDir, 'recordings-live'),
  };
}

export function crmAdapterFor(config: SwitchboardConfig, paths: RecordingPaths): CrmAdapter {
  if (config.crm.adapter === 'http') {
    const http = config.crm.http;
    // A ConfigCheck guarantees this; the message is for programmatic callers.
    if (http === undefined) throw new Error('crm.adapter is http but crm.http is not configured');
    return new HttpCrmAdapter({
      url: http.url,
      authHeader: http.authHeader,
      ...(http.authValue !== undefined ? { authValue: http.authValue } : {}),
      confirmationField: http.confirmationField,
      responseTimeoutMs: http.responseTimeoutMs,
      idleTimeoutMs: http.idleTimeoutMs,
    });
  }
  return new DirectoryCrmAdapter(paths.crmDir);
}

export interface PipelineSetupOptions {
  readonly config: SwitchboardConfig;
  readonly logger: Logger;
  readonly cwd?: string;
  readonly clock?: () => number;
  /** Replaces the configured CRM adapter (tests, embedding). */
  readonly crm?: CrmAdapter;
}

export interface PipelineSetup {
  readonly ctx: PipelineContext;
  readonly events: RecordingEvents;
  readonly paths: RecordingPaths;
}

export interface SpoolSetup {
  readonly store: RecordingStore;
  readonly events: RecordingEvents;
  readonly paths: RecordingPaths;
  readonly clock: () => number;
}

/** The spool and the event sink alone (no key, no CRM): what the retention sweeper needs. */
export async function setupSpool(o: Omit<PipelineSetupOptions, 'crm'>): Promise<SpoolSetup> {
  const r = o.config.recordings;
  const paths = recordingPaths(o.config, o.cwd ?? process.cwd());
  const store = new RecordingStore(paths.spoolDir);
  await store.init();
  const clock = o.clock ?? Date.now;
  const events = new RecordingEvents(
    paths.eventsFile,
    o.logger,
    r.webhook !== undefined ? { url: r.webhook.url, headers: r.webhook.headers, timeoutMs: r.webhook.timeoutMs } : undefined,
    clock,
  );
  return { store, events, paths, clock };
}

export async function setupPipeline(o: PipelineSetupOptions): Promise<PipelineSetup> {
  const r = o.config.recordings;
  const { store, events, paths, clock } = await setupSpool(o);
  const { ring, generated } = await loadKeyRing(
    { keyId: r.encryption.keyId, ...(r.encryption.key !== undefined ? { key: r.encryption.key } : {}), ...(r.encryption.keyFile !== undefined ? { keyFile: resolve(o.cwd ?? process.cwd(), r.encryption.keyFile) } : {}), previousKeys: r.encryption.previousKeys },
    paths.generatedKeyFile,
  );
  if (generated) {
    o.logger.warn(
      { keyFile: paths.generatedKeyFile },
      'generated a recording encryption key; configure recordings.encryption.key or keyFile for production (every recordings worker sharing this spool needs the same key)',
    );
  }
  const ctx: PipelineContext = {
    store,
    events,
    keyRing: ring,
    crm: o.crm ?? crmAdapterFor(o.config, paths),
    logger: o.logger,
    captureDir: paths.captureDir,
    format: r.format,
    channels: r.channels,
    mp3BitrateKbps: r.mp3BitrateKbps,
    chunkBytes: r.encryption.chunkBytes,
    partMaxBytes: r.partMaxBytes,
    retentionMs: r.retentionSeconds * 1000,
    backoff: { initialMs: r.upload.initialBackoffMs, maxMs: r.upload.maxBackoffMs, jitter: r.upload.jitter },
    clock,
  };
  return { ctx, events, paths };
}
