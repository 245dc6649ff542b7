/**
 * The live contact-center call with real audio through real rtpengine: the
 * caller sends 700 Hz, the agent 1300 Hz. The agent hears the whisper and
 * countdown and only then the caller; the caller hears ringback and never the
 * whisper; after the bridge each hears the other. Over UDP and TCP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { bestCorrelation, bySsrc, readAudio, streamPcm } from '../support/rtp/audio-check.js';
import type { ReceivedPacket } from '../support/rtp/rtp-endpoint.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

const CALLER_HZ = 700;
const AGENT_HZ = 1300;

let cc: ContactCenter;
let agent: AgentPhone;
let agentTcp: AgentPhone;

beforeAll(async () => {
  agent = await AgentPhone.create(AGENT_HZ);
  agentTcp = await AgentPhone.create(AGENT_HZ, 'tcp');
  cc = await startContactCenter({
    media: { whisper: { countdown: true } },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'support-tcp', name: 'Support', numbers: ['1001'], agents: [agentTcp.uri()] },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  agentTcp?.close();
});

/** The level of `hz` in a stream of received packets (decoded G.711). */
function level(packets: readonly ReceivedPacket[], hz: number): number {
  return packets.length === 0 ? 0 : goertzel(streamPcm(packets), hz);
}

describe.each([
  ['udp', '1000'],
  ['tcp', '1001'],
] as const)('a call to an open queue over %s', (transport, number) => {
  it('the agent hears whisper and countdown, then the caller; the caller hears ringback, never the whisper; then both hear each other', async () => {
    const phone = transport === 'udp' ? agent : agentTcp;
    const caller = await CallerPhone.create(CALLER_HZ, transport);
    try {
      const call = caller.dial(transport === 'udp' ? cc.udp : cc.tcp, number, { displayName: 'Alice', fromUser: '+15551230000' });
      await call.waitStatus(183);
      await call.waitStatus(200, 30_000);
      const answeredAt = caller.rtp.received.length;
      // Let both talk for a while after the bridge.
      await eventually(() => caller.rtp.received.length - answeredAt > 60 && phone.rtp.received.length > 0, 10_000, 'audio after the bridge');
      const rendered = await cc.sb.media!.prompts.whisperFor('support', 'inbound');
      const whisperSamples = readAudio(rendered!.path).samples;

      // The agent: one stream from the player (the whisper), then the caller's relayed stream.
      const agentStreams = [...bySsrc(phone.rtp.received).values()];
      const whisper = agentStreams.find((s) => bestCorrelation(streamPcm(s), whisperSamples.subarray(0, 8000), 800).correlation > 0.8);
      expect(whisper, 'the agent received the whisper').toBeDefined();
      const callerAudio = phone.rtp.received.filter((p) => !whisper!.includes(p));
      expect(level(callerAudio, CALLER_HZ)).toBeGreaterThan(1000);
      // Not one packet of the caller reached the agent before the whisper ended: judged by arrival
      // order (the player's last two packets may still be on their way as the bridge opens), not by a clock.
      const lastWhisper = whisper!.at(-1)!.arrivalMs;
      const firstCaller = callerAudio.find((p) => goertzel(streamPcm([p]), CALLER_HZ) > 500);
      expect(phone.rtp.received.indexOf(firstCaller!)).toBeGreaterThan(phone.rtp.received.indexOf(whisper!.at(-1)!) - 2);

      // The caller: ringback (440+480 Hz) until the whisper ended, never the agent before it; the agent's
      // tone after the 200; never the whisper. Judged per stream (each SSRC has its own timestamps), and
      // by the whisper's end, not the 200's arrival: the bridged audio may arrive a little before the 200.
      const before = bySsrc(caller.rtp.received.filter((p) => p.arrivalMs < lastWhisper));
      expect(Math.max(...[...before.values()].map((s) => level(s, 440)))).toBeGreaterThan(500);
      for (const s of before.values()) expect(level(s, AGENT_HZ)).toBeLessThan(100);
      const after = caller.rtp.received.slice(answeredAt);
      expect(level(after, AGENT_HZ)).toBeGreaterThan(1000);
      for (const s of bySsrc(caller.rtp.received).values()) {
        expect(bestCorrelation(streamPcm(s), whisperSamples.subarray(0, 8000), 800).correlation).toBeLessThan(0.5);
      }

      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ endedBy: 'caller', queuePath: [number === '1000' ? 'support' : 'support-tcp'], agent: phone.uri(), caller: { number: '+15551230000', withheld: false } });
      expect(record.decisions[0]).toMatchObject({ open: true, action: 'enqueue' });
      expect(record.metrics.whisperMs).toBeGreaterThan(rendered!.durationMs - 100);
      expect(record.metrics.waitMs).toBeGreaterThanOrEqual(record.metrics.whisperMs);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('in a bridged call', () => {
  it('the caller\'s re-offer, relayed to an agent who hangs up instead of answering it, is answered 487 at once (RFC 3261 §15.1.2), then the caller gets BYE', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      await cc.bridged(call.callId);
      const n = agent.calls.length - 1;
      const finalToHold = (): number | undefined => call.finalResponseTo(2)?.status;
      agent.holdsReinvites = true;
      try {
        call.reinvite('sendonly');
        await eventually(() => agent.reoffersIn(n).length >= 1, 10_000, 'the hold relayed to the agent');
        agent.hangUp(n);
        // Before: nobody answered it until the SIP server's own 500 after 64 s.
        await eventually(() => finalToHold() !== undefined, 10_000, 'a final response to the hold');
        expect(finalToHold()).toBe(487);
        await call.waitRequest('BYE', 10_000);
      } finally {
        agent.forgetReinvites();
      }
      expect(await cc.recordOf(call.callId)).toMatchObject({ endedBy: 'agent' });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a re-offer the agent refuses (491 glare, 488) is refused to the caller, and the next one goes through (drachtio-srf once held every later re-INVITE of the leg)', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      await cc.bridged(call.callId);
      // The final status the caller got to its INVITE transaction `cseq` (1 is the call's own).
      const finalTo = (cseq: number): number | undefined => call.finalResponseTo(cseq)?.status;
      let cseq = 1;
      for (const refusal of [
        { status: 491, reason: 'Request Pending' },
        { status: 488, reason: 'Not Acceptable Here' },
      ]) {
        agent.refusesNextReinvite = refusal;
        call.reinvite('sendonly');
        cseq++;
        await eventually(() => finalTo(cseq) !== undefined, 10_000, `the caller's answer to the hold the agent refuses with ${refusal.status}`);
        expect(finalTo(cseq)).toBe(refusal.status);
        call.reinvite('sendonly');
        cseq++;
        await eventually(() => finalTo(cseq) !== undefined, 10_000, `the caller's answer to the hold after the ${refusal.status}`);
        expect(finalTo(cseq)).toBe(200);
        call.reinvite('sendrecv');
        cseq++;
        await eventually(() => finalTo(cseq) === 200, 10_000, 'the resume answered');
      }
      // A status that cannot be passed on (a 3xx: a B2BUA follows no redirection in a dialog) is a 500 that says so.
      agent.refusesNextReinvite = { status: 302, reason: 'Moved Temporarily' };
      call.reinvite('sendonly');
      cseq++;
      await eventually(() => finalTo(cseq) !== undefined, 10_000, 'the caller\'s answer to the hold the agent redirects');
      expect(call.finalResponseTo(cseq)!.raw.split('\r\n')[0]).toBe('SIP/2.0 500 Server Internal Error (the other party answered 302 Moved Temporarily)');
      call.hangUp();
      expect((await cc.recordOf(call.callId)).metrics.holdMs).toBeGreaterThan(0);
      await cc.settled();
    } finally {
      agent.refusesNextReinvite = undefined;
      caller.close();
    }
  });

  it('DTMF by SIP INFO reaches the other party both ways; REFER and MESSAGE are refused with 405 and Allow (no transfer), a NOTIFY with 481 (no subscription), and the call goes on', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      const id = cc.sb.engine.control.list().find((c) => c.sipCallId === call.callId)!.id;
      await eventually(() => cc.sb.engine.control.get(id).state === 'connected', 10_000, 'bridged');
      const offered = agent.calls.at(-1)!;

      call.info('5');
      await eventually(() => offered.infoBodies.some((b) => /^Signal=5\r\n/.test(b)), 10_000, 'the caller\'s key at the agent');
      agent.info('#');
      await eventually(() => call.infoBodies.some((b) => /^Signal=#\r\n/.test(b)), 10_000, 'the agent\'s key at the caller');

      // A blind transfer the engine cannot do is refused, so the phone keeps the call rather than hanging up (RFC 3515 §2.4.2).
      call.inDialog('REFER', [`Refer-To: <sip:2000@127.0.0.1:${cc.udp.port}>`]);
      call.inDialog('MESSAGE', [], 'hello', 'text/plain');
      // RFC 6665 §4.1.3: a NOTIFY that matches no subscription gets 481 (drachtio-srf would answer 200).
      call.inDialog('NOTIFY', ['Event: refer', 'Subscription-State: active;expires=60'], 'SIP/2.0 200 OK', 'message/sipfrag');
      // RFC 6086 §4.2.2: an INFO of a package we do not know gets 469 (drachtio-srf's table lacked 469: the engine once died on it).
      call.inDialog('INFO', ['Info-Package: foo'], 'x', 'application/foo');
      await eventually(() => ['REFER', 'MESSAGE', 'NOTIFY', 'INFO'].every((m) => call.replies.some((r) => r.method === m && r.status !== 200)), 10_000, 'answers to REFER, MESSAGE, NOTIFY and INFO');
      expect(call.replies.find((r) => r.method === 'NOTIFY')!.status).toBe(481);
      expect(call.replies.filter((r) => r.method === 'INFO').map((r) => r.status)).toContain(469);
      for (const method of ['REFER', 'MESSAGE']) {
        const reply = call.replies.find((r) => r.method === method)!;
        expect(reply.status).toBe(405);
        expect(reply.raw).toMatch(/^Allow: .*\bINFO\b/m);
        expect(reply.raw).not.toMatch(/^Allow: .*\bREFER\b/m);
      }
      expect(cc.sb.engine.control.get(id).state).toBe('connected');
      expect(offered.requests).not.toContain('REFER');
      expect(offered.requests).not.toContain('NOTIFY');

      call.hangUp();
      expect((await cc.recordOf(call.callId)).endedBy).toBe('caller');
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('hold from both sides', () => {
  it('the caller holds, then the agent holds and resumes: the caller still holds (it answers inactive), so the call stays held (the on-hold media limit, hold time)', async () => {
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      await cc.bridged(call.callId);
      const session = cc.sb.engine.calls.all().find((s) => s.callId === call.callId)!;
      // The caller holds, and answers every re-offer inactive while it does (RFC 3264 §8.4).
      caller.reofferAnswerDirection = 'inactive';
      call.reinvite('inactive');
      await eventually(() => call.finalResponseTo(2)?.status === 200, 10_000, 'the caller\'s hold answered');
      expect(session.timeline.held).toBe(true);
      const answered = (cseq: number) => agent.peer.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE' && r.info.cseq === cseq, 15_000, `the answer to the agent's re-INVITE ${cseq}`);
      await answered(agent.reinvite(agent.rtp.sdp({ telephoneEvent: true, direction: 'sendonly' })));
      expect(session.timeline.held).toBe(true);
      await answered(agent.reinvite(agent.rtp.sdp({ telephoneEvent: true, direction: 'sendrecv' })));
      // Before, the agent's resume cleared the call's one hold flag, and a held call was ended "media timeout" after 60 s.
      expect(session.timeline.held).toBe(true);
      caller.reofferAnswerDirection = undefined;
      call.reinvite('sendrecv');
      await eventually(() => call.finalResponseTo(3)?.status === 200, 10_000, 'the caller\'s resume answered');
      expect(session.timeline.held).toBe(false);
      call.hangUp();
      expect((await cc.recordOf(call.callId)).metrics.holdMs).toBeGreaterThan(0);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});
