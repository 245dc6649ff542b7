/**
 * Deleting a recording that reached its retention limit undelivered. Shared by
 * the uploader (an attempt due at the deadline) and the independent sweeper;
 * the atomic claim makes sure exactly one of them deletes it and reports it.
 */
import { deleteSegments, locateSegments } from '../capture/segment-locator.js';
import type { RecordingManifest } from '../store/manifest.js';
import type { PipelineContext } from './pipeline-context.js';

/** Returns true when this call deleted the recording (and emitted its `expired` event). */
export async function expireRecording(
  ctx: Pick<PipelineContext, 'store' | 'events' | 'captureDir' | 'clock'>,
  manifest: RecordingManifest | undefined, recordingId: string, reason: string): Promise<boolean> {
  const progress = manifest !== undefined ? await ctx.store.readProgress(recordingId).catch(() => undefined) : undefined;
  const claimed = await ctx.store.claim(recordingId);
  if (claimed === false) return false;
  const delivered = progress?.parts.length ?? 0;
  const fullReason = [
    reason,
    delivered > 0 ? `${delivered} part(s) had been delivered, the rest are lost` : 'nothing had been delivered',
    progress?.lastError !== undefined ? `last error: ${progress.lastError}` : undefined,
  ]
    .filter((s) => s !== undefined)
    .join('; ');
  // Tombstone and event first: from the claim on, a step looking for the recording finds either
  // the claimed directory (deletion in progress) or the tombstone, never nothing.
  await ctx.store.writeTombstone({
    recordingId,
    callId: manifest?.callId ?? 'unknown',
    state: 'expired',
    at: new Date(ctx.clock()).toISOString(),
    reason: fullReason,
    parts: delivered,
  });
  await ctx.events.emit({ type: 'expired', recordingId, ...(manifest !== undefined ? { callId: manifest.callId } : {}), reason: fullReason, parts: delivered });
  // Capture files not converted yet belong to the recording too.
  if (manifest !== undefined) {
    const explicit = (manifest.capture.files ?? []).map((pcap) => ({ pcap }));
    const found = await locateSegments(ctx.captureDir, recordingId, manifest.callId).catch(() => []);
    await deleteSegments([...explicit, ...found]);
  }
  await ctx.store.purge(claimed);
  return true;
}
