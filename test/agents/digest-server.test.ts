/**
 * The registrar's digest authentication (RFC 7616, RFC 3261 §22): the RFC's
 * own worked example for both algorithms, then the server against our client
 * (src/engine/signaling/digest-auth.ts) for right and wrong passwords, unknown
 * users, nonces that expire (stale=true), replayed nonce counts, nonces the
 * server never issued, other realms and schemes, and malformed headers.
 */
import { describe, expect, it } from 'vitest';
import { digestAuthorization, parseChallenge } from '../../src/engine/signaling/digest-auth.js';
import { DigestServer, expectedResponse, parseAuthorization, type DigestCredentials } from '../../src/engine/signaling/digest-server.js';

describe('RFC 7616 §3.9.1 example (Mufasa, "Circle of Life")', () => {
  const base = {
    username: 'Mufasa',
    realm: 'http-auth@example.org',
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: 1,
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    response: '',
  };
  it('MD5', () => {
    const c: DigestCredentials = { ...base, algorithm: 'MD5' };
    expect(expectedResponse(c, 'GET', 'Circle of Life')).toBe('8ca523f5e9506fed4657c9700eebdbec');
  });
  it('SHA-256', () => {
    const c: DigestCredentials = { ...base, algorithm: 'SHA-256' };
    expect(expectedResponse(c, 'GET', 'Circle of Life')).toBe('753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });
});

function server(now: { t: number }, algorithms: ('SHA-256' | 'MD5')[] = ['SHA-256', 'MD5']): DigestServer {
  return new DigestServer({ realm: 'switchboard', algorithms, nonceSeconds: 30, now: () => now.t });
}

const URI = 'sip:127.0.0.1:5060';
const passwords: Record<string, string> = { alice: 'alice-secret' };
const passwordOf = (u: string): string | undefined => passwords[u];

function answer(s: DigestServer, algorithm: 'SHA-256' | 'MD5', user: string, password: string, nc = 1): string {
  const c = s.challenges().map(parseChallenge).find((x) => x?.algorithm === algorithm)!;
  return digestAuthorization(c, { method: 'REGISTER', uri: URI, username: user, password, nc });
}

describe('DigestServer', () => {
  it('challenges with one WWW-Authenticate per algorithm, most preferred first, qop=auth, one nonce', () => {
    const s = server({ t: 1_000_000 });
    const values = s.challenges();
    expect(values).toHaveLength(2);
    const [a, b] = values.map(parseChallenge);
    expect(a).toMatchObject({ realm: 'switchboard', algorithm: 'SHA-256', qop: ['auth'], stale: false });
    expect(b).toMatchObject({ algorithm: 'MD5' });
    expect(a!.nonce).toBe(b!.nonce);
    expect(s.challenges(true).map(parseChallenge)[0]).toMatchObject({ stale: true });
  });

  it.each(['SHA-256', 'MD5'] as const)('accepts the right password (%s), refuses a wrong one and an unknown user alike', (algorithm) => {
    const s = server({ t: 1_000_000 });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [answer(s, algorithm, 'alice', 'alice-secret')], passwordOf })).toEqual({ kind: 'ok', username: 'alice' });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [answer(s, algorithm, 'alice', 'wrong')], passwordOf })).toEqual({ kind: 'refused', username: 'alice' });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [answer(s, algorithm, 'mallory', 'x')], passwordOf })).toEqual({ kind: 'refused', username: 'mallory' });
  });

  it('a nonce older than the lifetime is stale (right password: stale; wrong: refused)', () => {
    const now = { t: 1_000_000 };
    const s = server(now);
    const good = answer(s, 'SHA-256', 'alice', 'alice-secret');
    const bad = answer(s, 'SHA-256', 'alice', 'nope');
    now.t += 31_000;
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [good], passwordOf })).toEqual({ kind: 'stale' });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [bad], passwordOf }).kind).toBe('refused');
  });

  it('a nonce count used again is a replay (stale); a higher one is accepted', () => {
    const s = server({ t: 1_000_000 });
    const c = s.challenges().map(parseChallenge)[0]!;
    const one = digestAuthorization(c, { method: 'REGISTER', uri: URI, username: 'alice', password: 'alice-secret', nc: 1 });
    const two = digestAuthorization(c, { method: 'REGISTER', uri: URI, username: 'alice', password: 'alice-secret', nc: 2 });
    const req = (a: string) => ({ method: 'REGISTER', requestUri: URI, authorization: [a], passwordOf });
    expect(s.verify(req(one)).kind).toBe('ok');
    expect(s.verify(req(one)).kind).toBe('stale');
    expect(s.verify(req(two)).kind).toBe('ok');
    expect(s.verify(req(one)).kind).toBe('stale');
  });

  it('a response without qop (RFC 2069 form) is good once per nonce: the same header again is a replay (stale)', () => {
    const s = server({ t: 1_000_000 });
    const c = s.challenges().map(parseChallenge).find((x) => x?.algorithm === 'MD5')!;
    const noQop = digestAuthorization({ ...c, qop: [] }, { method: 'REGISTER', uri: URI, username: 'alice', password: 'alice-secret' });
    expect(noQop).not.toMatch(/qop=|nc=/);
    const req = { method: 'REGISTER', requestUri: URI, authorization: [noQop], passwordOf };
    expect(s.verify(req).kind).toBe('ok');
    expect(s.verify(req).kind).toBe('stale');
  });

  it('a nonce this server never issued (another process, a forgery) is never accepted', () => {
    const s = server({ t: 1_000_000 });
    const other = server({ t: 1_000_000 });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [answer(other, 'MD5', 'alice', 'alice-secret')], passwordOf }).kind).toBe('stale');
    const forged = answer(s, 'MD5', 'alice', 'alice-secret').replace(/nonce="[^"]+"/, 'nonce="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"');
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [forged], passwordOf }).kind).toBe('refused');
  });

  it('credentials for another realm, or another scheme, mean no credentials: challenge', () => {
    const s = server({ t: 1_000_000 });
    const otherRealm = answer(s, 'MD5', 'alice', 'alice-secret').replace('realm="switchboard"', 'realm="elsewhere"');
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [otherRealm], passwordOf }).kind).toBe('challenge');
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: ['Basic YWxpY2U6YWxpY2Utc2VjcmV0'], passwordOf }).kind).toBe('challenge');
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [], passwordOf }).kind).toBe('challenge');
  });

  it('an algorithm the server did not offer is refused as malformed', () => {
    const s = server({ t: 1_000_000 }, ['SHA-256']);
    const md5 = digestAuthorization({ ...s.challenges().map(parseChallenge)[0]!, algorithm: 'MD5' }, { method: 'REGISTER', uri: URI, username: 'alice', password: 'alice-secret' });
    expect(s.verify({ method: 'REGISTER', requestUri: URI, authorization: [md5], passwordOf })).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/not offered/) });
  });

  it('the digest uri must be the Request-URI (RFC 2617 §3.2.2.5)', () => {
    const s = server({ t: 1_000_000 });
    expect(s.verify({ method: 'REGISTER', requestUri: 'sip:example.com', authorization: [answer(s, 'MD5', 'alice', 'alice-secret')], passwordOf })).toMatchObject({ kind: 'malformed', reason: expect.stringMatching(/Request-URI/) });
  });
});

describe('malformed Authorization headers', () => {
  const good = 'Digest username="alice", realm="switchboard", nonce="n", uri="sip:x", response="0123456789abcdef0123456789abcdef", algorithm=MD5';
  it('a well-formed one parses', () => {
    expect(parseAuthorization(good)).toMatchObject({ ok: true, credentials: { username: 'alice', algorithm: 'MD5', qop: undefined } });
    expect(parseAuthorization('digest  Username = "a\\"b" ,realm="r",nonce=n,uri="u",response="0123456789abcdef0123456789abcdef",,')).toMatchObject({ ok: true, credentials: { username: 'a"b', nonce: 'n' } });
  });
  it.each([
    ['Digest', /username is missing/],
    ['Digest username="alice"', /realm is missing/],
    [good.replace('username="alice", ', ''), /username is missing/],
    [`${good}, username="bob"`, /repeated/],
    [good.replace('response="0123456789abcdef0123456789abcdef"', 'response="xyz"'), /hex digits/],
    [good.replace('algorithm=MD5', 'algorithm=SHA-1'), /unknown algorithm/],
    [`${good}, qop=auth`, /nc must be 8 hex digits/],
    [`${good}, qop=auth, nc=00000001`, /cnonce/],
    [`${good}, qop=auth-int, nc=00000001, cnonce="c"`, /qop auth-int was not offered/],
    [`${good}, opaque="abc`, /unterminated/],
    [good.replace('realm="switchboard"', 'realm="switchboard'), /unexpected/],
    [good.replace(', uri="sip:x"', ' uri="sip:x"'), /unexpected/],
    [`${good}, userhash=true`, /userhash/],
    [good.replace('nonce="n"', 'nonce='), /empty or invalid value/],
  ])('%s → %s', (value, reason) => {
    const r = parseAuthorization(value);
    expect(r.ok).toBe(false);
    expect('reason' in r ? r.reason : '').toMatch(reason);
  });
});
