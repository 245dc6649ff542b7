/**
 * Callers' offers of every shape, through the real rtpengine: more streams
 * than audio (answered with as many m-lines, the others rejected with port 0,
 * RFC 3264 §6), directions mirrored in our answers (§6.1), SDP with ISUP in a
 * multipart body from a carrier (RFC 5621, RFC 3204), and a delayed offer
 * whose ACK brings no answer (RFC 3261 §13.2.2.4): the call ends, says why,
 * and leaves nothing behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { parseSdp } from '../../src/media/sdp.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { streamPcm } from '../support/rtp/audio-check.js';
import { request, uniq, type Received } from '../support/sip-peer.js';

let cc: ContactCenter;
let agent: AgentPhone;

const closed = { emergency: { force: 'closed' } };

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  cc = await startContactCenter({
    engine: { voicemail: { maxSeconds: 10, silenceSeconds: 2, digitTimeoutSeconds: 3, attempts: 1, callbackDigits: { min: 7, max: 12 } } },
    media: { whisper: { countdown: false } },
    deflection: {
      calls: { enabled: true, ivr: { option: 'message' } },
      messages: {
        afterHours: { en: { text: 'We are closed.' } },
        voicemailAskNumber: { en: { text: 'Your number.' } },
        voicemailGreeting: { en: { text: 'Leave a message.' } },
      },
    },
    queues: [
      { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
      { id: 'after-hours', name: 'After hours', numbers: ['2000'], ...closed, deflection: { ivr: { option: 'message' } } },
      { id: 'voicemail', name: 'Voicemail', numbers: ['3000'], agents: [agent.uri()], ...closed, deflection: { ivr: { option: 'voicemail' } } },
    ],
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

const VIDEO = ['m=video 4002 RTP/AVP 96', 'a=rtpmap:96 H264/90000', 'a=sendrecv'];
const mLines = (sdp: string): string[] => sdp.split(/\r?\n/).filter((l) => l.startsWith('m='));
const body = (r: Received): string => r.message.body.toString('utf8');
/** The SDP bodies of the INVITE responses with `status` a caller got for one call, in order. */
const responseBodies = (caller: CallerPhone, callId: string, status: number): string[] =>
  caller.peer.received.filter((r) => r.info.callId === callId && r.message.kind === 'response' && r.message.status === status && r.info.cseqMethod === 'INVITE').map(body).filter((b) => b !== '');

/** A caller's dialog as the raw INVITE set it up. */
interface RawDialog {
  readonly callId: string;
  readonly fromTag: string;
  readonly uri: string;
  toTag: string;
  target: string;
}

/** Sends an INVITE with `sdpBody` (of `contentType`) to `number`; resolves with the dialog and the 200, ACKed. */
async function rawCall(caller: CallerPhone, number: string, sdpBody: string, contentType?: string): Promise<{ dialog: RawDialog; ok: Received }> {
  const dialog: RawDialog = { callId: uniq('offer'), fromTag: uniq('f'), uri: `sip:${number}@127.0.0.1:${cc.udp.port}`, toTag: '', target: '' };
  const invite = request({ method: 'INVITE', uri: dialog.uri, peer: caller.peer, callId: dialog.callId, fromTag: dialog.fromTag, body: sdpBody, ...(contentType !== undefined ? { contentType } : {}) });
  await caller.peer.send(invite, cc.udp);
  const ok = await caller.peer.waitResponse(200, 'INVITE', 30_000);
  dialog.toTag = ok.info.toTag!;
  dialog.target = /<([^>]+)>/.exec(ok.message.headers.get('contact') ?? '')?.[1] ?? dialog.uri;
  await caller.peer.send(request({ method: 'ACK', uri: dialog.target, peer: caller.peer, callId: dialog.callId, fromTag: dialog.fromTag, toTag: dialog.toTag, to: `<${dialog.uri}>` }), cc.udp);
  return { dialog, ok };
}

async function hangUp(caller: CallerPhone, d: RawDialog, cseq: number): Promise<void> {
  await caller.peer.send(request({ method: 'BYE', uri: d.target, peer: caller.peer, callId: d.callId, fromTag: d.fromTag, toTag: d.toTag, to: `<${d.uri}>`, cseq }), cc.udp);
  await caller.peer.waitResponse(200, 'BYE');
  await cc.recordOf(d.callId);
  await cc.settled();
}

/** The caller's offer, its audio m-line given by `audio`, then `more` lines. */
const offerOf = (caller: CallerPhone, direction = 'sendrecv', ...more: string[]): string => `${caller.rtp.sdp({ telephoneEvent: true, direction: direction as 'sendrecv' })}${more.map((l) => `${l}\r\n`).join('')}`;

describe('offers with more than one stream (RFC 3264 §6: as many m-lines in the answer, in order, the rejected ones port 0)', () => {
  it('audio and video to a queue: the 183 and 200 answer both m-lines, video rejected; the agent is offered audio only; audio flows both ways', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '1000', { body: { of: (sdp) => `${sdp}${VIDEO.map((l) => `${l}\r\n`).join('')}` } });
      await call.waitStatus(200, 30_000);
      const [early] = responseBodies(caller, call.callId, 183);
      const [final] = responseBodies(caller, call.callId, 200);
      for (const answer of [early!, final!]) {
        expect(mLines(answer)).toEqual([expect.stringMatching(/^m=audio [1-9]\d* RTP\/AVP 0 101$/) as unknown, 'm=video 0 RTP/AVP 96']);
      }
      expect(final).toBe(early);
      expect(mLines(body(agent.calls[n]!.invite))).toEqual([expect.stringMatching(/^m=audio /) as unknown]);
      await cc.bridged(call.callId);
      const atAgent = agent.rtp.received.length;
      const atCaller = caller.rtp.received.length;
      await eventually(() => agent.rtp.received.length > atAgent + 50 && caller.rtp.received.length > atCaller + 50, 15_000, 'audio both ways');
      await eventually(() => goertzel(streamPcm(agent.rtp.received.slice(-40)), 700) > 1000, 10_000, 'the agent hears the caller');
      await eventually(() => goertzel(streamPcm(caller.rtp.received.slice(-40).filter((p) => p.payloadType !== 101)), 1300) > 1000, 10_000, 'the caller hears the agent');
      call.hangUp();
      await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('an agent that adds video in a re-INVITE: its answer has both m-lines, video rejected (RFC 3264 §6); the caller is re-offered audio only', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '1000');
      await call.waitStatus(200, 30_000);
      await cc.bridged(call.callId);
      const offer = `${agent.rtp.sdp({ telephoneEvent: true })}${VIDEO.map((l) => `${l}\r\n`).join('')}`;
      const cseq = agent.reinvite(offer);
      const ok = await agent.peer.wait((r) => r.message.kind === 'response' && r.message.status === 200 && r.info.cseqMethod === 'INVITE' && r.info.cseq === cseq, 15_000, 'the answer to the agent\'s re-INVITE');
      expect(mLines(body(ok))).toEqual([expect.stringMatching(/^m=audio [1-9]\d* RTP\/AVP /) as unknown, 'm=video 0 RTP/AVP 96']);
      const reoffers = caller.peer.received.filter((r) => r.message.kind === 'request' && r.message.method === 'INVITE' && r.info.callId === call.callId && r.info.toTag !== undefined);
      expect(reoffers).toHaveLength(1);
      expect(mLines(body(reoffers[0]!))).toEqual([expect.stringMatching(/^m=audio /) as unknown]);
      call.hangUp();
      await cc.recordOf(call.callId);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('two audio m-lines to the after-hours message: two in the answer, the second port 0; the message plays and the call ends', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const { dialog, ok } = await rawCall(caller, '2000', offerOf(caller, 'sendrecv', 'm=audio 4004 RTP/AVP 8', 'a=rtpmap:8 PCMA/8000'));
      expect(parseSdp(body(ok)).media.map((m) => [m.type, m.port === 0])).toEqual([
        ['audio', false],
        ['audio', true],
      ]);
      expect(mLines(body(ok))[1]).toBe('m=audio 0 RTP/AVP 8');
      await caller.peer.waitRequest('BYE', 20_000);
      expect(caller.rtp.received.length).toBeGreaterThan(0);
      expect((await cc.recordOf(dialog.callId)).endReason).toBe('after-hours message played');
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('directions (RFC 3264 §6.1: inactive answered inactive, sendonly recvonly, recvonly sendonly)', () => {
  it.each([
    ['inactive', 'inactive'],
    ['sendonly', 'recvonly'],
    ['recvonly', 'sendonly'],
  ])('a %s offer to a queue is answered %s in the 183 and the 200 (the agent answers sendrecv), and the call is bridged', async (offered, answered) => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const { dialog, ok } = await rawCall(caller, '1000', offerOf(caller, offered));
      const early = await caller.peer.waitResponse(183, 'INVITE');
      expect(parseSdp(body(early)).media[0]!.direction).toBe(answered);
      expect(body(ok)).toBe(body(early));
      expect(parseSdp(body(agent.calls[n]!.invite)).media[0]!.direction).toBe(offered);
      await cc.bridged(dialog.callId);
      await hangUp(caller, dialog, 2);
    } finally {
      caller.close();
    }
  });

  it('an inactive offer to the after-hours message: answered inactive, sent nothing, the call still ends after the message', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const { dialog, ok } = await rawCall(caller, '2000', offerOf(caller, 'inactive'));
      expect(parseSdp(body(ok)).media[0]!.direction).toBe('inactive');
      await caller.peer.waitRequest('BYE', 20_000);
      expect((await cc.recordOf(dialog.callId)).endReason).toBe('after-hours message played');
      expect(caller.rtp.received).toHaveLength(0);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('SDP with ISUP in a multipart body (SIP-I / SIP-T: RFC 5621, RFC 3204)', () => {
  /** SDP plus an ISUP IAM (binary) in multipart/mixed, the ISUP part with `disposition` (none when undefined). */
  const sipI = (sdp: string, disposition?: string): string =>
    [
      '--b1',
      'Content-Type: application/sdp',
      '',
      sdp.replace(/\r\n$/, ''),
      '--b1',
      'Content-Type: application/isup;version=itu-t92+;base=itu-t92+',
      ...(disposition !== undefined ? [`Content-Disposition: ${disposition}`] : []),
      '',
      '\u0001\u0000\u0049\u0000\r\n--\u0000\u0003',
      '--b1--',
      '',
    ].join('\r\n');

  it('the SDP part is the offer: the caller is answered with plain SDP, the agent offered plain SDP; a re-INVITE in SIP-I is answered too', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const { dialog, ok } = await rawCall(caller, '1000', sipI(offerOf(caller), 'signal;handling=optional'), 'multipart/mixed;boundary=b1');
      expect(ok.message.headers.get('content-type')).toBe('application/sdp');
      expect(mLines(body(ok))).toHaveLength(1);
      const atAgent = agent.calls[n]!.invite;
      expect(atAgent.message.headers.get('content-type')).toBe('application/sdp');
      expect(body(atAgent)).not.toMatch(/b1|isup/i);
      await cc.bridged(dialog.callId);
      // Hold, offered in SIP-I again (the ISUP part without a disposition: CHOICE, optional).
      const hold = request({ method: 'INVITE', uri: dialog.target, peer: caller.peer, callId: dialog.callId, fromTag: dialog.fromTag, toTag: dialog.toTag, to: `<${dialog.uri}>`, cseq: 2, body: sipI(offerOf(caller, 'sendonly')), contentType: 'multipart/mixed;boundary=b1' });
      await caller.peer.send(hold, cc.udp);
      let held: Received | undefined;
      const answered = (r: Received): boolean => r.info.callId === dialog.callId && r.message.kind === 'response' && r.info.cseq === 2 && r.message.status >= 200;
      await eventually(() => (held = caller.peer.received.find(answered)) !== undefined, 15_000, 'the answer to the hold');
      expect(held!.message.kind === 'response' && held!.message.status).toBe(200);
      expect(parseSdp(body(held!)).media[0]!.direction).toBe('recvonly');
      await caller.peer.send(request({ method: 'ACK', uri: dialog.target, peer: caller.peer, callId: dialog.callId, fromTag: dialog.fromTag, toTag: dialog.toTag, to: `<${dialog.uri}>`, cseq: 2 }), cc.udp);
      await hangUp(caller, dialog, 3);
    } finally {
      caller.close();
    }
  });

  it('an ISUP part that says handling=required is not understood: 415 with Accept, and no agent rings', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const invite = request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${cc.udp.port}`, peer: caller.peer, body: sipI(offerOf(caller), 'signal;handling=required'), contentType: 'multipart/mixed;boundary=b1' });
      await caller.peer.send(invite, cc.udp);
      const refused = await caller.peer.waitResponse(415, 'INVITE');
      expect(refused.message.headers.get('accept')).toMatch(/^application\/sdp, multipart\/mixed/);
      expect(agent.calls.length).toBe(n);
      await cc.settled();
    } finally {
      caller.close();
    }
  });
});

describe('a delayed offer whose ACK brings no answer (RFC 3261 §13.2.2.4, RFC 3264 §4)', () => {
  it.each([
    ['the after-hours message', '2000'],
    ['voicemail', '3000'],
    ['a queue (the agent offered)', '1000'],
  ])('to %s: BYE saying why, one record, and nothing left (session, rtpengine, dialogs)', async (_what, number) => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, number, { delayedOffer: true, ackWithoutAnswer: true });
      await call.waitStatus(200, 20_000);
      await call.waitRequest('BYE', 20_000);
      const bye = caller.peer.received.find((r) => r.info.callId === call.callId && r.message.kind === 'request' && r.message.method === 'BYE')!;
      expect(bye.message.headers.get('reason')).toBe('Q.850;cause=111;text="caller sent no answer"');
      expect(await cc.recordOf(call.callId)).toMatchObject({ endReason: 'caller sent no answer', endedBy: 'engine' });
      await cc.settled();
      expect(cc.records().filter((r) => r.sipCallId === call.callId)).toHaveLength(1);
    } finally {
      caller.close();
    }
  });
});

describe('behind a SIP server that passes every body on (as an external drachtio-server does)', () => {
  let open: ContactCenter;
  beforeAll(async () => {
    open = await startContactCenter({ sipServer: { uas: { bodyTypes: [] } }, queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }] }, { media: false });
  });
  afterAll(async () => {
    await open?.stop();
  });

  it.each([
    ['an ISUP part that says handling=required', 'multipart/mixed;boundary=b1', '--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n--b1\r\nContent-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=required\r\n\r\nx\r\n--b1--\r\n'],
    ['no SDP part', 'multipart/mixed;boundary=b1', '--b1\r\nContent-Type: application/isup;version=itu-t92+\r\n\r\nx\r\n--b1--\r\n'],
    ['a body of another type', 'text/plain', 'hello'],
  ])('the engine refuses a body with %s: 415 with Accept (RFC 3261 §8.2.3), and no agent rings', async (_what, contentType, sent) => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      await caller.peer.send(request({ method: 'INVITE', uri: `sip:1000@127.0.0.1:${open.udp.port}`, peer: caller.peer, body: sent, contentType }), open.udp);
      const refused = await caller.peer.waitResponse(415, 'INVITE');
      expect(refused.message.headers.get('accept')).toBe('application/sdp, multipart/mixed, multipart/alternative, multipart/related');
      expect(agent.calls.length).toBe(n);
      await open.settled();
    } finally {
      caller.close();
    }
  });
});
