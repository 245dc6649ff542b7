/**
 * Saying that a step failed (`retrying` or `failed`) the same way wherever it
 * is said: with the call id when the recording's manifest is still there, and
 * with the failure noted as the recording's last error first, so that an
 * expiry later quotes the latest failure (not an older one of another kind).
 */
import type { RecordingEvent } from '../events/recording-events.js';
import { initialProgress } from '../store/manifest.js';
import type { PipelineContext } from './pipeline-context.js';

export type FailureEvent = Omit<RecordingEvent, 'at' | 'type' | 'callId'> & { readonly type: 'retrying' | 'failed' };

/** Records `lastError` in the recording's progress file; a recording already gone has nothing to record it in. */
export async function noteLastError(ctx: Pick<PipelineContext, 'store' | 'partMaxBytes'>, recordingId: string, lastError: string): Promise<void> {
  try {
    const progress = (await ctx.store.readProgress(recordingId)) ?? initialProgress(ctx.partMaxBytes);
    await ctx.store.writeProgress(recordingId, { ...progress, lastError });
  } catch {
    // Deleted meanwhile (delivered, expired) or unwritable: the event below still says it.
  }
}

/** Notes `lastError` (default: the event's reason), then emits the event with the recording's call id. */
export async function reportFailure(ctx: Pick<PipelineContext, 'store' | 'events' | 'partMaxBytes'>, event: FailureEvent, lastError = event.reason): Promise<void> {
  const manifest = await ctx.store.readManifest(event.recordingId).catch(() => undefined);
  if (lastError !== undefined && manifest !== undefined) await noteLastError(ctx, event.recordingId, lastError);
  await ctx.events.emit({ ...event, ...(manifest !== undefined ? { callId: manifest.callId } : {}) });
}
