/**
 * Call-flow tasks on the fake SIP port (no sockets, no rtpengine: the anchor
 * passes SDP through): the hunt's order and outcomes, the bridge's relaying of
 * offers (and what it answers itself), and the rules of admission.
 */
import { describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { admit, preferredLanguage } from '../../src/engine/admission.js';
import { CallRecordWriter } from '../../src/engine/call-record.js';
import type { CallContext, EngineServices } from '../../src/engine/flows/call-context.js';
import { CallAnchor } from '../../src/engine/media/call-anchor.js';
import { OutboundTrunks } from '../../src/engine/outbound-trunks.js';
import { InboundTrunks } from '../../src/engine/trunks/inbound-trunks.js';
import { QueueDirectory } from '../../src/engine/queue-directory.js';
import { CallSession } from '../../src/engine/session/call-session.js';
import { PendingHangUps, q850CauseOf } from '../../src/engine/session/end-reasons.js';
import { SipFailure } from '../../src/engine/signaling/sip-port.js';
import { BridgeTask, catchUpCallee, holdsIn } from '../../src/engine/tasks/bridge-task.js';
import { connectCallee } from '../../src/engine/tasks/connect-callee.js';
import { sameMedia } from '../../src/media/sdp.js';
import { RtpengineError } from '../../src/media/media-errors.js';
import { WhisperTask } from '../../src/engine/tasks/whisper-task.js';
import { HuntAgentsTask, outcomeOf } from '../../src/engine/tasks/hunt-agents-task.js';
import { VoicemailNotices } from '../../src/engine/voicemail/voicemail-notices.js';
import { silentLogger } from '../../src/observability/logger.js';
import { createPolicy } from '../../src/policy/index.js';
import { FakeInvite, FakeLeg, FakeSipPort, type Callee } from '../support/fake-sip-port.js';

const config = loadConfigObject({ queues: [{ id: 'q', name: 'Q', numbers: ['1000'], agents: ['sip:a@x', 'sip:b@x', 'sip:c@x'] }] }, { checks: configChecks });

function context(callees: Record<string, Callee>, invite = new FakeInvite()): { ctx: CallContext; port: FakeSipPort } {
  const port = new FakeSipPort(callees);
  const services: EngineServices = {
    config,
    sip: port,
    policy: createPolicy(config),
    directory: new QueueDirectory(config.queues),
    media: undefined,
    prompts: undefined,
    recordings: undefined,
    records: new CallRecordWriter(undefined, silentLogger()),
    trunks: new OutboundTrunks(config, '/'),
    agents: undefined,
    notices: new VoicemailNotices({ dir: '/nonexistent', webhook: undefined, logger: silentLogger() }),
    hangUps: new PendingHangUps(),
    now: Date.now,
  };
  const session = new CallSession({ callId: invite.callId, caller: invite.caller, dialed: '1000', source: invite.source, language: 'en', logger: silentLogger() });
  session.enterQueue('q');
  const ctx: CallContext = { session, invite, anchor: new CallAnchor(undefined), services, offerForAgent: invite.offer, callerLeg: undefined, callerSdp: invite.offer, callerSentSdp: undefined, earlyMedia: false, callerOffers: 0 };
  return { ctx, port };
}

const hunt = (ringTimeoutMs = 50): HuntAgentsTask => new HuntAgentsTask({ queue: 'q', agents: ['sip:a@x', 'sip:b@x', 'sip:c@x'], ringTimeoutMs, headers: { 'X-Switchboard-Queue': 'q' } });

describe('hunting the agents', () => {
  it('busy, then no answer within the ring timeout, then the third agent answers: in order, each outcome recorded', async () => {
    const { ctx, port } = context({ 'sip:a@x': { kind: 'fail', status: 486 }, 'sip:b@x': { kind: 'ring' }, 'sip:c@x': { kind: 'answer' } });
    const answer = await hunt().run(ctx, ctx.session.signal);
    expect(answer?.kind).toBe('answered');
    expect(port.dialed.map((d) => d.target)).toEqual(['sip:a@x', 'sip:b@x', 'sip:c@x']);
    expect(ctx.session.attempts.map((a) => [a.agent, a.outcome])).toEqual([
      ['sip:a@x', 'busy'],
      ['sip:b@x', 'no-answer'],
      ['sip:c@x', 'answered'],
    ]);
    // Each agent leg carries the caller's offer and the queue's headers; the caller's identity is passed on.
    expect(port.dialed.every((d) => d.offer === 'caller-offer' && d.headers?.['X-Switchboard-Queue'] === 'q' && d.caller?.number === '+15551230000')).toBe(true);
  });

  it('run again after an agent left, it goes on with the next agent; none left: undefined', async () => {
    const { ctx } = context({ 'sip:a@x': { kind: 'answer' }, 'sip:b@x': { kind: 'fail', status: 603 }, 'sip:c@x': { kind: 'fail', status: 500 } });
    const task = hunt();
    expect((await task.run(ctx, ctx.session.signal))?.attempt.agent).toBe('sip:a@x');
    expect(await task.run(ctx, ctx.session.signal)).toBeUndefined();
    expect(ctx.session.attempts.map((a) => a.outcome)).toEqual(['answered', 'declined', 'failed']);
  });

  it('the call ending stops the hunt: the ringing agent is cancelled, no further agent is called', async () => {
    const { ctx, port } = context({ 'sip:a@x': { kind: 'ring' }, 'sip:b@x': { kind: 'answer' } });
    const running = hunt(60_000).run(ctx, ctx.session.signal);
    await new Promise((r) => setTimeout(r, 10));
    void ctx.session.end('caller cancelled', 'caller');
    await expect(running).rejects.toThrow();
    expect(port.dialed.map((d) => d.target)).toEqual(['sip:a@x']);
    expect(ctx.session.attempts[0]!.outcome).toBe('cancelled');
  });

  it('final responses map to the product\'s outcomes', () => {
    expect([outcomeOf(486, false), outcomeOf(600, false), outcomeOf(603, false), outcomeOf(408, false), outcomeOf(487, true), outcomeOf(487, false), outcomeOf(503, false)]).toEqual([
      'busy',
      'busy',
      'declined',
      'no-answer',
      'no-answer',
      'cancelled',
      'failed',
    ]);
  });
});

describe('a delayed offer connected (the caller sent no SDP, the agent offered in its 200)', () => {
  async function connected(ackAnswer: string | undefined, acks = true) {
    const invite = new FakeInvite('sip:1000@192.0.2.2', undefined);
    invite.ackAnswer = ackAnswer;
    invite.acks = acks;
    const { ctx } = context({}, invite);
    const attempt = ctx.session.attempt('sip:a@x');
    const agentLeg = new FakeLeg('agent', 'agent-offer');
    let abandoned = false;
    const completed: string[] = [];
    const result = await connectCallee(ctx, {
      kind: 'offered',
      attempt,
      offer: 'agent-offer',
      complete: async (answer) => (completed.push(answer), agentLeg),
      abandon: async () => void (abandoned = true),
    });
    return { ctx, result, abandoned, completed, invite };
  }

  it('the caller’s answer from its ACK completes the agent’s leg', async () => {
    const { ctx, result, abandoned, completed, invite } = await connected('caller-answer');
    expect(invite.answeredWith).toBe('agent-offer');
    expect([result?.sentSdp, completed, abandoned, ctx.session.ended]).toEqual(['caller-answer', ['caller-answer'], false, false]);
    await ctx.session.end('done');
  });

  it('an ACK without an answer (RFC 3261 §13.2.2.4): the agent’s leg is abandoned and the call ends, saying why; the caller gets BYE', async () => {
    const { ctx, result, abandoned, completed } = await connected(undefined);
    expect([result, abandoned, completed]).toEqual([undefined, true, []]);
    expect([ctx.session.endReason, ctx.session.endedBy]).toEqual(['caller sent no answer', 'engine']);
    expect((ctx.callerLeg as FakeLeg).hungUpWith).toBe('caller sent no answer');
  });

  it('the media relay refuses the agent’s offer or the caller’s answer: the agent’s 2xx is still ACKed and ended (abandoned), the error goes on', async () => {
    for (const step of ['agentOffer', 'callerAnswer'] as const) {
      const invite = new FakeInvite('sip:1000@192.0.2.2', undefined);
      invite.ackAnswer = 'caller-answer';
      const { ctx } = context({}, invite);
      ctx.anchor[step] = () => Promise.reject(new Error('Ran out of ports'));
      let abandoned = false;
      const connecting = connectCallee(ctx, {
        kind: 'offered',
        attempt: ctx.session.attempt('sip:a@x'),
        offer: 'agent-offer',
        complete: async () => new FakeLeg('agent', 'agent-offer'),
        abandon: async () => void (abandoned = true),
      });
      await expect(connecting).rejects.toThrow('Ran out of ports');
      expect([step, abandoned]).toEqual([step, true]);
      await ctx.session.end('done');
    }
  });

  it('no ACK at all: the call ends as not acknowledged', async () => {
    const { ctx, abandoned } = await connected(undefined, false);
    expect([abandoned, ctx.session.endReason]).toEqual([true, 'caller did not acknowledge']);
  });
});

describe('an agent that answered', () => {
  it('as the call ended (the caller hung up, the relay released the call): its attempt is cancelled, not a failed answer; a refused answer of a live call is failed 488 (probe AP-2)', async () => {
    for (const callEnds of [true, false]) {
      const { ctx } = context({});
      ctx.anchor.agentAnswer = async () => {
        if (callEnds) await ctx.session.end('caller hung up', 'caller');
        throw new Error(callEnds ? 'the call media is released' : 'rtpengine refused the answer');
      };
      const attempt = ctx.session.attempt('sip:a@x');
      const result = await connectCallee(ctx, { kind: 'answered', attempt, leg: new FakeLeg('agent', 'agent-answer') });
      expect(result).toBeUndefined();
      expect([callEnds, attempt.outcome, attempt.status]).toEqual(callEnds ? [true, 'cancelled', 487] : [false, 'failed', 488]);
      await ctx.session.end('done');
    }
  });
});

describe('the bridge', () => {
  const sdp = (port: number, dir = 'sendrecv'): string => `v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\nm=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=${dir}\r\n`;

  async function bridged(): Promise<{ ctx: CallContext; caller: FakeLeg; agent: FakeLeg; done: Promise<void> }> {
    const { ctx } = context({});
    const caller = new FakeLeg('caller', sdp(4000));
    const agent = new FakeLeg('agent', sdp(6000));
    const done = new BridgeTask({ leg: caller, sentSdp: sdp(6000), receivedSdp: sdp(4000), party: 'caller' }, { leg: agent, sentSdp: sdp(4000), receivedSdp: sdp(6000), party: 'agent' }).run(ctx, ctx.session.signal);
    await new Promise((r) => setTimeout(r, 0));
    return { ctx, caller, agent, done };
  }

  it('a hold from the caller is offered to the agent, whose answer comes back; hold time counts from then', async () => {
    const { ctx, caller, agent } = await bridged();
    const hold = sdp(4000, 'sendonly');
    agent.answerToReoffer = async () => sdp(6000, 'recvonly');
    const answer = await caller.offer(hold);
    expect(agent.reoffers).toEqual([hold]);
    expect(answer.sdp).toBe(sdp(6000, 'recvonly'));
    expect(ctx.session.timeline.held).toBe(true);
    await caller.offer(sdp(4000));
    expect(ctx.session.timeline.held).toBe(false);
    await ctx.session.end('done');
  });

  it('an agent\'s hold sent during the whisper is relayed at the bridge: the agent\'s SDP is the one it connected with, not the pending offer drachtio-srf already put on its leg', async () => {
    const { ctx } = context({});
    const agentLeg = new FakeLeg('agent', sdp(6000));
    const agent = (await connectCallee(ctx, { kind: 'answered', attempt: ctx.session.attempt('sip:a@x'), leg: agentLeg }))!;
    // The hold re-INVITE arrives while the whisper plays: drachtio-srf has set it as the leg's remote SDP.
    const hold = sdp(6000, 'sendonly');
    agentLeg.remoteSdp = hold;
    expect(agent.receivedSdp).toBe(sdp(6000));
    const caller = new FakeLeg('caller', sdp(4000));
    caller.answerToReoffer = async () => sdp(4000, 'recvonly');
    void new BridgeTask({ leg: caller, sentSdp: sdp(6000), receivedSdp: sdp(4000), party: 'caller' }, { leg: agentLeg, sentSdp: agent.sentSdp, receivedSdp: agent.receivedSdp, party: 'agent' }).run(ctx, ctx.session.signal);
    await new Promise((r) => setTimeout(r, 0));
    const answer = await agentLeg.offer(hold);
    expect([caller.reoffers, answer.sdp]).toEqual([[hold], sdp(4000, 'recvonly')]);
    await ctx.session.end('done');
  });

  it('a callee offered the call before the caller held is re-offered the caller\'s present media at the bridge; one offered after it is not', async () => {
    const { ctx } = context({});
    const agent = new FakeLeg('agent', sdp(6000));
    agent.answerToReoffer = async () => sdp(6000, 'recvonly');
    const callee = { leg: agent, sentSdp: sdp(4000), receivedSdp: sdp(6000), party: 'agent' as const };
    const hold = sdp(4000, 'sendonly');
    // The caller's hold was answered on the agent side's behalf (rtpengine) after the agent was offered the call.
    ctx.callerSdp = hold;
    ctx.callerOffers = 1;
    expect(await catchUpCallee(ctx, callee, 1)).toBe(callee);
    expect(await catchUpCallee(ctx, callee, undefined)).toBe(callee);
    expect(agent.reoffers).toEqual([]);
    expect(await catchUpCallee(ctx, callee, 0)).toEqual({ leg: agent, sentSdp: hold, receivedSdp: sdp(6000, 'recvonly') });
    expect(agent.reoffers).toEqual([hold]);
    expect(ctx.session.timeline.held).toBe(true);
    // A callee that refuses the re-offer keeps the media it has.
    agent.answerToReoffer = async () => Promise.reject(new Error('488'));
    expect(await catchUpCallee(ctx, callee, 0)).toBe(callee);
    await ctx.session.end('done');
  });

  it('a re-offer of unchanged media (a session refresh) and an offer-less re-INVITE are answered on their own leg', async () => {
    const { ctx, caller, agent } = await bridged();
    expect((await caller.offer(sdp(4000).replace('o=- 1 1', 'o=- 1 2'))).sdp).toBe(sdp(6000));
    expect((await caller.offer(undefined)).sdp).toBe(sdp(6000));
    expect(agent.reoffers).toEqual([]);
    await ctx.session.end('done');
  });

  it('offers from both legs at once: the second gets 491 (RFC 3261 §14.2); an offer the other leg refuses is refused with its status', async () => {
    const { ctx, caller, agent } = await bridged();
    let release!: (s: string) => void;
    agent.answerToReoffer = () => new Promise((r) => (release = r));
    const first = caller.offer(sdp(4000, 'sendonly'));
    await new Promise((r) => setTimeout(r, 0));
    await expect(agent.offer(sdp(6100))).rejects.toMatchObject({ status: 491 });
    release(sdp(6000));
    await first;
    agent.answerToReoffer = () => Promise.reject(new SipFailure(488, 'Not Acceptable Here'));
    await expect(caller.offer(sdp(4100))).rejects.toMatchObject({ status: 488 });
    // A refusal is the agent's answer: the call goes on.
    expect(ctx.session.ended).toBe(false);
    await ctx.session.end('done');
  });

  it('a re-offer the other leg never answers (408, Timer B) or answers 481 ends the call (RFC 3261 §12.2.1.2): that leg is gone', async () => {
    for (const [status, reason] of [
      [408, 'agent leg lost (re-INVITE timed out)'],
      [481, 'agent leg lost (re-INVITE answered 481)'],
    ] as const) {
      const { ctx, caller, agent, done } = await bridged();
      agent.answerToReoffer = () => Promise.reject(new SipFailure(status, 'gone'));
      await expect(caller.offer(sdp(4000, 'sendonly'))).rejects.toMatchObject({ status });
      await done;
      expect([ctx.session.endReason, ctx.session.endedBy]).toEqual([reason, 'engine']);
      expect(q850CauseOf(reason)).toBe(status === 408 ? 102 : 16);
    }
  });

  it('a BYE on either leg ends the call, named after who hung up', async () => {
    const { ctx, agent, done } = await bridged();
    agent.farEndHangsUp();
    await done;
    await ctx.session.end('x');
    expect([ctx.session.endedBy, ctx.session.endReason]).toEqual(['agent', 'agent hung up']);
  });

  it('hold is an offer that stops sending (sendonly, inactive, or 0.0.0.0); sameMedia ignores o= and s=, not keys', () => {
    expect([holdsIn(sdp(1, 'sendonly')), holdsIn(sdp(1, 'inactive')), holdsIn(sdp(1).replace('c=IN IP4 192.0.2.9', 'c=IN IP4 0.0.0.0')), holdsIn(sdp(1))]).toEqual([true, true, true, false]);
    expect(sameMedia(sdp(1), sdp(1).replace('o=- 1 1', 'o=- 9 9').replace('s=-', 's=x'))).toBe(true);
    expect(sameMedia(sdp(1), sdp(2))).toBe(false);
    expect(sameMedia(sdp(1), sdp(1, 'sendonly'))).toBe(false);
    // New keys are new media (RFC 4568 §7.1.4), as is an ICE restart; a=fmtp and a=ptime are not compared.
    const keyed = (k: string): string => `${sdp(1)}a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:${k}\r\n`;
    expect(sameMedia(keyed('a'.repeat(40)), keyed('b'.repeat(40)))).toBe(false);
    expect(sameMedia(`${sdp(1)}a=ice-ufrag:x\r\n`, `${sdp(1)}a=ice-ufrag:y\r\n`)).toBe(false);
    expect(sameMedia(sdp(1), `${sdp(1)}a=fmtp:101 0-16\r\na=ptime:20\r\n`)).toBe(true);
  });
});

describe('admission', () => {
  const directory = new QueueDirectory(config.queues);
  const rules = { draining: false, retryAfterSeconds: 30, defaultLanguage: 'en', languages: ['en', 'id', 'es'] };
  const trunks = new InboundTrunks(config);

  it('draining: 503 with Retry-After; Max-Forwards 0: 483; an unknown number: 404; otherwise the queue and the language', () => {
    expect(admit(new FakeInvite(), directory, { ...rules, draining: true }, trunks)).toMatchObject({ admitted: false, reason: 'SHUTTING_DOWN', headers: { 'Retry-After': '30' } });
    expect(admit(new FakeInvite(undefined, undefined, undefined, {}, 0), directory, rules, trunks)).toMatchObject({ admitted: false, reason: 'TOO_MANY_HOPS' });
    expect(admit(new FakeInvite('sip:9999@192.0.2.2'), directory, rules, trunks)).toMatchObject({ admitted: false, reason: 'UNKNOWN_NUMBER', dialed: '9999' });
    const ok = admit(new FakeInvite('sip:%2B1000@192.0.2.2', undefined, undefined, { 'accept-language': 'en;q=0.1, id-ID;q=0.9' }), directory, rules, trunks);
    expect(ok).toMatchObject({ admitted: true, dialed: '+1000', language: 'id-ID' });
  });

  it('the language is the first the caller accepts that the configuration serves (a prefix serves a longer tag), else the default', () => {
    const language = (header: string): unknown => {
      const a = admit(new FakeInvite('sip:%2B1000@192.0.2.2', undefined, undefined, { 'accept-language': header }), directory, rules, trunks);
      return a.admitted ? a.language : a.reason;
    };
    expect(language('fr, es;q=0.8')).toBe('es');
    expect(language('fr-CA, fr;q=0.9, es-MX;q=0.5')).toBe('es-MX');
    expect(language('fr, de;q=0.5')).toBe('en');
    expect(language('fr, *;q=0.5, es;q=0.1')).toBe('en');
  });

  it('Accept-Language: the well-formed tag of highest quality (RFC 2616 §14.4), else nothing', () => {
    const cases: [string | undefined, string | undefined][] = [
      ['de, en;q=0.5', 'de'],
      // Quality, not position, decides (probe C F13).
      ['en;q=0.1, de;q=0.9', 'de'],
      ['en;q=0.5, de', 'de'],
      ['fr;Q=0.3 , es-MX ; q = 0.8, en;q=0.7', 'es-MX'],
      // Equal qualities keep the caller's order.
      ['it;q=0.5, de;q=0.5, en;q=0.4', 'it'],
      // q=0 is "not acceptable".
      ['de;q=0, en;q=0.2', 'en'],
      ['de;q=0.000', undefined],
      // A malformed q drops its entry; a malformed tag is passed over.
      ['de;q=2, en;q=0.5', 'en'],
      ['de;q=abc, en;q=0.5', 'en'],
      ['de;q=0.1234, en;q=0.5', 'en'],
      ['x_bad, en;q=0.5', 'en'],
      // Tags are case-insensitive: the primary subtag is compared in lower case.
      ['DE-at', 'de-at'],
      // Any language (`*`) first: the default serves.
      ['*, de;q=0.5', undefined],
      ['de;q=0.5, *;q=0.1', 'de'],
      ['*', undefined],
      ['', undefined],
      [undefined, undefined],
      ['x_bad', undefined],
    ];
    expect(cases.map(([header]) => [header, preferredLanguage(header)])).toEqual(cases);
  });
});

describe('the whisper', () => {
  it('a whisper the media relay will not play is skipped: the agent still there, the call goes on (not lost over it)', async () => {
    const { ctx } = context({});
    const stops: string[] = [];
    const anchor = {
      anchored: true,
      play: async () => Promise.reject(new RtpengineError('play media', 'Failed to start media playback from file', '127.0.0.1:2223')),
      stopPlayback: async (label: string) => void stops.push(label),
    };
    const prompts = { whisperFor: async () => ({ durationMs: 60_000 }) };
    const withRelay = { ...ctx, anchor: anchor as unknown as CallAnchor, services: { ...ctx.services, prompts: prompts as unknown as EngineServices['prompts'] } };
    const agentLeg = new FakeLeg('agent', 'v=0\r\nc=IN IP4 192.0.2.9\r\nm=audio 6000 RTP/AVP 0\r\n');
    // Not the prompt's minute: at once, true (the agent is there), nothing to stop.
    expect(await new WhisperTask('q', agentLeg).run(withRelay, ctx.session.signal)).toBe(true);
    expect(stops).toEqual([]);
    // Any other failure is not the whisper's to hide.
    anchor.play = async () => Promise.reject(new Error('the call is gone'));
    await expect(new WhisperTask('q', agentLeg).run(withRelay, ctx.session.signal)).rejects.toThrow('the call is gone');
    await ctx.session.end('done');
  });
});
