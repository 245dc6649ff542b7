/**
 * API keys: `sbk_<id>.<secret>`, where `id` (16 lower-case base-36 characters)
 * names the key and `secret` is 32 random bytes (base64url). Only
 * `sha256:<hex>` of the whole key is ever stored.
 *
 * Why SHA-256 and not scrypt: a slow KDF protects low-entropy secrets chosen
 * by people; these are 256-bit random values no one can guess or brute-force,
 * so a fast hash is as safe and keeps verification in microseconds (a slow one
 * would hand anyone who can reach the port a way to burn our CPU with bad
 * keys). The key is looked up by its id, never by secret-derived data, and the
 * digests are compared with timingSafeEqual.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_FORMAT = /^sbk_([a-z0-9]{16})\.([A-Za-z0-9_-]{43})$/;

export interface NewKey {
  readonly id: string;
  /** The key to hand to its user (shown once, never stored). */
  readonly key: string;
  readonly hash: string;
}

function randomId(): string {
  const bytes = randomBytes(16);
  let out = '';
  for (const b of bytes) out += (b % 36).toString(36);
  return out;
}

export function hashKey(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export function generateKey(): NewKey {
  const id = randomId();
  const key = `sbk_${id}.${randomBytes(32).toString('base64url')}`;
  return { id, key, hash: hashKey(key) };
}

/** The key id of a well-formed key; undefined for anything else. */
export function keyIdOf(key: string): string | undefined {
  return KEY_FORMAT.exec(key)?.[1];
}

/** Constant-time check of a presented key against a stored hash. */
export function keyMatches(key: string, storedHash: string): boolean {
  const expected = Buffer.from(storedHash.replace(/^sha256:/, ''), 'hex');
  const actual = Buffer.from(hashKey(key).slice('sha256:'.length), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or why there is none. */
export function bearerToken(header: string | undefined): { token: string } | { problem: string } {
  if (header === undefined || header === '') return { problem: 'no Authorization header (send "Authorization: Bearer <key>")' };
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  if (m === null) return { problem: 'the Authorization header is not "Bearer <key>"' };
  return { token: m[1]! };
}
