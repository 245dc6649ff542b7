/**
 * The caller's mistakes get a 4xx with a stable code and a reason, never a
 * 500, and the server keeps serving: malformed JSON, wrong types, unknown
 * fields, a missing confirmation, bad ids, unknown calls and monitors, bodies
 * too large, unknown routes and methods, bad query parameters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/api/auth/api-key.js';
import { readKeysFile, writeKeysFile } from '../../src/api/auth/keys-file.js';
import { RoleBook } from '../../src/api/auth/roles.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => fx?.close());

interface Case {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';
  readonly url: (callId: string) => string;
  readonly body?: string | Buffer;
  readonly contentType?: string;
  readonly status: number;
  readonly code: string;
  readonly reason: RegExp;
}

const end = (id: string): string => `/calls/${id}/end`;
const CASES: readonly Case[] = [
  { name: 'body that is not JSON', method: 'POST', url: end, body: '{"confirm": tru', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /JSON/ },
  { name: 'empty JSON body', method: 'POST', url: end, body: '', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /empty|body/i },
  { name: 'JSON array instead of an object', method: 'POST', url: end, body: '[1,2]', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /object/ },
  { name: 'confirmation missing', method: 'POST', url: end, body: '{"reason":"stuck"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /confirm/ },
  { name: 'confirmation false', method: 'POST', url: end, body: '{"confirm":false,"reason":"stuck"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /confirm/ },
  { name: 'confirmation as a string', method: 'POST', url: end, body: '{"confirm":"yes","reason":"stuck"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /confirm/ },
  { name: 'reason empty', method: 'POST', url: end, body: '{"confirm":true,"reason":""}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /reason/ },
  { name: 'reason too long', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'x'.repeat(201) }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /reason/ },
  { name: 'reason with a line break and a terminal escape', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'stuck\n\u001b[2Jforged' }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^body\/reason must not contain control characters/ },
  { name: 'reason with a C1 control (CSI)', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'stuck \u009b31m' }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /control characters/ },
  // What reorders or hides text in a terminal is refused like a control character (probe X X9).
  { name: 'reason with a line separator (U+2028)', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'stuck\u2028forged' }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^body\/reason must not contain control characters/ },
  { name: 'reason with a bidirectional override (U+202E)', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'lunch\u202Elive' }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /bidirectional/ },
  { name: 'reason that is only a zero-width space', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: '\u200B' }), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /control characters/ },
  { name: 'reason with a lone surrogate', method: 'POST', url: end, body: '{"confirm":true,"reason":"a\\ud800b"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /control characters/ },
  { name: 'body that is not UTF-8', method: 'POST', url: end, body: Buffer.concat([Buffer.from('{"confirm":true,"reason":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^the body is not valid UTF-8/ },
  { name: 'body with a __proto__ key', method: 'POST', url: end, body: '{"confirm":true,"reason":"x","__proto__":{"admin":true}}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /prototype poisoning/ },
  // Routes that take no body refuse one with fields too (probe X X8).
  { name: 'a field sent to pause, which takes no body', method: 'POST', url: (id) => `/calls/${id}/recording/pause`, body: '{"x":1}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^body has an unknown field "x"$/ },
  { name: 'a field sent with a monitor stop', method: 'DELETE', url: (id) => `/calls/${id}/monitors/m000000000000`, body: '{"a":1}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^body has an unknown field "a"$/ },
  { name: 'unknown field', method: 'POST', url: end, body: '{"confirm":true,"reason":"x","force":1}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^body has an unknown field "force"$/ },
  { name: 'body too large', method: 'POST', url: end, body: JSON.stringify({ confirm: true, reason: 'x'.repeat(20_000) }), contentType: 'application/json', status: 413, code: 'SB_API_BAD_REQUEST', reason: /large/i },
  { name: 'unsupported content type', method: 'POST', url: end, body: 'confirm=true', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'SB_API_BAD_REQUEST', reason: /content-type/i },
  { name: 'JSON sent as text/plain', method: 'POST', url: end, body: '{"confirm":true,"reason":"x"}', contentType: 'text/plain', status: 415, code: 'SB_API_BAD_REQUEST', reason: /content-type/i },
  { name: 'device that is not a SIP URI', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"http://evil.example"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /device/ },
  { name: 'device with spaces', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:a b@127.0.0.1"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /device/ },
  { name: 'no device and none stored with the key', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /device/ },
  // Port 0 once reached the SIP server, whose send threw and took every call's dialogs down with it.
  { name: 'device on port 0', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:x@127.0.0.1:0"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^device sip:x@127\.0\.0\.1:0: port 0 is outside 1-65535$/ },
  // It once rang on: the SIP server answered 500 "no tls listener", reported as 502 "the device answered 500".
  { name: 'sips device, no TLS listener', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sips:x@127.0.0.1:5061"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^device sips:x@127\.0\.0\.1:5061: it needs TLS and the SIP server has no tls listener \(sipServer\.listen: udp, tcp\)$/ },
  { name: 'device over WebSocket, no ws listener', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:x@127.0.0.1:5066;transport=ws"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /needs WS and the SIP server has no ws listener/ },
  { name: 'device on a port past 65535', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:x@127.0.0.1:99999"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /not a SIP URI/ },
  // These reached the SIP server, which refused them, reported as 502 "the device answered 500".
  { name: 'device with an empty user', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:@127.0.0.1"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^device sip:@127\.0\.0\.1: the user before "@" is empty$/ },
  { name: 'device with no host', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:@"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^device sip:@: / },
  { name: 'device with two "@"', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:a@b@c"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^device sip:a@b@c: "b@c" is not a host name or address$/ },
  { name: 'device at an IPv4 address that cannot be', method: 'POST', url: (id) => `/calls/${id}/monitors`, body: '{"device":"sip:x@999.999.999.999:5060"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /not an IPv4 address/ },
  { name: 'unknown call', method: 'GET', url: () => '/calls/0b6f1d5e-9c3a-4e7f-8a21-000000000000', status: 404, code: 'SB_NOT_FOUND', reason: /no live call/ },
  { name: 'unknown call to end', method: 'POST', url: () => end('0b6f1d5e-9c3a-4e7f-8a21-000000000000'), body: '{"confirm":true,"reason":"x"}', contentType: 'application/json', status: 404, code: 'SB_NOT_FOUND', reason: /no live call/ },
  { name: 'call id with forbidden characters', method: 'GET', url: () => '/calls/%27%3B%20drop', status: 400, code: 'SB_API_BAD_REQUEST', reason: /params\/id/ },
  { name: 'call id too long', method: 'GET', url: () => `/calls/${'a'.repeat(65)}`, status: 400, code: 'SB_API_BAD_REQUEST', reason: /params\/id/ },
  { name: 'unknown monitor', method: 'DELETE', url: (id) => `/calls/${id}/monitors/m000000000000`, status: 404, code: 'SB_NOT_FOUND', reason: /no monitor/ },
  { name: 'bad monitor id', method: 'DELETE', url: (id) => `/calls/${id}/monitors/..%2f..`, status: 400, code: 'SB_API_BAD_REQUEST', reason: /monitorId/ },
  { name: 'unknown state filter', method: 'GET', url: () => '/calls?state=parked', status: 400, code: 'SB_API_BAD_REQUEST', reason: /state/ },
  { name: 'negative age filter', method: 'GET', url: () => '/calls?minAgeSeconds=-5', status: 400, code: 'SB_API_BAD_REQUEST', reason: /minAgeSeconds/ },
  { name: 'age filter past any number (1e400)', method: 'GET', url: () => '/calls?minAgeSeconds=1e400', status: 400, code: 'SB_API_BAD_REQUEST', reason: /minAgeSeconds/ },
  { name: 'age filter that is not a number', method: 'GET', url: () => '/calls?maxAgeSeconds=old', status: 400, code: 'SB_API_BAD_REQUEST', reason: /maxAgeSeconds/ },
  { name: 'unknown query parameter', method: 'GET', url: () => '/calls?color=red', status: 400, code: 'SB_API_BAD_REQUEST', reason: /^querystring has an unknown field "color"$/ },
  { name: 'limit out of range', method: 'GET', url: () => '/calls?limit=0', status: 400, code: 'SB_API_BAD_REQUEST', reason: /limit/ },
  { name: 'unknown route', method: 'GET', url: () => '/calls/x/transfer/y', status: 404, code: 'SB_NOT_FOUND', reason: /no route/ },
  { name: 'wrong method on a call', method: 'PUT', url: (id) => `/calls/${id}`, body: '{}', contentType: 'application/json', status: 405, code: 'SB_API_BAD_REQUEST', reason: /PUT is not allowed.*GET, HEAD/ },
  { name: 'wrong method on an agent', method: 'DELETE', url: () => '/agents/agent', status: 405, code: 'SB_API_BAD_REQUEST', reason: /DELETE is not allowed.*GET, HEAD/ },
  { name: 'reason that is a number, not a string', method: 'POST', url: () => '/agents/agent/state', body: '{"state":"not-ready","reason":123}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /body\/reason must be string/ },
  { name: 'confirmation as the string "true"', method: 'POST', url: end, body: '{"confirm":"true","reason":"stuck"}', contentType: 'application/json', status: 400, code: 'SB_API_BAD_REQUEST', reason: /confirm/ },
  { name: 'unknown query parameter on /queues', method: 'GET', url: () => '/queues?foo=1', status: 400, code: 'SB_API_BAD_REQUEST', reason: /unknown field "foo"/ },
  { name: 'unknown query parameter on /me', method: 'GET', url: () => '/me?x=1', status: 400, code: 'SB_API_BAD_REQUEST', reason: /unknown field "x"/ },
  { name: 'unknown query parameter on a call', method: 'GET', url: (id) => `/calls/${id}?x=1`, status: 400, code: 'SB_API_BAD_REQUEST', reason: /unknown field "x"/ },
  { name: 'call id over 100 characters', method: 'GET', url: () => `/calls/${'x'.repeat(120)}`, status: 414, code: 'SB_API_BAD_REQUEST', reason: /^a path segment is longer than 100 characters$/ },
  { name: 'unknown audit action', method: 'GET', url: () => '/audit?action=delete', status: 400, code: 'SB_API_BAD_REQUEST', reason: /action/ },
];

describe('bad requests get a 4xx with a code and a reason', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const call = fx.call('sales');
    const res = await fx.api.app.inject({
      method: c.method,
      url: c.url(call.id),
      headers: { ...fx.auth('admin'), ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}) },
      ...(c.body !== undefined ? { payload: c.body } : {}),
    });
    expect(res.statusCode, res.body).toBe(c.status);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(res.body) as { statusCode: number; code: string; reason: string };
    expect(body).toMatchObject({ statusCode: c.status, code: c.code });
    expect(body.reason).toMatch(c.reason);
    expect(call.ended, 'a refused request changes nothing').toBe(false);
  });

  it('after all of them the server still serves, and none was an internal error', async () => {
    const res = await fx.api.app.inject({ method: 'GET', url: '/calls', headers: fx.auth('admin') });
    expect(res.statusCode).toBe(200);
    expect(fx.api.audit.recent(1000, (e) => e.status === 500)).toEqual([]);
  });

  it('a failed action is audited as failed with the reason (an unknown call to end)', () => {
    const failed = fx.api.audit.recent(1000, (e) => e.action === 'call.end' && e.outcome === 'failed');
    expect(failed.some((e) => e.status === 404 && e.user === 'admin' && /no live call/.test(e.reason ?? ''))).toBe(true);
    expect(failed.some((e) => e.status === 400 && /confirm/.test(e.reason ?? ''))).toBe(true);
  });
});

describe('HTTP details', () => {
  it('two Authorization header fields are refused (400), even when the first is valid: one credential per request (RFC 9110 §11.6.2)', async () => {
    const valid = fx.auth('admin').authorization;
    for (const pair of [[valid, 'Bearer sbk_nobody.x'], ['Bearer sbk_nobody.x', valid]]) {
      const res = await fx.api.app.inject({ method: 'GET', url: '/calls', headers: { authorization: pair } as unknown as Record<string, string> });
      expect(res.statusCode, res.body).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'SB_API_BAD_REQUEST', reason: 'more than one Authorization header field: send one credential' });
    }
  });

  it('a 401 says invalid_token only when a Bearer token was sent and refused; no token, or another scheme, gets the bare challenge (RFC 6750 §3.1)', async () => {
    const challenge = async (authorization: string | undefined): Promise<unknown> =>
      (await fx.api.app.inject({ method: 'GET', url: '/calls', headers: authorization !== undefined ? { authorization } : {} })).headers['www-authenticate'];
    expect(await challenge(undefined)).toBe('Bearer realm="switchboard"');
    expect(await challenge('Basic dXNlcjpwYXNz')).toBe('Bearer realm="switchboard"');
    expect(await challenge('Bearer sbk_nosuchkey.x')).toBe('Bearer realm="switchboard", error="invalid_token"');
  });


  it('405 carries Allow (RFC 9110 §15.5.6); a path no route has stays 404', async () => {
    const res = await fx.api.app.inject({ method: 'POST', url: '/events', headers: fx.auth('admin') });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    const options = await fx.api.app.inject({ method: 'OPTIONS', url: '/calls', headers: fx.auth('admin') });
    expect(options.statusCode).toBe(405);
    expect(options.headers.allow).toBe('GET, HEAD');
    expect((await fx.api.app.inject({ method: 'GET', url: '/nowhere', headers: fx.auth('admin') })).statusCode).toBe(404);
  });

  it('DELETE of a monitor with Content-Type: application/json and no body is an ordinary DELETE (no 400)', async () => {
    const call = fx.call('sales');
    const res = await fx.api.app.inject({ method: 'DELETE', url: `/calls/${call.id}/monitors/m000000000000`, headers: { ...fx.auth('admin'), 'content-type': 'application/json' }, payload: '' });
    // Past the body: the monitor does not exist.
    expect(res.statusCode, res.body).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'SB_NOT_FOUND', reason: expect.stringMatching(/no monitor/) });
  });

  it('a path segment over 100 characters gets the documented error body without the path, even without a key', async () => {
    const res = await fx.api.app.inject({ method: 'GET', url: `/agents/${'y'.repeat(101)}` });
    expect(res.statusCode).toBe(414);
    expect(JSON.parse(res.body)).toEqual({ statusCode: 414, code: 'SB_API_BAD_REQUEST', reason: 'a path segment is longer than 100 characters' });
  });
});

describe('POST /calls/{id}/monitors without a body', () => {
  it("uses the device stored with the user's key; without one it is a 400 naming what to do", async () => {
    const k = generateKey();
    const roles = new RoleBook(fx.config.api.roles);
    writeKeysFile(fx.keysFile, [...readKeysFile(fx.keysFile, roles), { id: k.id, user: 'dee', role: 'supervisor', device: 'sip:dee@127.0.0.1:5999', hash: k.hash }]);
    fx.api.keys.reload();
    const call = fx.call('sales');
    const withDevice = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/monitors`, headers: { authorization: `Bearer ${k.key}` } });
    // Past the device check: this fixture has no media plane, which is the conflict.
    expect(withDevice.statusCode, withDevice.body).toBe(409);
    expect(JSON.parse(withDevice.body)).toMatchObject({ code: 'SB_CONFLICT', reason: expect.stringMatching(/media plane/) });
    const without = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/monitors`, headers: fx.auth('supervisor') });
    expect(without.statusCode).toBe(400);
    expect(JSON.parse(without.body)).toMatchObject({ code: 'SB_API_BAD_REQUEST', reason: expect.stringMatching(/no device.*keys add --device/) });
  });
});
