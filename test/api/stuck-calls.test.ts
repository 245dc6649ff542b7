/**
 * Stuck calls ended automatically (`api.stuckCalls.autoEnd`): a connected
 * call older than the threshold is ended by the engine, both legs get BYE, and
 * the call record and the audit log say it was `system`. On the real engine
 * and SIP server, signaling only (no media plane needed for this).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import { generateKey } from '../../src/api/auth/api-key.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { apiClient } from './support/api-http.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;
const admin = generateKey();

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter(
    {
      api: { enabled: true, port: 0, stuckCalls: { thresholdSeconds: 2, autoEnd: true }, keys: [{ id: admin.id, user: 'alice', role: 'admin', hash: admin.hash }] },
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  caller?.close();
});

describe('stuck calls', () => {
  it('a call older than the threshold is ended by the engine: BYE to both legs, recorded and audited as system', async () => {
    const api = apiClient(cc.sb.api!.port, admin.key);
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 10_000);
    await call.waitRequest('BYE', 15_000);
    await eventually(() => agent.calls.at(-1)!.requests.includes('BYE'), 10_000, 'BYE at the agent');
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endedBy: 'engine', facts: { endedByUser: 'system' }, endReason: 'stuck: older than 2 s' });
    expect(Date.parse(record.times.ended!) - Date.parse(record.times.arrived)).toBeGreaterThanOrEqual(2000);
    const entries = (await api<{ entries: AuditEntry[] }>('GET', `/audit?call=${record.call}`)).body.entries;
    expect(entries).toEqual([expect.objectContaining({ action: 'call.end', outcome: 'ok', user: 'system', from: null, reason: 'stuck: older than 2 s' })]);
    await eventually(async () => (await cc.leftovers()).calls === 0 && (await cc.leftovers()).dialogs === 0, 10_000, 'no call or dialog left');
  });
});
