/**
 * Who is calling, from the INVITE's header lines and whether its source is a
 * trusted trunk.
 *
 * P-Asserted-Identity is the identity a trust domain asserts (RFC 3325): it
 * counts only from a trusted trunk, and from anywhere else it is ignored
 * (§5: "MUST ... remove" an identity received from outside the trust domain;
 * §9.1), so an unknown source cannot make an anonymous call look like a
 * known customer. From a trusted trunk, its first identity with a usable
 * number wins over From. P-Preferred-Identity (§9.2, a user agent's wish to a
 * proxy that authenticates it) and Remote-Party-ID (a draft RFC 3325
 * replaced) are never read: nothing here authenticates the caller.
 *
 * Identities may be SIP/SIPS URIs (the number is the user part) or tel URIs
 * (RFC 3966; RFC 3261 §19.1.6 allows them in From, RFC 3325 §9.1 in
 * P-Asserted-Identity): the number is the telephone-subscriber with its
 * visual separators (`-`, `.`, `(`, `)`) removed and its leading `+` kept,
 * as in a SIP URI with `user=phone`.
 *
 * The caller is withheld when the number is absent, unusable, or a placeholder
 * (`anonymous`, `restricted`...), or when Privacy asks for `id`, `header` or
 * `user` (RFC 3323 §4.2, RFC 3325 §9.3): a request for privacy is honoured from
 * any source.
 */
import { isWithheldPlaceholder } from '../../recordings/crm/contact.js';
import { splitOutside } from '../reserved/header-text.js';
import type { CallerIdentity } from './sip-port.js';

/** A number we may write back into a URI's user part (RFC 3261 §25.1 user: unreserved, escaped, user-unreserved but ";"). */
const SAFE_NUMBER = /^[A-Za-z0-9\-_.!~*'()&=+$,?/%]{1,64}$/;

/** A tel URI's number once its visual separators are gone: global (`+` and digits) or local digits. */
const TEL_NUMBER = /^\+?[0-9]{1,32}$/;

/** RFC 3966 visual-separator. */
const VISUAL_SEPARATORS = /[-.()]/g;


/**
 * A display name we may write back into a quoted-string (drachtio-srf quotes it without escaping):
 * no quote or backslash, no control character (C0, C1 with NEL), no line or paragraph separator,
 * no bidirectional or zero-width formatting, so nothing can end the quoted string or disguise
 * itself on an agent's screen. Other UTF-8 (Zoë, 山田) is a name like any other.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_NAME = /["\\\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;

interface Identity {
  /** The number as the URI gives it (undefined: none, or not one we can use). */
  readonly number: string | undefined;
  readonly name: string | undefined;
}

/** A quoted-string's content (RFC 3261 §25.1), or a token display name as written. */
function displayNameOf(text: string): string | undefined {
  const t = text.replace(/^[ \t]+|[ \t]+$/g, '');
  if (t === '') return undefined;
  const quoted = /^"((?:[^"\\]|\\[^])*)"$/.exec(t);
  return quoted !== null ? quoted[1]!.replace(/\\([^])/g, '$1') : t;
}

/** The number of a sip:, sips: or tel: URI; undefined for another scheme or no usable number. */
export function numberOfUri(uri: string): string | undefined {
  const m = /^(sips?|tel):([^]*)$/i.exec(uri.replace(/^[ \t]+|[ \t]+$/g, ''));
  if (m === null) return undefined;
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'tel') {
    const number = rest.split(';')[0]!.replace(VISUAL_SEPARATORS, '');
    return TEL_NUMBER.test(number) ? number : undefined;
  }
  const at = rest.lastIndexOf('@');
  if (at < 0) return undefined;
  // The user part, without a password or the telephone-subscriber's own parameters (`;verstat=...`).
  const user = rest.slice(0, at).split(';')[0]!.split(':')[0]!;
  const uriParams = rest.slice(at + 1).split('?')[0]!.toLowerCase();
  // With user=phone the user part is a telephone-subscriber (RFC 3261 §19.1.1): separators are visual only.
  const number = /;[ \t]*user[ \t]*=[ \t]*phone\b/.test(uriParams) ? user.replace(VISUAL_SEPARATORS, '') : user;
  return SAFE_NUMBER.test(number) ? number : undefined;
}

/** Where `c` first occurs outside a quoted-string (RFC 3261 §25.1, `\\` escapes); -1 when it does not. */
function indexOutsideQuotes(text: string, c: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted && ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === c) return i;
  }
  return -1;
}

/** One name-addr or addr-spec (RFC 3261 §20.10): its display name and the number of its URI. */
function identityOf(value: string): Identity {
  const lt = indexOutsideQuotes(value, '<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    if (gt < 0) return { number: undefined, name: undefined };
    return { number: numberOfUri(value.slice(lt + 1, gt)), name: displayNameOf(value.slice(0, lt)) };
  }
  // addr-spec: what follows the first ";" are header parameters (a tag), not the URI's.
  return { number: numberOfUri(value.split(';')[0]!), name: undefined };
}

function usableName(name: string | undefined): string | undefined {
  return name === undefined || name === '' || name.length > 64 || UNSAFE_NAME.test(name) ? undefined : name;
}

/** Privacy values (RFC 3323 §4.2) that withhold the caller's identity. */
function privacyWithholds(lines: readonly string[]): boolean {
  return lines.some((l) => l.split(/[;,]/).some((v) => /^[ \t]*(id|header|user)[ \t]*$/i.test(v)));
}

/**
 * The caller's identity from the INVITE (`lines(name)`: every header line of that name, in order).
 * `trusted`: the INVITE came from a trusted trunk, whose P-Asserted-Identity is believed.
 */
export function callerIdentityOf(lines: (name: string) => readonly string[], trusted: boolean): CallerIdentity {
  let chosen: Identity | undefined;
  if (trusted) {
    for (const line of lines('P-Asserted-Identity')) {
      for (const value of splitOutside(line, ',')) {
        const id = identityOf(value);
        if (id.number !== undefined && !isWithheldPlaceholder(id.number)) {
          chosen = id;
          break;
        }
      }
      if (chosen !== undefined) break;
    }
  }
  if (chosen === undefined) {
    const from = lines('From');
    // One From (RFC 3261 §20.20); two lines are no identity at all.
    chosen = from.length === 1 ? identityOf(from[0]!) : { number: undefined, name: undefined };
  }
  const withheld = chosen.number === undefined || isWithheldPlaceholder(chosen.number) || privacyWithholds(lines('Privacy'));
  return withheld ? { number: undefined, name: undefined, withheld: true } : { number: chosen.number, name: usableName(chosen.name), withheld: false };
}
