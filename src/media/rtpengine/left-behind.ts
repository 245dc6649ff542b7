/**
 * Sessions a previous run of the engine left at an external rtpengine when it
 * died (SIGKILL, a crash, the kernel's OOM killer) with calls live. Nobody
 * told rtpengine, so each kept its ports, and its capture when recorded, until
 * rtpengine's own timeout, set past the longest call (hours). The next start
 * knows exactly which calls those were (the live-call journal,
 * src/engine/live-call-journal.ts) and deletes their sessions: the call's own
 * (rtpengine's call-id is the engine's call id) and its supervisor relay legs
 * (`<call>~<label>`: their labels are not journaled, so they are found in
 * rtpengine's `list`). Never any other: an rtpengine may be shared with other
 * engines. The start does not wait for it: an rtpengine that does not answer is
 * asked again in the background, its `list` with back-off and each delete
 * through DeleteRetries. The embedded rtpengine needs none of this: it starts
 * anew with the engine.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from '../../observability/logger.js';
import { isUnknownCallError, RtpengineTimeoutError } from '../media-errors.js';
import type { DeleteRetries } from './delete-retries.js';
import type { RtpengineInstance } from './rtpengine-pool.js';

/**
 * Call-ids asked of `list`: its reply is one ng datagram (UDP, at most 64 KiB),
 * which about a thousand call-ids fill. A relay leg of a shared rtpengine
 * carrying more calls may not be listed (docs/architecture.md, known limits).
 */
const LIST_LIMIT = 1000;

export interface LeftBehindOptions {
  readonly logger: Logger;
  /** Deletes that time out are handed to it (asked again with back-off). */
  readonly retries: DeleteRetries;
  /** Ends the asking (the media plane closes). */
  readonly signal: AbortSignal;
  readonly listAttempts?: number;
  readonly firstDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** The call's id, for one of its relay legs (`<call>~<label>`); undefined for any other call-id. */
function ownerOf(id: string): string | undefined {
  const i = id.indexOf('~');
  return i > 0 ? id.slice(0, i) : undefined;
}

/** Deletes session `id` at `instance`: whether it was there; one that times out is asked again in the background. */
async function deleteSession(instance: RtpengineInstance, id: string, o: LeftBehindOptions): Promise<boolean> {
  try {
    await instance.client.request('delete', { 'call-id': id, 'delete-delay': 0 });
    return true;
  } catch (e) {
    if (isUnknownCallError(e)) return false;
    if (e instanceof RtpengineTimeoutError) o.retries.add(instance, id);
    else o.logger.warn({ rtpengine: instance.id, rtpengineCallId: id, err: (e as Error).message }, 'rtpengine refused to delete a session left by the previous run');
    return false;
  }
}

/** rtpengine's call-ids, asked until it answers (bounded); undefined when it never did or the media plane closed. */
async function listed(instance: RtpengineInstance, o: LeftBehindOptions): Promise<readonly string[] | undefined> {
  const attempts = o.listAttempts ?? 8;
  for (let attempt = 1; attempt <= attempts && !o.signal.aborted; attempt++) {
    try {
      return (await instance.client.request('list', { limit: LIST_LIMIT })).calls;
    } catch (e) {
      if (!(e instanceof RtpengineTimeoutError) || instance.client.closed || attempt === attempts) break;
      o.logger.warn({ rtpengine: instance.id, attempt }, 'rtpengine does not answer: the sessions the previous run left there are asked about again later');
      const delay = Math.min(o.maxDelayMs ?? 60_000, (o.firstDelayMs ?? 2000) * 2 ** (attempt - 1));
      await wait(delay, undefined, { signal: o.signal }).catch(() => undefined);
    }
  }
  return undefined;
}

/**
 * Deletes at `instance` the sessions of `callIds`, calls of a previous run
 * that died with them live: each call's own at once, then its relay legs as
 * `list` shows them. Resolves when done (or given up, said in the log); never rejects.
 */
export async function deleteLeftBehind(instance: RtpengineInstance, callIds: readonly string[], o: LeftBehindOptions): Promise<void> {
  const owners = new Set(callIds);
  try {
    const calls = Promise.all(callIds.map((id) => deleteSession(instance, id, o)));
    const all = await listed(instance, o);
    const legs = (all ?? []).filter((id) => owners.has(ownerOf(id) ?? ''));
    const deleted = [...(await calls), ...(await Promise.all(legs.map((id) => deleteSession(instance, id, o))))].filter(Boolean).length;
    if (all === undefined && !o.signal.aborted) o.logger.warn({ rtpengine: instance.id }, 'rtpengine never listed its calls: relay legs of calls the previous run left there stay until its own timeout');
    if (deleted > 0) o.logger.info({ rtpengine: instance.id, sessions: deleted, calls: callIds.length }, 'sessions left at rtpengine by the previous run deleted');
  } catch (e) {
    o.logger.warn({ rtpengine: instance.id, err: (e as Error).message }, 'sessions left at rtpengine by the previous run not deleted');
  }
}
