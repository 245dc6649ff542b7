/**
 * A monitor's device is where a supervisor listens, not a way to place calls:
 * a key stored with its device monitors there only; a device that is an
 * outbound trunk's gateway (a call to the PSTN through the carrier) is
 * refused with 403, audited as denied; a device URI with headers, which no
 * request target may carry (RFC 3261 §19.1.1), is refused with 400.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKey } from '../../src/api/auth/api-key.js';
import { readKeysFile, writeKeysFile } from '../../src/api/auth/keys-file.js';
import { RoleBook } from '../../src/api/auth/roles.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

let fx: Fixture;
let pinned: string;
const PINNED_DEVICE = 'sip:desk@127.0.0.1:5999';

beforeAll(async () => {
  fx = await startFixture({ trunks: { outbound: [{ id: 'carrier', host: '127.0.0.1', port: 5090 }] } });
  // A supervisor key stored with its device, added the way `switchboard keys add --device` does.
  const k = generateKey();
  pinned = k.key;
  writeKeysFile(fx.keysFile, [...readKeysFile(fx.keysFile, new RoleBook(fx.config.api.roles)), { id: k.id, user: 'desk', role: 'supervisor', device: PINNED_DEVICE, hash: k.hash }]);
  fx.api.keys.reload();
});
afterAll(async () => fx?.close());

async function monitor(authorization: string, body: object): Promise<{ status: number; reason: string }> {
  const call = fx.call('sales');
  const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/monitors`, headers: { authorization, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  return { status: res.statusCode, reason: (JSON.parse(res.body) as { reason?: string }).reason ?? '' };
}

describe('monitor devices', () => {
  it('a key stored with its device may not name another: 403; naming its own, or none, is not refused for the device', async () => {
    const other = await monitor(`Bearer ${pinned}`, { device: 'sip:+19005551234@127.0.0.1:5070' });
    expect(other).toEqual({ status: 403, reason: `desk's key monitors on its own device (${PINNED_DEVICE}) only; leave "device" out, or have an admin store another one with the key` });
    for (const body of [{ device: PINNED_DEVICE }, {}]) {
      const own = await monitor(`Bearer ${pinned}`, body);
      expect(own.status, own.reason).not.toBe(403);
      expect(own.status, own.reason).not.toBe(400);
    }
  });

  it('an outbound trunk\'s gateway (host and port) is refused with 403 and audited as denied; another port of that host is not', async () => {
    const admin = fx.auth('admin').authorization;
    const toll = await monitor(admin, { device: 'sip:+19005551234@127.0.0.1:5090' });
    expect(toll).toEqual({ status: 403, reason: "device sip:+19005551234@127.0.0.1:5090 is outbound trunk carrier's gateway: a monitor is not a way to place calls through a carrier" });
    const denied = fx.api.audit.recent(100, (e) => e.action === 'monitor.start' && e.outcome === 'denied');
    expect(denied.some((e) => e.status === 403 && /outbound trunk carrier/.test(e.reason ?? '') && e.device === 'sip:+19005551234@127.0.0.1:5090')).toBe(true);
    expect((await monitor(admin, { device: 'sip:ada@127.0.0.1:5091' })).status).not.toBe(403);
  });

  it('a device URI with headers is refused with 400 naming RFC 3261 §19.1.1', async () => {
    const r = await monitor(fx.auth('admin').authorization, { device: 'sip:ada@127.0.0.1:5091?X-Injected=1&Route=%3Csip:127.0.0.1%3Blr%3E' });
    expect(r.status).toBe(400);
    expect(r.reason).toMatch(/URI headers \(\?\.\.\.\) are not allowed in a request target \(RFC 3261 §19\.1\.1\)$/);
  });
});
