/**
 * The CRM contact a recording is filed under. A caller who withheld their
 * identity gets a contact named after the channel and the time of the call,
 * in the pattern of the product documentation for unauthenticated consumers
 * ("Web User - 10/05 10:15", "Mobile User - 05/10 10.15"): for phone calls,
 * "Phone User - MM/DD HH:mm" in the configured time zone.
 */
import type { Contact, PartyInfo } from '../store/manifest.js';

/**
 * Caller-id values that mean "no identity" (RFC 3323's anonymous From, carriers' placeholders). The
 * engine's caller identity (engine/signaling/caller-identity.ts) uses the same list, so a call, its
 * record, its agent and its CRM contact agree on who is withheld.
 */
const WITHHELD = /^(anonymous|restricted|unavailable|unknown|private|withheld|blocked|anonymous\.invalid)$/i;

export function isWithheldPlaceholder(value: string): boolean {
  return WITHHELD.test(value.trim());
}

/** A caller-id that is a telephone number (has a digit): what a contact's `phone` can be. */
function phoneOf(caller: PartyInfo): string | undefined {
  const n = caller.number?.trim() ?? '';
  return n !== '' && /[0-9]/.test(n) && !WITHHELD.test(n) ? n : undefined;
}

/**
 * No identity: withheld (Privacy, an anonymous From, a placeholder), or neither a number nor a name
 * (a SIP user such as `bob` with no display name). A named caller without a number (`"Bob Smith"
 * <sip:bob@example.com>`) is a named contact without a phone.
 */
export function isAnonymousCaller(caller: PartyInfo): boolean {
  if (caller.anonymous === true || isWithheldPlaceholder(caller.number ?? '')) return true;
  return phoneOf(caller) === undefined && (caller.name?.trim() ?? '') === '';
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
  const phone = phoneOf(caller);
  return { name: caller.name?.trim() || phone!, ...(phone !== undefined ? { phone } : {}), anonymous: false };
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
