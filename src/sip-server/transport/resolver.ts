/**
 * Locating SIP servers, RFC 3263 §4 (simplified): the transport comes from
 * the URI (`transport=`, or TLS for `sips:`, §4.1); an IP literal is used as
 * is; a name with a port is resolved to addresses; a name without a port
 * tries DNS SRV first (`_sip._udp`, `_sip._tcp`, `_sips._tcp` for TLS, §4.2),
 * then A/AAAA on the transport's default port. A TLS destination keeps the
 * URI's host as the name the server's certificate must carry (RFC 5922 §4),
 * whatever SRV and A records it went through. WebSocket URIs are not
 * resolved: the server reaches a WebSocket client only over the connection
 * the client opened (RFC 7118 §5.3 has no server-initiated connections).
 */
import { promises as dns } from 'node:dns';
import { isIpLiteral, uriTransport, type SipUri } from '../message/uri.js';
import { defaultPort, type Destination, type TransportProtocol } from './types.js';

export type ResolveResult = { readonly ok: true; readonly targets: readonly Destination[] } | { readonly ok: false; readonly reason: string };

/** The transport a URI asks for and the destination when its host is an address (no DNS needed). */
export function literalDestination(uri: SipUri): Destination | undefined {
  const transport = uriTransport(uri);
  if (!isIpLiteral(uri.host) || uri.params.get('maddr') !== undefined) return undefined;
  return withName({ transport, address: uri.host, port: uri.port ?? defaultPort(transport) }, uri.host);
}

function withName(d: Destination, host: string): Destination {
  return d.transport === 'tls' ? { ...d, tlsName: host } : d;
}

export async function resolveUri(uri: SipUri): Promise<ResolveResult> {
  const transport: TransportProtocol = uriTransport(uri);
  if (transport === 'ws' || transport === 'wss') {
    return { ok: false, reason: `no ${transport.toUpperCase()} connection to ${uri.host} (the server does not open WebSocket connections; a WebSocket client is reached over its own)` };
  }
  const host = uri.params.get('maddr') ?? uri.host;
  if (host === null) return { ok: false, reason: 'empty maddr' };
  const port = uri.port ?? defaultPort(transport);
  if (isIpLiteral(host)) return { ok: true, targets: [withName({ transport, address: host, port }, uri.host)] };
  if (uri.port === undefined) {
    try {
      const service = transport === 'tls' ? '_sips._tcp' : `_sip._${transport}`;
      const srv = await dns.resolveSrv(`${service}.${host}`);
      srv.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      const targets: Destination[] = [];
      for (const r of srv) {
        for (const a of await lookupAll(r.name)) targets.push(withName({ transport, address: a, port: r.port }, uri.host));
      }
      if (targets.length > 0) return { ok: true, targets };
    } catch {
      // no SRV records: fall through to A/AAAA
    }
  }
  try {
    const addresses = await lookupAll(host);
    if (addresses.length === 0) return { ok: false, reason: `${host} has no address` };
    return { ok: true, targets: addresses.map((address) => withName({ transport, address, port }, uri.host)) };
  } catch (e) {
    return { ok: false, reason: `cannot resolve ${host}: ${(e as Error).message}` };
  }
}

async function lookupAll(name: string): Promise<string[]> {
  const res = await dns.lookup(name, { all: true });
  return res.map((r) => r.address);
}
