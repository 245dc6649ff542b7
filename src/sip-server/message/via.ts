/**
 * Via header values, RFC 3261 §20.42 and §18.2.1, with RFC 3581 (rport) and
 * the LWS that §25.1 allows around "/" in the sent-protocol.
 */
import { parseHeaderParams } from './name-addr.js';
import { formatHostPort, isIpLiteral, parseHostPort } from './uri.js';

export interface Via {
  /** Upper-case transport: UDP, TCP, TLS, SCTP, WS, WSS. */
  readonly transport: string;
  readonly host: string;
  readonly port: number | undefined;
  readonly params: ReadonlyMap<string, string | null>;
  readonly branch: string | undefined;
}

/** The RFC 3261 magic cookie that marks a branch as globally unique (§8.1.1.7). */
export const MAGIC_COOKIE = 'z9hG4bK';

const VIA_RE = /^SIP[ \t]*\/[ \t]*2\.0[ \t]*\/[ \t]*([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+([^;]+?)[ \t]*((?:;.*)?)$/i;

export function parseVia(value: string): Via | undefined {
  const m = VIA_RE.exec(value.trim());
  if (m === null) return undefined;
  // sent-by may carry LWS around the colon before its port (§25.1 HCOLON-like LWS); remove it.
  const hp = parseHostPort(m[2]!.replace(/[ \t]*:[ \t]*(\d+)$/, ':$1'));
  if (hp === undefined) return undefined;
  const params = parseHeaderParams(m[3] ?? '');
  if (params === undefined) return undefined;
  const branch = params.get('branch');
  if (branch === null) return undefined;
  if (!validViaParams(params)) return undefined;
  return { transport: m[1]!.toUpperCase(), host: hp.host, port: hp.port, params, branch };
}

/**
 * The parameters §20.42 and RFC 3581 give a syntax: received is an IP
 * address (RFC 5118 §4.5 tolerates brackets around IPv6), rport is empty or
 * a port, ttl is 0-255, maddr a host.
 */
function validViaParams(params: ReadonlyMap<string, string | null>): boolean {
  const received = params.get('received');
  if (received !== undefined && (received === null || !isIpLiteral(received.replace(/^\[(.*)\]$/, '$1')))) return false;
  const rport = params.get('rport');
  if (rport !== undefined && rport !== null && !(/^\d{1,5}$/.test(rport) && Number(rport) >= 1 && Number(rport) <= 65535)) return false;
  const ttl = params.get('ttl');
  if (ttl !== undefined && (ttl === null || !/^\d{1,3}$/.test(ttl) || Number(ttl) > 255)) return false;
  const maddr = params.get('maddr');
  if (maddr === undefined) return true;
  const hp = maddr === null ? undefined : parseHostPort(maddr);
  return hp !== undefined && hp.port === undefined;
}

export function formatVia(via: Via): string {
  let s = `SIP/2.0/${via.transport} ${formatHostPort(via.host, via.port)}`;
  for (const [k, v] of via.params) s += v === null ? `;${k}` : `;${k}=${v}`;
  return s;
}

/** The sent-by as a key (host:port with the transport's default port). */
export function sentByKey(via: Via): string {
  const port = via.port ?? (via.transport === 'TLS' || via.transport === 'WSS' ? 5061 : 5060);
  return `${via.host}:${port}`;
}

/** Index of the comma ending the first Via entry of a field (or -1). */
export function findTopViaEnd(value: string): number {
  let quote = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quote && c === '\\') i++; // a quoted-pair: the next character is literal
    else if (c === '"') quote = !quote;
    else if (c === ',' && !quote) return i;
  }
  return -1;
}
