/**
 * The web console's files as the API serves them (src/api/routes/console-routes.ts):
 * the page at /, its script and style under /console/, gzip for clients that
 * take it, ETag revalidation, the security headers on every answer, nothing
 * outside the built files, 503 when the console was never built, nothing at
 * all with api.console.enabled false; and where browsers are sent for SIP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConsoleFiles } from '../../src/api/console/console-files.js';
import { sipWebSocketUrl, ticketUri } from '../../src/api/console/sip-websocket.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture({ api: { console: { sipWebSocketUrl: 'wss://sip.example.com:443' } } });
});
afterAll(async () => fx?.close());

describe('the web console files', () => {
  it('/ is the page, with a CSP that allows only this origin and the SIP WebSocket server, no framing, no referrer, no microphone', async () => {
    const res = await fx.api.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<script type="module" src="/console/app.js"></script>');
    expect(res.body).not.toMatch(/https?:\/\//);
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self' wss://sip.example.com");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers).toMatchObject({ 'x-frame-options': 'DENY', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    expect(res.headers['permissions-policy']).toContain('microphone=()');
  });

  it('the script bundle (SIP.js inside, nothing from a CDN) comes gzip-compressed when asked, and revalidates by ETag', async () => {
    const plain = await fx.api.app.inject({ method: 'GET', url: '/console/app.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.body).toContain('SIP.js');
    expect(plain.body).not.toMatch(/\bimport\s*["'(]https?:/);
    const gz = await fx.api.app.inject({ method: 'GET', url: '/console/app.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    expect(gunzipSync(gz.rawPayload).equals(plain.rawPayload)).toBe(true);
    expect(gz.headers.etag).not.toBe(plain.headers.etag);
    const again = await fx.api.app.inject({ method: 'GET', url: '/console/app.js', headers: { 'if-none-match': String(plain.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves only the built files: unknown names and paths out of the folder are 404', async () => {
    for (const url of ['/console/nope.js', '/console/..%2F..%2Fpackage.json', '/console/%2e%2e%2findex.html', '/console/app.js.map', '/console/']) {
      const res = await fx.api.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(JSON.parse(res.body)).toMatchObject({ statusCode: 404, code: 'SB_NOT_FOUND' });
    }
  });

  it('a console that was never built: no files (the routes answer 503 then)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-console-'));
    try {
      expect(loadConsoleFiles(dir)).toBeUndefined();
      writeFileSync(join(dir, 'index.html'), '<!doctype html>');
      writeFileSync(join(dir, 'notes.txt'), 'not served');
      expect([...loadConsoleFiles(dir)!.keys()]).toEqual(['index.html']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('api.console.enabled false: no console', async () => {
    const off = await startFixture({ api: { console: { enabled: false } } });
    try {
      expect((await off.api.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(404);
      expect((await off.api.app.inject({ method: 'GET', url: '/console/app.js' })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('where browsers go for SIP', () => {
  it('the configured URL, else the first wss listener, else the first ws one; a wildcard listener at the host the browser used', () => {
    const ws = { transport: 'ws' as const, host: '127.0.0.1', port: 5066 };
    const wss = { transport: 'wss' as const, host: 'sip.example.com', port: 7443 };
    expect(sipWebSocketUrl('wss://proxy.example.com/sip', [ws, wss], 'x')).toBe('wss://proxy.example.com/sip');
    expect(sipWebSocketUrl(undefined, [ws, wss], 'x')).toBe('wss://sip.example.com:7443');
    expect(sipWebSocketUrl(undefined, [ws], 'x')).toBe('ws://127.0.0.1:5066');
    expect(sipWebSocketUrl(undefined, [{ ...ws, host: '0.0.0.0' }], 'console.example.com')).toBe('ws://console.example.com:5066');
    expect(sipWebSocketUrl(undefined, [{ ...ws, host: '::' }], '::1')).toBe('ws://[::1]:5066');
    expect(sipWebSocketUrl(undefined, [], 'x')).toBeUndefined();
  });

  it('the ticket URI names the WebSocket server and its transport (RFC 7118 §5.1)', () => {
    expect(ticketUri('abc', 'ws://127.0.0.1:5066')).toBe('sip:monitor-abc@127.0.0.1:5066;transport=ws');
    expect(ticketUri('abc', 'wss://sip.example.com')).toBe('sip:monitor-abc@sip.example.com;transport=wss');
  });
});
