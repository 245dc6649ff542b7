/**
 * RFC 4028 §4, §5 and §9: the Session-Expires and Min-SE header fields and
 * the choice a UAS makes when it answers a session refresh request (initial
 * INVITE, re-INVITE or UPDATE). Pure functions; the timers live in
 * session-timers.ts.
 */
import type { HeaderField, SipHeaders } from '../message/sip-message.js';

export interface SessionExpires {
  readonly seconds: number;
  /** Who refreshes, relative to the transaction carrying the field; absent when not given. */
  readonly refresher: 'uac' | 'uas' | undefined;
}

/** Largest delta-seconds we take (RFC 3261 §25.1 allows any digits; 2^32−1 keeps arithmetic exact). */
const MAX_SECONDS = 4294967295;

function deltaSeconds(text: string): number | undefined {
  if (!/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_SECONDS ? n : undefined;
}

/** `Session-Expires: 1800;refresher=uac` (compact form `x`); 'malformed' when present but not of the grammar. */
export function parseSessionExpires(headers: SipHeaders): SessionExpires | 'malformed' | undefined {
  const values = headers.values('session-expires');
  if (values.length === 0) return undefined;
  if (values.length > 1) return 'malformed';
  const [first, ...params] = values[0]!.split(';').map((p) => p.trim());
  const seconds = deltaSeconds(first ?? '');
  if (seconds === undefined) return 'malformed';
  let refresher: 'uac' | 'uas' | undefined;
  for (const p of params) {
    const m = /^([^=\s]+)\s*(?:=\s*(\S+))?$/.exec(p);
    if (m === null) return 'malformed';
    if (m[1]!.toLowerCase() !== 'refresher') continue;
    const v = m[2]?.toLowerCase();
    if (v !== 'uac' && v !== 'uas') return 'malformed';
    refresher = v;
  }
  return { seconds, refresher };
}

/** `Min-SE: 90` (RFC 4028 §5); 'malformed' when present but not a number. */
export function parseMinSE(headers: SipHeaders): number | 'malformed' | undefined {
  const values = headers.values('min-se');
  if (values.length === 0) return undefined;
  if (values.length > 1) return 'malformed';
  const seconds = deltaSeconds((values[0]!.split(';')[0] ?? '').trim());
  return seconds ?? 'malformed';
}

/** True when an option tag is listed in Supported (compact `k`) or Require. */
export function hasOptionTag(headers: SipHeaders, name: 'supported' | 'require', tag: string): boolean {
  return headers.entries(name).some((t) => t.trim().toLowerCase() === tag);
}

/** Whether a method is listed in Allow. */
export function allows(headers: SipHeaders, method: string): boolean {
  return headers.entries('allow').some((m) => m.trim().toUpperCase() === method);
}

/** What a UAS puts in its 2xx and the timer it then runs (RFC 4028 §9). */
export interface UasDecision {
  readonly seconds: number;
  /** The value of the refresher parameter we send: 'uac' makes the peer refresh. */
  readonly refresher: 'uac' | 'uas';
  readonly peerMinSE: number;
}

/**
 * RFC 4028 §9: the interval is the request's Session-Expires (never raised;
 * we do not lower it either), or our default when it has none (not below the
 * request's Min-SE). The refresher is the one the request named; else the
 * UAC when it supports timers (it said so in Supported), else us: a UAC that
 * does not know the extension cannot be asked to refresh.
 */
export function decideAsUas(request: SipHeaders, defaultSeconds: number, current: 'uac' | 'uas' | undefined): UasDecision {
  const se = parseSessionExpires(request);
  const min = parseMinSE(request);
  const peerMinSE = typeof min === 'number' ? min : 0;
  const named = se !== undefined && se !== 'malformed' ? se.refresher : undefined;
  // A UAC naming a refresher knows the extension even when it forgot Supported: timer (§7.1 asks for both).
  const supports = named !== undefined || hasOptionTag(request, 'supported', 'timer') || hasOptionTag(request, 'require', 'timer');
  const seconds = se !== undefined && se !== 'malformed' ? se.seconds : Math.max(defaultSeconds, peerMinSE);
  const refresher = !supports ? 'uas' : (named ?? current ?? 'uac');
  return { seconds, refresher, peerMinSE };
}

/** The header fields a UAS adds to its 2xx for a decision: Session-Expires, and Require: timer when the UAC refreshes (§9). */
export function uasResponseFields(d: UasDecision): HeaderField[] {
  const fields: HeaderField[] = [{ name: 'Session-Expires', key: 'session-expires', value: `${d.seconds};refresher=${d.refresher}` }];
  if (d.refresher === 'uac') fields.push({ name: 'Require', key: 'require', value: 'timer' });
  return fields;
}

/**
 * RFC 4028 §10: the side that does not refresh ends the session slightly
 * before it expires, by the minimum of 32 seconds and a third of the interval.
 */
export function expiryMarginMs(seconds: number): number {
  return Math.min(32_000, (seconds * 1000) / 3);
}

/** Adds `timer` to the first Supported field, or a Supported field when there is none. */
export function withSupportedTimer(fields: HeaderField[]): void {
  const i = fields.findIndex((f) => f.key === 'supported');
  if (i < 0) {
    fields.push({ name: 'Supported', key: 'supported', value: 'timer' });
    return;
  }
  const f = fields[i]!;
  if (f.value.split(',').some((t) => t.trim().toLowerCase() === 'timer')) return;
  fields[i] = { name: f.name, key: f.key, value: f.value.trim() === '' ? 'timer' : `${f.value}, timer` };
}
