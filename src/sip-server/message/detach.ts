/**
 * Copies of strings and bytes that outlive the message they were cut from.
 *
 * V8 represents a substring of 13 or more characters as a slice of its parent
 * and a concatenation as a pair of its parts, so a transaction key built from
 * a Via branch, or a URI kept after the message is done with, keeps the whole
 * message text alive. Likewise a small Buffer from Node's shared 8 KB pool
 * keeps the whole slab alive. What the server keeps for the RFC 3261 wait
 * timers (up to 64·T1 after the call) is copied with these, so it costs its
 * own size and nothing more.
 */
import { EMPTY_BODY } from './sip-message.js';

/** Shorter strings are always stored flat by V8 (no slices, no pairs). */
const SLICE_MIN_LENGTH = 13;

/** A string with storage of its own (flat, sharing nothing with the text it came from). */
export function detach(s: string): string {
  return s.length < SLICE_MIN_LENGTH ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** The UTF-8 bytes of a string in a buffer of exactly that size (not a slice of Node's pool). */
export function exactBytes(s: string): Buffer {
  if (s.length === 0) return EMPTY_BODY;
  const out = Buffer.allocUnsafeSlow(Buffer.byteLength(s, 'utf8'));
  out.write(s, 0, 'utf8');
  return out;
}
