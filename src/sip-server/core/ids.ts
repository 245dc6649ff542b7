/**
 * Identifiers: transaction ids for the app (UUID v4, as the reference server
 * sends), tags and Call-IDs (RFC 3261 §19.3: at least 32 bits of randomness),
 * and branches with the magic cookie (§8.1.1.7). Random bytes come from a pool
 * refilled in blocks, which is much cheaper than one syscall per id.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { detach } from '../message/detach.js';
import { MAGIC_COOKIE } from '../message/via.js';

let pool = Buffer.alloc(0);
let offset = 0;

function take(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = randomBytes(16 * 1024);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

export function newTransactionId(): string {
  // Node builds the UUID by concatenation: flattened, it is one 36-byte string instead of a tree of pieces.
  return detach(randomUUID());
}

/** 64 random bits, hex. */
export function newTag(): string {
  return take(8).toString('hex');
}

/** 96 random bits after the magic cookie. */
export function newBranch(): string {
  return `${MAGIC_COOKIE}${take(12).toString('base64url')}`;
}

export function newCallId(host: string): string {
  return `${take(12).toString('hex')}@${host.includes(':') ? `[${host}]` : host}`;
}
