/**
 * Header fields of a raw SIP message (RFC 3261 §7.3): every field of a header
 * as received, one per field, compact forms (§7.3.3) included and folded lines
 * joined. drachtio-srf's own accessors join repeated fields with a comma,
 * which is wrong for Authorization (§7.3.1 forbids combining it) and
 * ambiguous for Contact.
 */

/** RFC 3261 §7.3.3 compact header names (and RFC 3515, 3892, 4028 ones). */
const COMPACT: Record<string, string> = { m: 'contact', i: 'call-id', f: 'from', t: 'to', v: 'via', l: 'content-length', c: 'content-type', e: 'content-encoding', k: 'supported', s: 'subject', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by', x: 'session-expires' };

/**
 * Every field of header `name` in a raw message head, in order, with folded
 * lines joined (RFC 3261 §7.3.1). drachtio-srf joins repeated fields with a
 * comma, which is wrong for Authorization and ambiguous for Contact.
 */
export function headerFields(raw: string, name: string): string[] {
  const end = raw.search(/\r?\n\r?\n/);
  const lines = (end < 0 ? raw : raw.slice(0, end)).split(/\r?\n/).slice(1);
  const unfolded: string[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && unfolded.length > 0) unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    else unfolded.push(line);
  }
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if ((COMPACT[key] ?? key) === wanted) out.push(line.slice(colon + 1).trim());
  }
  return out;
}

