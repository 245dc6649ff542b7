/**
 * Where in-dialog requests to a peer go when that is not simply its remote
 * target (RFC 3261 §12.2.1.1) or route set: the NAT rule for dialogs (spec
 * §2.9). The Contact of a phone behind NAT names its private address, which
 * nothing outside its network reaches; its requests came from the NAT's
 * binding, and requests back go there, as Kamailio's `fix_nated_contact`
 * does. Only a peer that reached us straight is second-guessed, and only
 * when it shows NAT: a message a proxy relayed is followed by its Contact
 * (the proxy sits between, and our requests to the proxy's address would
 * land on the proxy), as is a UA that merely sent from another port.
 */
import { BlockList, isIP } from 'node:net';
import type { Via } from '../message/via.js';
import { isIpLiteral, parseSipUri, uriTransport } from '../message/uri.js';
import type { Destination, Flow, ListenerInfo } from '../transport/types.js';

/** What a message tells about the path it took to us. */
export interface PeerPath {
  /** A proxy relayed it (a request with more than one Via). */
  readonly relayed: boolean;
  /**
   * The peer's own Via says it is behind NAT: it asked for `rport` (RFC 3581), or its sent-by is not
   * the address the message came from. Unknown for a response (the Via is ours): false.
   */
  readonly viaSaysNat: boolean;
}

/** Addresses that only their own network reaches: private (RFC 1918, RFC 4193), shared (RFC 6598), link-local, loopback. */
const LOCAL_ONLY = new BlockList();
for (const [net, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['169.254.0.0', 16], ['127.0.0.0', 8]] as const) LOCAL_ONLY.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['fc00::', 7], ['fe80::', 10], ['::1', 128]] as const) LOCAL_ONLY.addSubnet(net, bits, 'ipv6');

function bare(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function localOnly(host: string): boolean {
  const h = bare(host);
  const family = isIP(h);
  return family !== 0 && LOCAL_ONLY.check(h, family === 6 ? 'ipv6' : 'ipv4');
}

/** The path of a request we received, from its Vias. */
export function requestPath(via: Via, viaCount: number, flow: Flow): PeerPath {
  return { relayed: viaCount > 1, viaSaysNat: via.params.has('rport') || bare(via.host).toLowerCase() !== flow.address.toLowerCase() };
}

/** The path of a response to a request we sent: a response carries only our Via. */
export const RESPONSE_PATH: PeerPath = { relayed: false, viaSaysNat: false };

/**
 * undefined: the dialog's requests go by its route set or remote target.
 * Over a stream the peer (or the record-routing proxy) that reached us is reached over the same
 * connection (spec §2.9).
 * Over UDP, a peer without a Record-Route whose Contact is not where the message came from is
 * reached at that source when it shows NAT: its Via says so, or its Contact is an address only its
 * own network reaches while the message came from elsewhere.
 */
export function natDestination(flow: Flow, hasRouteSet: boolean, contactUri: string | undefined, path: PeerPath): Destination | undefined {
  if (flow.transport !== 'udp') {
    // Relayed by a proxy that did not record-route: the peer is not at the far end of this connection.
    // One that did is (its Record-Route names it): its connection is reused.
    if (path.relayed && !hasRouteSet && contactUri !== undefined) return undefined;
    return { transport: flow.transport, address: flow.address, port: flow.port, listenerId: flow.listener.id, ...(flow.connectionId !== undefined ? { connectionId: flow.connectionId } : {}) };
  }
  if (hasRouteSet || contactUri === undefined || path.relayed) return undefined;
  const u = parseSipUri(contactUri);
  // A Contact asking for another transport (TLS, TCP) is followed, not second-guessed as NAT.
  if (u === undefined || uriTransport(u) !== 'udp') return undefined;
  if (isIpLiteral(u.host) && bare(u.host) === flow.address && (u.port ?? 5060) === flow.port) return undefined;
  const contactLocalOnly = isIpLiteral(u.host) && localOnly(u.host) && !localOnly(flow.address);
  if (!path.viaSaysNat && !contactLocalOnly) return undefined;
  return { transport: 'udp', address: flow.address, port: flow.port, listenerId: flow.listener.id };
}

/** A dialog's request to `dest` leaves from `listener`, the one its Via and Contact name (the one the peer knows us by). */
export function leavingFrom(listener: ListenerInfo, dest: Destination): Destination {
  return dest.connectionId === undefined && dest.listenerId === undefined && listener.transport === dest.transport ? { ...dest, listenerId: listener.id } : dest;
}
