/**
 * Whether a new INVITE becomes a call, before any resource is spent on it:
 * refused while the engine drains (503 with Retry-After), at Max-Forwards 0
 * (483: a loop through proxies and this B2BUA), or when the dialed number
 * selects no queue (404). An admitted call gets its queue and its language
 * (the caller's Accept-Language when it names one, else the default).
 */
import type { InboundInvite } from './signaling/sip-port.js';
import { dialedNumber } from './signaling/srf-port.js';
import type { Queue, QueueDirectory } from './queue-directory.js';
import { RejectReasons, type RejectReason } from './sip-errors.js';

export type Admission =
  | { readonly admitted: true; readonly queue: Queue; readonly dialed: string; readonly language: string }
  | { readonly admitted: false; readonly reason: RejectReason; readonly dialed: string; readonly headers?: Readonly<Record<string, string>> };

const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

/** The first language of an Accept-Language header (RFC 3261 §20.3), quality ignored. */
export function preferredLanguage(header: string | undefined): string | undefined {
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first !== undefined && LANGUAGE_TAG.test(first) ? first : undefined;
}

export interface AdmissionRules {
  readonly draining: boolean;
  readonly retryAfterSeconds: number;
  readonly defaultLanguage: string;
}

export function admit(invite: InboundInvite, directory: QueueDirectory, rules: AdmissionRules): Admission {
  const dialed = dialedNumber(invite.uri) ?? '';
  if (rules.draining) return { admitted: false, reason: 'SHUTTING_DOWN', dialed, headers: { 'Retry-After': String(rules.retryAfterSeconds) } };
  if (invite.maxForwards <= 0) return { admitted: false, reason: 'TOO_MANY_HOPS', dialed };
  const queue = directory.forNumber(dialed);
  if (queue === undefined) return { admitted: false, reason: 'UNKNOWN_NUMBER', dialed };
  return { admitted: true, queue, dialed, language: preferredLanguage(invite.header('Accept-Language')) ?? rules.defaultLanguage };
}

export function rejectionOf(a: Extract<Admission, { admitted: false }>): { status: number; phrase: string } {
  const r = RejectReasons[a.reason];
  return { status: r.status, phrase: r.phrase };
}
