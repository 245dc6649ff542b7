/**
 * How a call's end is told: the record's reason and author when a leg ends,
 * and the Q.850 cause of the BYEs we send (RFC 3326 Reason).
 */
import { describe, expect, it } from 'vitest';
import { hangUpFor, legEnd, PendingHangUps, q850CauseOf } from '../../src/engine/session/end-reasons.js';
import { FakeLeg } from '../support/fake-sip-port.js';

describe('end reasons', () => {
  it('a BYE from the party is its hang-up; one the SIP server sent on its own ends the call on our side', () => {
    expect(legEnd('agent', undefined)).toEqual({ reason: 'agent hung up', by: 'agent' });
    expect(legEnd('caller', 'ACK timeout')).toEqual({ reason: 'caller did not acknowledge', by: 'engine' });
    expect(legEnd('caller', 'session timer expired')).toEqual({ reason: 'caller leg ended by the SIP server (session timer expired)', by: 'engine' });
  });

  it('Q.850 causes: 41 when the media relay was lost, 102 when a timer ended the call, 111 when the caller broke offer/answer, else 16', () => {
    expect(q850CauseOf('media relay lost')).toBe(41);
    expect(q850CauseOf('caller sent no answer')).toBe(111);
    expect(q850CauseOf("No Agent Available (no agent within sales's maximum wait)")).toBe(18);
    for (const r of ['media timeout', 'maximum call duration reached', 'caller did not acknowledge', legEnd('agent', 'session refresh failed').reason]) expect(q850CauseOf(r)).toBe(102);
    for (const r of ['caller hung up', 'engine draining', 'engine stopping', undefined]) expect(q850CauseOf(r)).toBe(16);
  });

  it('a leg released at the end of a call says why; one released before has no reason', () => {
    const ended = new FakeLeg('a', '');
    hangUpFor(ended, 'media relay lost');
    expect([ended.hungUpWith, ended.hungUpCause]).toEqual(['media relay lost', 41]);
    const early = new FakeLeg('b', '');
    hangUpFor(early, undefined);
    expect([early.hungUpWith, early.hungUpCause]).toEqual(['hung up by us', undefined]);
  });

  it('the BYEs not yet answered are tracked; waiting for them is bounded (a phone that never answers does not hold a stop)', async () => {
    const pending = new PendingHangUps();
    hangUpFor(new FakeLeg('c', ''), 'engine stopping', pending);
    await pending.settled(60_000);
    expect(pending.size).toBe(0);
    pending.add(new Promise<void>(() => undefined));
    pending.add(Promise.reject(new Error('transport gone')));
    await pending.settled(20);
    expect(pending.size).toBe(1);
  });
});
