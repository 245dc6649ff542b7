/**
 * A live call's reserved data through the API (the seed's Apps API: read
 * and set while the call is live): GET with calls-view, PUT with
 * reserved-data-edit taking all three properties as JSON booleans or null,
 * reflected at once in the call's details and the event stream, and every
 * PUT in the audit log with the values before and after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalOf, RoleBook } from '../../src/api/auth/roles.js';
import type { LiveEvent } from '../../src/api/events/live-events.js';
import type { CallDetailsView } from '../../src/api/schemas.js';
import { startFixture, type Fixture, type UserName } from './support/api-fixture.js';

let fx: Fixture;

beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => fx?.close());

async function put(id: string, payload: unknown, user: UserName = 'manager'): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fx.api.app.inject({ method: 'PUT', url: `/calls/${id}/reserved-data`, headers: fx.auth(user), payload: payload as Record<string, unknown> });
  return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
}

async function get<T>(url: string, user: UserName = 'supervisor'): Promise<T> {
  const res = await fx.api.app.inject({ method: 'GET', url, headers: fx.auth(user) });
  expect(res.statusCode, res.body).toBe(200);
  return JSON.parse(res.body) as T;
}

describe('reserved data of a live call', () => {
  it('reads nothing set for a call whose trunk sent nothing', async () => {
    const call = fx.call('sales');
    expect(await get(`/calls/${call.id}/reserved-data`)).toEqual({ call: call.id, reservedData: {}, setBy: {}, callerAttestation: null, trunk: { id: null, name: null, trusted: false } });
  });

  it('a manager sets it mid-call: the details, the event stream and the audit log show it at once', async () => {
    const call = fx.call('sales');
    call.reserved.apply({ reserved_repeat_customer: true }, 'header:X-Reserved-Data');
    const events: LiveEvent[] = [];
    const admin = new RoleBook().get('admin')!;
    const unsubscribe = fx.api.events.subscribe({ principal: principalOf(admin, { id: 'k', user: 'watcher' }), send: (e) => events.push(e) });
    try {
      const r = await put(call.id, { reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject({ reservedData: { reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true }, setBy: { reserved_verified_customer: 'api:manager', reserved_bad_actor: 'api:manager', reserved_repeat_customer: 'header:X-Reserved-Data' } });
      const details = await get<CallDetailsView>(`/calls/${call.id}`);
      expect(details.reservedData).toEqual({ reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: true });
      expect(details.reservedDataSetBy.reserved_verified_customer).toBe('api:manager');
      expect(events.filter((e) => e.type === 'call.updated' && e.call.id === call.id)).toHaveLength(1);
      const [entry] = fx.api.audit.recent(1, (e) => e.action === 'reserved-data.set' && e.call === call.id);
      expect(entry).toMatchObject({ outcome: 'ok', user: 'manager', status: 200, reason: 'reserved_repeat_customer=true -> reserved_verified_customer=true, reserved_bad_actor=false, reserved_repeat_customer=true' });

      // null unsets; the same values again change nothing (and say so).
      expect((await put(call.id, { reserved_verified_customer: null, reserved_bad_actor: false, reserved_repeat_customer: true })).body.reservedData).toEqual({ reserved_bad_actor: false, reserved_repeat_customer: true });
      await put(call.id, { reserved_verified_customer: null, reserved_bad_actor: false, reserved_repeat_customer: true });
      const [last] = fx.api.audit.recent(1, (e) => e.action === 'reserved-data.set' && e.call === call.id);
      expect(last!.reason).toBe('unchanged (reserved_bad_actor=false, reserved_repeat_customer=true)');
      expect(events.filter((e) => e.type === 'call.updated' && e.call.id === call.id)).toHaveLength(2);
    } finally {
      unsubscribe();
    }
  });

  it.each([
    ['a missing property', { reserved_verified_customer: true, reserved_bad_actor: false }, /reserved_repeat_customer/],
    ['a string', { reserved_verified_customer: 'true', reserved_bad_actor: false, reserved_repeat_customer: false }, /reserved_verified_customer must be true, false or null/],
    ['a number', { reserved_verified_customer: 1, reserved_bad_actor: false, reserved_repeat_customer: false }, /must be true, false or null/],
    ['an unknown property', { reserved_verified_customer: true, reserved_bad_actor: false, reserved_repeat_customer: false, reserved_vip: true }, /additional|reserved_vip/],
  ])('%s is refused with 400 and changes nothing', async (_name, payload, reason) => {
    const call = fx.call('sales');
    const r = await put(call.id, payload);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ code: 'SB_API_BAD_REQUEST' });
    expect(String(r.body.reason)).toMatch(reason);
    expect(call.reserved.values()).toEqual({});
  });

  it('a supervisor may read but not set; a call that ended is 404', async () => {
    const call = fx.call('sales');
    expect((await put(call.id, { reserved_verified_customer: true, reserved_bad_actor: null, reserved_repeat_customer: null }, 'supervisor')).status).toBe(403);
    expect(call.reserved.values()).toEqual({});
    await call.end('over');
    expect((await put(call.id, { reserved_verified_customer: true, reserved_bad_actor: null, reserved_repeat_customer: null }, 'admin')).status).toBe(404);
  });
});
