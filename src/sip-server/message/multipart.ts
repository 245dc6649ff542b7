/**
 * Multipart bodies, RFC 2046 §5.1 as SIP uses them (RFC 5621): the parts
 * between `--boundary` delimiter lines, each with its own MIME headers
 * (Content-Type, Content-Disposition, ...) and content. Carriers send
 * multipart/mixed with an SDP part and an ISUP part (RFC 3204).
 */
import { headerKey } from './header-names.js';
import { parseMediaType, type MediaType } from './media-type.js';

export interface BodyPart {
  /** The part's Content-Type; RFC 2046 §5.1: text/plain when absent. */
  readonly type: MediaType;
  /** Lower-case header names to values. */
  readonly headers: ReadonlyMap<string, string>;
  readonly content: Buffer;
}

/** Multipart subtypes whose parts are read (RFC 5621 §3). */
export const MULTIPART_TYPES: readonly string[] = ['multipart/mixed', 'multipart/alternative', 'multipart/related'];

const TEXT_PLAIN: MediaType = { essence: 'text/plain', params: new Map() };

/**
 * The parts of a multipart body with this boundary; undefined when the body
 * has no delimiter line, or a part has no empty line ending its headers or a
 * malformed Content-Type. The preamble and epilogue are ignored (§5.1.1).
 */
export function parseMultipart(body: Buffer, boundary: string): BodyPart[] | undefined {
  if (boundary === '' || boundary.length > 70) return undefined;
  const text = body.toString('latin1');
  const delimiter = `--${boundary}`;
  // Delimiter lines: at the start of the body or after a line end, followed by optional `--`, LWS and a line end.
  const starts: { at: number; end: number; close: boolean }[] = [];
  let from = 0;
  while (from <= text.length) {
    const i = text.indexOf(delimiter, from);
    if (i < 0) break;
    from = i + delimiter.length;
    if (i > 0 && text[i - 1] !== '\n') continue;
    const close = text.startsWith('--', from);
    let j = close ? from + 2 : from;
    while (text[j] === ' ' || text[j] === '\t') j++;
    if (j < text.length && text[j] !== '\r' && text[j] !== '\n') continue;
    const lineEnd = text[j] === '\r' && text[j + 1] === '\n' ? j + 2 : j < text.length ? j + 1 : j;
    starts.push({ at: i, end: lineEnd, close });
    if (close) break;
  }
  if (starts.length < 2 || starts[0]!.close) return undefined;
  const parts: BodyPart[] = [];
  for (let k = 0; k + 1 < starts.length; k++) {
    const begin = starts[k]!.end;
    // The line end before the next delimiter belongs to the delimiter (§5.1.1).
    let stop = starts[k + 1]!.at;
    if (text[stop - 1] === '\n') stop--;
    if (text[stop - 1] === '\r') stop--;
    const part = parsePart(body.subarray(begin, Math.max(begin, stop)));
    if (part === undefined) return undefined;
    parts.push(part);
  }
  return parts;
}

function parsePart(bytes: Buffer): BodyPart | undefined {
  const text = bytes.toString('latin1');
  const headers = new Map<string, string>();
  let content: Buffer;
  // A part that starts with its empty line has no headers.
  if (text.startsWith('\r\n') || text.startsWith('\n')) {
    content = bytes.subarray(text.startsWith('\r\n') ? 2 : 1);
  } else {
    const m = /\r?\n\r?\n/.exec(text);
    if (m === null) return undefined;
    let last = '';
    for (const line of text.slice(0, m.index).split(/\r?\n/)) {
      if (/^[ \t]/.test(line) && last !== '') {
        headers.set(last, `${headers.get(last)!} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      last = headerKey(line.slice(0, colon).trim());
      headers.set(last, line.slice(colon + 1).trim());
    }
    content = bytes.subarray(m.index + m[0].length);
  }
  const ct = headers.get('content-type');
  const type = ct === undefined ? TEXT_PLAIN : parseMediaType(ct);
  if (type === undefined) return undefined;
  return { type, headers, content };
}
