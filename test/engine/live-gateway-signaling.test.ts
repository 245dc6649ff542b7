/**
 * The phone-number deflection's leg at a carrier gateway (`test/support/gateway.ts`), on the wire:
 *
 * - a CANCEL goes to a gateway that sent only 100 Trying, whether the caller
 *   CANCELs or a supervisor ends the call (RFC 3261 §9.1), and nothing is left
 *   in the engine, rtpengine or the SIP server;
 * - who is calling: a withheld caller is `"Anonymous" <sip:anonymous@anonymous.invalid>`
 *   with `Privacy: id` (RFC 3323 §4.1.1.3), a P-Asserted-Identity from a
 *   trusted inbound trunk goes on to this trusted gateway (RFC 3325 §7), one
 *   from an untrusted source does not, and a caller's number stays in From;
 * - that the call was forwarded, from the number dialed and why (RFC 7044
 *   History-Info with the RFC 4458 cause);
 * - a gateway that challenges our BYE gets it once more, with digest
 *   credentials (RFC 3261 §22.2), and each BYE is sent once.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { TestGateway, type GatewayCall } from '../support/gateway.js';
import { AgentPhone, CallerPhone, type DialOptions } from '../support/phones.js';
import type { Received } from '../support/sip-peer.js';

let cc: ContactCenter;
let gateway: TestGateway;
let ann: AgentPhone;

beforeAll(async () => {
  gateway = await TestGateway.create();
  ann = await AgentPhone.create(1300);
  cc = await startContactCenter({
    // RFC 3261's own T1 (500 ms): a request that is answered at once is never retransmitted, so each
    // copy of a BYE at the gateway is one the engine sent.
    sipServer: { timers: { t1Ms: 500, t2Ms: 4000, t4Ms: 5000 } },
    trunks: {
      inbound: [
        { id: 'carrier', trusted: true, sources: [{ address: '127.0.0.2' }] },
        { id: 'grey', trusted: false, sources: [{ address: '127.0.0.3' }] },
      ],
      outbound: [{ id: 'gateway', host: '127.0.0.1', port: gateway.port, username: 'switchboard', password: 's3cret', ringTimeoutSeconds: 30, trustedIdentity: true }],
    },
    // ann never logs in: a caller of 6000 waits, answered for the hold audio, then overflows to the number.
    agents: [{ id: 'ann', name: 'Ann', device: ann.uri('ann'), queues: [{ queue: 'waits' }] }],
    queues: [
      { id: 'forward', name: 'Forward', numbers: ['5000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
      { id: 'waits', name: 'Waits', numbers: ['6000'], waiting: { maxWaitSeconds: 2, overflow: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  gateway?.close();
  ann?.close();
});

async function gatewayCall(n: number): Promise<GatewayCall> {
  await eventually(() => gateway.calls.length > n, 10_000, 'the INVITE at the gateway');
  return gateway.calls[n]!;
}

const header = (r: Received, name: string): string | undefined => r.message.headers.get(name);

/** A call to 5000 from `host` that the gateway leaves at 100 Trying; the caller CANCELs it once the gateway has the INVITE. */
async function cancelledCall(host: string, options: DialOptions): Promise<GatewayCall> {
  gateway.behaviour = 'trying';
  const caller = await CallerPhone.create(700, 'udp', host);
  try {
    const n = gateway.calls.length;
    const call = caller.dial(cc.udp, '5000', options);
    const at = await gatewayCall(n);
    call.cancel();
    expect(await call.waitFinal(10_000)).toBe(487);
    await eventually(() => TestGateway.requestsOf(at, 'CANCEL').length > 0, 10_000, 'the CANCEL at the gateway');
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endedBy: 'caller', endReason: 'caller cancelled' });
    await cc.settled();
    return at;
  } finally {
    caller.close();
  }
}

describe('cancelling a gateway that sent only 100 Trying', () => {
  it('the caller CANCELs: the CANCEL goes on to the gateway at once (RFC 3261 §9.1), and nothing is left', async () => {
    const at = await cancelledCall('127.0.0.1', { fromUser: '+15551230000' });
    const cancel = TestGateway.requestsOf(at, 'CANCEL')[0]!;
    expect(cancel.info.via.branch).toBe(at.invite.info.via.branch);
    expect(cancel.info.cseq).toBe(at.invite.info.cseq);
  });

  it('a supervisor ends the call: the gateway gets CANCEL, the caller a final response, and the SIP server lets go of both', async () => {
    gateway.behaviour = 'trying';
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
      const at = await gatewayCall(n);
      const id = cc.sb.engine.control.list().find((c) => c.sipCallId === call.callId)!.id;
      await cc.sb.engine.control.end(id, 'ended by mia: stuck', 'supervisor', 'mia');
      expect(await call.waitFinal(10_000)).toBe(480);
      await eventually(() => TestGateway.requestsOf(at, 'CANCEL').length > 0, 10_000, 'the CANCEL at the gateway');
      expect((await cc.recordOf(call.callId)).endedBy).toBe('supervisor');
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('who the gateway is told is calling', () => {
  it('a caller with a number: in From as received, no Privacy, no P-Asserted-Identity', async () => {
    const at = await cancelledCall('127.0.0.1', { fromUser: '+15551230000' });
    expect(header(at.invite, 'from')).toMatch(/^<?sip:\+15551230000@/);
    expect(header(at.invite, 'privacy')).toBeUndefined();
    expect(header(at.invite, 'p-asserted-identity')).toBeUndefined();
    // We PRACK a reliable 18x (RFC 3262 §4): said, so a gateway that requires 100rel does not refuse with 421.
    expect(header(at.invite, 'supported')).toMatch(/(^|,)\s*100rel\s*(,|$)/);
    expect(header(at.invite, 'allow')).toBe('ACK, BYE, CANCEL, INFO, INVITE, OPTIONS, PRACK, UPDATE');
    // Forwarded from the number dialed, closed: RFC 7044 History-Info, the RFC 4458 cause 302 (unconditional).
    expect(header(at.invite, 'history-info')).toBe(
      `<sip:5000@127.0.0.1:${cc.udp.port}?Reason=SIP%3Bcause%3D302%3Btext%3D%22Closed%22>;index=1, <sip:+15550199@127.0.0.1:${gateway.port};cause=302>;index=1.1;mp=1`,
    );
    expect(header(at.invite, 'diversion')).toBeUndefined();
  });

  it('an anonymous caller from an unknown source: From "Anonymous" <sip:anonymous@anonymous.invalid> and Privacy: id (RFC 3323 §4.1.1.3)', async () => {
    const at = await cancelledCall('127.0.0.1', { fromUser: 'anonymous' });
    expect(header(at.invite, 'from')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=\S+$/);
    expect(header(at.invite, 'privacy')).toBe('id');
    expect(header(at.invite, 'p-asserted-identity')).toBeUndefined();
  });

  it('a withheld caller from the trusted trunk: its P-Asserted-Identity goes on to the trusted gateway with Privacy: id (RFC 3325 §7)', async () => {
    const pai = '"Ann" <sip:+15557654321@carrier.example;user=phone>, <tel:+15557654321>';
    const at = await cancelledCall('127.0.0.2', { fromUser: 'anonymous', extra: [`P-Asserted-Identity: ${pai}`, 'Privacy: id'] });
    expect(header(at.invite, 'from')).toMatch(/^"Anonymous" <sip:anonymous@anonymous\.invalid>;tag=/);
    expect(header(at.invite, 'privacy')).toBe('id');
    expect(at.invite.message.headers.values('p-asserted-identity').join(', ')).toBe(pai);
  });

  it('an untrusted trunk\'s P-Asserted-Identity never reaches the gateway', async () => {
    const at = await cancelledCall('127.0.0.3', { fromUser: 'anonymous', extra: ['P-Asserted-Identity: <sip:+15557654321@127.0.0.3>', 'Privacy: id'] });
    expect(header(at.invite, 'p-asserted-identity')).toBeUndefined();
    expect(header(at.invite, 'privacy')).toBe('id');
  });
});

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function digestParams(value: string): Map<string, string> {
  return new Map([...value.matchAll(/([a-z-]+)=(?:"([^"]*)"|([^,\s]+))/gi)].map((m) => [m[1]!.toLowerCase(), m[2] ?? m[3]!]));
}

describe('what the caller gets when the gateway refuses', () => {
  // What the caller's carrier must not read as Switchboard's own state (503: out of service; a challenge
  // it cannot answer; a complaint about a request it did not send) is 500; what the callee's side said
  // is passed on (RFC 3261 §16.7 step 6, §21.5.4).
  // The called party's Reason (a Q.850 cause, RFC 6432) goes with a refusal passed on; ours (500) has none of the gateway's.
  const cases: readonly { readonly refuse: number; readonly reason: string; readonly extra?: readonly string[]; readonly caller: number; readonly callerReason?: string }[] = [
    { refuse: 486, reason: 'Busy Here', caller: 486 },
    { refuse: 486, reason: 'Busy Here', extra: ['Reason: Q.850;cause=17;text="User busy"'], caller: 486, callerReason: 'Q.850;cause=17;text="User busy"' },
    { refuse: 404, reason: 'Not Found', extra: ['Reason: Q.850;cause=1'], caller: 404, callerReason: 'Q.850;cause=1' },
    { refuse: 503, reason: 'Service Unavailable', extra: ['Reason: Q.850;cause=34'], caller: 500 },
    { refuse: 404, reason: 'Not Found', caller: 404 },
    { refuse: 503, reason: 'Service Unavailable', extra: ['Retry-After: 30'], caller: 500 },
    { refuse: 420, reason: 'Bad Extension', extra: ['Unsupported: foo'], caller: 500 },
    { refuse: 401, reason: 'Unauthorized', extra: ['WWW-Authenticate: Digest realm="carrier.example", nonce="n0nce", algorithm=MD5'], caller: 500 },
    // Codes drachtio-srf's own table lacks once took the engine down (its Response#send threw): the registered
    // ones (RFC 8197, RFC 8688) go on as they are, any other as its class's x00 (RFC 3261 §8.1.3.2).
    { refuse: 608, reason: 'Rejected', caller: 608 },
    { refuse: 607, reason: 'Unwanted', caller: 607 },
    { refuse: 699, reason: 'Something New', caller: 600 },
    { refuse: 499, reason: 'Something New', caller: 400 },
  ];
  for (const c of cases) {
    it(`a gateway's ${c.refuse}${c.extra !== undefined ? ` (${c.extra.join(', ')})` : ''} reaches the caller as ${c.caller}${c.callerReason !== undefined ? ' with its Reason' : ''}`, async () => {
      gateway.behaviour = c;
      const caller = await CallerPhone.create(700);
      try {
        const n = gateway.calls.length;
        const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
        await gatewayCall(n);
        expect(await call.waitFinal(10_000)).toBe(c.caller);
        expect(call.final!.message.headers.get('reason')).toBe(c.callerReason);
        expect((await cc.recordOf(call.callId)).agentsTried.at(-1)).toMatchObject({ agent: expect.stringContaining('15550199'), status: c.refuse });
        await cc.settled();
      } finally {
        caller.close();
      }
    });
  }
});

describe('a gateway that challenges our BYE', () => {
  it('gets the BYE once more with digest credentials (RFC 3261 §22.2), each BYE sent once, and nothing is left', async () => {
    gateway.behaviour = 'answer';
    gateway.byeChallenge = { status: 401, realm: 'carrier.example', nonce: 'b7e1c0ffee', qop: 'auth' };
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000' });
      const at = await gatewayCall(n);
      await call.waitStatus(200, 10_000);
      await cc.bridged(call.callId);
      call.hangUp();
      await eventually(() => TestGateway.requestsOf(at, 'BYE').some((r) => header(r, 'authorization') !== undefined), 10_000, 'a BYE with credentials at the gateway');
      const byes = TestGateway.requestsOf(at, 'BYE');
      // Two BYEs, two transactions: the challenged one and the one with credentials, each received once.
      expect(byes.map((r) => r.info.via.branch)).toHaveLength(new Set(byes.map((r) => r.info.via.branch)).size);
      expect(byes).toHaveLength(2);
      const [first, second] = byes as [Received, Received];
      expect(header(first, 'authorization')).toBeUndefined();
      expect(second.info.cseq).toBeGreaterThan(first.info.cseq);
      expect(header(second, 'reason')).toBe(header(first, 'reason'));
      const p = digestParams(header(second, 'authorization')!);
      const uri = second.message.kind === 'request' ? second.message.uri : '';
      expect([p.get('username'), p.get('realm'), p.get('nonce'), p.get('uri'), p.get('qop')]).toEqual(['switchboard', 'carrier.example', 'b7e1c0ffee', uri, 'auth']);
      const ha1 = md5('switchboard:carrier.example:s3cret');
      expect(p.get('response')).toBe(md5(`${ha1}:b7e1c0ffee:${p.get('nc')}:${p.get('cnonce')}:auth:${md5(`BYE:${uri}`)}`));
      expect((await cc.recordOf(call.callId)).endedBy).toBe('caller');
      await cc.settled();
    } finally {
      gateway.byeChallenge = undefined;
      caller.close();
    }
  });

  it('a caller already answered (it waited, then overflowed to the number) is offered on to the gateway with SDP, as an agent would be: no delayed offer, which many trunks refuse', async () => {
    gateway.behaviour = 'answer';
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      const at = await gatewayCall(n);
      expect(at.invite.message.body.toString('utf8')).toMatch(/^m=audio [1-9]\d* RTP\/AVP /m);
      // The gateway's dialog is a session of ours (RFC 3264 §8): not the caller's origin, which rtpengine passes on.
      expect(at.invite.message.body.toString('utf8')).toMatch(/^o=switchboard \d+ 1 IN IP4 \S+\r?$/m);
      // Forwarded at the queue's overflow: the RFC 4458 cause 408 (no reply).
      expect(header(at.invite, 'history-info')).toMatch(/^<sip:6000@[^>]+\?Reason=SIP%3Bcause%3D408%3Btext%3D%22No%20Answer%22>;index=1, <sip:\+15550199@[^>]+;cause=408>;index=1\.1;mp=1$/);
      // Its 200 answered our offer: the ACK carries no SDP, and the call is connected.
      await eventually(() => TestGateway.requestsOf(at, 'ACK').length > 0, 10_000, 'the ACK at the gateway');
      expect(TestGateway.requestsOf(at, 'ACK')[0]!.message.body.length).toBe(0);
      await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.state === 'connected'), 10_000, 'connected to the gateway');
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ endedBy: 'caller' });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a caller that never ACKs our 200 is never connected to the gateway: no talk time, ended "caller did not acknowledge" at 64·T1, BYE to the gateway (RFC 3261 §13.3.1.4)', async () => {
    gateway.behaviour = 'answer';
    const caller = await CallerPhone.create(700);
    try {
      const n = gateway.calls.length;
      const call = caller.dial(cc.udp, '5000', { fromUser: '+15551230000', noAck: true });
      const at = await gatewayCall(n);
      await call.waitStatus(200, 10_000);
      // This file's T1 is RFC 3261's own 500 ms: 64·T1 is 32 s.
      await call.waitRequest('BYE', 50_000);
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ endReason: 'caller did not acknowledge', endedBy: 'engine' });
      expect(record.times.bridged).toBeNull();
      expect(record.metrics.talkMs).toBe(0);
      await eventually(() => TestGateway.requestsOf(at, 'BYE').length > 0, 10_000, 'BYE at the gateway');
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 80_000);

  it('afterwards no SIP transaction or timer is left', async () => {
    await cc.settled({ transactions: true, timeoutMs: 80_000 });
  }, 100_000);
});
