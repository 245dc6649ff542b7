/**
 * Hang-ups at every step of an anchored call: the caller during ringback
 * (CANCEL), the caller during the whisper, the agent during the whisper (the
 * call goes back to the hunt), either side after the bridge, every agent
 * busy. Each leaves no call, no media, no rtpengine call, no dialog, no
 * transaction and no timer, and exactly one call record.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import type { Received } from '../support/sip-peer.js';

let cc: ContactCenter;
let a1: AgentPhone;
let a2: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  a1 = await AgentPhone.create(1300);
  a2 = await AgentPhone.create(1500);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({
    engine: { ringTimeoutSeconds: 20 },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [a1.uri(), a2.uri()] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  for (const p of [a1, a2, caller]) p?.close();
});

/** The BYE the agent's `i`th call received. */
function byeTo(agent: AgentPhone, i: number): Received {
  const callId = agent.calls[i]!.invite.info.callId;
  return agent.peer.received.find((r) => r.info.callId === callId && r.message.kind === 'request' && r.message.method === 'BYE')!;
}

function answeredAck(agent: AgentPhone, i: number): () => boolean {
  return () => agent.calls[i]?.requests.includes('ACK') === true;
}

describe('hang-ups at every step leave nothing behind', () => {
  it('the caller cancels while the agent rings: 487, the agent gets CANCEL', async () => {
    a1.behaviour = 'ring';
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await eventually(() => a1.calls.length > n, 10_000, 'the agent rings');
    await call.waitStatus(183);
    call.cancel();
    expect(await call.waitFinal()).toBe(487);
    await eventually(() => a1.calls[n]!.requests.includes('CANCEL'), 10_000, 'CANCEL at the agent');
    // Nothing said why: the agent's CANCEL says nothing either.
    expect(a1.calls[n]!.cancel!.message.headers.get('reason')).toBeUndefined();
    // The agent's INVITE said what its dialog takes and which extensions we do (RFC 3261 §13.2.1).
    const invite = a1.calls[n]!.invite.message.headers;
    expect(invite.get('allow')).toBe('ACK, BYE, CANCEL, INFO, INVITE, OPTIONS, PRACK, UPDATE');
    expect(invite.get('supported')?.split(/\s*,\s*/).sort()).toEqual(['100rel', 'timer']);
    expect(a2.calls.length).toBe(0);
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endedBy: 'caller', endReason: 'caller cancelled' });
    await cc.settled();
  });

  it('a caller\'s CANCEL saying the call was completed elsewhere (RFC 3326) says so on to the ringing agent, whose phone then shows no missed call', async () => {
    a1.behaviour = 'ring';
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await eventually(() => a1.calls.length > n, 10_000, 'the agent rings');
    await call.waitStatus(183);
    call.cancel(['Reason: SIP;cause=200;text="Call completed elsewhere"']);
    expect(await call.waitFinal()).toBe(487);
    await eventually(() => a1.calls[n]!.cancel !== undefined, 10_000, 'CANCEL at the agent');
    expect(a1.calls[n]!.cancel!.message.headers.get('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    expect(await cc.recordOf(call.callId)).toMatchObject({ endedBy: 'caller', endReason: 'caller cancelled' });
    await cc.settled();
  });

  it('the caller cancels during the whisper: the agent leg gets BYE at once', async () => {
    a1.behaviour = 'answer';
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await eventually(answeredAck(a1, n), 10_000, 'the agent answered');
    await eventually(() => cc.sb.engine.control.list().some((c) => c.sipCallId === call.callId && c.state === 'whisper'), 10_000, 'the whisper');
    call.cancel();
    expect(await call.waitFinal()).toBe(487);
    await eventually(() => a1.calls[n]!.requests.includes('BYE'), 10_000, 'BYE at the agent');
    const record = await cc.recordOf(call.callId);
    expect(record.endedBy).toBe('caller');
    expect(record.times.bridged).toBeNull();
    await cc.settled();
  });

  it('the agent hangs up during the whisper: the next agent is called and bridged', async () => {
    a1.behaviour = 'answer';
    a2.behaviour = 'answer';
    const n1 = a1.calls.length;
    const n2 = a2.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await eventually(answeredAck(a1, n1), 10_000, 'the first agent answered');
    a1.hangUp(n1);
    await eventually(answeredAck(a2, n2), 10_000, 'the second agent answered');
    await call.waitStatus(200, 30_000);
    call.hangUp();
    await eventually(() => a2.calls[n2]!.requests.includes('BYE'), 10_000, 'BYE at the second agent');
    const record = await cc.recordOf(call.callId);
    expect(record.agentsTried.map((a) => a.outcome)).toEqual(['left-during-whisper', 'answered']);
    expect(record.agent).toBe(a2.uri());
    await cc.settled();
  });

  it('the agent hangs up after the bridge: the caller gets BYE', async () => {
    a1.behaviour = 'answer';
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    a1.hangUp(n);
    await call.waitRequest('BYE');
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endedBy: 'agent', agent: a1.uri() });
    expect(record.metrics.talkMs).toBeGreaterThanOrEqual(0);
    await cc.settled();
  });

  it('the caller hangs up after the bridge: the agent gets BYE', async () => {
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    call.hangUp();
    await eventually(() => a1.calls[n]!.requests.includes('BYE'), 10_000, 'BYE at the agent');
    expect((await cc.recordOf(call.callId)).endedBy).toBe('caller');
    // RFC 3326: the agent's BYE says why, as a normal clearing.
    expect(byeTo(a1, n).message.headers.get('reason')).toBe('Q.850;cause=16;text="caller hung up"');
    await cc.settled();
  });

  it('the caller never ACKs our 200 (its ACKs lost): the call is never connected; the SIP server ends the dialog at 64·T1; the record says so, ended by us, with no talk time, and the agent hears why', async () => {
    a1.behaviour = 'answer';
    const n = a1.calls.length;
    const call = caller.dial(cc.udp, '1000', { noAck: true });
    await call.waitStatus(200, 30_000);
    await call.waitRequest('BYE', 20_000);
    const record = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endReason: 'caller did not acknowledge', endedBy: 'engine' });
    // Not confirmed until the ACK (RFC 3261 §13.3.1.4): the unacknowledged span is no talk time.
    expect(record.times.bridged).toBeNull();
    expect(record.metrics.talkMs).toBe(0);
    await eventually(() => a1.calls[n]!.requests.includes('BYE'), 10_000, 'BYE at the agent');
    expect(byeTo(a1, n).message.headers.get('reason')).toBe('Q.850;cause=102;text="caller did not acknowledge"');
    await cc.settled();
  });

  it('every agent busy: 480, both tried', async () => {
    a1.behaviour = 'busy';
    a2.behaviour = 'busy';
    const call = caller.dial(cc.udp, '1000');
    expect(await call.waitFinal()).toBe(480);
    const record = await cc.recordOf(call.callId);
    expect(record.agentsTried.map((a) => a.outcome)).toEqual(['busy', 'busy']);
    await cc.settled();
    a1.behaviour = 'answer';
    a2.behaviour = 'answer';
  });

  it('wrote exactly one record per call, and no transaction or timer is left once RFC 3261 timers ran out', async () => {
    const ids = cc.records().map((r) => r.sipCallId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(caller.calls.length);
    await cc.settled({ transactions: true });
  }, 60_000);
});
