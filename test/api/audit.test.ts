/**
 * The audit log: who did what, when and from where, for every action and
 * every denied attempt, as JSON lines under the state directory and in the
 * logs; what was written survives a restart of the API (read back by a new
 * one from the same file), and a torn last line from a crash does not hide
 * the rest.
 */
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/api-server.js';
import { AuditLog, type AuditEntry } from '../../src/api/audit/audit-log.js';
import { keyIdOf } from '../../src/api/auth/api-key.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => fx?.close());

describe('audit log', () => {
  it('an ended call: who (user, role, key), when, what (call, reason) and from where (address, user agent)', async () => {
    const call = fx.call('sales');
    const before = Date.now();
    const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/end`, headers: { ...fx.auth('manager'), 'user-agent': 'wallboard/2' }, payload: { confirm: true, reason: 'stuck for hours' } });
    expect(res.statusCode, res.body).toBe(200);
    const [e] = fx.api.audit.recent(1, (x) => x.call === call.id);
    expect(e).toMatchObject({ action: 'call.end', outcome: 'ok', user: 'manager', role: 'manager', from: { address: '127.0.0.1', userAgent: 'wallboard/2' }, request: { method: 'POST', path: `/calls/${call.id}/end` }, status: 200 });
    expect(e!.keyId).toMatch(/^[a-z0-9]{16}$/);
    expect(e!.reason).toMatch(/stuck for hours \(was connected\)/);
    expect(Date.parse(e!.at)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('a denied attempt: the key is known but the role lacks the permission', async () => {
    const call = fx.call('sales');
    const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/end`, headers: fx.auth('supervisor'), payload: { confirm: true, reason: 'x' } });
    expect(res.statusCode).toBe(403);
    expect(call.ended).toBe(false);
    const [e] = fx.api.audit.recent(1, (x) => x.outcome === 'denied');
    expect(e).toMatchObject({ action: 'call.end', user: 'supervisor', role: 'supervisor', status: 403, code: 'SB_API_FORBIDDEN', call: call.id });
    expect(e!.reason).toMatch(/monitor-edit/);
  });

  it('a refused key is audited with the id it claims (a revoked key still in use shows which one)', async () => {
    const res = await fx.api.app.inject({ method: 'GET', url: '/calls?limit=1', headers: { authorization: `Bearer ${fx.keys.gone}` } });
    expect(res.statusCode).toBe(401);
    const [e] = fx.api.audit.recent(1, (x) => x.status === 401);
    expect(e).toMatchObject({ user: null, role: null, keyId: keyIdOf(fx.keys.gone), reason: 'unknown or revoked API key', request: { path: '/calls' } });
  });

  it('a restarted API finds every entry written before (they are on disk before the answer)', async () => {
    const written = fx.api.audit.recent(1000);
    expect(written.length).toBeGreaterThanOrEqual(2);
    await fx.api.close();
    const again = await buildApi({ config: fx.config, baseDir: fx.dir, logger: silentLogger(), control: fx.control, calls: fx.registry });
    try {
      const res = await again.app.inject({ method: 'GET', url: '/audit?limit=1000', headers: fx.auth('admin') });
      expect(res.statusCode).toBe(200);
      const entries = (JSON.parse(res.body) as { entries: AuditEntry[] }).entries;
      expect(entries.slice(0, written.length)).toEqual(written);
      const byUser = await again.app.inject({ method: 'GET', url: '/audit?user=manager&action=call.end', headers: fx.auth('admin') });
      expect((JSON.parse(byUser.body) as { entries: AuditEntry[] }).entries.map((x) => [x.user, x.action, x.outcome])).toEqual([['manager', 'call.end', 'ok']]);
    } finally {
      await again.close();
    }
  });

  it('a client that drops its connection halfway through a body is audited with its address, and /audit keeps answering', async () => {
    const listening = await startFixture({}, { listen: true });
    try {
      const port = listening.server!.port;
      // Half a body, then the socket closes: the answer is never sent, the denial or failure is audited.
      await new Promise<void>((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          s.write(`POST /agents/agent/state HTTP/1.1\r\nHost: x\r\nAuthorization: ${listening.auth('agent').authorization}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"st`);
          setTimeout(() => s.destroy(), 100);
        });
        s.on('close', () => resolve());
        s.on('error', reject);
      });
      await eventually(() => listening.api.audit.recent(1000).some((e) => e.request?.path === '/agents/agent/state'), 10_000, 'the aborted request audited');
      const entry = listening.api.audit.recent(1000).find((e) => e.request?.path === '/agents/agent/state')!;
      expect(entry.from).toMatchObject({ address: '127.0.0.1' });
      // An entry an older version wrote without the address is read back as 'unknown', not a 500.
      appendFileSync(listening.api.audit.file, `${JSON.stringify({ ...entry, from: { userAgent: null } })}\n`);
      const res = await listening.api.app.inject({ method: 'GET', url: '/audit?limit=5', headers: listening.auth('admin') });
      expect(res.statusCode, res.body).toBe(200);
      expect((JSON.parse(res.body) as { entries: AuditEntry[] }).entries.at(-1)!.from).toEqual({ address: 'unknown', userAgent: null });
    } finally {
      await listening.close();
    }
  });

  it('a client looping on a bad key: 20 denials a minute audited one by one, the rest counted in one entry; 403s all audited', async () => {
    let clock = Date.parse('2026-12-06T10:00:00Z');
    const own = await startFixture({}, { now: () => clock });
    try {
      const denied = () => own.api.audit.recent(1000, (e) => e.status === 401);
      const ask = (remoteAddress: string, key = 'sbk_wrong') => own.api.app.inject({ method: 'GET', url: '/calls', remoteAddress, headers: { authorization: `Bearer ${key}` } });
      for (let i = 0; i < 50; i++) expect((await ask('127.0.0.9')).statusCode).toBe(401);
      expect((await ask('127.0.0.10')).statusCode).toBe(401);
      expect(denied().map((e) => e.from?.address)).toEqual([...Array<string>(20).fill('127.0.0.9'), '127.0.0.10']);
      // An authenticated user's denials are not throttled.
      const call = own.call('sales');
      for (let i = 0; i < 25; i++) {
        expect((await own.api.app.inject({ method: 'POST', url: `/calls/${call.id}/end`, remoteAddress: '127.0.0.9', headers: own.auth('supervisor'), payload: { confirm: true, reason: 'x' } })).statusCode).toBe(403);
      }
      expect(own.api.audit.recent(1000, (e) => e.status === 403)).toHaveLength(25);
      // The next minute: the 30 not audited are counted in one entry, then the new denial is audited.
      clock += 60_000;
      expect((await ask('127.0.0.9')).statusCode).toBe(401);
      const after = denied().slice(21);
      expect(after).toHaveLength(2);
      expect(after[0]).toMatchObject({ action: 'request', outcome: 'denied', user: null, from: { address: '127.0.0.9' }, status: 401, code: 'SB_API_UNAUTHORIZED' });
      expect(after[0]!.reason).toBe('30 more unauthenticated requests refused from this address between 2026-12-06T10:00:00.000Z and 2026-12-06T10:01:00.000Z, not audited one by one');
      expect(after[1]).toMatchObject({ from: { address: '127.0.0.9' }, request: { method: 'GET', path: '/calls' }, reason: expect.stringMatching(/key/) });
      // Counts still pending when the API closes are written then.
      for (let i = 0; i < 25; i++) await ask('127.0.0.11');
      await own.api.close();
      expect(own.api.audit.recent(1000, (e) => e.from?.address === '127.0.0.11').map((e) => e.reason?.startsWith('5 more'))).toEqual([...Array<boolean>(20).fill(false), true]);
    } finally {
      await own.close();
    }
  });

  it('each entry is also a log line; a torn last line is skipped when reading back', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }) });
    const log = new AuditLog(`${fx.dir}/other-audit.jsonl`, logger);
    log.record({ action: 'monitor.start', outcome: 'ok', user: 'ann', call: 'c1', monitor: 'm1', device: 'sip:ann@127.0.0.1' });
    appendFileSync(log.file, '{"at":"2026-');
    log.close();
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'audit', audit: { action: 'monitor.start', user: 'ann', call: 'c1' } });
    const reopened = new AuditLog(log.file, silentLogger());
    expect(reopened.recent(10)).toEqual([expect.objectContaining({ action: 'monitor.start', monitor: 'm1' })]);
    // Written after the crash: on a line of its own, so it is read back whole.
    reopened.record({ action: 'monitor.stop', outcome: 'ok', user: 'ann', monitor: 'm1' });
    reopened.close();
    expect(reopened.recent(10).map((e) => e.action)).toEqual(['monitor.start', 'monitor.stop']);
  });
});
