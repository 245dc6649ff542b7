/**
 * Header values as untrusted text: the strict flag grammar, the checks a
 * value must pass before it may leave in one of our requests, and a safe
 * description of a refused value for the logs.
 *
 * A value sent on is printable ASCII only (%x20-7E). RFC 3261 §25.1 allows
 * UTF-8 and folded whitespace in header values, but a value we copy could
 * then carry what some stack reads as a line end (NEL U+0085, LS U+2028), a
 * bidi override or a homoglyph to the agent's screen; refusing is the only
 * reading that cannot inject a header or a false flag.
 */

/**
 * Removes SP and HTAB at both ends: the only whitespace SIP has (RFC 3261 §25.1 LWS). Never
 * String.prototype.trim, which also removes U+2028, U+00A0, U+FEFF...: "true\u2028" would become a flag.
 */
export function trimLws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/** The flag grammar: true/false/1/0/yes/no in any case, nothing else (no spaces inside, no Unicode look-alikes). */
export function strictBoolean(text: string): boolean | undefined {
  const t = trimLws(text);
  if (!/^[A-Za-z01]{1,5}$/.test(t)) return undefined;
  switch (t.toLowerCase()) {
    case 'true':
    case '1':
    case 'yes':
      return true;
    case 'false':
    case '0':
    case 'no':
      return false;
    default:
      return undefined;
  }
}

/** Whether `text` may go into a header we send: printable ASCII, no leading or trailing space, not empty. */
export function isSafeHeaderValue(text: string, maxBytes = 256): boolean {
  return text.length > 0 && text.length <= maxBytes && /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(text);
}

/** A refused value as logs show it: quoted, control and non-ASCII characters escaped, at most 64 characters. */
export function describeValue(text: string): string {
  const shown = text.length > 64 ? `${text.slice(0, 64)}…` : text;
  return JSON.stringify(shown).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Splits on `sep` outside double-quoted strings (RFC 3261 §25.1 quoted-string, with \\ escapes) and outside <...>. */
export function splitOutside(text: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"' && !angle) quoted = !quoted;
    else if (!quoted && c === '<') angle = true;
    else if (!quoted && c === '>') angle = false;
    else if (!quoted && !angle && c === sep) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** RFC 3261 §25.1 token. */
export const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
