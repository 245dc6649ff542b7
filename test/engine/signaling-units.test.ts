/**
 * The small protocol pieces of the engine's signaling, from their RFCs: the
 * digest client (RFC 7616's worked example, MD5 and SHA-256), DTMF in SIP
 * INFO, and what rtpengine reports (DTMF log datagrams, XML-RPC teardown).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChallengeAnswers, chooseChallenge, digestAuthorization, NonceCounter, parseChallenge } from '../../src/engine/signaling/digest-auth.js';
import { DialGivenUp, digitOfEvent } from '../../src/engine/signaling/sip-port.js';
import { infoDigit } from '../../src/engine/signaling/srf-leg.js';
import { CallTimeline } from '../../src/engine/session/call-timeline.js';
import { parseDtmfLog, parseTeardown } from '../../src/media/rtpengine/rtpengine-notifications.js';

describe('digest authentication, client side (RFC 7616, RFC 8760)', () => {
  // RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
  const common = 'realm="http-auth@example.org", qop="auth, auth-int", nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"';
  const answer = { method: 'GET', uri: '/dir/index.html', username: 'Mufasa', password: 'Circle of Life', cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ', nc: 1 };

  it('computes the RFC 7616 example responses (SHA-256 and MD5, qop=auth)', () => {
    const sha = parseChallenge(`Digest ${common}, algorithm=SHA-256`)!;
    expect(digestAuthorization(sha, answer)).toContain('response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"');
    const md5 = parseChallenge(`Digest ${common}, algorithm=MD5`)!;
    const header = digestAuthorization(md5, answer);
    expect(header).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
    expect(header).toMatch(/qop=auth, nc=00000001/);
    expect(header).toContain('opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"');
  });

  it('prefers the strongest challenge offered (RFC 8760 §2.4); scheme and algorithm names are case-insensitive; junk is ignored', () => {
    const best = chooseChallenge([`DIGEST ${common}, algorithm=md5`, `digest ${common}, algorithm=sha-256`, 'Basic realm="x"', 'Digest realm="no nonce"']);
    expect(best?.algorithm).toBe('SHA-256');
    expect(parseChallenge('Digest realm="r", nonce="n", algorithm=SHA-512-256')).toBeUndefined();
    expect(parseChallenge('Digest realm="r\\"q", nonce="n", stale=TRUE')).toMatchObject({ realm: 'r"q', stale: true, algorithm: 'MD5', qop: [] });
  });

  it('a challenge offering only qop=auth-int is answered with auth-int, the body hashed in (RFC 7616 §3.4.3), not in the RFC 2069 form', () => {
    const c = parseChallenge('Digest realm="carrier.example", nonce="abc", qop="auth-int", algorithm=SHA-256')!;
    const body = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n';
    const h = digestAuthorization(c, { method: 'INVITE', uri: 'sip:+15550199@carrier.example', username: 'sb', password: 'p', cnonce: 'cn', nc: 1, body });
    const H = (s: string): string => createHash('sha256').update(s).digest('hex');
    const expected = H(`${H('sb:carrier.example:p')}:abc:00000001:cn:auth-int:${H(`INVITE:sip:+15550199@carrier.example:${H(body)}`)}`);
    expect(h).toContain(`response="${expected}"`);
    expect(h).toMatch(/qop=auth-int, nc=00000001/);
    // auth is still preferred when both are offered (no body to hash, and what gateways check).
    expect(digestAuthorization({ ...c, qop: ['auth-int', 'auth'] }, { method: 'INVITE', uri: 'sip:x@y', username: 'sb', password: 'p' })).toMatch(/qop=auth, /);
  });

  it("a dialog's requests count the nonce they share: a BYE challenged with the INVITE's nonce says nc=00000002, not a replay (RFC 7616 §3.4)", () => {
    const nonces = new NonceCounter();
    const challenge = ['Digest realm="carrier.example", nonce="n2def", qop="auth", algorithm=SHA-256'];
    const credentials = { username: 'sb', password: 'p' };
    const invite = new ChallengeAnswers(credentials, nonces).answer(401, challenge, 'INVITE', 'sip:+15550199@gw');
    const bye = new ChallengeAnswers(credentials, nonces).answer(401, challenge, 'BYE', 'sip:gw@127.0.0.1');
    expect(invite?.Authorization).toMatch(/nc=00000001/);
    expect(bye?.Authorization).toMatch(/nc=00000002/);
    // Another nonce counts from one again; without qop there is no count at all.
    expect(new ChallengeAnswers(credentials, nonces).answer(401, ['Digest realm="carrier.example", nonce="other", qop="auth"'], 'BYE', 'sip:gw')?.Authorization).toMatch(/nc=00000001/);
    expect(new ChallengeAnswers(credentials, nonces).answer(401, ['Digest realm="carrier.example", nonce="n2def"'], 'BYE', 'sip:gw')?.Authorization).not.toMatch(/nc=/);
  });

  it('without qop, the RFC 2069 form: no cnonce, no nc', () => {
    const c = parseChallenge('Digest realm="carrier.example", nonce="abc"')!;
    const h = digestAuthorization(c, { method: 'INVITE', uri: 'sip:+15550199@carrier.example', username: 'sb', password: 'p' });
    expect(h).not.toMatch(/cnonce|nc=|qop=/);
    expect(h).toMatch(/^Digest username="sb", realm="carrier.example", nonce="abc", uri="sip:\+15550199@carrier.example", response="[0-9a-f]{32}", algorithm=MD5$/);
  });
});

describe("a caller's CANCEL Reason passed on to the agents (RFC 3326)", () => {
  it('passes a well-formed SIP or Q.850 reason (the first of several), and nothing else', () => {
    expect(DialGivenUp.fromCancel('SIP;cause=200;text="Call completed elsewhere"')?.reasonHeader).toBe('SIP;cause=200;text="Call completed elsewhere"');
    expect(DialGivenUp.fromCancel('Q.850;cause=16, SIP;cause=200')?.reasonHeader).toBe('Q.850;cause=16');
    for (const bad of [undefined, '', 'SIP', 'FOO;cause=1', 'SIP;cause=abc', 'SIP;cause=200;text="a"b"', `SIP;cause=200;text="${'x'.repeat(200)}"`, 'SIP;cause=200\r\nX-Evil: 1']) {
      expect(DialGivenUp.fromCancel(bad)).toBeUndefined();
    }
  });
});

describe('DTMF', () => {
  it('SIP INFO bodies: application/dtmf-relay (digits and event codes) and application/dtmf; anything else is not a key', () => {
    expect(infoDigit('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ digit: '5', durationMs: 160 });
    expect(infoDigit('Application/DTMF-Relay; charset=utf-8', 'signal = #\r\n')).toEqual({ digit: '#', durationMs: undefined });
    expect(infoDigit('application/dtmf-relay', 'Signal=11\nDuration=100')).toEqual({ digit: '#', durationMs: 100 });
    expect(infoDigit('application/dtmf', ' 7 ')).toEqual({ digit: '7', durationMs: undefined });
    expect(infoDigit('application/dtmf-relay', 'Signal=99')).toBeUndefined();
    expect(infoDigit('text/plain', 'Signal=5')).toBeUndefined();
  });

  it('RFC 4733 event codes name the keys', () => {
    expect([0, 9, 10, 11, 12, 15, 16].map(digitOfEvent)).toEqual(['0', '9', '*', '#', 'A', 'D', undefined]);
  });

  it('rtpengine\'s DTMF log datagram and its XML-RPC teardown (xmlrpc-format 1) are read; anything else is not', () => {
    expect(parseDtmfLog('{"callid":"c1","source_tag":"caller","tags":["caller","agent"],"type":"DTMF","event":11,"duration":120}')).toEqual({ callId: 'c1', label: 'caller', event: 11, durationMs: 120 });
    expect([parseDtmfLog('not json'), parseDtmfLog('{"callid":1}'), parseDtmfLog('{"callid":"c","source_tag":"x","event":1,"type":"other"}')]).toEqual([undefined, undefined, undefined]);
    expect(parseTeardown('<?xml version="1.0"?><methodCall><methodName>teardown</methodName><params><param><value><string>a&amp;b&lt;c</string></value></param></params></methodCall>')).toBe('a&b<c');
    expect(parseTeardown('<methodCall><methodName>other</methodName><params><param><value><string>x</string></value></param></params></methodCall>')).toBeUndefined();
  });
});

describe('call metrics', () => {
  it('wait time runs to the bridge and includes the whisper; talk time runs from the bridge; hold and time in queue add up their intervals', () => {
    let t = 1000;
    const tl = new CallTimeline(() => t);
    tl.inQueue(true);
    t = 4000;
    tl.inQueue(false);
    tl.mark('agentAnsweredAt');
    tl.whisperStarted();
    t = 5000;
    // Live views see the whisper as it plays.
    expect(tl.metrics().whisperMs).toBe(1000);
    t = 6500;
    tl.addWhisper(2500);
    expect(tl.metrics().whisperMs).toBe(2500);
    tl.mark('bridgedAt');
    t = 10_000;
    tl.onHold(true);
    t = 12_000;
    tl.onHold(false);
    t = 20_000;
    tl.mark('endedAt');
    expect(tl.metrics()).toEqual({ waitMs: 5500, whisperMs: 2500, queueMs: 3000, talkMs: 13_500, holdMs: 2000 });
  });

  it('a call deflected elsewhere (voicemail after the maximum wait) waited until the deflection, not through the message', () => {
    let t = 1000;
    const tl = new CallTimeline(() => t);
    tl.inQueue(true);
    t = 21_000;
    tl.inQueue(false);
    tl.mark('deflectedAt');
    t = 30_000;
    tl.mark('endedAt');
    expect(tl.metrics()).toMatchObject({ waitMs: 20_000, queueMs: 20_000, talkMs: 0 });
  });
});
