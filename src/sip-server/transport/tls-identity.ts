/**
 * Who a TLS certificate speaks for in SIP, RFC 5922 §7: the SIP domain
 * identities a certificate carries (§7.1: `sip:` URIs in subjectAltName, else
 * its DNS names, else, only without any subjectAltName, the subject CN), and
 * whether a certificate names the domain a request was sent to (§7.2: the
 * whole name, case-insensitively, never a wildcard). A target written as an IP
 * address (outside RFC 5922, which speaks of domains) must appear as an
 * iPAddress subjectAltName or as an identity.
 */
import { isIP } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { TlsPeer } from './types.js';

interface AltNames {
  readonly present: boolean;
  readonly uris: string[];
  readonly dns: string[];
  readonly ips: string[];
}

/** Splits Node's `subjectaltname` text (`DNS:a, IP Address:1.2.3.4, URI:"sip:x,y"`), quoted values included. */
function altNames(text: string | undefined): AltNames {
  const out: AltNames = { present: text !== undefined && text !== '', uris: [], dns: [], ips: [] };
  if (text === undefined) return out;
  const re = /(DNS|IP Address|URI|[A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:,\s*|$)/g;
  for (let m = re.exec(text); m !== null && m[0] !== ''; m = re.exec(text)) {
    const raw = m[2] ?? '';
    let value = raw;
    if (raw.startsWith('"')) {
      try {
        value = JSON.parse(raw) as string;
      } catch {
        continue;
      }
    }
    if (m[1] === 'DNS') out.dns.push(value.toLowerCase());
    else if (m[1] === 'IP Address') out.ips.push(canonicalIp(value));
    else if (m[1] === 'URI') out.uris.push(value);
  }
  return out;
}

function canonicalIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

function commonName(cert: PeerCertificate): string | undefined {
  const cn: unknown = (cert.subject as unknown as Record<string, unknown> | undefined)?.CN;
  if (typeof cn === 'string') return cn;
  // Several CNs: RFC 5922 §7.1 takes the most specific, which X.509 puts last.
  if (Array.isArray(cn)) return cn.length > 0 ? String(cn[cn.length - 1]) : undefined;
  return undefined;
}

/** The host of a `sip:` URI without user part, or undefined (§7.1: other schemes, and URIs with a user, are no identity). */
function sipUriHost(uri: string): string | undefined {
  const m = /^sip:([^@;?>]+)(?:[;?].*)?$/i.exec(uri.trim());
  if (m === null) return undefined;
  const hostPort = m[1]!;
  const host = hostPort.startsWith('[') ? hostPort.slice(1, hostPort.indexOf(']')) : hostPort.replace(/:\d+$/, '');
  return host.toLowerCase();
}

/** The SIP domain identities of a certificate (RFC 5922 §7.1), lower-cased. */
export function sipIdentities(cert: PeerCertificate): string[] {
  const alt = altNames(cert.subjectaltname);
  const fromUris = alt.uris.map(sipUriHost).filter((h): h is string => h !== undefined);
  if (fromUris.length > 0) return fromUris;
  if (alt.dns.length > 0) return alt.dns;
  if (alt.present) return [];
  const cn = commonName(cert);
  return cn === undefined ? [] : [cn.toLowerCase()];
}

/**
 * Why `cert` does not speak for `name` (RFC 5922 §7.2), or undefined when it
 * does. `name` is a domain or an IP address.
 */
export function sipNameMismatch(name: string, cert: PeerCertificate): string | undefined {
  const wanted = name.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  const identities = sipIdentities(cert);
  if (identities.includes(wanted)) return undefined;
  if (isIP(wanted) !== 0 && altNames(cert.subjectaltname).ips.includes(canonicalIp(wanted))) return undefined;
  const named = identities.length > 0 ? identities.join(', ') : 'no SIP identity';
  return `certificate does not name ${wanted} (it names ${named})`;
}

/** The peer of a TLS socket, or undefined when it sent no certificate. */
export function tlsPeerOf(socket: TLSSocket): TlsPeer | undefined {
  const cert = socket.getPeerCertificate();
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return undefined;
  const error = socket.authorizationError;
  const cn = commonName(cert);
  return {
    verified: socket.authorized,
    ...(error !== null && error !== undefined ? { error: typeof error === 'string' ? error : error.message } : {}),
    identities: sipIdentities(cert),
    addresses: altNames(cert.subjectaltname).ips,
    ...(cn !== undefined ? { subjectCN: cn } : {}),
    ...(cert.fingerprint256 !== undefined ? { fingerprint256: cert.fingerprint256 } : {}),
  };
}

/** A verified peer whose certificate names `host` (a domain per RFC 5922 §7.2, or an address). */
export function peerSpeaksFor(peer: TlsPeer, host: string): boolean {
  if (!peer.verified) return false;
  const wanted = host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
  return peer.identities.includes(wanted) || (isIP(wanted) !== 0 && peer.addresses.includes(canonicalIp(wanted)));
}
