/**
 * The client side of HTTP digest authentication as SIP uses it (RFC 3261
 * §22.2-22.4 with RFC 2617, and RFC 8760 / RFC 7616 for SHA-256): answering a
 * 401 (WWW-Authenticate → Authorization) or 407 (Proxy-Authenticate →
 * Proxy-Authorization) from a carrier gateway. drachtio-srf's own client
 * handles MD5 only and takes a `qop` list as one value, hence ours.
 *
 * When several challenges are offered, the strongest algorithm we support
 * wins (RFC 8760 §2.4: SHA-256 before MD5). `qop=auth` is used when offered,
 * else `auth-int` (the request's body hashed in, RFC 7616 §3.4.3); the old
 * form without qop (RFC 2069) only for a challenge that offers no qop at all.
 */
import { createHash, randomBytes } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly algorithm: DigestAlgorithm;
  readonly opaque: string | undefined;
  readonly qop: readonly string[];
  readonly stale: boolean;
}

const ALGORITHMS: Record<string, DigestAlgorithm> = { 'md5': 'MD5', 'md5-sess': 'MD5-sess', 'sha-256': 'SHA-256', 'sha-256-sess': 'SHA-256-sess' };
const STRENGTH: Record<DigestAlgorithm, number> = { 'MD5': 1, 'MD5-sess': 1, 'SHA-256': 2, 'SHA-256-sess': 2 };

/** Splits `a="x, y", b=z` into pairs, honouring quoted strings and escapes (RFC 7235 §2.1). */
function authParams(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null && m[0] !== '') {
    out.set(m[1]!.toLowerCase(), m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2]!);
  }
  return out;
}

/** A challenge header value (`Digest realm=..., nonce=...`), or undefined when it is not a usable digest challenge. */
export function parseChallenge(value: string): DigestChallenge | undefined {
  const m = /^\s*digest\s+(.*)$/is.exec(value);
  if (m === null) return undefined;
  const p = authParams(m[1]!);
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const algorithm = ALGORITHMS[(p.get('algorithm') ?? 'MD5').toLowerCase()];
  if (realm === undefined || nonce === undefined || algorithm === undefined) return undefined;
  return {
    realm,
    nonce,
    algorithm,
    opaque: p.get('opaque'),
    qop: (p.get('qop') ?? '')
      .split(',')
      .map((q) => q.trim().toLowerCase())
      .filter((q) => q !== ''),
    stale: (p.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/** The challenge to answer among several header values: the strongest supported algorithm. */
export function chooseChallenge(values: readonly string[]): DigestChallenge | undefined {
  let best: DigestChallenge | undefined;
  for (const v of values) {
    const c = parseChallenge(v);
    if (c !== undefined && (best === undefined || STRENGTH[c.algorithm] > STRENGTH[best.algorithm])) best = c;
  }
  return best;
}

function hash(algorithm: DigestAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

export interface DigestAnswer {
  readonly method: string;
  readonly uri: string;
  readonly username: string;
  readonly password: string;
  /** nonce count (starts at 1 for a fresh nonce). */
  readonly nc?: number;
  /** For tests: a fixed client nonce. */
  readonly cnonce?: string;
  /** The request's body (for qop=auth-int); none: empty. */
  readonly body?: string;
}

/** The Authorization / Proxy-Authorization value answering `c` (RFC 7616 §3.4). */
export function digestAuthorization(c: DigestChallenge, a: DigestAnswer): string {
  const qop = c.qop.includes('auth') ? 'auth' : c.qop.includes('auth-int') ? 'auth-int' : undefined;
  const cnonce = a.cnonce ?? randomBytes(8).toString('hex');
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  let ha1 = hash(c.algorithm, `${a.username}:${c.realm}:${a.password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = hash(c.algorithm, `${ha1}:${c.nonce}:${cnonce}`);
  const ha2 = hash(c.algorithm, qop === 'auth-int' ? `${a.method}:${a.uri}:${hash(c.algorithm, a.body ?? '')}` : `${a.method}:${a.uri}`);
  const response = qop !== undefined ? hash(c.algorithm, `${ha1}:${c.nonce}:${nc}:${cnonce}:${qop}:${ha2}`) : hash(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
  const parts = [
    `username=${quote(a.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(a.uri)}`,
    `response=${quote(response)}`,
    `algorithm=${c.algorithm}`,
    ...(c.opaque !== undefined ? [`opaque=${quote(c.opaque)}`] : []),
    ...(qop !== undefined || c.algorithm.endsWith('-sess') ? [`cnonce=${quote(cnonce)}`] : []),
    ...(qop !== undefined ? [`qop=${qop}`, `nc=${nc}`] : []),
  ];
  return `Digest ${parts.join(', ')}`;
}

/** The challenges in a WWW-Authenticate or Proxy-Authenticate value drachtio-srf joined with commas (a challenge holds commas too). */
export function splitChallenges(joined: string): string[] {
  return joined.split(/,\s*(?=digest\s)/i);
}

/**
 * Requests sent so far with each nonce (RFC 7616 §3.4: `nc` counts every request, the current one
 * included, that the client sent with that nonce). Shared by a dialog's requests: a gateway that
 * challenges a BYE with the nonce the INVITE already used must see nc=00000002, not a replay.
 */
export class NonceCounter {
  private readonly counts = new Map<string, number>();

  next(realm: string, nonce: string): number {
    const key = `${realm}\n${nonce}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n;
  }
}

/**
 * The answers to the challenges met by one request and its retries (an INVITE, a BYE): one answer
 * per challenger (an outbound proxy's 407 and the gateway's 401, RFC 3261 §22.3: each header is
 * kept on the requests that follow), one more when a nonce was only stale (RFC 7616 §3.3), and
 * none for a realm that challenges again after our answer: it refused the credentials.
 */
export class ChallengeAnswers {
  private readonly answered = new Set<string>();
  private readonly fields: Record<string, string> = {};

  constructor(
    private readonly credentials: { readonly username: string; readonly password: string },
    private readonly nonces: NonceCounter = new NonceCounter(),
  ) {}

  /** The credential headers to send the request again with; undefined when it must not be retried. */
  answer(status: number, challenges: readonly string[], method: string, uri: string, body = ''): Readonly<Record<string, string>> | undefined {
    if (status !== 401 && status !== 407) return undefined;
    const challenge = chooseChallenge(challenges);
    const field = status === 407 ? 'Proxy-Authorization' : 'Authorization';
    if (challenge === undefined) return undefined;
    const key = `${field} ${challenge.realm}`;
    if (this.answered.has(key) && !challenge.stale) return undefined;
    this.answered.add(key);
    const nc = challenge.qop.length > 0 ? this.nonces.next(challenge.realm, challenge.nonce) : undefined;
    this.fields[field] = digestAuthorization(challenge, { method, uri, body, username: this.credentials.username, password: this.credentials.password, ...(nc !== undefined ? { nc } : {}) });
    return { ...this.fields };
  }
}
