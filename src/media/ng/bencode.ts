/**
 * Bencode (BitTorrent BEP 3, "The BitTorrent Protocol Specification",
 * section "bencoding"): the value encoding of rtpengine's ng control protocol.
 *
 * Byte strings are handled as bytes from end to end, so binary values (an audio file
 * passed inline as `blob`) survive; the npm rtpengine-client joins strings and
 * corrupts them. Dictionary keys are written in sorted byte order as BEP 3
 * requires.
 */
import { RtpengineProtocolError } from '../media-errors.js';

/** A value bencode can carry. `undefined` dictionary entries are left out. */
export type BencodeValue = string | number | Uint8Array | readonly BencodeValue[] | { readonly [key: string]: BencodeValue | undefined };

/** A decoded value: byte strings come back as Buffers (see `bencodeToText`). */
export type DecodedBencode = Buffer | number | DecodedBencode[] | { [key: string]: DecodedBencode };

/** Malformed bencode, or a value bencode cannot carry (code RTPENGINE_PROTOCOL). */
export class BencodeError extends RtpengineProtocolError {}

const COLON = 0x3a;
const CHAR_I = 0x69;
const CHAR_L = 0x6c;
const CHAR_D = 0x64;
const CHAR_E = 0x65;
const MINUS = 0x2d;

/** Encodes a value; throws BencodeError for what bencode cannot carry (fractions, booleans, null). */
export function bencode(value: BencodeValue): Buffer {
  const parts: Buffer[] = [];
  encodeInto(value, parts, '');
  return Buffer.concat(parts);
}

function encodeInto(value: BencodeValue, parts: Buffer[], path: string): void {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    parts.push(Buffer.from(`${bytes.length}:`, 'ascii'), bytes);
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new BencodeError(`bencode carries only integers; ${path || 'value'} is ${value}`);
    parts.push(Buffer.from(`i${value}e`, 'ascii'));
  } else if (value instanceof Uint8Array) {
    parts.push(Buffer.from(`${value.length}:`, 'ascii'), Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  } else if (Array.isArray(value)) {
    parts.push(Buffer.from('l'));
    (value as readonly BencodeValue[]).forEach((v, i) => encodeInto(v, parts, `${path}[${i}]`));
    parts.push(Buffer.from('e'));
  } else if (typeof value === 'object' && value !== null) {
    const dict = value as { readonly [key: string]: BencodeValue | undefined };
    const keys = Object.keys(dict)
      .filter((k) => dict[k] !== undefined)
      .map((k) => ({ k, bytes: Buffer.from(k, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    parts.push(Buffer.from('d'));
    for (const { k, bytes } of keys) {
      parts.push(Buffer.from(`${bytes.length}:`, 'ascii'), bytes);
      encodeInto(dict[k]!, parts, path === '' ? k : `${path}.${k}`);
    }
    parts.push(Buffer.from('e'));
  } else {
    throw new BencodeError(`bencode cannot carry ${value === null ? 'null' : typeof value} (at ${path || 'top level'})`);
  }
}

/** Decodes exactly one value filling `data`; throws BencodeError on malformed input or trailing bytes. */
export function bdecode(data: Uint8Array): DecodedBencode {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const state = { pos: 0, depth: 0 };
  const value = decodeAt(buf, state);
  if (state.pos !== buf.length) throw new BencodeError(`${buf.length - state.pos} trailing bytes after the bencoded value`);
  return value;
}

/** Nesting deeper than this is refused: a hostile peer must not exhaust the stack. */
const MAX_DEPTH = 64;

function decodeAt(buf: Buffer, state: { pos: number; depth: number }): DecodedBencode {
  if (state.pos >= buf.length) throw new BencodeError('unexpected end of data');
  const c = buf[state.pos]!;
  if (c === CHAR_I) {
    const end = buf.indexOf(CHAR_E, state.pos + 1);
    if (end < 0) throw new BencodeError('unterminated integer');
    const text = buf.toString('ascii', state.pos + 1, end);
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new BencodeError(`malformed integer "${text}"`);
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new BencodeError(`integer out of range: ${text}`);
    state.pos = end + 1;
    return n;
  }
  if (c === CHAR_L || c === CHAR_D) {
    if (++state.depth > MAX_DEPTH) throw new BencodeError(`nesting deeper than ${MAX_DEPTH}`);
    state.pos++;
    const result = c === CHAR_L ? decodeList(buf, state) : decodeDict(buf, state);
    state.depth--;
    return result;
  }
  if (c >= 0x30 && c <= 0x39) return decodeBytes(buf, state);
  if (c === MINUS) throw new BencodeError('a string length cannot be negative');
  throw new BencodeError(`unexpected byte 0x${c.toString(16).padStart(2, '0')} at offset ${state.pos}`);
}

function decodeBytes(buf: Buffer, state: { pos: number }): Buffer {
  const colon = buf.indexOf(COLON, state.pos);
  if (colon < 0) throw new BencodeError('string length without ":"');
  const text = buf.toString('ascii', state.pos, colon);
  if (!/^(0|[1-9][0-9]*)$/.test(text)) throw new BencodeError(`malformed string length "${text}"`);
  const length = Number(text);
  const start = colon + 1;
  if (start + length > buf.length) throw new BencodeError(`string of ${length} bytes runs past the end of data`);
  state.pos = start + length;
  return buf.subarray(start, start + length);
}

function decodeList(buf: Buffer, state: { pos: number; depth: number }): DecodedBencode[] {
  const out: DecodedBencode[] = [];
  for (;;) {
    if (state.pos >= buf.length) throw new BencodeError('unterminated list');
    if (buf[state.pos] === CHAR_E) {
      state.pos++;
      return out;
    }
    out.push(decodeAt(buf, state));
  }
}

function decodeDict(buf: Buffer, state: { pos: number; depth: number }): { [key: string]: DecodedBencode } {
  const out: { [key: string]: DecodedBencode } = {};
  for (;;) {
    if (state.pos >= buf.length) throw new BencodeError('unterminated dictionary');
    if (buf[state.pos] === CHAR_E) {
      state.pos++;
      return out;
    }
    const c = buf[state.pos]!;
    if (c < 0x30 || c > 0x39) throw new BencodeError(`dictionary key is not a string at offset ${state.pos}`);
    const key = decodeBytes(buf, state).toString('utf8');
    setOwn(out, key, decodeAt(buf, state));
  }
}

/** The decoded value with every byte string turned into UTF-8 text (what ng replies hold). */
export type TextBencode = string | number | TextBencode[] | { [key: string]: TextBencode };

export function bencodeToText(value: DecodedBencode): TextBencode {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number') return value;
  if (Array.isArray(value)) return value.map(bencodeToText);
  const out: { [key: string]: TextBencode } = {};
  for (const [k, v] of Object.entries(value)) setOwn(out, k, bencodeToText(v));
  return out;
}

/** Defines an own property, so a key such as "__proto__" from the wire stays plain data. */
function setOwn<T>(target: { [key: string]: T }, key: string, value: T): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
