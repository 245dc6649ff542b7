/**
 * RTP fixed header (RFC 3550 §5.1) with CSRC list, header extension (§5.3.1)
 * and padding. Anything that is not RTP version 2 — RTCP on a muxed port
 * (RFC 5761 §4: payload types 64–95 with the marker bit are RTCP packet types
 * 192–223), STUN, DTLS — is recognised and skipped by the caller.
 */

/** One packet's header fields and where its payload is; one instance is reused for every packet. */
export class RtpView {
  payloadType = 0;
  marker = false;
  sequence = 0;
  timestamp = 0;
  ssrc = 0;
  payloadStart = 0;
  payloadEnd = 0;
}

export type RtpSkipReason = 'not-rtp' | 'rtcp' | 'malformed';

/** Parses the packet at b[start, end) into `out`, or says why it is not RTP audio to place. */
export function parseRtp(b: Uint8Array, start: number, end: number, out: RtpView): RtpSkipReason | undefined {
  if (end - start < 12) return 'not-rtp';
  const b0 = b[start]!;
  if (b0 >> 6 !== 2) return 'not-rtp';
  const b1 = b[start + 1]!;
  const pt = b1 & 0x7f;
  if (pt >= 64 && pt <= 95) return 'rtcp';
  const csrcCount = b0 & 0x0f;
  let offset = start + 12 + csrcCount * 4;
  if ((b0 & 0x10) !== 0) {
    if (end < offset + 4) return 'malformed';
    const words = (b[offset + 2]! << 8) | b[offset + 3]!;
    offset += 4 + words * 4;
  }
  let stop = end;
  if ((b0 & 0x20) !== 0) {
    const padding = b[end - 1]!;
    if (padding === 0 || padding > stop - offset) return 'malformed';
    stop -= padding;
  }
  if (offset > stop) return 'malformed';
  out.payloadType = pt;
  out.marker = (b1 & 0x80) !== 0;
  out.sequence = (b[start + 2]! << 8) | b[start + 3]!;
  out.timestamp = ((b[start + 4]! << 24) | (b[start + 5]! << 16) | (b[start + 6]! << 8) | b[start + 7]!) >>> 0;
  out.ssrc = ((b[start + 8]! << 24) | (b[start + 9]! << 16) | (b[start + 10]! << 8) | b[start + 11]!) >>> 0;
  out.payloadStart = offset;
  out.payloadEnd = stop;
  return undefined;
}
