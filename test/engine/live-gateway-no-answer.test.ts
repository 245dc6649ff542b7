/**
 * A phone-number deflection whose gateway never answers: the outbound trunk's
 * ring timeout (`trunks.outbound[].ringTimeoutSeconds`, 1 s here) CANCELs the
 * INVITE (RFC 3261 §9.1, also after a lone 100 Trying) and the caller gets the
 * engine's final response: 408 when the gateway sent nothing past 100 Trying,
 * 480 when it rang (RFC 3398 §8.2.6.1), never the SIP server's 500 at its app
 * timeout. Each call leaves one record, and nothing stays behind: not in the
 * engine, rtpengine or the SIP server (dialogs, and at the end of the file,
 * transactions), also when the gateway never answers our CANCEL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { TestGateway } from '../support/gateway.js';
import { CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let gateway: TestGateway;

beforeAll(async () => {
  gateway = await TestGateway.create();
  cc = await startContactCenter({
    // T1 100 ms: Timer B (64·T1, 6.4 s) of a silent gateway's INVITE is far beyond the 1 s ring time.
    sipServer: { timers: { t1Ms: 100, t2Ms: 1600, t4Ms: 2000 } },
    trunks: { outbound: [{ id: 'carrier', host: '127.0.0.1', port: gateway.port, ringTimeoutSeconds: 1 }] },
    queues: [{ id: 'forward', name: 'Forward', numbers: ['5000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } }],
  });
});
afterAll(async () => {
  await cc?.stop();
  gateway?.close();
});

/** The gateway's call for the INVITE that went out last. */
async function gatewayCall(n: number): Promise<NonNullable<ReturnType<TestGateway['call']>>> {
  await eventually(() => gateway.calls.length > n, 10_000, 'the INVITE at the gateway');
  return gateway.calls[n]!;
}

describe('a phone-number deflection nobody answers', () => {
  it('the gateway sends only 100 Trying: CANCELled at the ring timeout, the caller gets 408, one record, nothing left', async () => {
    gateway.behaviour = 'trying';
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
      const at = await gatewayCall(n);
      expect(await call.waitFinal(15_000)).toBe(408);
      // A 100 is hop-by-hop: the caller was not told the far end rings.
      expect(call.responses).not.toContain(180);
      await eventually(() => TestGateway.requestsOf(at, 'CANCEL').length > 0, 10_000, 'the CANCEL at the gateway');
      expect(TestGateway.requestsOf(at, 'CANCEL')[0]!.info.via.branch).toBe(at.invite.info.via.branch);
      expect(TestGateway.requestsOf(at, 'CANCEL')[0]!.message.headers.values('reason')).toEqual(['Q.850;cause=19;text="No answer"']);
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ deflection: { action: 'phoneNumber', target: '+15550199' }, endedBy: 'engine' });
      expect(record.endReason).toMatch(/^Request Timeout/);
      expect(record.agentsTried.map((a) => a.outcome)).toEqual(['no-answer']);
      await cc.settled();
      expect(cc.records().filter((r) => r.sipCallId === call.callId)).toHaveLength(1);
    } finally {
      caller.close();
    }
  });

  it('the gateway rings and never answers, nor takes our CANCEL: the caller gets 480, and the SIP server lets the INVITE go 64·T1 after the CANCEL', async () => {
    gateway.behaviour = 'ringing';
    gateway.answersCancel = false;
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
      const at = await gatewayCall(n);
      await call.waitStatus(180, 10_000);
      expect(await call.waitFinal(15_000)).toBe(480);
      await eventually(() => TestGateway.requestsOf(at, 'CANCEL').length > 0, 10_000, 'the CANCEL at the gateway');
      const record = await cc.recordOf(call.callId);
      expect(record.endReason).toMatch(/^Temporarily Unavailable \(no answer/);
      expect(record.agentsTried.map((a) => a.outcome)).toEqual(['no-answer']);
      await cc.settled();
    } finally {
      gateway.answersCancel = true;
      caller.close();
    }
  });

  it('the gateway sends nothing at all: the dial is over at the ring timeout, the caller gets 408; the INVITE ends at Timer B', async () => {
    gateway.behaviour = 'silent';
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
      await gatewayCall(n);
      expect(await call.waitFinal(15_000)).toBe(408);
      await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('afterwards no SIP transaction or timer is left (the last waits out Timer D)', async () => {
    await cc.settled({ transactions: true, timeoutMs: 60_000 });
  }, 90_000);
});
