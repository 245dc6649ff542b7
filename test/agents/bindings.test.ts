/**
 * The registrar's parts without sockets: Contact lists as RFC 3261 §20.10
 * writes them, the location service's update rules (§10.3 steps 6-8), the
 * registrations file surviving a restart, and the per-source limiter.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BindingTable, type RegisterUpdate } from '../../src/engine/registrar/binding-table.js';
import { FileBindingStore, RedisBindingStore } from '../../src/engine/registrar/binding-store.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { contactKey, nameAddrUri, parseContacts } from '../../src/engine/registrar/contact-list.js';
import { SourceLimiter } from '../../src/engine/registrar/source-limiter.js';
import { silentLogger } from '../../src/observability/logger.js';

describe('Contact (RFC 3261 §20.10)', () => {
  it('name-addr and addr-spec forms, several per field and several fields, expires and q', () => {
    const r = parseContacts(['"Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7; expires=3600, "Mr. Watson" <mailto:watson@bell-telephone.com>;q=0.1']);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/not a SIP URI/) });
    const ok = parseContacts(['"Watson, Thomas" <sip:watson@worcester.example.com;transport=tcp>;q=0.7;expires=3600', 'sip:alice@192.0.2.4;expires=60, <sips:alice@192.0.2.5:5061>']);
    expect(ok).toEqual({
      ok: true,
      star: false,
      contacts: [
        { uri: 'sip:watson@worcester.example.com;transport=tcp', expires: 3600, q: 0.7 },
        { uri: 'sip:alice@192.0.2.4', expires: 60, q: undefined },
        { uri: 'sips:alice@192.0.2.5:5061', expires: undefined, q: undefined },
      ],
    });
    expect(parseContacts(['*'])).toEqual({ ok: true, star: true, contacts: [] });
    expect(parseContacts([])).toEqual({ ok: true, star: false, contacts: [] });
  });

  it.each([
    [['*, <sip:a@b>'], /only contact/],
    [['<sip:a@b'], /unterminated/],
    [['"unclosed <sip:a@b>'], /unterminated/],
    [['<sip:a@b>;expires=soon'], /expires must be a number/],
    [['<sip:a@b>;q=1.5'], /q must be between 0 and 1/],
    [['<sip:a@b>, '], /empty Contact entry/],
    [['sip:a@b?subject=x'], /headers must be in <...>/],
    [['<http://example.com/>'], /not a SIP URI/],
    [['<sip:a@b> junk'], /unexpected/],
    // A binding no request could reach (RFC 3261 §25.1): refused now, not found out at the first call.
    [['<sip:@192.0.2.4:5080>'], /user before "@" is empty/],
    [['<sip:bob@300.1.2.3:5080>'], /300\.1\.2\.3 is not an IPv4 address/],
    [['<sip:bob@phone_1.example.com>'], /not a host name or address/],
    [['sip:bob@192.0.2.4:0'], /port 0 is outside/],
  ])('%s is refused (%s)', (fields, reason) => {
    const r = parseContacts(fields);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(reason);
  });

  it('+sip.instance (RFC 5626 §4.1): the URN in lower case; a value not in quotes and angle brackets is no instance', () => {
    expect(parseContacts(['<sip:a@10.0.0.1;transport=tcp>;reg-id=1;+sip.instance="<urn:uuid:F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6>";expires=30'])).toEqual({
      ok: true,
      star: false,
      contacts: [{ uri: 'sip:a@10.0.0.1;transport=tcp', expires: 30, q: undefined, instance: 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6' }],
    });
    expect(parseContacts(['<sip:a@10.0.0.1>;+sip.instance=urn:uuid:1'])).toEqual({ ok: true, star: false, contacts: [{ uri: 'sip:a@10.0.0.1', expires: undefined, q: undefined }] });
  });

  it('URI equivalence of contacts (§19.1.4): case of scheme and host, but not of user; no port is not 5060', () => {
    expect(contactKey('SIP:alice@EXAMPLE.com;transport=TCP')).toBe(contactKey('sip:alice@example.com;transport=tcp'));
    expect(contactKey('sip:Alice@example.com')).not.toBe(contactKey('sip:alice@example.com'));
    expect(contactKey('sip:alice@example.com')).not.toBe(contactKey('sip:alice@example.com:5060'));
    expect(contactKey('sip:alice@example.com;transport=tcp')).not.toBe(contactKey('sip:alice@example.com'));
    expect(contactKey('sip:alice@example.com;foo=bar')).toBe(contactKey('sip:alice@example.com'));
  });

  it('the URI of a To value', () => {
    expect(nameAddrUri('"Alice" <sip:alice@example.com>;tag=1')).toBe('sip:alice@example.com');
    expect(nameAddrUri('sip:alice@example.com;tag=1')).toBe('sip:alice@example.com');
  });
});

const update = (o: Partial<RegisterUpdate>): RegisterUpdate => ({ aor: 'alice', callId: 'c1', cseq: 1, source: 'udp:127.0.0.1:5070', userAgent: undefined, path: [], removeAll: false, contacts: [], ...o });

describe('the location service (RFC 3261 §10.3)', () => {
  it('adds, refreshes (keeping its age), removes with expires 0, expires, and bounds the contacts', () => {
    const now = { t: 1000 };
    const t = new BindingTable(() => now.t);
    expect(t.apply(update({ contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: undefined }] }), 2)).toMatchObject({ ok: true, changed: true });
    now.t += 1000;
    expect(t.apply(update({ callId: 'c2', contacts: [{ contact: 'sip:alice@10.0.0.2', expires: 30, q: undefined }] }), 2)).toMatchObject({ ok: true, changed: true });
    // The newest registration first.
    expect(t.list('alice').map((b) => b.contact)).toEqual(['sip:alice@10.0.0.2', 'sip:alice@10.0.0.1']);
    now.t += 1000;
    const refresh = t.apply(update({ cseq: 2, contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: undefined }] }), 2);
    expect(refresh).toMatchObject({ ok: true, changed: false });
    expect(t.list('alice').map((b) => b.contact)).toEqual(['sip:alice@10.0.0.2', 'sip:alice@10.0.0.1']);
    expect(t.apply(update({ callId: 'c3', contacts: [{ contact: 'sip:alice@10.0.0.3', expires: 60, q: undefined }] }), 2)).toEqual({ ok: false, status: 403, reason: expect.stringMatching(/at most 2 contacts/) });
    expect(t.list('alice')).toHaveLength(2);
    expect(t.apply(update({ callId: 'c2', cseq: 2, contacts: [{ contact: 'sip:alice@10.0.0.2', expires: 0, q: undefined }] }), 2)).toMatchObject({ ok: true, changed: true });
    expect(t.list('alice').map((b) => b.contact)).toEqual(['sip:alice@10.0.0.1']);
    now.t += 61_000;
    expect(t.expire()).toEqual(['alice']);
    expect(t.list('alice')).toEqual([]);
    expect(t.size).toBe(0);
  });

  it('the same Call-ID with a CSeq not higher is out of order and changes nothing (step 7)', () => {
    const t = new BindingTable(() => 0);
    t.apply(update({ cseq: 5, contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: undefined }] }), 5);
    expect(t.apply(update({ cseq: 5, contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 0, q: undefined }] }), 5)).toMatchObject({ ok: false, status: 400 });
    expect(t.apply(update({ cseq: 4, removeAll: true }), 5)).toMatchObject({ ok: false, status: 400 });
    expect(t.list('alice')).toHaveLength(1);
    // Another Call-ID (another phone, or a rebooted one) may change it.
    expect(t.apply(update({ callId: 'other', cseq: 1, removeAll: true }), 5)).toMatchObject({ ok: true, changed: true });
    expect(t.list('alice')).toHaveLength(0);
  });

  it('a contact with a +sip.instance is bound by its instance (RFC 5626 §6): the same device at a new address replaces its binding', () => {
    const now = { t: 1000 };
    const t = new BindingTable(() => now.t);
    const urn = 'urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6';
    expect(t.apply(update({ contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: undefined, instance: urn }] }), 2)).toMatchObject({ ok: true, changed: true });
    expect(t.apply(update({ callId: 'desk', contacts: [{ contact: 'sip:alice@10.0.0.9', expires: 60, q: undefined }] }), 2)).toMatchObject({ ok: true });
    now.t += 1000;
    // Rebooted, on a new address and Call-ID: not a third binding (the limit of 2 would refuse it), a new contact for the device.
    expect(t.apply(update({ callId: 'c2', contacts: [{ contact: 'sip:alice@10.0.0.2', expires: 60, q: undefined, instance: urn }] }), 2)).toMatchObject({ ok: true, changed: true });
    expect(t.list('alice').map((b) => [b.contact, b.instance, b.registeredAt])).toEqual([
      ['sip:alice@10.0.0.2', urn, 2000],
      ['sip:alice@10.0.0.9', undefined, 1000],
    ]);
    // The same URI registered first without the instance, then with it, is one binding.
    expect(t.apply(update({ callId: 'desk', cseq: 2, contacts: [{ contact: 'sip:alice@10.0.0.9', expires: 60, q: undefined, instance: 'urn:uuid:2' }] }), 2)).toMatchObject({ ok: true });
    expect(t.list('alice').map((b) => b.contact).sort()).toEqual(['sip:alice@10.0.0.2', 'sip:alice@10.0.0.9']);
    // A failed keep-alive removes by the contact's address; a restart keys the binding by its instance again.
    expect(t.remove('alice', 'sip:alice@10.0.0.9')).toBe(true);
    const again = new BindingTable(() => now.t);
    again.load(t.all());
    again.apply(update({ callId: 'c3', contacts: [{ contact: 'sip:alice@10.0.0.3', expires: 60, q: undefined, instance: urn }] }), 1);
    expect(again.list('alice').map((b) => b.contact)).toEqual(['sip:alice@10.0.0.3']);
  });

  it('survives a restart through the registrations file (expired ones dropped)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-bind-'));
    try {
      const file = join(dir, 'registrar', 'bindings.json');
      const now = { t: 5000 };
      const store = new FileBindingStore(file, silentLogger(), 0);
      const t = new BindingTable(() => now.t);
      const r = t.apply(update({ contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: 0.5 }, { contact: 'sip:alice@10.0.0.2', expires: 5, q: undefined }] }), 5);
      store.save('alice', r.ok ? r.bindings : []);
      await store.close();
      expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, bindings: [{ aor: 'alice' }, { aor: 'alice' }] });
      now.t += 10_000;
      const again = new BindingTable(() => now.t);
      again.load(await new FileBindingStore(file, silentLogger()).load());
      expect(again.list('alice').map((b) => [b.contact, b.q])).toEqual([['sip:alice@10.0.0.1', 0.5]]);
      writeFileSync(file, '{ not json');
      expect(await new FileBindingStore(file, silentLogger()).load()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('per-source limiter', () => {
  it('lets a burst through, then refills at the rate; failures cost more; sources are independent and bounded', () => {
    const now = { t: 0 };
    const l = new SourceLimiter({ perSourcePerSecond: 2, burst: 3, failureCost: 4, maxSources: 100 }, () => now.t);
    expect([1, 2, 3, 4].map(() => l.take('a').ok)).toEqual([true, true, true, false]);
    expect(l.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(l.take('b').ok).toBe(true);
    now.t += 1000;
    expect([1, 2, 3].map(() => l.take('a').ok)).toEqual([true, true, false]);
    l.failed('b');
    now.t += 500;
    const r = l.take('b');
    expect(r.ok).toBe(false);
    expect(r.ok ? 0 : r.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 500; i++) l.take(`s${i}`);
    expect(l.sources).toBe(100);
    expect(l.limited).toBeGreaterThan(0);
  });
});

describe('registrations in Redis (a real redis-server)', () => {
  it('are saved per agent, expire with their last binding, and are read back after a restart', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sb-redis-bind-'));
    const redis = new EmbeddedRedis({ dir: join(root, 'redis'), logger: silentLogger() });
    await redis.start();
    try {
      const now = { t: Date.now() };
      const t = new BindingTable(() => now.t);
      const store = new RedisBindingStore(redis.url, 'test', silentLogger());
      expect(await store.load()).toEqual([]);
      const r = t.apply(update({ contacts: [{ contact: 'sip:alice@10.0.0.1', expires: 60, q: undefined }] }), 5);
      store.save('alice', r.ok ? r.bindings : []);
      const b = t.apply(update({ aor: 'bob', contacts: [{ contact: 'sip:bob@10.0.0.2', expires: 60, q: undefined }] }), 5);
      store.save('bob', b.ok ? b.bindings : []);
      store.save('bob', []);
      await store.close();
      const again = new RedisBindingStore(redis.url, 'test', silentLogger());
      const loaded = await again.load();
      expect(loaded.map((x) => [x.aor, x.contact])).toEqual([['alice', 'sip:alice@10.0.0.1']]);
      // Another deployment's prefix sees none of it.
      const other = new RedisBindingStore(redis.url, 'other', silentLogger());
      expect(await other.load()).toEqual([]);
      await again.close();
      await other.close();
    } finally {
      await redis.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
