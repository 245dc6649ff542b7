/**
 * The waiting queue end to end with real audio through real rtpengine: a
 * caller with no ready agent is answered and hears the hold audio (ringback,
 * or the queue's prompt) and its position, decoded from what it receives; an
 * agent who becomes ready gets the call and both hear each other (callers
 * with and without an offer). The maximum wait overflows to voicemail; an
 * agent who does not answer is not ready "missed" and the next one is rung;
 * callers are served first come, first served; a caller who hangs up while
 * waiting or while an agent rings leaves the queue and gives the agent back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import type { RenderedPrompt } from '../../src/media/index.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone, type PlacedCall } from '../support/phones.js';
import { readAudio, runsOf, streamPcm, timesHeard, toneLevels } from '../support/rtp/audio-check.js';

const CALLER_HZ = 700;
const AGENT_HZ = 1300;
const HOLD_TEXT = 'Thank you for waiting. An agent will be with you shortly.';
const LONG_WHISPER = 'A call from the long queue. The caller has been waiting. Please greet the caller by name, check the account, and note the reason for the call in the ticket.';

let cc: ContactCenter;
let ann: AgentPhone;
let bob: AgentPhone;

beforeAll(async () => {
  ann = await AgentPhone.create(AGENT_HZ);
  bob = await AgentPhone.create(AGENT_HZ);
  cc = await startContactCenter({
    media: { whisper: { countdown: false } },
    deflection: { messages: { voicemailGreeting: { en: { text: 'Nobody is free. Leave a message.' } } } },
    engine: { voicemail: { maxSeconds: 5, silenceSeconds: 5 } },
    agents: [
      { id: 'ann', name: 'Ann', device: ann.uri('ann'), queues: [{ queue: 'sales' }, { queue: 'hold' }, { queue: 'long' }, { queue: 'told' }] },
      { id: 'bob', name: 'Bob', device: bob.uri('bob'), queues: [{ queue: 'sales' }] },
    ],
    queues: [
      { id: 'sales', name: 'Sales', numbers: ['6000'], ringTimeoutSeconds: 2, waiting: { maxWaitSeconds: 60, wrapUpSeconds: 1, announcements: { everySeconds: 5 } } },
      { id: 'hold', name: 'Hold', numbers: ['6100'], waiting: { maxWaitSeconds: 4, holdAudio: { text: HOLD_TEXT }, overflow: { option: 'voicemail' } } },
      // A whisper long enough for the caller to hold while the agent hears it, on a busy machine too.
      { id: 'long', name: 'Long', numbers: ['6200'], whisper: { type: 'tts', text: LONG_WHISPER }, waiting: { maxWaitSeconds: 60, wrapUpSeconds: 1 } },
      { id: 'told', name: 'Told', numbers: ['6300'], whisper: { type: 'tts', text: LONG_WHISPER }, waiting: { maxWaitSeconds: 60, wrapUpSeconds: 1, announcements: { everySeconds: 5, estimatedWait: false } } },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  ann?.close();
  bob?.close();
});

const agents = () => cc.sb.engine.agents!.agents;
const queueStats = (id: string) => cc.sb.engine.status().contactCenter!.queues.find((q) => q.id === id)!;
/** The level of `hz` in the last packets received, of the latest stream only (streams' timestamps do not line up). */
function level(phone: CallerPhone | AgentPhone, hz: number, last = 40): number {
  const runs = runsOf(phone.rtp.received.slice(-last));
  const run = runs.at(-1) ?? [];
  return run.length === 0 ? 0 : goertzel(streamPcm(run), hz);
}

function heard(phone: CallerPhone, prompt: RenderedPrompt): number {
  return timesHeard(phone.rtp.received, readAudio(prompt.path).samples);
}

/** Each test starts with no call and every agent logged out. */
async function logOutAll(): Promise<void> {
  await Promise.all(cc.sb.engine.calls.all().map((s) => s.end('test cleanup')));
  for (const a of ['ann', 'bob']) {
    await eventually(() => !['ringing', 'whisper', 'on-call'].includes(agents().get(a).state), 10_000, `${a} off the phone`);
    agents().request(a, 'logged-out', null, 'test');
  }
}

/** The distinct SDP answers the caller got to its INVITEs (the first, then one per re-INVITE that changed it), in order. */
function answersTo(caller: CallerPhone, call: PlacedCall): string[] {
  const ok = caller.peer.received.filter((r) => r.info.callId === call.callId && r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE');
  return [...new Set(ok.map((r) => r.message.body.toString('utf8')))];
}

/** Bridged: each phone hears the other's tone. */
/** `caller` waits in 6200 (answered), then ann is made ready and hears the whisper: the call, and its index among ann's. */
async function waitingThenWhisperToAnn(caller: CallerPhone): Promise<{ call: PlacedCall; n: number }> {
  const n = ann.calls.length;
  const call = caller.dial(cc.udp, '6200');
  await call.waitStatus(200, 10_000);
  agents().request('ann', 'ready', null, 'test');
  await eventually(() => agents().get('ann').state === 'whisper', 10_000, 'the whisper');
  return { call, n };
}

async function talking(caller: CallerPhone, agent: AgentPhone): Promise<void> {
  await eventually(() => level(caller, AGENT_HZ) > 1000 && level(agent, CALLER_HZ) > 1000, 15_000, () => `both hearing each other (caller ${level(caller, AGENT_HZ)}, agent ${level(agent, CALLER_HZ)})`);
}

/** ann, who left during the whisper, is not ready "missed"; bob, made ready, takes the call; the caller hangs up; the record says so. */
async function annMissedThenBob(caller: CallerPhone, call: PlacedCall): Promise<void> {
  await eventually(() => agents().get('ann').reason === 'missed', 10_000, 'ann missed');
  agents().request('bob', 'ready', null, 'test');
  await call.waitStatus(200, 20_000);
  await talking(caller, bob);
  call.hangUp();
  const record = await cc.recordOf(call.callId);
  expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([
    ['ann', 'left-during-whisper'],
    ['bob', 'answered'],
  ]);
}

describe('waiting', () => {
  it.each([
    ['an offer', false],
    ['no offer (delayed offer)', true],
  ])('a caller with %s waits answered, hears ringback and its position, then is bridged with the agent who became ready', async (_what, delayedOffer) => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6000', { delayedOffer });
      await call.waitStatus(200, 10_000);
      expect(queueStats('sales')).toMatchObject({ waiting: 1, agents: { loggedIn: 0 } });
      const position = await cc.sb.media!.prompts.fromSpec({ text: 'You are caller number 1.' });
      // Searching the whole stream is heavy: look once a second.
      await eventually(() => heard(caller, position) >= 1, 20_000, 'the position announcement', 1000);
      // Ringback (440 + 480 Hz) from the start; no agent yet.
      const first = runsOf(caller.rtp.received)[0]!.slice(0, 100);
      expect(Math.max(...toneLevels(streamPcm(first), 440))).toBeGreaterThan(500);
      expect(ann.calls.length).toBe(n);
      agents().request('ann', 'ready', null, 'test');
      await eventually(() => ann.calls.length > n, 10_000, 'ann rung');
      await talking(caller, ann);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ agent: 'ann', endedBy: 'caller', agentsTried: [{ agent: 'ann', outcome: 'answered' }] });
      expect(record.metrics.queueMs).toBeGreaterThan(0);
      expect(record.metrics.waitMs).toBeGreaterThanOrEqual(record.metrics.queueMs + record.metrics.whisperMs - 50);
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      expect(queueStats('sales')).toMatchObject({ waiting: 0 });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a waiting caller holds and resumes: each re-INVITE is answered at once, the ringback goes on after the resume, and the agent then talks with the resumed caller', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      const distinct = (): string[] => answersTo(caller, call);
      call.reinvite('sendonly');
      await eventually(() => distinct().length >= 2, 10_000, 'the answer to the hold');
      expect(distinct()[1]).toMatch(/^a=recvonly\r?$/m);
      call.reinvite('sendrecv');
      await eventually(() => distinct().length >= 3, 10_000, 'the answer to the resume');
      expect(distinct()[2]).not.toMatch(/^a=(recvonly|sendonly|inactive)\r?$/m);
      // Still waiting, still hearing ringback (440 + 480 Hz).
      const before = caller.rtp.received.length;
      await eventually(() => caller.rtp.received.length > before + 50 && level(caller, 440) > 500, 15_000, () => `ringback after the resume (${level(caller, 440)})`);
      expect(queueStats('sales')).toMatchObject({ waiting: 1 });
      agents().request('ann', 'ready', null, 'test');
      await eventually(() => ann.calls.length > n, 10_000, 'ann rung');
      await talking(caller, ann);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'ann', endedBy: 'caller' });
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a waiting caller whose agent answers another codec keeps the SDP it has (the relay transcodes): its next SDP from us is one version on, none spent on an SDP never sent (RFC 3264 §8)', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    ann.codecs = ['pcma'];
    try {
      const { call } = await waitingThenWhisperToAnn(caller);
      await talking(caller, ann);
      const version = (raw: string): number => Number(/^o=\S+ \S+ (\d+) /m.exec(raw)![1]);
      const answered = version(call.finalResponseTo(1)!.raw);
      call.reinvite('sendonly');
      await call.until(() => call.finalResponseTo(2) !== undefined, 'the answer to the hold', 10_000);
      expect(version(call.finalResponseTo(2)!.raw)).toBe(answered + 1);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'ann', endedBy: 'caller' });
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      await cc.settled();
    } finally {
      ann.codecs = ['pcmu', 'pcma'];
      caller.close();
    }
  });

  it('a waiting caller\'s session refreshes (re-INVITE, then UPDATE) offering its unchanged SDP while the agent hears the whisper are answered with the answer it has, and the agent gets no re-offer at the bridge (RFC 4028, RFC 3264 §8)', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, n } = await waitingThenWhisperToAnn(caller);
      const first = call.finalResponseTo(1)!.raw.split('\r\n\r\n')[1];
      call.refresh('INVITE');
      await call.until(() => call.finalResponseTo(2) !== undefined, 'the answer to the re-INVITE refresh', 10_000);
      expect(call.finalResponseTo(2)!.raw.split('\r\n\r\n')[1]).toBe(first);
      call.refresh('UPDATE');
      await call.until(() => call.replies.some((r) => r.method === 'UPDATE'), 'the answer to the UPDATE refresh', 10_000);
      const update = call.replies.find((r) => r.method === 'UPDATE')!;
      expect(update.status).toBe(200);
      expect(update.raw.split('\r\n\r\n')[1]).toBe(first);
      expect(agents().get('ann').state).toBe('whisper');
      await talking(caller, ann);
      expect(ann.reoffersIn(n)).toEqual([]);
      call.hangUp();
      expect(await cc.recordOf(call.callId)).toMatchObject({ agent: 'ann', endedBy: 'caller' });
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a waiting caller who holds while the agent hears the whisper: the agent is re-offered the hold at the bridge, then the resume (sent while the agent still answers the hold), and the hold is counted', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, n } = await waitingThenWhisperToAnn(caller);
      const answers = (): string[] => answersTo(caller, call);
      const reoffers = (): string[] => ann.reoffersIn(n);
      // The hold is the call's second INVITE transaction (CSeq 2), the resume its third.
      const responsesToResume = (): number[] =>
        caller.peer.received.flatMap((r) => (r.message.kind === 'response' && r.info.callId === call.callId && r.info.cseqMethod === 'INVITE' && r.info.cseq === 3 ? [r.message.status] : []));
      call.reinvite('sendonly');
      await eventually(() => answers().length >= 2, 10_000, 'the answer to the hold');
      expect(agents().get('ann').state).toBe('whisper');
      expect(reoffers()).toEqual([]);
      // Ann's phone is slow to answer the hold: the caller resumes while the bridge is still being set up.
      ann.holdsReinvites = true;
      try {
        await eventually(() => reoffers().length >= 1, 20_000, 'the hold re-offered to ann at the bridge');
        expect(reoffers()[0]).toMatch(/^a=sendonly\r?$/m);
        call.reinvite('sendrecv');
        await eventually(() => responsesToResume().length > 0, 10_000, 'a response to the resume');
      } finally {
        ann.releaseReinvites();
      }
      await eventually(() => reoffers().length >= 2, 10_000, 'the resume re-offered to ann');
      expect(reoffers()[1]).not.toMatch(/^a=(sendonly|recvonly|inactive)\r?$/m);
      // Our re-offers (the hold at the bridge, then the resume) are in the session of the INVITE ann got: its origin,
      // the version one up each (RFC 3264 §8), whatever origins the caller wrote.
      const origin = (sdp: string): string => /^o=(.*?)\r?$/m.exec(sdp)![1]!;
      const [user, session, version, ...address] = origin(ann.calls[n]!.invite.message.body.toString('utf8')).split(' ');
      expect(reoffers().slice(0, 2).map(origin)).toEqual([1, 2].map((k) => [user, session, String(Number(version) + k), ...address].join(' ')));
      await eventually(() => responsesToResume().includes(200), 10_000, 'the answer to the resume');
      await talking(caller, ann);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ agent: 'ann', endedBy: 'caller' });
      expect(record.metrics.holdMs).toBeGreaterThan(0);
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('an agent who hangs up while the caller\'s hold is re-offered to it at the bridge ends the call: the caller gets BYE, one record "agent hung up", the agent is free again', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const { call, n } = await waitingThenWhisperToAnn(caller);
      call.reinvite('sendonly');
      await eventually(() => answersTo(caller, call).length >= 2, 10_000, 'the answer to the hold');
      ann.holdsReinvites = true;
      try {
        await eventually(() => ann.reoffersIn(n).length >= 1, 20_000, 'the hold re-offered to ann at the bridge');
        // Her BYE crosses the re-offer, which she never answers (drachtio-srf's modify() then never settled).
        ann.hangUp(n);
        await call.waitRequest('BYE', 15_000);
      } finally {
        ann.forgetReinvites();
      }
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ agent: 'ann', endedBy: 'agent' });
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready after wrap-up');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('the queue\'s hold prompt, then at the maximum wait the overflow: voicemail', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '6100', { fromUser: '+15551234567' });
      await call.waitStatus(200, 10_000);
      const hold = await cc.sb.media!.prompts.configuredPrompt('queues[1].waiting.holdAudio');
      const greeting = await cc.sb.media!.prompts.fromSpec({ text: 'Nobody is free. Leave a message.' }, { language: 'en' });
      await eventually(() => heard(caller, hold) >= 1, 15_000, 'the hold prompt', 1000);
      await eventually(() => heard(caller, greeting) >= 1, 20_000, 'the voicemail greeting', 1000);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ agentsTried: [], deflection: { action: 'voicemail', target: 'hold' }, facts: { overflow: 'voicemail' } });
      expect(queueStats('hold')).toMatchObject({ waiting: 0, overflowed: 1 });
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('offering agents', () => {
  it('an agent who does not answer is not ready "missed"; the next one takes the call', async () => {
    await logOutAll();
    agents().request('ann', 'ready', null, 'test');
    agents().request('bob', 'ready', null, 'test');
    ann.behaviour = 'ring';
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 20_000);
      await talking(caller, bob);
      expect(agents().get('ann')).toMatchObject({ state: 'not-ready', reason: 'missed' });
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.agentsTried.map((a) => [a.agent, a.outcome])).toEqual([
        ['ann', 'no-answer'],
        ['bob', 'answered'],
      ]);
      await cc.settled();
    } finally {
      ann.behaviour = 'answer';
      caller.close();
    }
  });

  it('a waiting caller whose phone never acknowledges the answer is offered no agent; its call ends at 64·T1 with no talk time', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6000', { noAck: true });
      await call.waitStatus(200, 10_000);
      // An agent free while the answer waits for its ACK: not rung for a phone that may never have the call.
      agents().request('ann', 'ready', null, 'test');
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ endReason: 'caller did not acknowledge', agent: null, agentsTried: [] });
      expect(record.metrics.talkMs).toBe(0);
      expect(ann.calls.length).toBe(n);
      expect(agents().get('ann').state).toBe('ready');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('first come, first served; the second caller gets the agent once the first call and its wrap-up are over', async () => {
    await logOutAll();
    const first = await CallerPhone.create(CALLER_HZ);
    const second = await CallerPhone.create(CALLER_HZ);
    try {
      const one = first.dial(cc.udp, '6000');
      await one.waitStatus(200, 10_000);
      const two = second.dial(cc.udp, '6000');
      await two.waitStatus(200, 10_000);
      expect(queueStats('sales').waiting).toBe(2);
      const n = bob.calls.length;
      agents().request('bob', 'ready', null, 'test');
      await talking(first, bob);
      expect(queueStats('sales').waiting).toBe(1);
      expect(bob.calls.length).toBe(n + 1);
      one.hangUp();
      await eventually(() => agents().get('bob').state === 'wrap-up', 10_000, 'bob in wrap-up');
      await talking(second, bob);
      two.hangUp();
      const [r1, r2] = [await cc.recordOf(one.callId), await cc.recordOf(two.callId)];
      expect([r1.agent, r2.agent]).toEqual(['bob', 'bob']);
      expect(Date.parse(r2.times.agentAnswered!)).toBeGreaterThan(Date.parse(r1.times.ended!));
      await cc.settled();
    } finally {
      first.close();
      second.close();
    }
  });

  it('an agent listening to a call on its own phone (a trainee monitoring) is offered no queue call until the monitor stops (probe AN-4)', async () => {
    await logOutAll();
    const first = await CallerPhone.create(CALLER_HZ);
    const second = await CallerPhone.create(CALLER_HZ);
    try {
      const one = first.dial(cc.udp, '6000');
      await one.waitStatus(200, 10_000);
      agents().request('bob', 'ready', null, 'test');
      await talking(first, bob);
      const id = cc.sb.engine.control.list().find((c) => c.sipCallId === one.callId)!.id;
      const annCalls = ann.calls.length;
      const monitor = await cc.sb.engine.control.monitor(id, { user: 'ann', device: ann.uri('ann'), ringTimeoutMs: 10_000 });
      expect(ann.calls.length).toBe(annCalls + 1);
      // Ann ready while her phone carries the monitor; then a caller waits.
      agents().request('ann', 'ready', null, 'test');
      const two = second.dial(cc.udp, '6000');
      await two.waitStatus(200, 10_000);
      // A caller is offered an agent once it has acknowledged our answer and hears the hold audio: a second of
      // it heard, the queues have had their turn (a microtask after that) and passed her by.
      const heard = second.rtp.received.length;
      await eventually(() => second.rtp.received.length >= heard + 50, 15_000, 'a second of hold audio at the waiting caller');
      expect(agents().get('ann')).toMatchObject({ state: 'ready', call: null });
      expect(queueStats('sales').waiting).toBe(1);
      expect(ann.calls.length).toBe(annCalls + 1);
      // The monitor stops: her phone is free, and the waiting caller is hers.
      await cc.sb.engine.control.stopMonitor(id, monitor.id, 'ann');
      await talking(second, ann);
      expect(ann.calls.length).toBe(annCalls + 2);
      one.hangUp();
      two.hangUp();
      expect((await cc.recordOf(two.callId)).agent).toBe('ann');
      await cc.settled();
    } finally {
      first.close();
      second.close();
    }
  });

  it('a caller who hangs up while waiting leaves the queue; one who hangs up while the agent rings gives the agent back', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const waiting = caller.dial(cc.udp, '6000');
      await waiting.waitStatus(200, 10_000);
      const abandoned = queueStats('sales').abandoned;
      waiting.hangUp();
      await cc.recordOf(waiting.callId);
      expect(queueStats('sales')).toMatchObject({ waiting: 0, abandoned: abandoned + 1 });

      agents().request('ann', 'ready', null, 'test');
      ann.behaviour = 'ring';
      const n = ann.calls.length;
      const ringing: PlacedCall = caller.dial(cc.udp, '6000');
      await eventually(() => ann.calls.length > n, 10_000, 'ann rung');
      expect(agents().get('ann').state).toBe('ringing');
      ringing.cancel();
      await eventually(() => ann.calls[n]!.requests.includes('CANCEL'), 10_000, 'the CANCEL at ann');
      await eventually(() => agents().get('ann').state === 'ready', 10_000, 'ann ready again');
      expect(agents().get('ann')).toMatchObject({ reason: null, callsMissed: expect.any(Number) });
      await cc.recordOf(ringing.callId);
      await cc.settled();
    } finally {
      ann.behaviour = 'answer';
      caller.close();
    }
  });

  it('an agent phone that answers and hangs up at once gets its 200 ACKed (and no BYE back); the call goes to the next agent', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    ann.behaviour = 'answer-then-bye';
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      agents().request('ann', 'ready', null, 'test');
      await eventually(() => ann.calls[n]?.ended === true && ann.calls[n].requests.includes('ACK'), 10_000, 'ann’s 200 ACKed');
      await annMissedThenBob(caller, call);
      expect(ann.calls[n]!.requests.filter((m) => m === 'ACK')).toHaveLength(1);
      expect(ann.calls[n]!.requests).not.toContain('BYE');
      await cc.settled();
    } finally {
      ann.behaviour = 'answer';
      caller.close();
    }
  });

  it('an agent who hangs up during the whisper is not ready "missed"; the call goes to the next agent', async () => {
    await logOutAll();
    agents().request('ann', 'ready', null, 'test');
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const n = ann.calls.length;
      const call = caller.dial(cc.udp, '6000');
      await eventually(() => ann.calls[n]?.answered === true, 10_000, 'ann answered');
      await eventually(() => agents().get('ann').state === 'whisper', 10_000, 'the whisper');
      ann.hangUp(n);
      await annMissedThenBob(caller, call);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a caller whose offered agent hung up during the whisper waits again and hears its position again', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const position = readAudio((await cc.sb.media!.prompts.fromSpec({ text: 'You are caller number 1.' })).path).samples;
      const call = caller.dial(cc.udp, '6300');
      await call.waitStatus(200, 10_000);
      await eventually(() => timesHeard(caller.rtp.received, position) >= 1, 20_000, 'the first position announcement', 250);
      const n = ann.calls.length;
      agents().request('ann', 'ready', null, 'test');
      await eventually(() => agents().get('ann').state === 'whisper', 15_000, 'the whisper');
      ann.hangUp(n);
      await eventually(() => agents().get('ann').reason === 'missed', 10_000, 'ann missed');
      expect(cc.sb.engine.calls.all().find((s) => s.callId === call.callId)?.state).toBe('in-queue');
      const back = caller.rtp.received.length;
      // Every 5 s: before the fix the announcements stopped for good when the agent was offered the call.
      await eventually(() => timesHeard(caller.rtp.received.slice(back), position) >= 1, 30_000, 'the position announced again', 250);
      call.hangUp();
      await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a waiting caller who put the call on hold before an agent was free is bridged on hold: the call counts as held from the bridge', async () => {
    await logOutAll();
    const caller = await CallerPhone.create(CALLER_HZ);
    try {
      const call = caller.dial(cc.udp, '6000');
      await call.waitStatus(200, 10_000);
      caller.reofferAnswerDirection = 'inactive';
      call.reinvite('inactive');
      await eventually(() => call.finalResponseTo(2)?.status === 200, 10_000, 'the hold answered');
      const n = ann.calls.length;
      agents().request('ann', 'ready', null, 'test');
      await cc.bridged(call.callId, 30_000);
      expect(ann.calls[n]!.invite.message.body.toString('utf8')).toMatch(/a=inactive/);
      const session = cc.sb.engine.calls.all().find((s) => s.callId === call.callId)!;
      // Before, the bridge began "not held", and a call nobody sends on was ended "media timeout" after 60 s.
      expect(session.timeline.held).toBe(true);
      call.hangUp();
      expect((await cc.recordOf(call.callId)).metrics.holdMs).toBeGreaterThan(0);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});
