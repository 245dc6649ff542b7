/**
 * name-addr / addr-spec with header parameters (RFC 3261 §20.10, §20.20,
 * §20.39, §25.1): the values of From, To, Contact, Route, Record-Route,
 * Refer-To, P-Asserted-Identity. Without angle brackets, parameters after the
 * URI belong to the header, not to the URI (§20.10).
 */
import { TOKEN_RE } from './header-names.js';

export interface NameAddr {
  /** Display name without quotes (unescaped), or undefined. */
  readonly displayName: string | undefined;
  /** The URI text (between < > when bracketed). */
  readonly uri: string;
  /** Header parameters in order (tag, expires, q, lr on Route is a URI param...). */
  readonly params: ReadonlyMap<string, string | null>;
  readonly bracketed: boolean;
}

/** Splits a list header value on commas outside quotes and angle brackets (empty elements are skipped). */
export function splitList(value: string): string[] {
  return splitListRaw(value).filter((v) => v !== '');
}

/**
 * Splits a list header value like {@link splitList}, but refuses empty
 * elements: RFC 3261 lists (`x *(COMMA x)`) have none, so ",," or a trailing
 * comma is an extraneous separator (RFC 4475 §3.1.2.1).
 */
export function splitListStrict(value: string): string[] | undefined {
  const parts = splitListRaw(value);
  return parts.some((p) => p === '') ? undefined : parts;
}

function splitListRaw(value: string): string[] {
  const out: string[] = [];
  let depthAngle = 0;
  let inQuote = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (inQuote) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inQuote = false;
    } else if (c === 0x22) inQuote = true;
    else if (c === 0x3c /* < */) depthAngle++;
    else if (c === 0x3e /* > */) depthAngle = Math.max(0, depthAngle - 1);
    else if (c === 0x2c /* , */ && depthAngle === 0) {
      out.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(value.slice(start).trim());
  return out;
}

/** Parses `;name=value;flag` header parameters. Values may be quoted strings. */
export function parseHeaderParams(text: string): Map<string, string | null> | undefined {
  const params = new Map<string, string | null>();
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    if (i >= n) break;
    if (text[i] !== ';') return undefined;
    i++;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let j = i;
    while (j < n && text[j] !== '=' && text[j] !== ';' && text[j] !== ' ' && text[j] !== '\t') j++;
    const name = text.slice(i, j).toLowerCase();
    if (!TOKEN_RE.test(name)) return undefined;
    i = j;
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
    let value: string | null = null;
    if (text[i] === '=') {
      i++;
      while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
      if (text[i] === '"') {
        let k = i + 1;
        while (k < n && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
        if (k >= n) return undefined;
        value = text.slice(i, k + 1);
        i = k + 1;
      } else {
        let k = i;
        while (k < n && text[k] !== ';' && text[k] !== ' ' && text[k] !== '\t') k++;
        value = text.slice(i, k);
        // IPv6 references are allowed as values (received=, maddr=)
        if (value === '' || !/^(?:[A-Za-z0-9\-.!%*_+`'~:[\]]+)$/.test(value)) return undefined;
        i = k;
      }
    }
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

function unquote(q: string): string {
  return q.slice(1, -1).replace(/\\(.)/g, '$1');
}

/** Parses one name-addr or addr-spec with its header parameters. */
export function parseNameAddr(text: string): NameAddr | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  let displayName: string | undefined;
  let i = 0;
  if (s[0] === '"') {
    let k = 1;
    while (k < s.length && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
    if (k >= s.length) return undefined;
    displayName = unquote(s.slice(0, k + 1));
    i = k + 1;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '<') return undefined;
  }
  const lt = s.indexOf('<', i);
  if (lt >= 0) {
    if (displayName === undefined) {
      const dn = s.slice(0, lt).trim();
      if (dn !== '') {
        // unquoted display name: tokens separated by LWS
        if (!dn.split(/[ \t]+/).every((t) => TOKEN_RE.test(t))) return undefined;
        displayName = dn;
      }
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) return undefined;
    // LAQUOT addr-spec RAQUOT: no whitespace inside the brackets (RFC 4475 §3.1.2.14).
    const uri = s.slice(lt + 1, gt);
    if (!/^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]*$/.test(uri)) return undefined;
    const params = parseHeaderParams(s.slice(gt + 1));
    if (params === undefined) return undefined;
    return { displayName, uri, params, bracketed: true };
  }
  // addr-spec: §20.10 makes every ';' outside angle brackets start a header
  // parameter, so a URI with ';' (even in its user part), ',' or '?' must be
  // bracketed; unbracketed, what follows the ';' fails as a parameter.
  const semi = s.indexOf(';');
  const uri = semi < 0 ? s : s.slice(0, semi);
  if (/[\s,?]/.test(uri) || !/^[A-Za-z][A-Za-z0-9+\-.]*:./.test(uri)) return undefined;
  const params = parseHeaderParams(semi < 0 ? '' : s.slice(semi));
  if (params === undefined) return undefined;
  return { displayName: undefined, uri, params, bracketed: false };
}

function quoteIfNeeded(name: string): string {
  return /^[A-Za-z0-9\-.!%*_+`'~ ]+$/.test(name) && !name.includes('  ') ? name : `"${name.replace(/(["\\])/g, '\\$1')}"`;
}

export function formatNameAddr(na: NameAddr): string {
  let s = na.displayName !== undefined ? `${quoteIfNeeded(na.displayName)} <${na.uri}>` : `<${na.uri}>`;
  for (const [k, v] of na.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** The `tag` parameter of a From or To value, or undefined. */
export function tagOf(value: string): string | undefined {
  // Fast path: most values have ";tag=" once, after the URI.
  const gt = value.lastIndexOf('>');
  const idx = value.toLowerCase().indexOf(';tag=', gt < 0 ? 0 : gt);
  if (idx < 0) {
    const na = parseNameAddr(value);
    const t = na?.params.get('tag');
    return t ?? undefined;
  }
  let end = idx + 5;
  while (end < value.length && value[end] !== ';' && value[end] !== ' ' && value[end] !== '\t' && value[end] !== ',') end++;
  const tag = value.slice(idx + 5, end);
  return tag === '' ? undefined : tag;
}

/** Adds (or replaces) `;tag=` on a From/To value. */
export function withTag(value: string, tag: string): string {
  if (tagOf(value) === undefined) return `${value.trimEnd()};tag=${tag}`;
  const na = parseNameAddr(value);
  if (na === undefined) return `${value};tag=${tag}`;
  const params = new Map(na.params);
  params.set('tag', tag);
  return formatNameAddr({ ...na, params, bracketed: true });
}
