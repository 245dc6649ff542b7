/**
 * RTP fixed header, RFC 3550 §5.1: parsing what rtpengine forwards to the
 * monitor and writing the mixed stream. Header extensions (§5.3.1) and padding
 * are skipped on input and never produced.
 */

export interface RtpHeader {
  readonly payloadType: number;
  readonly marker: boolean;
  readonly sequenceNumber: number;
  readonly timestamp: number;
  readonly ssrc: number;
}

export interface ParsedRtp extends RtpHeader {
  readonly payload: Uint8Array;
}

/** Parses one datagram; undefined when it is not RTP version 2 (RTCP included: types 200-204). */
export function parseRtp(buf: Uint8Array): ParsedRtp | undefined {
  if (buf.length < 12) return undefined;
  const b0 = buf[0]!;
  const b1 = buf[1]!;
  if (b0 >> 6 !== 2 || (b1 >= 200 && b1 <= 204)) return undefined;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let offset = 12 + 4 * (b0 & 0x0f);
  if ((b0 & 0x10) !== 0) {
    if (buf.length < offset + 4) return undefined;
    offset += 4 + 4 * view.getUint16(offset + 2);
  }
  let end = buf.length;
  if ((b0 & 0x20) !== 0) end -= buf[buf.length - 1]!;
  if (offset > end) return undefined;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    sequenceNumber: view.getUint16(2),
    timestamp: view.getUint32(4),
    ssrc: view.getUint32(8),
    payload: buf.subarray(offset, end),
  };
}

/** Writes header + payload into one new buffer. */
export function writeRtp(header: RtpHeader, payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(12 + payload.length);
  out[0] = 0x80;
  out[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
  out.writeUInt16BE(header.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(header.timestamp >>> 0, 4);
  out.writeUInt32BE(header.ssrc >>> 0, 8);
  out.set(payload, 12);
  return out;
}
