/**
 * Media types in SIP headers: Content-Type (RFC 3261 §20.15, media-type with
 * parameters), Accept (§20.1, media-ranges with q-values) and
 * Content-Encoding (§20.12). Type and subtype compare case-insensitively
 * (RFC 2045 §5.1); parameter values keep their case.
 */
import { splitList } from './name-addr.js';

export interface MediaType {
  /** `type/subtype`, lower-case. */
  readonly essence: string;
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN = "[A-Za-z0-9\\-.!%*_+`'~]+";
const TYPE_RE = new RegExp(`^(${TOKEN})[ \\t]*/[ \\t]*(${TOKEN})[ \\t]*(;.*)?$`, 's');
const PARAM_RE = new RegExp(`^[ \\t]*(${TOKEN})[ \\t]*=[ \\t]*(?:(${TOKEN})|"((?:[^"\\\\]|\\\\.)*)")[ \\t]*$`, 's');

/** Splits `;a=b;c="d;e"` into parameters (quotes respected); undefined when one is malformed. */
function parseParams(text: string | undefined): Map<string, string> | undefined {
  const params = new Map<string, string>();
  if (text === undefined) return params;
  const parts: string[] = [];
  let quote = false;
  let start = 1;
  for (let i = 1; i < text.length; i++) {
    const c = text[i];
    if (quote && c === '\\') i++;
    else if (c === '"') quote = !quote;
    else if (c === ';' && !quote) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  for (const p of parts) {
    const m = PARAM_RE.exec(p);
    if (m === null) return undefined;
    params.set(m[1]!.toLowerCase(), m[2] ?? m[3]!.replace(/\\(.)/g, '$1'));
  }
  return params;
}

/** `type/subtype *(;param)`, or undefined when it is not one. */
export function parseMediaType(value: string): MediaType | undefined {
  const m = TYPE_RE.exec(value.trim());
  if (m === null) return undefined;
  const params = parseParams(m[3]);
  if (params === undefined) return undefined;
  return { essence: `${m[1]!.toLowerCase()}/${m[2]!.toLowerCase()}`, params };
}

/**
 * Whether an Accept header (all its fields' values) accepts `essence`. The
 * most specific matching range decides (exact, then `type/*`, then `*\/*`);
 * q=0 refuses. No field at all means the default for the method (the caller
 * decides); fields present but empty accept nothing (§20.1).
 */
export function accepts(acceptValues: readonly string[], essence: string): boolean {
  const [type] = essence.split('/');
  let best = -1;
  let bestQ = 0;
  for (const value of acceptValues) {
    for (const range of splitList(value)) {
      const mt = parseMediaType(range);
      if (mt === undefined) continue;
      const specificity = mt.essence === essence ? 2 : mt.essence === `${type}/*` ? 1 : mt.essence === '*/*' ? 0 : -1;
      if (specificity < best || specificity < 0) continue;
      const q = mt.params.has('q') ? Number(mt.params.get('q')) : 1;
      best = specificity;
      bestQ = Number.isFinite(q) ? q : 0;
    }
  }
  return best >= 0 && bestQ > 0;
}

/** Content codings of a Content-Encoding header other than `identity` (none: the body is as it is). */
export function contentCodings(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}
