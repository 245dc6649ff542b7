/**
 * Locating SIP servers, RFC 3263 §4 (simplified): the transport comes from
 * the URI (`transport=` or `sips:`); an IP literal is used as is; a name with
 * a port is resolved to addresses; a name without a port tries DNS SRV
 * (`_sip._udp` / `_sip._tcp`) first, then A/AAAA on the default port.
 */
import { promises as dns } from 'node:dns';
import { isIpLiteral, uriTransport, type SipUri } from '../message/uri.js';
import type { Destination, TransportProtocol } from './types.js';

export type ResolveResult = { readonly ok: true; readonly targets: readonly Destination[] } | { readonly ok: false; readonly reason: string };

export async function resolveUri(uri: SipUri): Promise<ResolveResult> {
  const wanted = uriTransport(uri);
  if (wanted !== 'udp' && wanted !== 'tcp') return { ok: false, reason: `transport ${wanted} is not supported` };
  const transport: TransportProtocol = wanted;
  const host = uri.params.get('maddr') ?? uri.host;
  if (host === null) return { ok: false, reason: 'empty maddr' };
  if (isIpLiteral(host)) return { ok: true, targets: [{ transport, address: host, port: uri.port ?? 5060 }] };
  if (uri.port === undefined) {
    try {
      const srv = await dns.resolveSrv(`_sip._${transport}.${host}`);
      srv.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
      const targets: Destination[] = [];
      for (const r of srv) {
        for (const a of await lookupAll(r.name)) targets.push({ transport, address: a, port: r.port });
      }
      if (targets.length > 0) return { ok: true, targets };
    } catch {
      // no SRV records: fall through to A/AAAA
    }
  }
  try {
    const addresses = await lookupAll(host);
    if (addresses.length === 0) return { ok: false, reason: `${host} has no address` };
    return { ok: true, targets: addresses.map((address) => ({ transport, address, port: uri.port ?? 5060 })) };
  } catch (e) {
    return { ok: false, reason: `cannot resolve ${host}: ${(e as Error).message}` };
  }
}

async function lookupAll(name: string): Promise<string[]> {
  const res = await dns.lookup(name, { all: true });
  return res.map((r) => r.address);
}
