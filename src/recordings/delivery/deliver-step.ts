/**
 * One step of delivering a recording: upload the next part, or finish.
 *
 * Each call sends at most one part, so the queue's rate limiter counts CRM
 * requests and other recordings get their turn between parts. Where the next
 * part starts is read from the recording's progress file, written only after
 * the CRM confirmed the previous part: parts go strictly in order, and a part
 * sent again after a crash carries the same idempotency key, so the CRM
 * attaches it once. Local files are deleted only when every part is confirmed.
 */
import { CrmError, RecordingExpiredError, RecordingFormatError, RecordingIntegrityError } from '../errors.js';
import { SealedFile } from '../crypto/sealed-file.js';
import { contentType, partBody, partFileName } from '../parts/part-body.js';
import { MIN_PART_BYTES, nextPart, planParts, rangeDurationMs, type AudioLayout, type PlannedPart } from '../parts/part-plan.js';
import { initialProgress, type DeliveryProgress, type RecordingManifest } from '../store/manifest.js';
import { deleteSegments } from '../capture/segment-locator.js';
import { retryDelay } from './backoff.js';
import { expireRecording } from './expire.js';
import { deadlineOf, type PipelineContext } from './pipeline-context.js';
import { GiveUp, RetryLater } from './step-errors.js';

export { GiveUp, RetryLater };

export type DeliverOutcome =
  | { readonly kind: 'part-confirmed'; readonly part: number; readonly duplicate: boolean }
  | { readonly kind: 'split'; readonly partLimit: number }
  | { readonly kind: 'delivered'; readonly parts: number }
  | { readonly kind: 'already-finished' };

/**
 * Writes the progress file; if the recording's directory vanished meanwhile (the sweeper deleted
 * it at the retention limit while this step ran), says so instead of failing obscurely.
 */
async function saveProgress(ctx: PipelineContext, recordingId: string, p: DeliveryProgress): Promise<void> {
  try {
    await ctx.store.writeProgress(recordingId, p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new RecordingExpiredError(`recording ${recordingId} was deleted at its retention limit while it was being delivered`);
  }
}

export function idempotencyKey(recordingId: string, part: number, p: PlannedPart): string {
  return `${recordingId}/part-${part}/${p.start}-${p.end}`;
}

/**
 * The recording's files are gone: delivered or expired by another run (a
 * stalled job taken up again while its first run still worked, the sweeper),
 * being deleted right now, or lost. Only the last is a failure.
 */
async function whyGone(ctx: PipelineContext, recordingId: string, lost: string, cause?: unknown): Promise<DeliverOutcome> {
  const tomb = await ctx.store.readTombstone(recordingId);
  if (tomb?.state === 'delivered') return { kind: 'already-finished' };
  if (tomb?.state === 'expired') throw new RecordingExpiredError(`recording ${recordingId} expired: ${tomb.reason ?? ''}`);
  if (await ctx.store.beingDeleted(recordingId)) throw new RetryLater(`recording ${recordingId} is being deleted`, 500, false, 1);
  throw new GiveUp(lost, cause !== undefined ? { cause } : undefined);
}

export async function deliverStep(ctx: PipelineContext, recordingId: string, signal?: AbortSignal): Promise<DeliverOutcome> {
  const manifest = await ctx.store.readManifest(recordingId);
  if (manifest === undefined) return whyGone(ctx, recordingId, `recording ${recordingId} has no files on disk and no record of delivery`);
  const deadline = deadlineOf(ctx, manifest);
  await expireIfDue(ctx, manifest, deadline, ctx.clock());
  if (manifest.state !== 'converted' || manifest.audio === undefined) {
    throw new RetryLater(`recording ${recordingId} is not converted yet`, ctx.backoff.initialMs, false, 1);
  }
  const audio = manifest.audio;
  let progress: DeliveryProgress = (await ctx.store.readProgress(recordingId)) ?? initialProgress(ctx.partMaxBytes);

  let sealed: SealedFile;
  try {
    sealed = await SealedFile.open(ctx.store.audioPath(recordingId), ctx.keyRing);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      // Another run may have delivered it (and deleted the files) since the manifest was read.
      return whyGone(ctx, recordingId, `recording ${recordingId}: its encrypted audio file is missing`, e);
    }
    throw new GiveUp(`recording ${recordingId}: ${(e as Error).message}`, { cause: e });
  }
  try {
    if (sealed.plaintextLength !== audio.bytes) {
      throw new GiveUp(`recording ${recordingId}: encrypted file holds ${sealed.plaintextLength} bytes, ${audio.bytes} were written`);
    }
    if (!progress.verified) {
      // Check the whole file once before the first byte leaves: a damaged recording sends nothing.
      await sealed.verify().catch((e: unknown) => {
        throw new GiveUp(`recording ${recordingId}: ${(e as Error).message}`, { cause: e });
      });
      progress = { ...progress, verified: true };
      await saveProgress(ctx, recordingId, progress);
    }
    let part: PlannedPart | undefined;
    try {
      part = nextPart(audio.layout, progress.nextOffset, progress.partLimit);
    } catch (e) {
      // No part of the saved limit can be cut here (an MP3 halved by 413s below its frame index): no
      // attempt can succeed, so the recording fails now, saying why, instead of retrying until it expires.
      if (e instanceof RecordingFormatError) throw new GiveUp(`recording ${recordingId}: ${e.message}`, { cause: e });
      throw e;
    }
    if (part === undefined) return await finish(ctx, manifest, progress);

    const number = progress.nextPart;
    const planned = progress.parts.length + planParts(audio.layout, progress.partLimit, progress.nextOffset).length;
    const key = idempotencyKey(recordingId, number, part);
    // Again here, after reading and checking the file: an attempt never starts at or past the deadline.
    const now = ctx.clock();
    await expireIfDue(ctx, manifest, deadline, now);
    try {
      const receipt = await ctx.crm.upload(
        {
          recordingId,
          ...(manifest.ticketId !== undefined ? { ticketId: manifest.ticketId } : {}),
          partNumber: number,
          partsPlanned: planned,
          idempotencyKey: key,
          fileName: partFileName(recordingId, audio.format, number),
          contentType: contentType(audio.format),
          size: part.size,
          body: () => partBody(sealed, audio.layout, part),
          metadata: {
            callId: manifest.callId,
            kind: manifest.kind ?? 'call',
            ...(manifest.details !== undefined ? { details: manifest.details } : {}),
            contact: manifest.contact,
            ...(manifest.queue !== undefined ? { queue: manifest.queue } : {}),
            agent: { ...(manifest.agent.id !== undefined ? { id: manifest.agent.id } : {}), ...(manifest.agent.name !== undefined ? { name: manifest.agent.name } : {}), ...(manifest.agent.uri !== undefined ? { uri: manifest.agent.uri } : {}) },
            startedAt: manifest.startedAt,
            endedAt: manifest.endedAt,
            durationMs: Math.round(audio.durationMs),
            pauses: manifest.pauses,
            format: audio.format,
            channels: audio.channels,
            partOffsetMs: Math.round(rangeDurationMs(audio.layout, 0, part.start, audio.durationMs)),
            partDurationMs: Math.round(rangeDurationMs(audio.layout, part.start, part.end, audio.durationMs)),
          },
        },
        signal,
      );
      progress = {
        ...progress,
        nextPart: number + 1,
        nextOffset: part.end,
        failures: 0,
        parts: [
          ...progress.parts,
          { number, start: part.start, end: part.end, size: part.size, idempotencyKey: key, attachmentId: receipt.attachmentId, confirmedAt: new Date(ctx.clock()).toISOString() },
        ],
        lastAttemptAt: new Date(now).toISOString(),
      };
      await saveProgress(ctx, recordingId, progress);
      await ctx.events.emit({ type: 'part-uploaded', recordingId, callId: manifest.callId, part: number, parts: planned, bytes: part.size });
      if (nextPart(audio.layout, progress.nextOffset, progress.partLimit) === undefined) return await finish(ctx, manifest, progress);
      return { kind: 'part-confirmed', part: number, duplicate: receipt.duplicate === true };
    } catch (e) {
      if (!(e instanceof CrmError)) {
        if (e instanceof RecordingFormatError || e instanceof RecordingIntegrityError) {
          throw new GiveUp(`recording ${recordingId}: ${(e as Error).message}`, { cause: e });
        }
        throw e;
      }
      return await handleCrmError(ctx, manifest, progress, part, number, deadline, now, e, (limit) => cuttable(audio.layout, part.start, limit));
    }
  } finally {
    await sealed.close();
  }
}

/** Whether a part of at most `limit` bytes can be cut at `start`. */
function cuttable(layout: AudioLayout, start: number, limit: number): boolean {
  try {
    nextPart(layout, start, limit);
    return true;
  } catch (e) {
    if (e instanceof RecordingFormatError) return false;
    throw e;
  }
}

async function handleCrmError(
  ctx: PipelineContext,
  manifest: RecordingManifest,
  progress: DeliveryProgress,
  part: PlannedPart,
  number: number,
  deadline: number,
  attemptedAt: number,
  e: CrmError,
  canCut: (limit: number) => boolean,
): Promise<DeliverOutcome> {
  const recordingId = manifest.recordingId;
  const now = ctx.clock();
  if (e.kind === 'rejected') {
    await saveProgress(ctx, recordingId, { ...progress, lastError: e.message, lastAttemptAt: new Date(now).toISOString() });
    throw new GiveUp(e.message, { cause: e });
  }
  if (e.kind === 'too-large') {
    const limit = Math.floor(Math.min(progress.partLimit, part.size) / 2);
    if (limit < MIN_PART_BYTES || !canCut(limit)) {
      await saveProgress(ctx, recordingId, { ...progress, lastError: e.message });
      const why = limit < MIN_PART_BYTES ? `parts cannot be made smaller than ${MIN_PART_BYTES} bytes` : `no part of at most ${limit} bytes can be cut from byte ${part.start} on (MP3 parts end on indexed frames)`;
      throw new GiveUp(`${e.message}; ${why}`, { cause: e });
    }
    await saveProgress(ctx, recordingId, { ...progress, partLimit: limit, lastError: e.message, lastAttemptAt: new Date(now).toISOString() });
    await ctx.events.emit({
      type: 'retrying',
      recordingId,
      callId: manifest.callId,
      part: number,
      retryInMs: 0,
      reason: `${e.message}; splitting the rest into parts of at most ${limit} bytes`,
    });
    return { kind: 'split', partLimit: limit };
  }
  const retryAfter = e.details.retryAfterMs !== undefined ? { retryAfterMs: e.details.retryAfterMs } : {};
  if (e.kind === 'rate-limited') {
    // The CRM's API limit is not this part's failure: no attempt is used and its back-off does not
    // grow; the whole queue waits (Retry-After, else the first back-off step), then the part goes again.
    const delayMs = retryDelay(ctx.backoff, 1, { now, expiresAt: deadline, ...retryAfter });
    await saveProgress(ctx, recordingId, { ...progress, lastError: e.message, lastAttemptAt: new Date(now).toISOString() });
    await ctx.events.emit({
      type: 'retrying',
      recordingId,
      callId: manifest.callId,
      part: number,
      attemptedAt: new Date(attemptedAt).toISOString(),
      retryInMs: delayMs,
      reason: `${e.message}; every upload waits ${delayMs} ms (no attempt used)${now + delayMs >= deadline ? '; the next attempt falls on the retention deadline' : ''}`,
    });
    throw new RetryLater(e.message, delayMs, true, progress.failures);
  }
  const failures = progress.failures + 1;
  const delayMs = retryDelay(ctx.backoff, failures, { now, expiresAt: deadline, ...retryAfter });
  await saveProgress(ctx, recordingId, { ...progress, failures, lastError: e.message, lastAttemptAt: new Date(now).toISOString() });
  const atDeadline = now + delayMs >= deadline;
  await ctx.events.emit({
    type: 'retrying',
    recordingId,
    callId: manifest.callId,
    part: number,
    attempt: failures,
    attemptedAt: new Date(attemptedAt).toISOString(),
    retryInMs: delayMs,
    reason: `${e.message}${atDeadline ? '; the next attempt falls on the retention deadline' : ''}`,
  });
  throw new RetryLater(e.message, delayMs, false, failures);
}

/** At or past the retention deadline: the recording is deleted and reported expired, and delivery stops here. */
async function expireIfDue(ctx: PipelineContext, manifest: RecordingManifest, deadline: number, now: number): Promise<void> {
  if (now < deadline) return;
  await expireRecording(ctx, manifest, manifest.recordingId, `not delivered within the retention limit (${Math.round(ctx.retentionMs / 1000)} s)`);
  throw new RecordingExpiredError(`recording ${manifest.recordingId} expired before delivery completed`);
}

async function finish(ctx: PipelineContext, manifest: RecordingManifest, progress: DeliveryProgress): Promise<DeliverOutcome> {
  const recordingId = manifest.recordingId;
  // The plaintext capture went after conversion, unless that run was cut short after writing the manifest and the
  // recording was delivered by a run that did not convert it: no capture outlives its delivery. The manifest names
  // the files the conversion read, so this is a few unlinks, not a search of the capture directory.
  await deleteSegments(manifest.capture.converted ?? []);
  await ctx.store.writeTombstone({
    recordingId,
    callId: manifest.callId,
    state: 'delivered',
    at: new Date(ctx.clock()).toISOString(),
    parts: progress.parts.length,
  });
  const claimed = await ctx.store.claim(recordingId);
  // Claimed by another run of the same recording meanwhile: that run deletes the files and reports it, once.
  if (claimed === false) return { kind: 'already-finished' };
  await ctx.store.purge(claimed);
  await ctx.events.emit({
    type: 'uploaded',
    recordingId,
    callId: manifest.callId,
    parts: progress.parts.length,
    bytes: progress.parts.reduce((s, p) => s + p.size, 0),
    reason: `all ${progress.parts.length} part(s) confirmed by the CRM; local files deleted`,
  });
  return { kind: 'delivered', parts: progress.parts.length };
}

