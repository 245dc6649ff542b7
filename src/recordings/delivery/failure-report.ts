/**
 * Saying that a step failed (`retrying` or `failed`) the same way wherever it
 * is said: with the call id when the recording's manifest is still there.
 */
import type { RecordingEvent } from '../events/recording-events.js';
import type { PipelineContext } from './pipeline-context.js';

export type FailureEvent = Omit<RecordingEvent, 'at' | 'type' | 'callId'> & { readonly type: 'retrying' | 'failed' };

/** Emits the event with the recording's call id. */
export async function reportFailure(ctx: Pick<PipelineContext, 'store' | 'events' | 'partMaxBytes'>, event: FailureEvent, _lastError = event.reason): Promise<void> {
  const manifest = await ctx.store.readManifest(event.recordingId).catch(() => undefined);
  await ctx.events.emit({ ...event, ...(manifest !== undefined ? { callId: manifest.callId } : {}) });
}
