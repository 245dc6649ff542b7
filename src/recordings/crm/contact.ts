/**
 * The CRM contact a recording is filed under. A caller who withheld their
 * identity gets a contact named after the channel and the time of the call,
 * in the pattern of the product documentation for unauthenticated consumers
 * ("Web User - 10/05 10:15", "Mobile User - 05/10 10.15"): for phone calls,
 * "Phone User - MM/DD HH:mm" in the configured time zone.
 */
import type { Contact, PartyInfo } from '../store/manifest.js';

/** Caller-id values that mean "no identity" (RFC 3323 anonymous From, carriers' placeholders). */
const WITHHELD = /^(anonymous|restricted|unavailable|unknown|private|withheld|blocked|anonymous\.invalid)$/i;

export function isAnonymousCaller(caller: PartyInfo): boolean {
  if (caller.anonymous === true) return true;
  const n = caller.number?.trim() ?? '';
  return n === '' || WITHHELD.test(n) || !/[0-9]/.test(n);
}

/** "Phone User - 10/05 10:15" for the given instant in `timeZone`. */
export function anonymousContactName(channel: string, at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '00';
  return `${channel} User - ${get('month')}/${get('day')} ${get('hour')}:${get('minute')}`;
}

export function contactFor(caller: PartyInfo, startedAt: Date, options: { channel: string; timeZone: string }): Contact {
  if (isAnonymousCaller(caller)) {
    return { name: anonymousContactName(options.channel, startedAt, options.timeZone), anonymous: true };
  }
  const phone = caller.number!.trim();
  return { name: caller.name?.trim() || phone, phone, anonymous: false };
}

/** A ConfigCheck helper: is this an IANA time zone Intl knows? */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}
