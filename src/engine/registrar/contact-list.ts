/**
 * The Contact header of a REGISTER (RFC 3261 §20.10, §10.2.1): `*`, or a
 * comma-separated list of name-addr / addr-spec with parameters (`expires`,
 * `q`). Commas inside a quoted display name or inside `<...>` do not separate
 * entries. Also the addresses of record of To (§10.3 step 5) and URI
 * equivalence of contacts (§19.1.4, for the parts that matter to a binding).
 */

export interface ContactEntry {
  /** The URI as written (without angle brackets). */
  readonly uri: string;
  /** `expires` parameter, when present. */
  readonly expires: number | undefined;
  /** `q` parameter (0 to 1), when present. */
  readonly q: number | undefined;
  /** The `+sip.instance` parameter's URN (RFC 5626 §4.1), without quotes and angle brackets, lower case. */
  readonly instance?: string;
}

export type ParsedContacts = { readonly ok: true; readonly star: boolean; readonly contacts: readonly ContactEntry[] } | { readonly ok: false; readonly reason: string };

/** Splits a header value on commas outside quotes and angle brackets. */
export function splitList(value: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < value.length) cur += value[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === '<') angle = true;
    else if (c === '>') angle = false;
    else if (c === ',' && !angle) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (quoted || angle) return undefined;
  out.push(cur.trim());
  return out;
}

const SIP_URI = /^sips?:[^\s<>"]+$/i;

/** One entry: `"Name" <uri>;params` or `uri;params` (params of an addr-spec belong to the header, §20.10). */
function entry(text: string): ContactEntry | string {
  let uri: string;
  let params: string;
  const lt = text.indexOf('<');
  if (lt >= 0) {
    const gt = text.indexOf('>', lt);
    if (gt < 0) return `unterminated <...> in "${text.slice(0, 60)}"`;
    const name = text.slice(0, lt).trim();
    if (name !== '' && !/^("([^"\\]|\\.)*"|[A-Za-z0-9!%'*+.^_`|~ \t-]+)$/.test(name)) return `bad display name in "${text.slice(0, 60)}"`;
    uri = text.slice(lt + 1, gt).trim();
    params = text.slice(gt + 1).trim();
  } else {
    const semi = text.indexOf(';');
    uri = (semi < 0 ? text : text.slice(0, semi)).trim();
    params = semi < 0 ? '' : text.slice(semi).trim();
    // An addr-spec with a comma, semicolon or question mark must be in <...> (§20); a bare ? is invalid.
    if (uri.includes('?')) return `a URI with headers must be in <...>: "${text.slice(0, 60)}"`;
  }
  if (!SIP_URI.test(uri)) return `not a SIP URI: "${uri.slice(0, 60)}"`;
  const unreachable = unreachableAddress(uri);
  if (unreachable !== undefined) return `${unreachable}: "${uri.slice(0, 60)}"`;
  let expires: number | undefined;
  let q: number | undefined;
  let instance: string | undefined;
  if (params !== '') {
    if (!params.startsWith(';')) return `unexpected "${params.slice(0, 20)}" after the URI`;
    for (const p of params.slice(1).split(';')) {
      const [k, v] = p.split('=', 2).map((x) => x.trim());
      const key = (k ?? '').toLowerCase();
      if (key === '') return 'an empty contact parameter';
      if (key === 'expires') {
        if (v === undefined || !/^[0-9]{1,10}$/.test(v)) return `expires must be a number of seconds, got "${v ?? ''}"`;
        expires = Math.min(Number(v), 2 ** 32 - 1);
      } else if (key === 'q') {
        if (v === undefined || !/^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/.test(v)) return `q must be between 0 and 1, got "${v ?? ''}"`;
        q = Number(v);
      } else if (key === '+sip.instance') {
        // RFC 5626 §4.1: a quoted "<urn>". Anything else is not an instance id: the contact is bound by its URI.
        const urn = /^"<([^<>"\s]+)>"$/.exec(v ?? '');
        if (urn !== null) instance = urn[1]!.toLowerCase();
      }
    }
  }
  return { uri, expires, q, ...(instance !== undefined ? { instance } : {}) };
}

/** Parses every Contact field of a REGISTER (several fields and comma lists alike). */
export function parseContacts(fields: readonly string[]): ParsedContacts {
  const contacts: ContactEntry[] = [];
  let star = false;
  for (const field of fields) {
    const parts = splitList(field);
    if (parts === undefined) return { ok: false, reason: 'unterminated quote or <...> in Contact' };
    for (const part of parts) {
      if (part === '') return { ok: false, reason: 'an empty Contact entry' };
      if (part === '*') {
        star = true;
        continue;
      }
      const e = entry(part);
      if (typeof e === 'string') return { ok: false, reason: e };
      contacts.push(e);
    }
  }
  if (star && contacts.length > 0) return { ok: false, reason: 'Contact: * must be the only contact (RFC 3261 §10.3 step 6)' };
  return { ok: true, star, contacts };
}

export interface SipAddress {
  readonly scheme: 'sip' | 'sips';
  readonly user: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ReadonlyMap<string, string>;
}

/** A sip/sips URI's parts (user unescaped; host lower-cased; parameters with lower-case names). */
export function parseSipAddress(uri: string): SipAddress | undefined {
  const m = /^(sips?):(?:([^@;?]*)@)?(\[[0-9A-Fa-f:.]+\]|[^:;?]+)(?::([0-9]{1,5}))?((?:;[^?]*)?)(?:\?.*)?$/i.exec(uri.trim());
  if (m === null) return undefined;
  let user: string | undefined;
  try {
    user = m[2] === undefined ? undefined : decodeURIComponent(m[2].split(':')[0]!);
  } catch {
    return undefined;
  }
  const params = new Map<string, string>();
  for (const p of (m[5] ?? '').split(';').slice(1)) {
    const [k, v] = p.split('=', 2);
    if (k !== undefined && k !== '') params.set(k.toLowerCase(), (v ?? '').toLowerCase());
  }
  const port = m[4] === undefined ? undefined : Number(m[4]);
  if (port !== undefined && port > 65535) return undefined;
  return { scheme: m[1]!.toLowerCase() as 'sip' | 'sips', user, host: m[3]!.toLowerCase(), port, params };
}

/** A host (RFC 3261 §25.1): a name of letters, digits and hyphens, or an IPv4 or bracketed IPv6 address. */
const HOST = /^(?:\[[0-9a-f:.]+\]|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.?)$/i;

/**
 * What makes `uri` an address no request can be sent to (RFC 3261 §19.1.1, §25.1: an empty user, a host that is
 * no name or address, port 0), or undefined. A registrar binding it, or a monitor dialling it, would only fail later.
 */
export function unreachableAddress(uri: string): string | undefined {
  const at = parseSipAddress(uri);
  if (at === undefined) return 'not a SIP URI (sip:user@host:port)';
  if (at.port !== undefined && at.port < 1) return `port ${at.port} is outside 1-65535`;
  if (/^sips?:[:@]/i.test(uri.trim())) return 'the user before "@" is empty';
  if (!HOST.test(at.host)) return `"${at.host}" is not a host name or address`;
  const octets = /^\d+\.\d+\.\d+\.\d+$/.test(at.host) ? at.host.split('.').map(Number) : undefined;
  if (octets !== undefined && octets.some((o) => o > 255)) return `${at.host} is not an IPv4 address`;
  return undefined;
}

/**
 * Whether two contacts are the same binding: RFC 3261 §19.1.4 compares
 * scheme, user, host, port (absent ≠ 5060) and the transport, user, ttl,
 * method and maddr parameters when either URI has them.
 */
export function contactKey(uri: string): string {
  const a = parseSipAddress(uri);
  if (a === undefined) return uri;
  const p = ['transport', 'user', 'ttl', 'method', 'maddr'].map((k) => `${k}=${a.params.get(k) ?? ''}`).join(';');
  return `${a.scheme}:${a.user ?? ''}@${a.host}:${a.port ?? ''};${p}`;
}

/**
 * The key of a binding in its address of record: the device's instance id
 * when it sent one (RFC 5626 §6, RFC 5627 §3: a rebooted phone registering a
 * new Contact replaces its old binding instead of adding one), else the
 * Contact URI (RFC 3261 §10.3 step 7).
 */
export function bindingKey(uri: string, instance: string | undefined): string {
  return instance !== undefined ? `instance ${instance}` : contactKey(uri);
}

/** The URI of a To/From value (`"x" <uri>;tag=...` or `uri;tag=...`). */
export function nameAddrUri(value: string): string | undefined {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return gt < 0 ? undefined : value.slice(lt + 1, gt).trim();
  }
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}
