/**
 * From a captured frame to its UDP payload: the link layers rtpengine and
 * common capture tools write (tcpdump.org link-type list: NULL 0, EN10MB 1,
 * RAW 101 (and the BSD raw values 12/14), LINUX_SLL 113, IPV4 228, IPV6 229,
 * LINUX_SLL2 276), then IPv4 (RFC 791) or IPv6 (RFC 8200) and UDP (RFC 768).
 * Fragments and non-UDP packets are reported as skipped, not errors: a capture
 * may hold anything.
 */

export const LinkTypes = {
  NULL: 0,
  ETHERNET: 1,
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

const SUPPORTED = new Set<number>(Object.values(LinkTypes));

export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED.has(linkType);
}

/** Where a datagram's parts are in its frame; one instance is reused for every packet. */
export class UdpView {
  ipVersion: 4 | 6 = 4;
  /** Offsets of the source and destination address bytes (4 or 16 of them). */
  srcOffset = 0;
  dstOffset = 0;
  srcPort = 0;
  dstPort = 0;
  payloadStart = 0;
  payloadEnd = 0;

  get addressLength(): number {
    return this.ipVersion === 4 ? 4 : 16;
  }
}

export type SkipReason = 'not-ip' | 'not-udp' | 'fragment' | 'truncated';

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const IPPROTO_UDP = 17;

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** Offset of the IP header for a frame at buf[start, end) of the given link type, or a reason to skip it. */
function ipOffset(linkType: number, b: Uint8Array, start: number, end: number): number | SkipReason {
  switch (linkType) {
    case LinkTypes.RAW:
    case LinkTypes.RAW_BSD12:
    case LinkTypes.RAW_BSD14:
    case LinkTypes.IPV4:
    case LinkTypes.IPV6:
      return start;
    case LinkTypes.NULL: {
      if (end - start < 4) return 'truncated';
      // The address family is in the capturing host's byte order: accept either.
      const le = b[start]! | (b[start + 1]! << 8);
      const be = (b[start + 2]! << 8) | b[start + 3]!;
      const family = le !== 0 ? le : be;
      return family === 2 || family === 24 || family === 28 || family === 30 ? start + 4 : 'not-ip';
    }
    case LinkTypes.ETHERNET: {
      let off = start + 12;
      if (end < off + 2) return 'truncated';
      let type = u16(b, off);
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
        off += 4;
        if (end < off + 2) return 'truncated';
        type = u16(b, off);
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? off + 2 : 'not-ip';
    }
    case LinkTypes.LINUX_SLL: {
      if (end - start < 16) return 'truncated';
      const type = u16(b, start + 14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? start + 16 : 'not-ip';
    }
    case LinkTypes.LINUX_SLL2: {
      if (end - start < 20) return 'truncated';
      const type = u16(b, start);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? start + 20 : 'not-ip';
    }
    default:
      return 'not-ip';
  }
}

/** IPv6 extension headers that may sit between the fixed header and UDP. */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

/**
 * Decodes the frame at b[start, end) down to its UDP datagram, filling `out`
 * (offsets into b); returns a reason instead when the frame is not one.
 */
export function decodeUdp(linkType: number, b: Uint8Array, start: number, end: number, out: UdpView): SkipReason | undefined {
  const ip = ipOffset(linkType, b, start, end);
  if (typeof ip !== 'number') return ip;
  if (end < ip + 1) return 'truncated';
  const version = b[ip]! >> 4;
  let udp: number;
  let limit: number;
  if (version === 4) {
    if (end < ip + 20) return 'truncated';
    const ihl = (b[ip]! & 0x0f) * 4;
    const total = u16(b, ip + 2);
    const flagsFragment = u16(b, ip + 6);
    if ((flagsFragment & 0x2000) !== 0 || (flagsFragment & 0x1fff) !== 0) return 'fragment';
    if (b[ip + 9] !== IPPROTO_UDP) return 'not-udp';
    out.ipVersion = 4;
    out.srcOffset = ip + 12;
    out.dstOffset = ip + 16;
    udp = ip + ihl;
    // Some writers leave total length 0 (e.g. segmentation offload); trust the capture then.
    limit = total >= ihl ? Math.min(end, ip + total) : end;
  } else if (version === 6) {
    if (end < ip + 40) return 'truncated';
    const payloadLength = u16(b, ip + 4);
    let next = b[ip + 6]!;
    out.ipVersion = 6;
    out.srcOffset = ip + 8;
    out.dstOffset = ip + 24;
    udp = ip + 40;
    limit = payloadLength > 0 ? Math.min(end, udp + payloadLength) : end;
    for (let hops = 0; IPV6_EXTENSIONS.has(next) && hops < 8; hops++) {
      if (end < udp + 2) return 'truncated';
      const following = b[udp]!;
      udp += (b[udp + 1]! + 1) * 8;
      next = following;
    }
    if (next === IPV6_FRAGMENT) return 'fragment';
    if (next !== IPPROTO_UDP) return 'not-udp';
  } else {
    return 'not-ip';
  }
  if (limit < udp + 8) return 'truncated';
  const udpLength = u16(b, udp + 4);
  out.srcPort = u16(b, udp);
  out.dstPort = u16(b, udp + 2);
  out.payloadStart = udp + 8;
  out.payloadEnd = udpLength >= 8 ? Math.min(limit, udp + udpLength) : limit;
  return undefined;
}

/** Printable address (for logs and party matching), e.g. 127.0.0.1 or 2001:db8::1. */
export function formatAddress(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups (RFC 5952 §4.2).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLen).join(':')}`;
}
