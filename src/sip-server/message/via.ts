/**
 * Via header values, RFC 3261 §20.42 and §18.2.1, with RFC 3581 (rport) and
 * the LWS that §25.1 allows around "/" in the sent-protocol.
 */
import { parseHeaderParams } from './name-addr.js';
import { formatHostPort, parseHostPort } from './uri.js';

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
  // sent-by may carry LWS around its colon; remove it.
  const hp = parseHostPort(m[2]!.replace(/[ \t]*:[ \t]*/, ':'));
  if (hp === undefined) return undefined;
  const params = parseHeaderParams(m[3] ?? '');
  if (params === undefined) return undefined;
  const branch = params.get('branch');
  if (branch === null) return undefined;
  return { transport: m[1]!.toUpperCase(), host: hp.host, port: hp.port, params, branch };
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
