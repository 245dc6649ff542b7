/**
 * Whether a new INVITE becomes a call, before any resource is spent on it:
 * refused while the engine drains (503 with Retry-After), from a source no
 * trunk claims when unknown sources are refused (403), at Max-Forwards 0
 * (483: a loop through proxies and this B2BUA), for a number its trunk may
 * not call (403), when the dialed number selects no queue (404), and when
 * its trunk is over its call rate or concurrent calls (503 with Retry-After;
 * checked last, so a call refused anyway costs the trunk nothing). An
 * admitted call gets its trunk (with the slot it holds until it ends), its
 * queue and its language (the caller's Accept-Language when it names one,
 * else the default).
 */
import type { InboundInvite } from './signaling/sip-port.js';
import { dialedNumber } from './signaling/srf-leg.js';
import type { Queue, QueueDirectory } from './queue-directory.js';
import { RejectReasons, type RejectReason } from './sip-errors.js';
import type { InboundTrunk, InboundTrunks } from './trunks/inbound-trunks.js';

export type Admission =
  | {
      readonly admitted: true;
      readonly queue: Queue;
      readonly dialed: string;
      readonly language: string;
      /** undefined: an unknown source, accepted untrusted. */
      readonly trunk: InboundTrunk | undefined;
      /** Gives the trunk's call slot back (owned by the session). */
      readonly release: () => void;
    }
  | { readonly admitted: false; readonly reason: RejectReason; readonly dialed: string; readonly trunk: InboundTrunk | undefined; readonly headers?: Readonly<Record<string, string>> };

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

export function admit(invite: InboundInvite, directory: QueueDirectory, rules: AdmissionRules, trunks: InboundTrunks): Admission {
  const dialed = dialedNumber(invite.uri) ?? '';
  const trunk = trunks.identify(invite.source);
  const refuse = (reason: RejectReason, headers?: Readonly<Record<string, string>>): Admission => ({ admitted: false, reason, dialed, trunk, ...(headers !== undefined ? { headers } : {}) });
  if (rules.draining) return refuse('SHUTTING_DOWN', { 'Retry-After': String(rules.retryAfterSeconds) });
  if (trunk === undefined && trunks.refuseUnknown) return refuse('UNKNOWN_SOURCE');
  if (invite.maxForwards <= 0) return refuse('TOO_MANY_HOPS');
  if (trunk !== undefined && !trunk.allows(dialed)) return refuse('NUMBER_NOT_ALLOWED');
  const queue = directory.forNumber(dialed);
  if (queue === undefined) return refuse('UNKNOWN_NUMBER');
  let release = (): void => undefined;
  if (trunk !== undefined) {
    const slot = trunk.limiter.acquire();
    if (!slot.ok) return refuse(slot.limit === 'rate' ? 'TRUNK_RATE_LIMIT' : 'TRUNK_CALL_LIMIT', { 'Retry-After': String(slot.retryAfterSeconds) });
    release = slot.release;
  }
  return { admitted: true, queue, dialed, trunk, release, language: preferredLanguage(invite.header('Accept-Language')) ?? rules.defaultLanguage };
}

export function rejectionOf(a: Extract<Admission, { admitted: false }>): { status: number; phrase: string } {
  const r = RejectReasons[a.reason];
  return { status: r.status, phrase: r.phrase };
}
