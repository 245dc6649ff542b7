/**
 * A queue of static targets (agents reached at SIP URIs, no registration):
 * while the first target talks with a caller, the next caller of the queue is
 * offered to the idle second target first, not to the busy one (agents take
 * one call at a time); with every target busy, the first busy one is still
 * rung (a phone with call waiting, or a PBX group behind one URI, may take it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let first: AgentPhone;
let second: AgentPhone;

beforeAll(async () => {
  first = await AgentPhone.create(1300);
  second = await AgentPhone.create(1500);
  cc = await startContactCenter({
    media: { whisper: { countdown: false } },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [first.uri(), second.uri()] },
      { id: 'solo', name: 'Solo', numbers: ['2000'], agents: [first.uri()] },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  first?.close();
  second?.close();
});

describe('static targets already on a call', () => {
  it('the next caller goes to the idle target first; with only a busy target left, that one is still rung', async () => {
    const callers = await Promise.all([CallerPhone.create(700), CallerPhone.create(900), CallerPhone.create(1100)]);
    try {
      const [c1, c2, c3] = callers;
      const one = c1.dial(cc.udp, '1000');
      await one.waitStatus(200, 30_000);
      await cc.bridged(one.callId);
      expect([first.calls.length, second.calls.length]).toEqual([1, 0]);
      // first talks: the second caller is offered to second, first is not rung.
      const two = c2.dial(cc.udp, '1000');
      await two.waitStatus(200, 30_000);
      await cc.bridged(two.callId);
      expect([first.calls.length, second.calls.length]).toEqual([1, 1]);
      // A queue whose only target talks still rings it.
      const three = c3.dial(cc.udp, '2000');
      await three.waitStatus(200, 30_000);
      expect(first.calls.length).toBe(2);
      for (const call of [one, two, three]) call.hangUp();
      for (const call of [one, two, three]) await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      for (const c of callers) c.close();
    }
  }, 60_000);
});
