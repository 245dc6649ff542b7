/**
 * The one place where the engine's reasons for refusing or ending a call
 * become SIP responses (RFC 3261 §21). Code names a reason; this table picks
 * the status and phrase.
 */
import type { SrfResponse } from './srf.js';

export const RejectReasons = {
  /** The dialed number selects no queue. */
  UNKNOWN_NUMBER: { status: 404, phrase: 'Not Found' },
  /** Max-Forwards reached zero: a routing loop through us (RFC 3261 §16.3, applied by this B2BUA). */
  TOO_MANY_HOPS: { status: 483, phrase: 'Too Many Hops' },
  /** Every agent was tried (or the queue has none). */
  NO_AGENT: { status: 480, phrase: 'No Agent Available' },
  /** A bug or an unexpected failure inside the engine. */
  INTERNAL: { status: 500, phrase: 'Server Internal Error' },
  /** The engine is stopping. */
  SHUTTING_DOWN: { status: 503, phrase: 'Service Unavailable' },
} as const;

export type RejectReason = keyof typeof RejectReasons;

/** Sends the final response for `reason` unless one was already sent. */
export function reject(res: SrfResponse, reason: RejectReason, headers: Readonly<Record<string, string>> = {}): void {
  if (res.finalResponseSent) return;
  const r = RejectReasons[reason];
  res.send(r.status, r.phrase, { headers: { ...headers } });
}
