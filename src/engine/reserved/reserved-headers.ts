/**
 * Reading the reserved properties from a trusted trunk's INVITE, through its
 * header mapping. Every header is untrusted text, and the rule is never a
 * false flag: a header that is repeated (as separate lines or as a
 * comma-joined list), longer than the mapping allows, malformed, or carries
 * any value outside true/false/1/0/yes/no is refused whole and sets nothing;
 * a property two headers disagree on is set by neither. Each refusal is
 * returned with its reason for the call's log. Parameter names are matched
 * exactly; unknown ones are ignored (and reported) whatever their value, so a
 * carrier may add its own data without breaking ours.
 */
import { RESERVED_PROPERTIES, type ReservedProperty } from '../../config/schema/reserved-data.js';
import type { HeaderMappingConfig } from '../trunks/inbound-trunks.js';
import { describeValue, strictBoolean, TOKEN, trimLws } from './header-text.js';
import { decodeUui, parseUui } from './uui.js';

type MappedHeader = HeaderMappingConfig['headers'][number];

export interface HeaderProblem {
  readonly header: string;
  readonly reason: string;
}

export interface ReservedReading {
  readonly values: Partial<Record<ReservedProperty, boolean>>;
  /** The header each property was read from. */
  readonly from: Partial<Record<ReservedProperty, string>>;
  /** Headers (or properties) refused, with why: they set nothing. */
  readonly problems: readonly HeaderProblem[];
  /** What was ignored without refusing anything (an unknown parameter name, a UUI of another package). */
  readonly notes: readonly HeaderProblem[];
}

export const DEFAULT_PARAMETER_NAMES: Readonly<Record<string, ReservedProperty>> = {
  verified_customer: 'reserved_verified_customer',
  bad_actor: 'reserved_bad_actor',
  repeat_customer: 'reserved_repeat_customer',
};

/** The short name of a property (`reserved_verified_customer` → `verified_customer`). */
export function shortName(p: ReservedProperty): string {
  return p.slice('reserved_'.length);
}

type Found = { readonly values: Map<ReservedProperty, boolean>; readonly notes: string[] } | { readonly error: string };

/**
 * Splits a parameter list on `;` outside double-quoted strings (RFC 3261 §25.1, `\\` escapes).
 * A comma outside quotes (a list where one value is expected) or an unterminated quote is an error.
 */
function splitParameters(text: string): string[] | { readonly error: string } {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === ',') return { error: `a list where one value is expected: ${describeValue(text)}` };
    else if (!quoted && c === ';') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quoted) return { error: `unterminated quoted string in ${describeValue(text)}` };
  parts.push(text.slice(start));
  return parts;
}

/**
 * `name=value;name=value` with flags as values; names mapped by `names`. A known name needs a value
 * in the flag grammar. An unknown name is ignored (and noted) whatever its value, or without one
 * (`account=12345`, `foo`, `note="a;b"`): a carrier may send more than we read. What still refuses
 * the whole header is its structure: a name that is not a token, an empty parameter, a known name
 * twice, a comma list, an unterminated quote.
 * CHOICE: one empty parameter at the end (`verified_customer=yes;`) is tolerated, as many stacks
 * write it; anywhere else (`;a=1`, `a=1;;b=0`, `;`) it is malformed.
 */
export function parseParameters(text: string, names: Readonly<Record<string, ReservedProperty>>): Found {
  const values = new Map<ReservedProperty, boolean>();
  const notes: string[] = [];
  const seen = new Set<string>();
  const parts = splitParameters(text);
  if (!Array.isArray(parts)) return parts;
  if (parts.length > 1 && trimLws(parts[parts.length - 1]!) === '') parts.pop();
  for (const part of parts) {
    // [ \t], not \s: JavaScript's \s also matches U+2028, U+00A0, U+FEFF, which are not SIP whitespace.
    const m = /^[ \t]*([^= \t]+)[ \t]*(?:=([^]*))?$/.exec(part);
    if (m === null || !TOKEN.test(m[1]!)) return { error: `malformed parameter ${describeValue(part)}` };
    const name = m[1]!;
    const raw = m[2];
    const property = Object.hasOwn(names, name) ? names[name] : undefined;
    if (property === undefined) {
      notes.push(`unknown parameter ${describeValue(name)} ignored`);
      continue;
    }
    if (seen.has(name)) return { error: `parameter ${name} given twice` };
    seen.add(name);
    const flag = raw === undefined ? undefined : strictBoolean(raw);
    if (flag === undefined) return { error: raw === undefined ? `no value for ${name}` : `invalid value ${describeValue(raw)} for ${name}` };
    values.set(property, flag);
  }
  return { values, notes };
}

function readOne(h: MappedHeader, lines: readonly string[]): Found {
  const names = h.parameters ?? DEFAULT_PARAMETER_NAMES;
  if (h.format === 'uui') {
    const parsed = parseUui(lines);
    if (typeof parsed === 'string') return { error: parsed };
    const wanted = h.purpose?.toLowerCase();
    const mine = parsed.filter((v) => wanted === undefined || v.purpose === wanted);
    if (mine.length === 0) return { values: new Map(), notes: [`no UUI value of purpose ${wanted ?? 'any'}`] };
    if (mine.length > 1) return { error: `${mine.length} UUI values of purpose ${wanted ?? 'any'}` };
    const v = mine[0]!;
    const encoding = h.encoding ?? 'hex';
    if (v.encoding !== undefined && v.encoding !== encoding) return { error: `UUI encoding ${describeValue(v.encoding)} is not the configured ${encoding}` };
    const octets = decodeUui(v.data, encoding);
    if (typeof octets === 'string') return { error: octets };
    const payload = h.discriminator === true ? octets.subarray(1) : octets;
    if (payload.length === 0) return { error: 'empty UUI payload' };
    // Printable ASCII only: CR/LF, NUL or UTF-8 decoded out of hex must not become "text".
    if (!payload.every((b) => b >= 0x20 && b <= 0x7e)) return { error: 'UUI payload is not printable ASCII' };
    return parseParameters(payload.toString('ascii'), names);
  }
  if (lines.length > 1) return { error: `header given ${lines.length} times` };
  const value = lines[0]!;
  if (h.format === 'parameters') return parseParameters(value, names);
  if (value.includes(',')) return { error: `a list where one value is expected: ${describeValue(value)}` };
  const flag = strictBoolean(value);
  if (flag === undefined) return { error: `invalid value ${describeValue(value)}` };
  return { values: new Map([[h.property!, flag]]), notes: [] };
}

/** Reads `mapping` from the INVITE whose header lines `lines(name)` returns (every line with that name, in order). */
export function readReservedHeaders(mapping: HeaderMappingConfig, lines: (name: string) => readonly string[]): ReservedReading {
  const problems: HeaderProblem[] = [];
  const notes: HeaderProblem[] = [];
  const seen = new Map<ReservedProperty, { value: boolean; header: string }[]>();
  for (const h of mapping.headers) {
    const values = lines(h.name);
    if (values.length === 0) continue;
    const longest = Math.max(...values.map((v) => Buffer.byteLength(v)));
    if (longest > mapping.maxHeaderBytes) {
      problems.push({ header: h.name, reason: `oversized (${longest} bytes, at most ${mapping.maxHeaderBytes})` });
      continue;
    }
    const found = readOne(h, values);
    if ('error' in found) {
      problems.push({ header: h.name, reason: found.error });
      continue;
    }
    for (const note of found.notes) notes.push({ header: h.name, reason: note });
    for (const [p, value] of found.values) seen.set(p, [...(seen.get(p) ?? []), { value, header: h.name }]);
  }
  const values: Partial<Record<ReservedProperty, boolean>> = {};
  const from: Partial<Record<ReservedProperty, string>> = {};
  for (const p of RESERVED_PROPERTIES) {
    const all = seen.get(p);
    if (all === undefined) continue;
    if (all.some((a) => a.value !== all[0]!.value)) {
      problems.push({ header: all.map((a) => a.header).join(', '), reason: `conflicting values for ${p}: none is taken` });
      continue;
    }
    values[p] = all[0]!.value;
    from[p] = all[0]!.header;
  }
  return { values, from, problems, notes };
}
