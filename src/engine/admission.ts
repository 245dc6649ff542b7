/**
 * Whether a new INVITE becomes a call, before any resource is spent on it:
 * refused while the engine drains (503 with Retry-After), from a source no
 * trunk claims when unknown sources are refused (403), at Max-Forwards 0
 * (483: a loop through proxies and this B2BUA), for a number its trunk may
 * not call (403), when the dialed number selects no queue (404), and when
 * its trunk is over its call rate or concurrent calls (503 with Retry-After;
 * checked last, so a call refused anyway costs the trunk nothing). An
 * admitted call gets its trunk (with the slot it holds until it ends), its
 * queue and its language (of the languages the caller accepts, by Accept-Language
 * quality, the first the configuration serves; else the default).
 */
import { matchLanguageKey } from '../policy/languages.js';
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
/** RFC 2616 §3.9 qvalue: 0 to 1, at most three decimals. */
const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

/**
 * The caller's preferred language from Accept-Language (RFC 3261 §20.3, with RFC 2616 §14.4's
 * preferences): the tags by quality, highest first, equal qualities in the order given; `q=0` means
 * "not acceptable" and is never chosen. The first well-formed tag in that order; undefined when none.
 * CHOICE: an entry whose q is malformed is dropped (never a guessed preference); `*` as the best
 * (any language will do) gives undefined, so the default language serves; the primary subtag is
 * compared in lower case (BCP 47 tags are case-insensitive: `DE-at` is `de-at`).
 *
 * With `served` (the languages the configuration has hours or messages in), the first tag in that
 * order that one of them matches, itself or by a shorter prefix (`es-MX` is served by `es`, RFC 4647
 * lookup): `fr, es;q=0.8` gets `es` when only English and Spanish are served. A caller none of whose
 * languages is served gets undefined: the default language.
 */
export function preferredLanguage(header: string | undefined, served?: readonly string[]): string | undefined {
  if (header === undefined) return undefined;
  const ranked: { tag: string; q: number }[] = [];
  for (const entry of header.split(',')) {
    const [range, ...params] = entry.split(';').map((p) => p.trim());
    if (range === undefined || range === '') continue;
    let q = 1;
    let ok = true;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'q') continue;
      const value = param.slice(eq + 1).trim();
      if (QVALUE.test(value)) q = Number(value);
      else ok = false;
    }
    if (ok && q > 0) ranked.push({ tag: range, q });
  }
  // Array.prototype.sort is stable: equal qualities keep the caller's order.
  ranked.sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag === '*') return undefined;
    const dash = tag.indexOf('-');
    const normal = dash < 0 ? tag.toLowerCase() : tag.slice(0, dash).toLowerCase() + tag.slice(dash);
    if (LANGUAGE_TAG.test(normal) && (served === undefined || matchLanguageKey(served, normal) !== undefined)) return normal;
  }
  return undefined;
}

export interface AdmissionRules {
  readonly draining: boolean;
  readonly retryAfterSeconds: number;
  readonly defaultLanguage: string;
  /** The languages the configuration has hours or messages in (servedLanguages); the caller's choice is made among them. */
  readonly languages: readonly string[];
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
  // A trunk's own limits; every unknown source shares one set (trunks.unknownSourceLimits).
  const slot = (trunk?.limiter ?? trunks.unknownLimiter).acquire();
  if (!slot.ok) {
    const reason = trunk !== undefined ? (slot.limit === 'rate' ? 'TRUNK_RATE_LIMIT' : 'TRUNK_CALL_LIMIT') : slot.limit === 'rate' ? 'UNKNOWN_SOURCES_RATE_LIMIT' : 'UNKNOWN_SOURCES_CALL_LIMIT';
    return refuse(reason, { 'Retry-After': String(slot.retryAfterSeconds) });
  }
  const release = slot.release;
  return { admitted: true, queue, dialed, trunk, release, language: preferredLanguage(invite.header('Accept-Language'), rules.languages) ?? rules.defaultLanguage };
}

export function rejectionOf(a: Extract<Admission, { admitted: false }>): { status: number; phrase: string } {
  const r = RejectReasons[a.reason];
  return { status: r.status, phrase: r.phrase };
}
