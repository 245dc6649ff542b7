/**
 * The header section of a SIP message, RFC 3261 §7 and §25.1: where it ends
 * (§7.5, the first empty line), its lines (CRLF, or bare LF from lenient
 * senders), the header fields with folded continuation lines joined (§7.3.1),
 * and the characters a field value may contain.
 */
import { TOKEN_RE, headerKey } from './header-names.js';
import type { HeaderField } from './sip-message.js';

/**
 * Where the header section ends: `index` is where the last header line's
 * terminator starts, `sepLength` the bytes of that terminator plus the empty
 * line. CRLF and bare LF are both accepted, also mixed ("\n\r\n", "\r\n\n").
 */
export function findHeaderEnd(buf: Buffer, from = 0): { index: number; sepLength: number } | undefined {
  let p = buf.indexOf(0x0a, from);
  while (p >= 0) {
    const next = buf[p + 1];
    let after = -1;
    if (next === 0x0a) after = p + 2;
    else if (next === 0x0d && buf[p + 2] === 0x0a) after = p + 3;
    if (after >= 0) {
      const index = p > 0 && buf[p - 1] === 0x0d ? p - 1 : p;
      return { index, sepLength: after - index };
    }
    p = buf.indexOf(0x0a, p + 1);
  }
  return undefined;
}

/** Splits header-section text into lines, accepting CRLF and bare LF. A bare CR stays in its line. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

export interface HeaderSection {
  readonly fields: HeaderField[];
  /** The first syntax problem found (a reason fit for a Reason-Phrase: no message text is quoted). */
  readonly problem: string | undefined;
}

/**
 * Strips SP and HTAB, the only linear white space of SIP (RFC 3261 §25.1). Not String.trim(),
 * which also strips U+2028, U+00A0, U+FEFF and other Unicode spaces: those are part of a value
 * (an app reading "true\u2028" must see it, not "true").
 */
function lws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Parses header lines (all lines after the start line); `mayHaveControls`
 * false (from {@link mayHoldControlChars}) skips the per-value check. Continuation lines
 * (starting with SP or HTAB) are joined to the previous field with one SP, as
 * §7.3.1 says they are equivalent. Every line is kept even after a problem, so
 * that a 400 can still be built from the fields that were readable.
 */
export function parseHeaderLines(lines: readonly string[], mayHaveControls = true): HeaderSection {
  const fields: HeaderField[] = [];
  let problem: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    if (c === 0x20 || c === 0x09) {
      const prev = fields[fields.length - 1];
      if (prev === undefined) problem ??= 'continuation line before any header';
      else prev.value = prev.value === '' ? lws(line) : lws(`${prev.value} ${lws(line)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problem ??= `header line ${i + 1} has no colon`;
      continue;
    }
    // HCOLON = *( SP / HTAB ) ":" SWS
    const name = line.slice(0, colon).replace(/[ \t]+$/, '');
    if (!TOKEN_RE.test(name)) {
      problem ??= `malformed header name on line ${i + 1}`;
      continue;
    }
    fields.push({ name, key: headerKey(name), value: lws(line.slice(colon + 1)) });
  }
  if (problem === undefined && mayHaveControls) {
    for (const f of fields) {
      if (hasControlChar(f.value)) {
        problem = `control character in ${describe(f.key)} header`;
        break;
      }
    }
  }
  return { fields, problem };
}

// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\x00-\x08\x0a-\x1f\x7f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_IN_TEXT_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)/;

/** A quick test over a whole header section (line ends included): can any value hold a control character? */
export function mayHoldControlChars(text: string): boolean {
  return CONTROL_IN_TEXT_RE.test(text);
}

/**
 * True when a field value holds a control character that the grammar does not
 * allow there. HTAB is LWS; other controls (%x00-08, %x0B-0C, %x0E-1F, %x7F)
 * are legal only as a quoted-pair, i.e. right after a backslash (§25.1, and
 * RFC 4475 §3.1.1.1 puts NUL, BEL and DEL in a quoted display name). CR and LF
 * are never legal inside a value.
 */
export function hasControlChar(value: string): boolean {
  if (!CONTROL_RE.test(value)) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x09 || (c > 0x1f && c !== 0x7f)) continue;
    if (c === 0x0a || c === 0x0d) return true;
    if (i === 0 || value.charCodeAt(i - 1) !== 0x5c /* \ */) return true;
  }
  return false;
}

const KNOWN_NAMES: Readonly<Record<string, string>> = {
  via: 'Via',
  from: 'From',
  to: 'To',
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  contact: 'Contact',
  'content-length': 'Content-Length',
  'max-forwards': 'Max-Forwards',
};

/** A header's name for a reason phrase: only well-known names, never the received text. */
export function describe(key: string): string {
  return KNOWN_NAMES[key] ?? 'a';
}
