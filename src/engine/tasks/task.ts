/**
 * A feature of a call (answer, hunt, whisper, bridge, record, deflect-message,
 * deflect-number, voicemail) is a task: something a session runs with the
 * call's context, that stops when `signal` aborts (the call ended), and that
 * undoes what it started on every exit through one cleanup path.
 */
import type { CallContext } from '../flows/call-context.js';
import { DialGivenUp } from '../signaling/sip-port.js';

export interface Task<R> {
  readonly name: string;
  run(ctx: CallContext, signal: AbortSignal): Promise<R>;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** The error a task throws when its call ended under it. */
export class CallGoneError extends Error {
  constructor() {
    super('the call ended');
  }
}

export function abortReason(signal: AbortSignal): Error {
  // A DialGivenUp says why to the agents' CANCELs (the caller's Reason), not what went wrong: the call is gone.
  const why: unknown = signal.reason;
  return why instanceof Error && !(why instanceof DOMException) && !(why instanceof DialGivenUp) ? why : new CallGoneError();
}

/** Throws CallGoneError when the call has ended. */
export function checkpoint(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}
