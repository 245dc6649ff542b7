/**
 * The header lines of a SIP message as received (RFC 3261 §7.3): every
 * field in order, repeated ones kept apart, folded lines unfolded (§7.3.1:
 * a line starting with SP or HTAB continues the previous one), compact forms
 * expanded (§7.3.3, §20). drachtio-srf joins repeated headers with commas,
 * which makes `X: true` + `X: false` look like one `X: true,false`; reading
 * untrusted headers needs to see each line.
 */

/** Compact forms (RFC 3261 §7.3.3 and the RFCs that added one). */
const COMPACT: Readonly<Record<string, string>> = {
  i: 'call-id',
  m: 'contact',
  e: 'content-encoding',
  l: 'content-length',
  c: 'content-type',
  f: 'from',
  s: 'subject',
  k: 'supported',
  t: 'to',
  v: 'via',
  r: 'refer-to',
  b: 'referred-by',
  o: 'event',
  u: 'allow-events',
  x: 'session-expires',
  y: 'identity',
  a: 'accept-contact',
  j: 'reject-contact',
  d: 'request-disposition',
};

/** SP and HTAB only (RFC 3261 §25.1): trim() would also eat U+2028, U+00A0, U+FEFF, which are content. */
function lws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

export interface HeaderLine {
  /** Lower case, compact forms expanded. */
  readonly name: string;
  /** Leading and trailing SP/HTAB removed. */
  readonly value: string;
}

/** The header lines of `raw` (a whole message; the body is ignored). */
export function headerLines(raw: string): HeaderLine[] {
  const end = /\r?\n\r?\n/.exec(raw);
  const head = end === null ? raw : raw.slice(0, end.index);
  const physical = head.split(/\r?\n/).slice(1);
  const logical: string[] = [];
  for (const line of physical) {
    if (/^[ \t]/.test(line) && logical.length > 0) logical[logical.length - 1] += ` ${lws(line)}`;
    else logical.push(line);
  }
  const out: HeaderLine[] = [];
  for (const line of logical) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = lws(line.slice(0, colon)).toLowerCase();
    out.push({ name: COMPACT[name] ?? name, value: lws(line.slice(colon + 1)) });
  }
  return out;
}

/** Every value of the header `name` (any case, compact form accepted), in order. */
export function valuesOf(lines: readonly HeaderLine[], name: string): string[] {
  const n = name.toLowerCase();
  const wanted = COMPACT[n] ?? n;
  return lines.filter((l) => l.name === wanted).map((l) => l.value);
}
