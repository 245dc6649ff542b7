/**
 * API keys: the format, hashing and the constant-time check; the keys file
 * (validated, written atomically, never holding a key); the key store
 * accepting config and file keys, taking additions and revocations from the
 * file without a restart (on change, and on reload as SIGHUP does), and
 * failing closed when the file goes bad.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearerToken, generateKey, hashKey, keyIdOf, keyMatches } from '../../src/api/auth/api-key.js';
import { KeyStore } from '../../src/api/auth/key-store.js';
import { KeysFileError, readKeysFile, writeKeysFile, type StoredKey } from '../../src/api/auth/keys-file.js';
import { RoleBook } from '../../src/api/auth/roles.js';
import { silentLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/harness.js';

const roles = new RoleBook([{ id: 'qa', permissions: ['calls-view'], scope: 'all' }]);
let dir: string;
let file: string;
const stores: KeyStore[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sb-keys-'));
  file = join(dir, 'api', 'keys.json');
});
afterEach(() => {
  for (const s of stores.splice(0)) s.stop();
  rmSync(dir, { recursive: true, force: true });
});

function entry(user: string, role = 'supervisor', extra: Partial<StoredKey> = {}): { key: string; entry: StoredKey } {
  const k = generateKey();
  return { key: k.key, entry: { id: k.id, user, role, hash: k.hash, ...extra } };
}

function store(configKeys: StoredKey[] = []): KeyStore {
  const s = new KeyStore({ configKeys, file, roles, logger: silentLogger() });
  stores.push(s);
  return s;
}

describe('a key', () => {
  it('is sbk_<16-character id>.<256-bit secret>; only the SHA-256 of the whole key is kept', () => {
    const k = generateKey();
    expect(k.key).toMatch(/^sbk_[a-z0-9]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(k.key)).toBe(k.id);
    expect(k.hash).toBe(hashKey(k.key));
    expect(k.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(k.hash).not.toContain(k.key.split('.')[1]);
    expect(new Set(Array.from({ length: 200 }, () => generateKey().key)).size).toBe(200);
  });

  it('matches its own hash only: one changed character, another key, or garbage do not', () => {
    const k = generateKey();
    expect(keyMatches(k.key, k.hash)).toBe(true);
    const last = k.key.at(-1) === 'A' ? 'B' : 'A';
    expect(keyMatches(`${k.key.slice(0, -1)}${last}`, k.hash)).toBe(false);
    expect(keyMatches(generateKey().key, k.hash)).toBe(false);
    expect(keyMatches('', k.hash)).toBe(false);
    expect(keyIdOf(`${k.key}x`)).toBeUndefined();
    expect(keyIdOf('sbk_short.x')).toBeUndefined();
  });

  it('is read from "Authorization: Bearer <key>" (RFC 6750 §2.1), and anything else says why not', () => {
    expect(bearerToken('Bearer abc.def')).toEqual({ token: 'abc.def' });
    expect(bearerToken('bearer   abc')).toEqual({ token: 'abc' });
    expect(bearerToken(undefined)).toMatchObject({ problem: expect.stringMatching(/no Authorization/) });
    expect(bearerToken('Basic dXNlcjpwYXNz')).toMatchObject({ problem: expect.stringMatching(/Bearer/) });
    expect(bearerToken('Bearer two words')).toMatchObject({ problem: expect.stringMatching(/Bearer/) });
  });
});

describe('the keys file', () => {
  it('round-trips, is written with mode 0600, and holds hashes, never keys', () => {
    const a = entry('alice', 'manager', { teams: ['red'], device: 'sip:alice@127.0.0.1:5090', createdAt: new Date().toISOString() });
    writeKeysFile(file, [a.entry]);
    expect(readKeysFile(file, roles)).toEqual([a.entry]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain(a.key);
  });

  it('a missing file is no keys; a bad one is refused with every problem listed', () => {
    expect(readKeysFile(join(dir, 'none.json'), roles)).toEqual([]);
    writeFileSync(join(dir, 'bad.json'), '{"version":1,"keys":[');
    expect(() => readKeysFile(join(dir, 'bad.json'), roles)).toThrow(/not JSON/);
    const dup = entry('bob');
    writeFileSync(join(dir, 'bad2.json'), JSON.stringify({ version: 1, keys: [{ ...dup.entry, role: 'wizard' }, dup.entry, { id: 'x', user: '', role: 'admin', hash: 'md5:1' }] }));
    let err: KeysFileError | undefined;
    try {
      readKeysFile(join(dir, 'bad2.json'), roles);
    } catch (e) {
      err = e as KeysFileError;
    }
    expect(err).toBeInstanceOf(KeysFileError);
    expect(err!.problems.length).toBeGreaterThanOrEqual(3);
    expect(err!.message).toMatch(/keys\/2\/id/);
    expect(err!.message).toMatch(/hash/);
  });
});

describe('the key store', () => {
  it('accepts configuration keys and file keys, and maps each to its user, role and teams', () => {
    const c = entry('carol', 'qa');
    const f = entry('dave', 'manager', { teams: ['red', 'blue'] });
    writeKeysFile(file, [f.entry]);
    const s = store([c.entry]);
    s.start();
    expect(s.authenticate(`Bearer ${c.key}`)).toMatchObject({ ok: true, principal: { user: 'carol', role: 'qa', scope: 'all' } });
    const d = s.authenticate(`Bearer ${f.key}`);
    expect(d.ok && [...d.principal.teams]).toEqual(['red', 'blue']);
    expect(d.ok && [...d.principal.permissions]).toContain('monitor-edit');
    const stranger = generateKey();
    expect(s.authenticate(`Bearer ${stranger.key}`)).toEqual({ ok: false, reason: 'unknown or revoked API key', keyId: stranger.id });
  });

  it('a key added to the file works and a revoked one stops working, without a restart (the file is watched)', async () => {
    const a = entry('alice');
    writeKeysFile(file, [a.entry]);
    const s = store();
    s.start();
    const b = entry('bob');
    writeKeysFile(file, [a.entry, b.entry]);
    await eventually(() => s.authenticate(`Bearer ${b.key}`).ok, 10_000, 'the added key accepted');
    writeKeysFile(file, [b.entry]);
    await eventually(() => !s.authenticate(`Bearer ${a.key}`).ok, 10_000, 'the revoked key refused');
    expect(s.authenticate(`Bearer ${b.key}`).ok).toBe(true);
  });

  it('reload() (what SIGHUP does) re-reads the file at once', () => {
    const s = store();
    s.start();
    s.stop(); // no watch: only the explicit reload can notice
    const a = entry('alice');
    writeKeysFile(file, [a.entry]);
    expect(s.authenticate(`Bearer ${a.key}`).ok).toBe(false);
    s.reload();
    expect(s.authenticate(`Bearer ${a.key}`).ok).toBe(true);
  });

  it('a keys file gone bad leaves only the configuration keys (fail closed), until it is fixed', () => {
    const c = entry('carol', 'admin');
    const f = entry('frank');
    writeKeysFile(file, [f.entry]);
    const s = store([c.entry]);
    s.start();
    s.stop();
    writeFileSync(file, '{ broken');
    s.reload();
    expect(s.authenticate(`Bearer ${f.key}`).ok).toBe(false);
    expect(s.authenticate(`Bearer ${c.key}`).ok).toBe(true);
    writeKeysFile(file, [f.entry]);
    s.reload();
    expect(s.authenticate(`Bearer ${f.key}`).ok).toBe(true);
  });

  it('refuses to start on a bad keys file or bad configuration keys, naming the problem', () => {
    writeKeysFile(file, []);
    writeFileSync(file, '[]');
    expect(() => store().start()).toThrow(KeysFileError);
    expect(() => store([{ ...entry('x').entry, role: 'wizard' }])).toThrow(/unknown role "wizard"/);
  });
});
