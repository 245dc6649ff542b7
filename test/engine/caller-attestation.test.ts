/**
 * Caller attestation (STIR/SHAKEN verstat, RFC 8224 / ATIS-1000074) passed
 * on by a trusted trunk: shown on the call (record, agent leg), and a failed
 * validation routed by configuration to its own queue. The same verstat from
 * an untrusted source is ignored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let support: AgentPhone;
let review: AgentPhone;
let trusted: CallerPhone;
let untrusted: CallerPhone;

beforeAll(async () => {
  support = await AgentPhone.create(1300);
  review = await AgentPhone.create(1400);
  trusted = await CallerPhone.create(700, 'udp', '127.0.0.2');
  untrusted = await CallerPhone.create(700, 'udp', '127.0.0.3');
  cc = await startContactCenter(
    {
      trunks: { inbound: [{ id: 'carrier', trusted: true, sources: [{ address: '127.0.0.2' }] }] },
      reservedData: { agentLeg: { attestationHeader: 'X-Caller-Attestation', flagsHeader: 'X-Reserved-Flags' }, attestation: { failedQueue: 'review' } },
      queues: [
        { id: 'support', name: 'Support', numbers: ['1000'], agents: [support.uri()] },
        { id: 'review', name: 'Fraud review', agents: [review.uri()] },
      ],
    },
    { media: false },
  );
});
afterAll(async () => {
  await cc?.stop();
  for (const p of [support, review, trusted, untrusted]) p?.close();
});

const pai = (verstat: string): string => `P-Asserted-Identity: <sip:+15551230000;verstat=${verstat}@carrier.example;user=phone>`;

async function call(phone: CallerPhone, verstat: string): Promise<{ queuePath: readonly string[]; attestation: string | null; header: string | undefined; agent: 'support' | 'review' }> {
  const placed = phone.dial(cc.udp, '1000', { extra: [pai(verstat)] });
  await placed.waitStatus(200, 20_000);
  placed.hangUp();
  const record = await cc.recordOf(placed.callId);
  const at = (p: AgentPhone): string | undefined => p.calls.find((c) => c.invite.raw.includes(`X-Switchboard-Call: ${record.call}`))?.invite.raw;
  const invite = at(support) ?? at(review)!;
  return { queuePath: record.queuePath, attestation: record.callerAttestation, header: /^X-Caller-Attestation: (.*?)\r?$/m.exec(invite)?.[1], agent: at(support) !== undefined ? 'support' : 'review' };
}

describe('caller attestation', () => {
  it('TN-Validation-Passed from the trusted trunk: shown, routed as dialed', async () => {
    expect(await call(trusted, 'TN-Validation-Passed')).toEqual({ queuePath: ['support'], attestation: 'passed', header: 'passed', agent: 'support' });
  });

  it('No-TN-Validation: shown, routed as dialed', async () => {
    expect(await call(trusted, 'No-TN-Validation')).toEqual({ queuePath: ['support'], attestation: 'no-validation', header: 'no-validation', agent: 'support' });
  });

  it('TN-Validation-Failed: routed to the configured queue, the agent told', async () => {
    expect(await call(trusted, 'TN-Validation-Failed')).toEqual({ queuePath: ['review'], attestation: 'failed', header: 'failed', agent: 'review' });
  });

  it('the same from an untrusted source: ignored', async () => {
    expect(await call(untrusted, 'TN-Validation-Failed')).toEqual({ queuePath: ['support'], attestation: null, header: undefined, agent: 'support' });
    await cc.settled();
  });
});
