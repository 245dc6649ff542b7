/**
 * The server side of HTTP digest authentication as SIP uses it (RFC 3261
 * §22.1, §22.4 with RFC 2617, and RFC 7616 / RFC 8760 for SHA-256): the
 * challenge of a 401 (`WWW-Authenticate`, one per algorithm, most preferred
 * first), and the check of the `Authorization` that answers it.
 *
 * Nonces are stateless: the time they were issued and a random part, signed
 * with a secret of this process (HMAC-SHA-256), so any nonce we issued can be
 * checked without a table, and one older than the nonce lifetime is stale
 * (RFC 7616 §3.3: a correct answer to a stale nonce gets a new challenge with
 * `stale=true`, not a refusal). With `qop=auth` the nonce count must grow
 * (RFC 7616 §3.4: a repeated count is a replay); the counts are kept for
 * recent nonces only, in a bounded table.
 *
 * A malformed header (grammar, a missing or repeated parameter, a bad nonce
 * count, a `uri` other than the Request-URI) is a 400 with the reason (RFC
 * 2617 §3.2.2.5). Unknown users and wrong passwords fail the same way and cost
 * the same work, so answers never reveal which users exist.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type ServerAlgorithm = 'SHA-256' | 'MD5';
type AnyAlgorithm = ServerAlgorithm | 'SHA-256-sess' | 'MD5-sess';

const ALGORITHMS: Record<string, AnyAlgorithm> = { 'md5': 'MD5', 'md5-sess': 'MD5-sess', 'sha-256': 'SHA-256', 'sha-256-sess': 'SHA-256-sess' };

export interface DigestCredentials {
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  readonly uri: string;
  readonly response: string;
  readonly algorithm: AnyAlgorithm;
  readonly qop: 'auth' | undefined;
  readonly nc: number | undefined;
  readonly cnonce: string | undefined;
}

export type ParsedAuthorization = { readonly ok: true; readonly credentials: DigestCredentials } | { readonly ok: false; readonly reason: string };

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * `auth-param *( OWS "," OWS auth-param )` (RFC 7235 §2.1), strictly: a token,
 * `=`, a token or quoted-string; empty list elements are allowed (§7 of RFC
 * 7230), anything else is an error.
 */
function strictParams(text: string): Map<string, string> | string {
  const out = new Map<string, string>();
  let i = 0;
  const n = text.length;
  const ws = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  for (;;) {
    ws();
    while (i < n && text[i] === ',') {
      i++;
      ws();
    }
    if (i >= n) return out;
    const start = i;
    while (i < n && /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(text[i]!)) i++;
    const name = text.slice(start, i).toLowerCase();
    if (name === '') return `unexpected "${text.slice(i, i + 10)}"`;
    ws();
    if (text[i] !== '=') return `parameter ${name} has no value`;
    i++;
    ws();
    let value: string;
    if (text[i] === '"') {
      i++;
      let v = '';
      for (;;) {
        if (i >= n) return `unterminated quoted value of ${name}`;
        const c = text[i]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i + 1 >= n) return `unterminated quoted value of ${name}`;
          v += text[i + 1];
          i += 2;
          continue;
        }
        if (c === '\r' || c === '\n') return `line break in the value of ${name}`;
        v += c;
        i++;
      }
      i++;
      value = v;
    } else {
      const vs = i;
      while (i < n && text[i] !== ',' && text[i] !== ' ' && text[i] !== '\t') i++;
      value = text.slice(vs, i);
      if (!TOKEN.test(value)) return `parameter ${name} has an empty or invalid value`;
    }
    if (out.has(name)) return `parameter ${name} is repeated`;
    out.set(name, value);
    ws();
    if (i < n && text[i] !== ',') return `unexpected "${text.slice(i, i + 10)}" after ${name}`;
  }
}

/** Parses one Authorization value. A scheme other than Digest is reported as `scheme` (ignored, not malformed). */
export function parseAuthorization(value: string): ParsedAuthorization | { readonly ok: false; readonly scheme: string } {
  const m = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+([\s\S]*))?$/.exec(value);
  if (m === null) return { ok: false, reason: 'no authentication scheme' };
  if (m[1]!.toLowerCase() !== 'digest') return { ok: false, scheme: m[1]! };
  const p = strictParams(m[2] ?? '');
  if (typeof p === 'string') return { ok: false, reason: p };
  for (const required of ['username', 'realm', 'nonce', 'uri', 'response']) {
    if (!p.has(required)) return { ok: false, reason: `parameter ${required} is missing` };
  }
  if (p.has('userhash') && p.get('userhash')!.toLowerCase() === 'true') return { ok: false, reason: 'userhash was not offered' };
  const algorithm = ALGORITHMS[(p.get('algorithm') ?? 'MD5').toLowerCase()];
  if (algorithm === undefined) return { ok: false, reason: `unknown algorithm ${p.get('algorithm')!}` };
  const response = p.get('response')!.toLowerCase();
  const hexLength = algorithm.startsWith('SHA-256') ? 64 : 32;
  if (!new RegExp(`^[0-9a-f]{${hexLength}}$`).test(response)) return { ok: false, reason: `response is not ${hexLength} hex digits` };
  const qopRaw = p.get('qop');
  let qop: 'auth' | undefined;
  let nc: number | undefined;
  let cnonce: string | undefined;
  if (qopRaw !== undefined) {
    if (qopRaw.toLowerCase() !== 'auth') return { ok: false, reason: `qop ${qopRaw} was not offered` };
    qop = 'auth';
    const ncRaw = p.get('nc');
    cnonce = p.get('cnonce');
    if (ncRaw === undefined || !/^[0-9a-fA-F]{8}$/.test(ncRaw)) return { ok: false, reason: 'nc must be 8 hex digits with qop' };
    if (cnonce === undefined || cnonce === '') return { ok: false, reason: 'cnonce is required with qop' };
    nc = parseInt(ncRaw, 16);
  } else if (algorithm.endsWith('-sess')) {
    cnonce = p.get('cnonce');
    if (cnonce === undefined || cnonce === '') return { ok: false, reason: 'cnonce is required with a -sess algorithm' };
  }
  return { ok: true, credentials: { username: p.get('username')!, realm: p.get('realm')!, nonce: p.get('nonce')!, uri: p.get('uri')!, response, algorithm, qop, nc, cnonce } };
}

function h(algorithm: AnyAlgorithm, text: string): string {
  return createHash(algorithm.startsWith('SHA-256') ? 'sha256' : 'md5')
    .update(text, 'utf8')
    .digest('hex');
}

/** The expected `response` (RFC 7616 §3.4.1), given the password. */
export function expectedResponse(c: DigestCredentials, method: string, password: string): string {
  let ha1 = h(c.algorithm, `${c.username}:${c.realm}:${password}`);
  if (c.algorithm.endsWith('-sess')) ha1 = h(c.algorithm, `${ha1}:${c.nonce}:${c.cnonce ?? ''}`);
  const ha2 = h(c.algorithm, `${method}:${c.uri}`);
  if (c.qop === 'auth') return h(c.algorithm, `${ha1}:${c.nonce}:${c.nc!.toString(16).padStart(8, '0')}:${c.cnonce!}:auth:${ha2}`);
  return h(c.algorithm, `${ha1}:${c.nonce}:${ha2}`);
}

/**
 * The digest `uri` names the Request-URI (RFC 2617 §3.2.2.5). Phones differ
 * in how they copy it (some drop `;transport=`, change case): the same
 * scheme, user, host and port is the same URI here.
 */
function sameUri(digestUri: string, requestUri: string): boolean {
  const key = (u: string): string => {
    const m = /^\s*(sips?):(?:([^@;?]*)@)?(\[[^\]]+\]|[^:;?]+)(?::([0-9]+))?/i.exec(u);
    return m === null ? u.trim().toLowerCase() : `${m[1]!.toLowerCase()}:${m[2] ?? ''}@${m[3]!.toLowerCase()}:${m[4] ?? ''}`;
  };
  return key(digestUri) === key(requestUri);
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Verdict =
  /** No usable credentials for our realm (none, another scheme, another realm): challenge. */
  | { readonly kind: 'challenge' }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** The password was right but the nonce too old (or not ours any more): challenge again with stale=true. */
  | { readonly kind: 'stale' }
  /** Wrong password, unknown user, or a replayed nonce count. */
  | { readonly kind: 'refused'; readonly username: string }
  | { readonly kind: 'ok'; readonly username: string };

export interface DigestServerOptions {
  readonly realm: string;
  readonly algorithms: readonly ServerAlgorithm[];
  readonly nonceSeconds: number;
  readonly now?: () => number;
  /** Nonce counts remembered (most recent nonces). */
  readonly maxTrackedNonces?: number;
}

export interface VerifyRequest {
  readonly method: string;
  readonly requestUri: string;
  /** Authorization header values (a request may carry several, for several realms). */
  readonly authorization: readonly string[];
  /** The password of a user; undefined for an unknown user. */
  readonly passwordOf: (username: string) => string | undefined;
}

/** Stands in for a password when the user is unknown, so both cost one hash. */
const NO_SUCH_USER = randomBytes(18).toString('base64');

export class DigestServer {
  private readonly secret = randomBytes(32);
  private readonly counts = new Map<string, number>();
  private readonly now: () => number;
  private readonly maxTracked: number;

  constructor(private readonly options: DigestServerOptions) {
    this.now = options.now ?? Date.now;
    this.maxTracked = options.maxTrackedNonces ?? 10_000;
  }

  private sign(payload: Buffer): Buffer {
    return createHmac('sha256', this.secret).update(payload).digest().subarray(0, 16);
  }

  /** A fresh nonce: issued-at (ms), 8 random bytes, and their signature. */
  nonce(): string {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.now()))), 0);
    randomBytes(8).copy(payload, 8);
    return Buffer.concat([payload, this.sign(payload)]).toString('base64url');
  }

  /** 'fresh', 'stale' (ours but too old) or 'foreign' (not issued by this process). */
  private nonceState(nonce: string): 'fresh' | 'stale' | 'foreign' {
    const raw = /^[A-Za-z0-9_-]{43}$/.test(nonce) ? Buffer.from(nonce, 'base64url') : undefined;
    if (raw === undefined || raw.length !== 32) return 'foreign';
    const payload = raw.subarray(0, 16);
    if (!timingSafeEqual(raw.subarray(16), this.sign(payload))) return 'foreign';
    const issued = Number(payload.readBigUInt64BE(0));
    const age = this.now() - issued;
    return age >= -5000 && age <= this.options.nonceSeconds * 1000 ? 'fresh' : 'stale';
  }

  /** The WWW-Authenticate values of a 401, most preferred algorithm first (RFC 8760 §2.4). */
  challenges(stale = false): string[] {
    const nonce = this.nonce();
    return this.options.algorithms.map((a) => `Digest realm="${this.options.realm}", nonce="${nonce}", algorithm=${a}, qop="auth"${stale ? ', stale=true' : ''}`);
  }

  verify(r: VerifyRequest): Verdict {
    let ours: DigestCredentials | undefined;
    for (const value of r.authorization) {
      const parsed = parseAuthorization(value);
      if (!parsed.ok) {
        if ('scheme' in parsed) continue;
        return { kind: 'malformed', reason: parsed.reason };
      }
      if (parsed.credentials.realm !== this.options.realm) continue;
      if (ours !== undefined) return { kind: 'malformed', reason: 'two sets of credentials for the same realm' };
      ours = parsed.credentials;
    }
    if (ours === undefined) return { kind: 'challenge' };
    const c = ours;
    const base = c.algorithm.replace('-sess', '') as ServerAlgorithm;
    if (!this.options.algorithms.includes(base)) return { kind: 'malformed', reason: `algorithm ${c.algorithm} was not offered` };
    if (!sameUri(c.uri, r.requestUri)) return { kind: 'malformed', reason: 'the digest uri is not the Request-URI' };
    const password = r.passwordOf(c.username);
    const right = sameHex(expectedResponse(c, r.method, password ?? NO_SUCH_USER), c.response) && password !== undefined;
    const state = this.nonceState(c.nonce);
    if (!right) return { kind: 'refused', username: c.username };
    if (state !== 'fresh') return { kind: 'stale' };
    // A response without qop (RFC 2069's form) has no count to tell a replay by: its nonce is good once,
    // or the same header sent again from anywhere, within the nonce's lifetime, would pass too.
    if (!this.countOnce(c.nonce, c.qop === 'auth' ? c.nc! : 1)) return { kind: 'stale' };
    return { kind: 'ok', username: c.username };
  }

  /** True when `nc` is higher than any count seen with `nonce` (and remembers it). */
  private countOnce(nonce: string, nc: number): boolean {
    const last = this.counts.get(nonce);
    if (last !== undefined && nc <= last) return false;
    this.counts.delete(nonce);
    this.counts.set(nonce, nc);
    if (this.counts.size > this.maxTracked) this.counts.delete(this.counts.keys().next().value!);
    return true;
  }
}
