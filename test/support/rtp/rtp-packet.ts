/**
 * RTP fixed header (RFC 3550 §5.1) for test tools: encode what an endpoint
 * sends, decode what it receives. Deliberately independent of src/ so that
 * tests of the media plane and of the recordings pipeline check the product
 * code against a separate implementation.
 */

export interface RtpPacket {
  readonly payloadType: number;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
  readonly marker: boolean;
  readonly csrcs: readonly number[];
  readonly payload: Buffer;
}

/** Encodes a version-2 RTP packet without padding or header extension. */
export function encodeRtp(p: Omit<RtpPacket, 'csrcs'> & { readonly csrcs?: readonly number[] }): Buffer {
  const csrcs = p.csrcs ?? [];
  const header = Buffer.alloc(12 + 4 * csrcs.length);
  header[0] = 0x80 | csrcs.length;
  header[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  header.writeUInt16BE(p.sequenceNumber & 0xffff, 2);
  header.writeUInt32BE(p.timestamp >>> 0, 4);
  header.writeUInt32BE(p.ssrc >>> 0, 8);
  csrcs.forEach((c, i) => header.writeUInt32BE(c >>> 0, 12 + 4 * i));
  return Buffer.concat([header, p.payload]);
}

/**
 * Decodes an RTP packet; undefined for anything else (RTCP, whose second
 * byte is a packet type 200-204, or a truncated/invalid datagram).
 */
export function decodeRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12 || buf[0]! >> 6 !== 2) return undefined;
  const secondByte = buf[1]!;
  if (secondByte >= 200 && secondByte <= 204) return undefined;
  const csrcCount = buf[0]! & 0x0f;
  let offset = 12 + 4 * csrcCount;
  if (buf.length < offset) return undefined;
  if ((buf[0]! & 0x10) !== 0) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + 4 * buf.readUInt16BE(offset + 2);
  }
  let end = buf.length;
  if ((buf[0]! & 0x20) !== 0) end -= buf[buf.length - 1]!;
  if (end < offset) return undefined;
  const csrcs: number[] = [];
  for (let i = 0; i < csrcCount; i++) csrcs.push(buf.readUInt32BE(12 + 4 * i));
  return {
    payloadType: secondByte & 0x7f,
    marker: (secondByte & 0x80) !== 0,
    sequenceNumber: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    csrcs,
    payload: Buffer.from(buf.subarray(offset, end)),
  };
}
