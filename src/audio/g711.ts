/**
 * ITU-T G.711 µ-law (PCMU, RTP payload type 0) and A-law (PCMA, payload type 8)
 * companding, per the segment tables of G.711 §2. Decoding goes through
 * 256-entry tables built once. Encoding a sample is a few shifts and a loop
 * (linearToUlaw/linearToAlaw); whole payloads are encoded through 65,536-entry
 * tables of those results, built on first use (64 KB per law), because the
 * monitor mixer encodes every frame of every monitored call.
 */

const BIAS = 0x84;
const CLIP = 32635;

function ulawDecodeByte(u: number): number {
  const v = ~u & 0xff;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  const magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
  return sign !== 0 ? -magnitude : magnitude;
}

function alawDecodeByte(a: number): number {
  const v = a ^ 0x55;
  const sign = v & 0x80;
  const exponent = (v >> 4) & 0x07;
  const mantissa = v & 0x0f;
  let magnitude = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  if (magnitude > 32767) magnitude = 32767;
  return sign !== 0 ? magnitude : -magnitude;
}

const ULAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => ulawDecodeByte(i));
const ALAW_TABLE = Int16Array.from({ length: 256 }, (_, i) => alawDecodeByte(i));

/** One linear 16-bit sample → µ-law byte. */
export function linearToUlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** One linear 16-bit sample → A-law byte. */
export function linearToAlaw(sample: number): number {
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s - 1;
  let out: number;
  if (s < 256) {
    out = s >> 4;
  } else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}

export function ulawToLinear(byte: number): number {
  return ULAW_TABLE[byte & 0xff]!;
}

export function alawToLinear(byte: number): number {
  return ALAW_TABLE[byte & 0xff]!;
}

export type G711Law = 'pcmu' | 'pcma';

/** Decodes a G.711 payload into `out` (allocated when absent). */
export function decodeG711(law: G711Law, payload: Uint8Array, out?: Int16Array): Int16Array {
  const table = law === 'pcmu' ? ULAW_TABLE : ALAW_TABLE;
  const pcm = out ?? new Int16Array(payload.length);
  for (let i = 0; i < payload.length; i++) pcm[i] = table[payload[i]!]!;
  return pcm;
}

/** The 256 linear values of a law's code words (index: the byte). */
export function g711DecodeTable(law: G711Law): Int16Array {
  return law === 'pcmu' ? ULAW_TABLE : ALAW_TABLE;
}

const encodeTables: Partial<Record<G711Law, Uint8Array>> = {};

/** The code word of every 16-bit sample (index: the sample's two's-complement bits, `s & 0xffff`). */
function encodeTable(law: G711Law): Uint8Array {
  let table = encodeTables[law];
  if (table === undefined) {
    const enc = law === 'pcmu' ? linearToUlaw : linearToAlaw;
    table = new Uint8Array(65536);
    for (let bits = 0; bits < 65536; bits++) table[bits] = enc((bits << 16) >> 16);
    encodeTables[law] = table;
  }
  return table;
}

/** Encodes linear samples into a G.711 payload. */
export function encodeG711(law: G711Law, pcm: Int16Array, out?: Uint8Array): Uint8Array {
  const table = encodeTable(law);
  const payload = out ?? new Uint8Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) payload[i] = table[pcm[i]! & 0xffff]!;
  return payload;
}

/** The byte that decodes to (near) zero: silence. */
export const G711_SILENCE: Readonly<Record<G711Law, number>> = { pcmu: 0xff, pcma: 0xd5 };

/** RTP static payload types (RFC 3551). */
export const G711_PAYLOAD_TYPE: Readonly<Record<G711Law, number>> = { pcmu: 0, pcma: 8 };
