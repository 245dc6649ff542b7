/**
 * A call ended by the engine while its caller still waits unanswered and an
 * agent rings (a supervisor's end, the media relay lost, a drain whose time is
 * up): the caller hears why, 480, or 503 with Retry-After when the engine
 * drains, so that a carrier tries another node (RFC 3261 §21.5.4). The same
 * whether the ringing agent is the first of the hunt or its last (before, the
 * last agent's cancelled ring ended the hunt as "480 No Agent Available").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let first: AgentPhone;
let second: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  first = await AgentPhone.create(1300);
  second = await AgentPhone.create(1500);
  caller = await CallerPhone.create(700);
  first.behaviour = 'ring';
  cc = await startContactCenter({
    engine: { ringTimeoutSeconds: 60, drain: { maxSeconds: 0, retryAfterSeconds: 9 } },
    queues: [
      { id: 'one', name: 'One', numbers: ['1000'], agents: [first.uri()] },
      { id: 'two', name: 'Two', numbers: ['2000'], agents: [first.uri(), second.uri()] },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  for (const p of [first, second, caller]) p?.close();
});

/** Dials `number` and waits until the first agent rings. */
async function ringing(number: string): Promise<ReturnType<CallerPhone['dial']>> {
  const n = first.calls.length;
  const call = caller.dial(cc.udp, number);
  await eventually(() => first.calls.length > n, 10_000, 'the agent rings');
  await call.waitStatus(183);
  return call;
}

function finalLine(call: ReturnType<CallerPhone['dial']>): string {
  return /^SIP\/2\.0 (\d+ .*)$/m.exec(call.final!.raw)?.[1] ?? '';
}

describe('a call ended while an agent rings', () => {
  for (const [which, number] of [
    ['the first of two agents', '2000'],
    ['the only (last) agent', '1000'],
  ] as const) {
    it(`${which} rings: the caller gets 480 Temporarily Unavailable, the record says why`, async () => {
      const call = await ringing(number);
      const session = cc.sb.engine.calls.all().find((s) => s.callId === call.callId)!;
      await session.end('ended by supervisor', 'supervisor');
      expect(await call.waitFinal()).toBe(480);
      expect(finalLine(call)).toBe('480 Temporarily Unavailable');
      expect((await cc.recordOf(call.callId)).endReason).toBe('ended by supervisor');
      await cc.settled();
    });
  }

  it('a drain whose time is up while the only agent rings: the caller gets 503 with Retry-After', async () => {
    const call = await ringing('1000');
    await cc.sb.engine.drain(0);
    expect(await call.waitFinal()).toBe(503);
    expect(call.final!.raw).toMatch(/^Retry-After: 9\r$/m);
    expect((await cc.recordOf(call.callId)).endReason).toBe('engine draining');
    await cc.settled();
  });
});
