/**
 * SIP and SIPS URIs, RFC 3261 §19.1 (grammar in §25.1), including IPv6
 * references (RFC 5118) and escaped characters in the user part. Other schemes
 * (tel:, unknown ones) are kept as opaque absolute URIs: a UAS may still answer
 * them (416), so they are not a syntax error.
 */

export interface SipUri {
  readonly scheme: 'sip' | 'sips';
  /** User part as written (still %-escaped), or undefined. */
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** Host without brackets for IPv6 (`::1`), lower-cased. */
  readonly host: string;
  readonly port: number | undefined;
  /** URI parameters in order; a parameter without value maps to null. */
  readonly params: ReadonlyMap<string, string | null>;
  /** The `?headers` part, without the `?`, or undefined. */
  readonly headers: string | undefined;
}

export type ParsedUri = { readonly kind: 'sip'; readonly uri: SipUri } | { readonly kind: 'other'; readonly scheme: string; readonly text: string };

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
const HOSTNAME_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?$/;
const IPV4_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// user / password: unreserved, escaped, user-unreserved (&=+$,;?/) and for password also ":" excluded
const USER_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
const PASSWORD_RE = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*$/;
const PARAM_RE = /^(?:[A-Za-z0-9\-_.!~*'()[\]/:&+$]|%[0-9A-Fa-f]{2})+$/;

export function isIpv4(host: string): boolean {
  const m = IPV4_RE.exec(host);
  return m !== null && Number(m[1]) <= 255 && Number(m[2]) <= 255 && Number(m[3]) <= 255 && Number(m[4]) <= 255;
}

export function isIpv6(host: string): boolean {
  if (!host.includes(':')) return false;
  // Delegate the exact IPv6 grammar to the platform parser.
  try {
    return new URL(`http://[${host}]/`).hostname.length > 0;
  } catch {
    return false;
  }
}

export function isIpLiteral(host: string): boolean {
  return isIpv4(host) || isIpv6(host);
}

/**
 * RFC 5954 §4.1: RFC 3261's ABNF let an IPv4-embedded IPv6 reference carry a
 * third colon before the IPv4 part (`[2001:db8:::192.0.2.1]`); RFC 5954
 * corrects the grammar and asks receivers to accept that form all the same.
 * It is read as the two-colon address it means.
 */
function tolerateExtraColon(host: string): string {
  return /^[0-9A-Fa-f:]*:::\d{1,3}(?:\.\d{1,3}){3}$/.test(host) && !host.includes('::::') ? host.replace(':::', '::') : host;
}

/** Parses `host[:port]` (IPv6 in brackets). Returns undefined when malformed. */
export function parseHostPort(text: string): { host: string; port: number | undefined } | undefined {
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = tolerateExtraColon(text.slice(1, close));
    if (!isIpv6(host)) return undefined;
    rest = text.slice(close + 1);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
    if (!isIpv4(host) && !(HOSTNAME_RE.test(host) && !/^[\d.]+$/.test(host))) return undefined;
  }
  if (rest === '') return { host: host.toLowerCase(), port: undefined };
  if (!/^:\d{1,5}$/.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  if (port > 65535) return undefined;
  return { host: host.toLowerCase(), port };
}

/** Formats a host for use in a URI or Via: IPv6 gets brackets. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function formatHostPort(host: string, port: number | undefined): string {
  return port === undefined ? formatHost(host) : `${formatHost(host)}:${port}`;
}

function parseParams(text: string): Map<string, string | null> | undefined {
  const params = new Map<string, string | null>();
  if (text === '') return params;
  for (const part of text.split(';')) {
    if (part === '') return undefined;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : part.slice(eq + 1);
    if (!PARAM_RE.test(name) || (value !== null && value !== '' && !PARAM_RE.test(value))) return undefined;
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

/** Parses any URI; `undefined` when it is not even an absolute URI. */
export function parseUri(text: string): ParsedUri | undefined {
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  const scheme = text.slice(0, colon);
  if (!SCHEME_RE.test(scheme)) return undefined;
  const lower = scheme.toLowerCase();
  if (lower !== 'sip' && lower !== 'sips') {
    if (/[\s<>"]/.test(text) || text.length === colon + 1) return undefined;
    return { kind: 'other', scheme: lower, text };
  }
  const uri = parseSipUriRest(lower, text.slice(colon + 1));
  return uri === undefined ? undefined : { kind: 'sip', uri };
}

/** Parses a sip:/sips: URI; `undefined` when malformed or another scheme. */
export function parseSipUri(text: string): SipUri | undefined {
  const p = parseUri(text);
  return p?.kind === 'sip' ? p.uri : undefined;
}

function parseSipUriRest(scheme: 'sip' | 'sips', rest: string): SipUri | undefined {
  if (/[\s<>"]/.test(rest)) return undefined;
  let headers: string | undefined;
  const q = rest.indexOf('?');
  const at = rest.indexOf('@');
  // '?' may legally appear in the user part, so only a '?' after the '@' (or with no '@') starts headers.
  if (q >= 0 && (at < 0 || q > at)) {
    headers = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let user: string | undefined;
  let password: string | undefined;
  let hostPart = rest;
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    user = pc < 0 ? userinfo : userinfo.slice(0, pc);
    password = pc < 0 ? undefined : userinfo.slice(pc + 1);
    if (user === '' || !USER_RE.test(user)) return undefined;
    if (password !== undefined && !PASSWORD_RE.test(password)) return undefined;
  }
  const semi = hostPart.indexOf(';');
  const hp = parseHostPort(semi < 0 ? hostPart : hostPart.slice(0, semi));
  if (hp === undefined) return undefined;
  const params = parseParams(semi < 0 ? '' : hostPart.slice(semi + 1));
  if (params === undefined) return undefined;
  return { scheme, user, password, host: hp.host, port: hp.port, params, headers };
}

export function formatSipUri(uri: SipUri): string {
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) s += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  s += formatHostPort(uri.host, uri.port);
  for (const [k, v] of uri.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  if (uri.headers !== undefined) s += `?${uri.headers}`;
  return s;
}

/** The transport a URI asks for (RFC 3263 §4.1, simplified to an explicit parameter or the scheme). */
export function uriTransport(uri: SipUri): 'udp' | 'tcp' | 'tls' | 'ws' | 'wss' {
  const t = uri.params.get('transport')?.toLowerCase();
  if (uri.scheme === 'sips') return t === 'wss' ? 'wss' : 'tls';
  if (t === 'tcp' || t === 'tls' || t === 'ws' || t === 'wss') return t;
  return 'udp';
}
