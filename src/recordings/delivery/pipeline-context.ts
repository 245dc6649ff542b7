/**
 * What the conversion and delivery steps need, handed in by whoever composes
 * them (the worker process, a test). Nothing here reads the environment.
 */
import type { Logger } from '../../observability/logger.js';
import type { ChannelLayout } from '../convert/timeline.js';
import type { KeyRing } from '../crypto/key-ring.js';
import type { CrmAdapter } from '../crm/crm-adapter.js';
import type { RecordingEventSink } from '../events/recording-events.js';
import type { RecordingStore } from '../store/recording-store.js';
import type { BackoffPolicy } from './backoff.js';

export interface PipelineContext {
  readonly store: RecordingStore;
  readonly events: RecordingEventSink;
  readonly keyRing: KeyRing;
  readonly crm: CrmAdapter;
  readonly logger: Logger;
  /** rtpengine's recording directory as seen from here. */
  readonly captureDir: string;
  readonly format: 'wav' | 'mp3';
  readonly channels: ChannelLayout;
  readonly mp3BitrateKbps: number;
  readonly chunkBytes: number;
  readonly partMaxBytes: number;
  /** Current retention; a recording expires at min(its own deadline, start + this). */
  readonly retentionMs: number;
  readonly backoff: BackoffPolicy;
  /** How long after the call ends to wait for rtpengine's last segment before converting what exists. */
  readonly segmentGraceMs?: number;
  readonly clock: () => number;
  readonly ffmpegBinary?: string;
}

export function deadlineOf(ctx: Pick<PipelineContext, 'retentionMs'>, m: { readonly startedAt: string; readonly expiresAt: string }): number {
  return Math.min(Date.parse(m.expiresAt), Date.parse(m.startedAt) + ctx.retentionMs);
}
