/**
 * Agents' answers that are legal but unusual, or unusable, with real audio
 * through real rtpengine (probe AB): the call goes on with the agent when the
 * answer can carry it (inactive or 0.0.0.0: no whisper is played to a phone
 * that takes no media, RFC 3264 §6.1, §8.4; the answer in a reliable 183 and
 * a 200 without SDP, RFC 3262 §5), and moves on to the next agent when it
 * cannot (the audio stream rejected, no format of the offer, RFC 3264 §6), or
 * when a delayed-offer caller's agent offers what the relay cannot take.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { streamPcm } from '../support/rtp/audio-check.js';
import type { Phone } from '../support/phone.js';

let cc: ContactCenter;
let odd: AgentPhone;
let good: AgentPhone;

beforeAll(async () => {
  odd = await AgentPhone.create(1300);
  good = await AgentPhone.create(1100);
  cc = await startContactCenter({
    media: { whisper: { countdown: false } },
    queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [odd.uri(), good.uri()] }],
  });
});
afterAll(async () => {
  await cc?.stop();
  odd?.close();
  good?.close();
});
afterEach(() => {
  odd.behaviour = 'answer';
  odd.answerShape = undefined;
});

/** Resolves once `listener` hears `frequency` in the last packets it got since `from`. */
async function hears(listener: Phone, frequency: number, from: number, what: string): Promise<void> {
  await eventually(
    () => {
      const got = listener.rtp.received.slice(from).filter((p) => p.payloadType === 0).slice(-40);
      return got.length >= 20 && goertzel(streamPcm(got), frequency) > 1000;
    },
    20_000,
    what,
  );
}

const withLine = (sdp: string, line: string): string => sdp.replace(/a=sendrecv\r?\n/, '').replace(/(m=audio [^\r\n]*\r?\n)/, `$1${line}\r\n`);

describe('an agent answer that can carry the call: the call goes on with that agent', () => {
  it.each([
    ['answers inactive', (sdp: string) => withLine(sdp, 'a=inactive')],
    ['answers at 0.0.0.0 (RFC 2543 hold)', (sdp: string) => sdp.replace(/c=IN IP4 [0-9.]+/g, 'c=IN IP4 0.0.0.0')],
  ])('a phone that %s is bridged without a whisper, not refused: the caller gets 200, not 488', async (_name, shape) => {
    odd.answerShape = shape;
    const caller = await CallerPhone.create(700);
    try {
      const oddCalls = odd.calls.length;
      const goodCalls = good.calls.length;
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      expect(odd.calls.length).toBe(oddCalls + 1);
      expect(good.calls.length).toBe(goodCalls);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => a.outcome)).toEqual(['answered']);
      expect(record.endReason).toBe('caller hung up');
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);

  it('the answer in a PRACKed 183 and a 200 without SDP (RFC 3262 §5, RFC 6337 §3.1.1): connected, and each hears the other', async () => {
    odd.behaviour = 'answer-in-reliable-183';
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      const offered = odd.calls.at(-1)!;
      expect(offered.requests).toContain('PRACK');
      expect(offered.answered).toBe(true);
      const [atAgent, atCaller] = [odd.rtp.received.length, caller.rtp.received.length];
      await hears(odd, 700, atAgent, 'the agent hears the caller');
      await hears(caller, 1300, atCaller, 'the caller hears the agent');
      call.hangUp();
      expect((await cc.recordOf(call.callId)).agentsTried.map((a) => a.outcome)).toEqual(['answered']);
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);
});

describe('an agent answer that cannot carry the call: that agent failed, the next one gets it', () => {
  // Such a phone sends no audio to the port it was offered (which the next agent is offered too).
  beforeAll(() => {
    odd.tone?.stop();
    odd.tone = undefined;
    odd.autoTone = false;
  });
  it.each([
    ['rejects the audio stream (port 0)', (sdp: string) => sdp.replace(/m=audio \d+/, 'm=audio 0')],
    ['names no format of the offer', (sdp: string) => sdp.replace(/m=audio (\d+) RTP\/AVP [^\r\n]*/, 'm=audio $1 RTP/AVP 98').replace(/a=rtpmap:[^\r\n]*\r?\n/g, '').replace(/(m=audio [^\r\n]*\r?\n)/, '$1a=rtpmap:98 X-FOO/8000\r\n')],
  ])('a phone that %s', async (_name, shape) => {
    odd.answerShape = shape;
    const caller = await CallerPhone.create(700);
    try {
      const goodCalls = good.calls.length;
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      expect(good.calls.length).toBe(goodCalls + 1);
      const oddCall = odd.calls.at(-1)!;
      // Its answer was ACKed and then hung up: no phone left answered into nothing.
      await eventually(() => oddCall.requests.includes('BYE'), 10_000, 'the BYE to the phone whose answer was refused');
      const at = caller.rtp.received.length;
      await hears(caller, 1100, at, 'the caller hears the next agent');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => a.outcome)).toEqual(['failed', 'answered']);
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);

  it('a delayed-offer caller: a phone whose own offer the relay refuses (an address no relay can send to) fails, and the next agent takes the call; the caller never gets 488 for an offer it did not make', async () => {
    odd.answerShape = (sdp) => sdp.replace(/^c=IN IP4 .*$/m, 'c=IN IP4 300.1.1.1');
    const caller = await CallerPhone.create(700);
    try {
      const goodCalls = good.calls.length;
      const call = caller.dial(cc.udp, '1000', { delayedOffer: true });
      expect(await call.waitFinal(30_000)).toBe(200);
      expect(good.calls.length).toBe(goodCalls + 1);
      const oddCall = odd.calls.at(-1)!;
      await eventually(() => oddCall.requests.includes('BYE'), 10_000, 'the BYE to the phone whose offer was refused');
      const at = caller.rtp.received.length;
      await hears(caller, 1100, at, 'the caller hears the next agent');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.outcome, a.status])).toEqual([['failed', 488], ['answered', 200]]);
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 60_000);
});
