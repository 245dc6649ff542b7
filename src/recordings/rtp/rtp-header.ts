/**
 * RTP fixed header (RFC 3550 §5.1) with CSRC list, header extension (§5.3.1)
 * and padding. Anything that is not RTP version 2 — RTCP on a muxed port
 * (RFC 5761 §4: payload types 64–95 with the marker bit are RTCP packet types
 * 192–223), STUN, DTLS — is recognised and skipped by the caller.
 */

export interface RtpHeader {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequence: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly payload: Uint8Array;
}

export type RtpSkipReason = 'not-rtp' | 'rtcp' | 'malformed';

export function parseRtp(packet: Uint8Array): RtpHeader | RtpSkipReason {
  if (packet.length < 12) return 'not-rtp';
  const b0 = packet[0]!;
  if (b0 >> 6 !== 2) return 'not-rtp';
  const b1 = packet[1]!;
  const pt = b1 & 0x7f;
  if (pt >= 64 && pt <= 95) return 'rtcp';
  const csrcCount = b0 & 0x0f;
  let offset = 12 + csrcCount * 4;
  if ((b0 & 0x10) !== 0) {
    if (packet.length < offset + 4) return 'malformed';
    const words = (packet[offset + 2]! << 8) | packet[offset + 3]!;
    offset += 4 + words * 4;
  }
  let end = packet.length;
  if ((b0 & 0x20) !== 0) {
    const padding = packet[packet.length - 1]!;
    if (padding === 0 || padding > end - offset) return 'malformed';
    end -= padding;
  }
  if (offset > end) return 'malformed';
  return {
    payloadType: pt,
    marker: (b1 & 0x80) !== 0,
    sequence: (packet[2]! << 8) | packet[3]!,
    timestamp: ((packet[4]! << 24) | (packet[5]! << 16) | (packet[6]! << 8) | packet[7]!) >>> 0,
    ssrc: ((packet[8]! << 24) | (packet[9]! << 16) | (packet[10]! << 8) | packet[11]!) >>> 0,
    payload: packet.subarray(offset, end),
  };
}
