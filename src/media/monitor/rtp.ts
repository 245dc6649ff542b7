/**
 * RTP fixed header, RFC 3550 §5.1: parsing what rtpengine forwards to the
 * monitor and writing the mixed stream. Header extensions (§5.3.1) and padding
 * are skipped on input and never produced.
 */
import { parseRtp as parseRtpInto, RtpView } from '../../audio/rtp-header.js';

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

/**
 * Parses one datagram; undefined when it is not RTP version 2 audio (RTCP on a
 * muxed port included). The header grammar is the shared one in src/audio.
 */
export function parseRtp(buf: Uint8Array): ParsedRtp | undefined {
  const view = new RtpView();
  if (parseRtpInto(buf, 0, buf.length, view) !== undefined) return undefined;
  return {
    payloadType: view.payloadType,
    marker: view.marker,
    sequenceNumber: view.sequence,
    timestamp: view.timestamp,
    ssrc: view.ssrc,
    payload: buf.subarray(view.payloadStart, view.payloadEnd),
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
