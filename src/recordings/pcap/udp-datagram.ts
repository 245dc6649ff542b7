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

export interface UdpDatagram {
  readonly ipVersion: 4 | 6;
  /** Source address bytes (4 or 16). View into the frame. */
  readonly srcAddress: Uint8Array;
  readonly dstAddress: Uint8Array;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payload: Uint8Array;
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

/** Offset of the IP header within a frame of the given link type, or a reason to skip it. */
function ipOffset(linkType: number, frame: Uint8Array): number | SkipReason {
  switch (linkType) {
    case LinkTypes.RAW:
    case LinkTypes.RAW_BSD12:
    case LinkTypes.RAW_BSD14:
    case LinkTypes.IPV4:
    case LinkTypes.IPV6:
      return 0;
    case LinkTypes.NULL: {
      if (frame.length < 4) return 'truncated';
      // The address family is in the capturing host's byte order: accept either.
      const le = frame[0]! | (frame[1]! << 8);
      const be = (frame[2]! << 8) | frame[3]!;
      const family = le !== 0 ? le : be;
      return family === 2 || family === 24 || family === 28 || family === 30 ? 4 : 'not-ip';
    }
    case LinkTypes.ETHERNET: {
      let off = 12;
      if (frame.length < off + 2) return 'truncated';
      let type = u16(frame, off);
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
        off += 4;
        if (frame.length < off + 2) return 'truncated';
        type = u16(frame, off);
      }
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? off + 2 : 'not-ip';
    }
    case LinkTypes.LINUX_SLL: {
      if (frame.length < 16) return 'truncated';
      const type = u16(frame, 14);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 16 : 'not-ip';
    }
    case LinkTypes.LINUX_SLL2: {
      if (frame.length < 20) return 'truncated';
      const type = u16(frame, 0);
      return type === ETHERTYPE_IPV4 || type === ETHERTYPE_IPV6 ? 20 : 'not-ip';
    }
    default:
      return 'not-ip';
  }
}

/** IPv6 extension headers that may sit between the fixed header and UDP. */
const IPV6_EXTENSIONS = new Set([0, 43, 60]);
const IPV6_FRAGMENT = 44;

/** Decodes one captured frame down to its UDP datagram. */
export function decodeUdp(linkType: number, frame: Uint8Array): UdpDatagram | SkipReason {
  const ip = ipOffset(linkType, frame);
  if (typeof ip !== 'number') return ip;
  if (frame.length < ip + 1) return 'truncated';
  const version = frame[ip]! >> 4;
  let udp: number;
  let end: number;
  let src: Uint8Array;
  let dst: Uint8Array;
  if (version === 4) {
    if (frame.length < ip + 20) return 'truncated';
    const ihl = (frame[ip]! & 0x0f) * 4;
    const total = u16(frame, ip + 2);
    const flagsFragment = u16(frame, ip + 6);
    if ((flagsFragment & 0x2000) !== 0 || (flagsFragment & 0x1fff) !== 0) return 'fragment';
    if (frame[ip + 9] !== IPPROTO_UDP) return 'not-udp';
    src = frame.subarray(ip + 12, ip + 16);
    dst = frame.subarray(ip + 16, ip + 20);
    udp = ip + ihl;
    // Some writers leave total length 0 (e.g. segmentation offload); trust the capture then.
    end = total >= ihl ? Math.min(frame.length, ip + total) : frame.length;
  } else if (version === 6) {
    if (frame.length < ip + 40) return 'truncated';
    const payloadLength = u16(frame, ip + 4);
    let next = frame[ip + 6]!;
    src = frame.subarray(ip + 8, ip + 24);
    dst = frame.subarray(ip + 24, ip + 40);
    udp = ip + 40;
    end = payloadLength > 0 ? Math.min(frame.length, udp + payloadLength) : frame.length;
    for (let hops = 0; IPV6_EXTENSIONS.has(next) && hops < 8; hops++) {
      if (frame.length < udp + 2) return 'truncated';
      const following = frame[udp]!;
      udp += (frame[udp + 1]! + 1) * 8;
      next = following;
    }
    if (next === IPV6_FRAGMENT) return 'fragment';
    if (next !== IPPROTO_UDP) return 'not-udp';
  } else {
    return 'not-ip';
  }
  if (end < udp + 8) return 'truncated';
  const udpLength = u16(frame, udp + 4);
  const payloadEnd = udpLength >= 8 ? Math.min(end, udp + udpLength) : end;
  return {
    ipVersion: version === 4 ? 4 : 6,
    srcAddress: src,
    dstAddress: dst,
    srcPort: u16(frame, udp),
    dstPort: u16(frame, udp + 2),
    payload: frame.subarray(udp + 8, payloadEnd),
  };
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
