/**
 * Conversion of one captured recording: find its segments, convert and
 * encrypt them into the spool, record the layout in the manifest, then delete
 * the plaintext capture files. Safe to run again at any point: a converted
 * recording is left alone, a half-written output is replaced.
 */
import { access, rm } from 'node:fs/promises';
import { deleteSegments, locateSegments, type CapturedSegment } from '../capture/segment-locator.js';
import { reportFailure } from './failure-report.js';
import { encodeRecording } from '../convert/encode-recording.js';
import { undecodableNote } from '../convert/pcap-to-pcm.js';
import { RecordingExpiredError, RecordingFormatError, RecordingMissingError } from '../errors.js';
import type { RecordingManifest } from '../store/manifest.js';
import { expireRecording } from './expire.js';
import { deadlineOf, type PipelineContext } from './pipeline-context.js';
import { RetryLater } from './step-errors.js';

export type ConvertOutcome = 'converted' | 'already-converted' | 'already-finished';

/** Thrown while rtpengine may still be writing a segment: try again shortly. */
export class SegmentsPendingError extends RecordingMissingError {}
/** The capture is there and holds no RTP from either party (a call hung up as it was bridged): nothing to deliver, nothing to keep. */
export class RecordingEmptyError extends RecordingMissingError {}

/**
 * An empty recording is reported `failed` with its reason and then deleted at once (its empty capture and its spool
 * entry): kept, it would sit in the spool gauges operators alert on for the whole retention time, with nothing in it.
 */
export async function discardEmpty(ctx: PipelineContext, recordingId: string, reason: string): Promise<void> {
  const manifest = await ctx.store.readManifest(recordingId).catch(() => undefined);
  const full = `${reason}; nothing to keep: its empty capture and spool entry are deleted`;
  await ctx.store.writeTombstone({ recordingId, callId: manifest?.callId ?? 'unknown', state: 'failed', at: new Date(ctx.clock()).toISOString(), reason: full });
  await reportFailure(ctx, { type: 'failed', recordingId, reason: full }, reason);
  if (manifest !== undefined) await deleteSegments(await capturedSegments(ctx, manifest).catch(() => []));
  const claimed = await ctx.store.claim(recordingId);
  if (claimed !== false) await ctx.store.purge(claimed);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function convertStep(ctx: PipelineContext, recordingId: string, signal?: AbortSignal): Promise<ConvertOutcome> {
  const manifest = await ctx.store.readManifest(recordingId);
  if (manifest === undefined) {
    const tomb = await ctx.store.readTombstone(recordingId);
    if (tomb !== undefined) return 'already-finished';
    if (await ctx.store.beingDeleted(recordingId)) throw new RetryLater(`recording ${recordingId} is being deleted`, 500, false, 1);
    throw new RecordingMissingError(`recording ${recordingId} has no manifest and no record of delivery or expiry`);
  }
  if (ctx.clock() >= deadlineOf(ctx, manifest)) {
    await expireRecording(ctx, manifest, recordingId, 'retention limit reached before conversion');
    throw new RecordingExpiredError(`recording ${recordingId} expired before it could be converted`);
  }
  if (manifest.state === 'converted' && (await exists(ctx.store.audioPath(recordingId)))) {
    // A worker stopped between the manifest and the deletion below left the plaintext capture behind.
    await deleteSegments(manifest.capture.converted ?? (await capturedSegments(ctx, manifest)));
    return 'already-converted';
  }

  const segments = await findSegments(ctx, manifest).catch(async (e: unknown): Promise<ConvertOutcome> => {
    // Another run of the same recording (a stalled job taken up again) may have converted it and deleted the capture.
    if (e instanceof RecordingMissingError) {
      const now = await ctx.store.readManifest(recordingId);
      if (now?.state === 'converted') return 'already-converted';
      if (now === undefined && (await ctx.store.readTombstone(recordingId)) !== undefined) return 'already-finished';
    }
    throw e;
  });
  if (typeof segments === 'string') return segments;
  const encoded = await encodeRecording({
    segments: segments.map((s) => s.pcap),
    ...(manifest.capture.parties !== undefined ? { parties: manifest.capture.parties } : {}),
    // Paused at hang-up: silence to the end, as a resumed pause is silence as long as it lasted.
    ...pausedAtTheEnd(manifest),
    format: ctx.format,
    channels: ctx.channels,
    mp3BitrateKbps: ctx.mp3BitrateKbps,
    keyRing: ctx.keyRing,
    chunkBytes: ctx.chunkBytes,
    outFile: ctx.store.audioPath(recordingId),
    ...(ctx.ffmpegBinary !== undefined ? { ffmpegBinary: ctx.ffmpegBinary } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
  const c = encoded.conversion;
  const undecodable = undecodableNote(c);
  if (c.parties.caller.audioPackets + c.parties.agent.audioPackets === 0) {
    // Nothing to deliver is a failure with its reason, never an "uploaded" recording with no parts.
    await rm(ctx.store.audioPath(recordingId), { force: true });
    if (undecodable !== undefined) throw new RecordingFormatError(`recording ${recordingId}: ${undecodable}`);
    throw new RecordingEmptyError(`recording ${recordingId}: the capture of call ${manifest.callId} holds no audio (${segments.length} segment(s), no RTP from either party)`);
  }
  const summary = {
    segmentsFound: segments.length,
    segmentsExpected: manifest.capture.segments,
    caller: { packets: c.parties.caller.audioPackets, lost: c.parties.caller.lost, duplicates: c.parties.caller.duplicates },
    agent: { packets: c.parties.agent.audioPackets, lost: c.parties.agent.lost, duplicates: c.parties.agent.duplicates },
    lateSamples: c.lateSamples,
    assignment: c.assignment,
  };
  const updated: RecordingManifest = {
    ...manifest,
    capture: { ...manifest.capture, converted: segments.map((x) => ({ pcap: x.pcap, ...(x.metadataFile !== undefined ? { metadataFile: x.metadataFile } : {}) })) },
    state: 'converted',
    audio: {
      format: ctx.format,
      channels: ctx.channels,
      layout: encoded.layout,
      durationMs: encoded.durationMs,
      keyId: encoded.keyId,
      bytes: encoded.audioBytes,
      summary,
    },
  };
  await ctx.store.writeManifest(updated);
  const missing = manifest.capture.segments - segments.length;
  // Delivered with what could be decoded; what could not is said in the event (its channel is silent).
  const gaps = [
    ...(missing > 0 ? [`${missing} of ${manifest.capture.segments} capture segment(s) were never written by rtpengine`] : []),
    ...(undecodable !== undefined ? [`${undecodable}: that channel is silent`] : []),
  ];
  await ctx.events.emit({
    type: 'converted',
    recordingId,
    callId: manifest.callId,
    bytes: encoded.audioBytes,
    ...(gaps.length > 0 ? { reason: gaps.join('; ') } : {}),
  });
  // The encrypted recording is on disk: the plaintext capture can go.
  await deleteSegments(segments);
  return 'converted';
}

/** The capture files of a recording as they are now (named in the manifest, or found by their names). */
async function capturedSegments(ctx: PipelineContext, m: RecordingManifest): Promise<readonly CapturedSegment[]> {
  if (m.capture.files !== undefined && m.capture.files.length > 0) {
    return m.capture.files.map((pcap, i) => ({ index: i + 1, pcap }));
  }
  return locateSegments(ctx.captureDir, m.recordingId, m.callId);
}

async function findSegments(ctx: PipelineContext, m: RecordingManifest): Promise<readonly CapturedSegment[]> {
  if (m.capture.files !== undefined && m.capture.files.length > 0) return capturedSegments(ctx, m);
  const found = await locateSegments(ctx.captureDir, m.recordingId, m.callId);
  const graceOver = ctx.clock() - Date.parse(m.endedAt) > (ctx.segmentGraceMs ?? 120_000);
  if (found.length < m.capture.segments && !graceOver) {
    throw new SegmentsPendingError(`recording ${m.recordingId}: ${found.length} of ${m.capture.segments} capture segment(s) written so far`);
  }
  if (found.length === 0) {
    throw new RecordingMissingError(`recording ${m.recordingId}: rtpengine wrote no capture file for call ${m.callId} in ${ctx.captureDir}`);
  }
  return found;
}

/** A recording paused when the call ended gets silence from the pause to the end (by the engine's clock). */
function pausedAtTheEnd(m: RecordingManifest): { trailingSilenceMs?: number } {
  const last = m.pauses.at(-1);
  if (last === undefined || last.resumedAt !== undefined) return {};
  const ms = Date.parse(m.endedAt) - Date.parse(last.pausedAt);
  return Number.isFinite(ms) && ms > 0 ? { trailingSilenceMs: ms } : {};
}
