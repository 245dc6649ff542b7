/**
 * What the anchor does beyond the plain call: a caller SDP rtpengine refuses
 * gets 488 with the reason; a delayed offer (INVITE without SDP) and hold /
 * resume re-INVITEs work through rtpengine (neither side ever sees the other's
 * address); a connected call whose media stops in both directions is ended as
 * "media timeout", a silent caller still waiting is not; calls rtpengine lost (it died) are ended cleanly and new calls
 * work once it is back; draining refuses new calls with 503 and Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { streamPcm } from '../support/rtp/audio-check.js';
import { mediaLines } from '../support/rtp/test-sdp.js';
import { request, uniq } from '../support/sip-peer.js';

let cc: ContactCenter;
let agent: AgentPhone;
let slowAgent: AgentPhone;
const MEDIA_TIMEOUT_SECONDS = 2;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  slowAgent = await AgentPhone.create(1500);
  slowAgent.behaviour = 'ring';
  cc = await startContactCenter({
    engine: { drain: { maxSeconds: 3, retryAfterSeconds: 7 } },
    media: { whisper: { countdown: false }, timeout: { seconds: MEDIA_TIMEOUT_SECONDS } },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'slow', name: 'Slow', numbers: ['2000'], agents: [slowAgent.uri()], ringTimeoutSeconds: 60 },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  slowAgent?.close();
});

const rtpengineHost = (): string => '127.0.0.1';

describe('the anchor', () => {
  it.each([
    ['unparsable', 'v=0\r\nthis is not a session description\r\n'],
    ['without audio', 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n'],
  ])('a caller SDP rtpengine cannot take (%s) gets 488 with a reason, no agent is called', async (_what, body) => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const text = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${cc.udp.port}`, peer: caller.peer, body });
      await caller.peer.send(text, cc.udp);
      const res = await caller.peer.waitResponse(488, 'INVITE');
      expect(res.raw.split('\r\n')[0]).toMatch(/^SIP\/2\.0 488 Not Acceptable Here \(.+\)$/);
      expect(agent.calls.length).toBe(n);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a delayed offer: the agent offers in its 200, the caller answers in its ACK, both through rtpengine', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '1000', { delayedOffer: true });
      await call.waitStatus(200, 20_000);
      const invite = agent.calls[n]!.invite;
      expect(invite.message.body.length).toBe(0);
      // The offer in the caller's 200 is rtpengine's version of the agent phone's, in a session of ours:
      // nothing of the phone's SDP identity (o= username and session id, s=) reaches the caller.
      const ok = caller.peer.received.find((r) => r.info.callId === call.callId && r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE')!;
      const offerToCaller = ok.message.body.toString('utf8');
      expect(offerToCaller).toMatch(/^o=switchboard \d+ 1 IN IP4 /m);
      expect(offerToCaller).toMatch(/^s=switchboard\r?$/m);
      const at = caller.rtp.received.length;
      const atAgent = agent.rtp.received.length;
      await eventually(() => caller.rtp.received.length > at + 50 && agent.rtp.received.length > atAgent + 50, 15_000, 'audio both ways');
      await eventually(() => goertzel(streamPcm(agent.rtp.received.slice(-40)), 700) > 1000, 10_000, 'the agent hears the caller');
      expect(goertzel(streamPcm(caller.rtp.received.slice(-40)), 1300)).toBeGreaterThan(1000);
      // Neither saw the other's RTP port: the caller's offer came from rtpengine.
      const offered = caller.calls.at(-1)!;
      expect(offered.responses).toContain(200);
      call.hangUp();
      await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('hold and resume go through rtpengine to the agent; hold time is counted', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 20_000);
      const agentCall = agent.calls[n]!;
      const firstOffer = agentCall.invite.message.body.toString('utf8');
      expect(mediaLines(firstOffer)[0]!.host).toBe(rtpengineHost());
      expect(mediaLines(firstOffer)[0]!.port).not.toBe(caller.rtp.port);
      // Hold once bridged: the caller may be answered while the agent still hears the whisper, and talk
      // time counts from the bridge (on a busy machine a hold before it would outlast the talk).
      await cc.bridged(call.callId);
      call.reinvite('sendonly');
      await eventually(() => agentCall.requests.filter((m) => m === 'INVITE').length === 1, 10_000, 're-INVITE at the agent');
      await eventually(() => call.responses.filter((s) => s === 200).length >= 2, 10_000, '200 to the hold');
      const hold = agent.peer.received.filter((r) => r.info.callId === agentCall.invite.info.callId && r.message.kind === 'request' && r.message.method === 'INVITE').at(-1)!;
      expect(hold.message.body.toString('utf8')).toMatch(/a=sendonly/);
      expect(mediaLines(hold.message.body.toString('utf8'))[0]!.port).not.toBe(caller.rtp.port);
      const held = caller.rtp.received.length;
      await eventually(() => caller.rtp.received.length > held + 25, 10_000, 'time on hold');
      call.reinvite('sendrecv');
      await eventually(() => agentCall.requests.filter((m) => m === 'INVITE').length === 2, 10_000, 'resume at the agent');
      await eventually(() => call.responses.filter((s) => s === 200).length >= 3, 10_000, '200 to the resume');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.metrics.holdMs).toBeGreaterThan(0);
      expect(record.metrics.holdMs).toBeLessThan(record.metrics.talkMs);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('media stopped in both directions on a connected call: the engine ends it, both legs get BYE ("media timeout")', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 20_000);
      caller.tone?.stop();
      agent.tone?.stop();
      await call.waitRequest('BYE', 20_000);
      await eventually(() => agent.calls[n]!.requests.includes('BYE'), 10_000, 'BYE at the agent');
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ endReason: 'media timeout', endedBy: 'engine' });
      await cc.settled();
    } finally {
      agent.tone = undefined;
      caller.close();
    }
  });

  it('a caller who sends no RTP while it waits (as most phones before the answer) is not timed out, and talks once answered', async () => {
    const caller = await CallerPhone.create(700);
    caller.autoTone = false;
    try {
      const n = slowAgent.calls.length;
      const call = caller.dial(cc.udp, '2000');
      await eventually(() => slowAgent.calls.length > n, 10_000, 'the slow agent to ring');
      // The scenario itself: the caller waits, silent, three times the media timeout.
      await new Promise((r) => setTimeout(r, 3 * MEDIA_TIMEOUT_SECONDS * 1000));
      expect(call.finalStatus).toBeUndefined();
      expect(call.requests).not.toContain('BYE');
      slowAgent.answer(slowAgent.calls[n]!);
      await call.waitStatus(200, 20_000);
      caller.tone = caller.rtp.startTone({ frequency: 700 });
      await eventually(() => caller.rtp.received.length > 0, 10_000, 'audio after the answer');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ endReason: 'caller hung up', endedBy: 'caller' });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('rtpengine dies: its calls end cleanly ("media relay lost"), and calls work again once it is back', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 20_000);
      process.kill(cc.sb.media!.embedded!.pid!, 'SIGKILL');
      await call.waitRequest('BYE', 20_000);
      await eventually(() => agent.calls[n]!.requests.includes('BYE'), 10_000, 'BYE at the agent');
      expect((await cc.recordOf(call.callId)).endReason).toBe('media relay lost');
      await eventually(() => cc.sb.media!.instances[0]!.healthy, 20_000, 'rtpengine back');
      const again = caller.dial(cc.udp, '1000');
      await again.waitStatus(200, 20_000);
      again.hangUp();
      await cc.recordOf(again.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('draining: new calls get 503 with Retry-After, a live call goes on, then is ended at the limit', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const live = caller.dial(cc.udp, '1000');
      await live.waitStatus(200, 20_000);
      const before = uniq('probe');
      await caller.peer.send(request({ method: 'OPTIONS', uri: `sip:${cc.udp.host}:${cc.udp.port}`, peer: caller.peer, callId: before }), cc.udp);
      const up = await caller.peer.wait((r) => r.info.callId === before && r.message.kind === 'response' && r.message.status >= 200, 10_000, 'the answer to OPTIONS');
      expect(up.message.kind === 'response' && up.message.status).toBe(200);
      const draining = cc.sb.drain();
      await eventually(() => cc.sb.engine.status().draining, 10_000, 'draining');
      const late = caller.dial(cc.udp, '1000');
      expect(await late.waitFinal()).toBe(503);
      const refusal = caller.peer.received.find((r) => r.info.callId === late.callId && r.message.kind === 'response' && r.message.status === 503)!;
      expect(refusal.message.headers.get('retry-after')).toBe('7');
      // A dispatcher's or carrier's OPTIONS probe is told the same, so the node leaves their rotation.
      const probe = uniq('probe');
      await caller.peer.send(request({ method: 'OPTIONS', uri: `sip:${cc.udp.host}:${cc.udp.port}`, peer: caller.peer, callId: probe }), cc.udp);
      const probed = await caller.peer.wait((r) => r.info.callId === probe && r.message.kind === 'response' && r.message.status >= 200, 10_000, 'the answer to OPTIONS');
      expect(probed.message.kind === 'response' && probed.message.status).toBe(503);
      expect(probed.message.headers.get('retry-after')).toBe('7');
      // An OPTIONS inside the live call's dialog (a keep-alive) is not a probe of the node: 200.
      await caller.peer.send(request({ method: 'OPTIONS', uri: `sip:${cc.udp.host}:${cc.udp.port}`, peer: caller.peer, callId: live.callId, fromTag: live.fromTag, toTag: live.toTag, cseq: 50 }), cc.udp);
      const kept = await caller.peer.wait((r) => r.info.callId === live.callId && r.info.cseqMethod === 'OPTIONS' && r.message.kind === 'response' && r.message.status >= 200, 10_000, 'the answer to the in-dialog OPTIONS');
      expect(kept.message.kind === 'response' && kept.message.status).toBe(200);
      expect(live.requests).not.toContain('BYE');
      await draining;
      await live.waitRequest('BYE', 10_000);
      expect((await cc.recordOf(live.callId)).endReason).toBe('engine draining');
      await cc.settled({ transactions: true });
    } finally {
      caller.close();
    }
  }, 60_000);
});
