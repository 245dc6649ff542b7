/**
 * After-hours deflections end to end, with real audio where there is audio:
 * the message (heard, then BYE), voicemail with and without a caller number
 * (the callback number keyed in as RFC 4733 events or SIP INFO, re-prompted
 * when too short, delivered to the CRM as a voicemail), deflection to another
 * queue, and to a phone number through an outbound trunk whose SIPp gateway
 * challenges with 407 or 401 and echoes the caller's audio.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goertzel } from '../../src/audio/analysis.js';
import { fallbackSpec } from '../../src/engine/voicemail/voicemail-task.js';
import type { RenderedPrompt } from '../../src/media/index.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone, type PlacedCall } from '../support/phones.js';
import { readAudio, streamPcm, timesHeard } from '../support/rtp/audio-check.js';
import { describeRun, freePort, runSipp } from '../support/sipp.js';

let cc: ContactCenter;
let agent: AgentPhone;
let gatewayPort: number;

const closed = { emergency: { force: 'closed' } };

/** Recording ids of the voicemail notices the engine checked and held (their queue closed). */
const held: string[] = [];

/** The Digest parameters of an Authorization or Proxy-Authorization value (quoted or token values). */
function digestParams(value: string): Map<string, string> {
  return new Map([...value.matchAll(/([a-z-]+)=(?:"([^"]*)"|([^,\s]+))/gi)].map((m) => [m[1]!.toLowerCase(), m[2] ?? m[3]!]));
}

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  gatewayPort = await freePort();
  cc = await startContactCenter(
    {
      engine: { voicemail: { maxSeconds: 10, silenceSeconds: 2, digitTimeoutSeconds: 3, attempts: 2, callbackDigits: { min: 7, max: 12 } } },
      media: { whisper: { countdown: false } },
      deflection: {
        calls: { enabled: true, ivr: { option: 'message' } },
        messages: {
          afterHours: { en: { text: 'We are closed now.' } },
          voicemailAskNumber: { en: { text: 'Key in your number.' } },
          voicemailGreeting: { en: { text: 'Leave a message.' } },
        },
      },
      trunks: { outbound: [{ id: 'carrier', host: '127.0.0.1', port: gatewayPort, username: 'switchboard', password: 's3cret' }] },
      queues: [
        { id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] },
        { id: 'after-hours', name: 'After hours', numbers: ['2000'], ...closed, deflection: { ivr: { option: 'message' } } },
        { id: 'voicemail', name: 'Voicemail', numbers: ['3000'], agents: [agent.uri()], ...closed, deflection: { ivr: { option: 'voicemail' } } },
        { id: 'overflow', name: 'Overflow', numbers: ['4000'], ...closed, deflection: { ivr: { option: 'queue', queue: 'support' } } },
        { id: 'forward', name: 'Forward', numbers: ['5000'], ...closed, deflection: { ivr: { option: 'phoneNumber', phoneNumber: '+15550199' } } },
        // An emergency closure with its own announcement (played in place of the after-hours message).
        { id: 'storm', name: 'Storm', numbers: ['2001'], emergency: { force: 'closed', reason: 'storm', message: { en: { text: 'Because of the storm we are closed.' } } } },
      ],
    },
    { worker: true },
  );
  cc.sb.engine.notices.on('held', (n) => held.push(n.recordingId));
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

/** How many times `phone` heard `prompt` (runs of received audio that begin with it). */
function streamsWith(phone: CallerPhone, prompt: RenderedPrompt): number {
  return timesHeard(phone.rtp.received, readAudio(prompt.path).samples);
}

async function delivered(recordingId: string): Promise<{ wav: string; meta: { metadata: { kind: string; startedAt: string; details: Record<string, unknown> } } }> {
  const dir = join(cc.dir, 'crm', recordingId);
  await eventually(() => existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.wav.json')), 60_000, 'the recording delivered to the CRM');
  const name = readdirSync(dir).find((f) => f.endsWith('.wav'))!;
  return { wav: join(dir, name), meta: JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as never };
}

/**
 * The caller says something once recording has begun: a second of its tone sent. Hanging up at once
 * can leave a capture with no audio on a busy machine, which the pipeline rightly reports as an error
 * instead of delivering it (so the test would wait for a delivery that never comes).
 */
async function spoken(caller: CallerPhone): Promise<void> {
  const from = caller.tone!.sent.length;
  await eventually(() => caller.tone!.sent.length >= from + 50, 20_000, 'a second of the caller\'s voice into the recording');
}

/**
 * A withheld caller to the voicemail keys `first` (refused), is asked again, keys 5551234567# (taken);
 * resolves once its message is being recorded and it has said something.
 */
async function takenAtSecondTry(caller: CallerPhone, first: string): Promise<PlacedCall> {
  const call = caller.dial(cc.udp, '3000', { fromUser: 'anonymous', extra: ['Privacy: id'] });
  await call.waitStatus(200);
  const ask = await cc.sb.media!.prompts.configuredPrompt('deflection.messages.voicemailAskNumber.en');
  await eventually(() => streamsWith(caller, ask) >= 1, 20_000, 'the caller is asked for a number', 250);
  for (const d of first) await caller.rtp.sendDigit(d);
  await eventually(() => streamsWith(caller, ask) >= 2, 20_000, 'the caller is asked for the number again', 250);
  for (const d of '5551234567#') await caller.rtp.sendDigit(d);
  await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the message is being recorded');
  await spoken(caller);
  return call;
}

describe('after-hours deflections', () => {
  it('the default callback prompts a voicemail falls back on are rendered at start-up, like the configured ones', async () => {
    // First in the file: no call has played them yet. The configuration sets only voicemailAskNumber.
    const prompts = cc.sb.media!.prompts;
    const before = { ...prompts.renderer.stats };
    for (const key of ['blockedNumber', 'numberEntered'] as const) await prompts.fromSpec(fallbackSpec(key), { language: 'en' });
    expect(prompts.renderer.stats.renders).toBe(before.renders);
    expect(prompts.renderer.stats.cacheHits).toBe(before.cacheHits + 2);
  });

  it('message: the caller is answered, hears the message, then gets BYE', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '2000');
      await call.waitStatus(200);
      await call.waitRequest('BYE', 20_000);
      const message = await cc.sb.media!.prompts.configuredPrompt('deflection.messages.afterHours.en');
      expect(streamsWith(caller, message)).toBe(1);
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ deflection: { action: 'message' }, endedBy: 'engine', endReason: 'after-hours message played' });
      expect(record.decisions[0]).toMatchObject({ open: false, action: 'message', reason: 'emergency' });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('an emergency closure with its own message: the caller hears that message, then gets BYE', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '2001');
      await call.waitStatus(200);
      await call.waitRequest('BYE', 20_000);
      // Found (and pre-rendered) by its configuration path: the queue by its index.
      const message = await cc.sb.media!.prompts.configuredPrompt('queues[5].emergency.message.en');
      expect(streamsWith(caller, message)).toBe(1);
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ deflection: { action: 'message', target: 'queues[5].emergency.message.en' }, endReason: 'after-hours message played' });
      expect(record.decisions[0]).toMatchObject({ queue: 'storm', open: false, action: 'message', reason: 'emergency' });
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('voicemail from a caller with a number: greeting, message until silence, delivered to the CRM with its metadata', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '3000', { fromUser: '+15551230000' });
      await call.waitStatus(200);
      await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the message is being recorded');
      // The caller speaks (its tone) for longer than the silence limit (2 s): the recording goes on.
      const sent = caller.tone!.sent.length;
      await eventually(() => caller.tone!.sent.length > sent + 175, 20_000, '3.5 s of the caller speaking');
      expect(call.requests).not.toContain('BYE');
      // Then it falls silent: the engine hangs up.
      caller.tone!.stop();
      await call.waitRequest('BYE', 30_000);
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ deflection: { action: 'voicemail', target: 'voicemail' }, facts: { callbackNumber: '+15551230000' } });
      expect(record.endReason).toBe('voicemail recorded (silence)');
      // "Leave a message after the tone": the caller heard the tone once, and it is not in the message.
      const beep = await cc.sb.media!.prompts.renderer.render({ kind: 'tone', frequency: 1000, ms: 400 });
      expect(streamsWith(caller, beep)).toBe(1);
      const { wav, meta } = await delivered(record.recordings[0]!);
      expect(meta.metadata.kind).toBe('voicemail');
      // The wait ended at the deflection, before the message was recorded: the message is not waiting
      // (an order of the engine's own marks, not a duration).
      expect(Date.parse(record.times.arrived) + record.metrics.waitMs).toBeLessThanOrEqual(Date.parse(meta.metadata.startedAt));
      expect(meta.metadata.details).toMatchObject({ queue: 'voicemail', callbackNumber: '+15551230000', language: 'en' });
      // with the call's record (reserved data, trunk, decisions), as any call's recording
      expect(meta.metadata.details.callRecord).toMatchObject({ call: record.call, deflection: { action: 'voicemail' }, facts: { callbackNumber: '+15551230000' } });
      const audio = readAudio(wav);
      const left = audio.channels === 2 ? audio.samples.filter((_, i) => i % 2 === 0) : audio.samples;
      expect(goertzel(left, 700)).toBeGreaterThan(1000);
      for (let side = 0; side < audio.channels; side++) {
        const channel = audio.samples.filter((_, i) => i % audio.channels === side);
        expect(goertzel(channel, 1000), `1 kHz in channel ${side}`).toBeLessThan(goertzel(left, 700) / 100);
      }
      // The queue's agents are told when it opens; closed with no known end, the notice is held
      // (live-voicemail-notices.test.ts: sent once the closure is lifted).
      await eventually(() => held.includes(record.recordings[0]!), 10_000, 'the voicemail notice checked and held');
      expect(existsSync(join(cc.dir, 'voicemail', 'notices.jsonl')) && readFileSync(join(cc.dir, 'voicemail', 'notices.jsonl'), 'utf8').includes(record.recordings[0]!)).toBe(false);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('a caller re-offering while its voicemail records (a session refresh with the same SDP, RFC 4028) is not cut short as "silence" while it speaks', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '3000', { fromUser: '+15551230000' });
      await call.waitStatus(200);
      await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the message is being recorded');
      await spoken(caller);
      call.reinvite('sendrecv');
      await eventually(() => call.responses.filter((s) => s === 200).length >= 2, 10_000, 'the refresh answered');
      // Speaking on for twice the silence limit (2 s): before the fix the re-offer blocked the media again, the
      // voicemail heard nothing and ended "silence" while the caller spoke.
      const sent = caller.tone!.sent.length;
      await eventually(() => caller.tone!.sent.length > sent + 200, 20_000, '4 s of the caller speaking');
      expect(call.requests).not.toContain('BYE');
      caller.tone!.stop();
      await call.waitRequest('BYE', 30_000);
      expect((await cc.recordOf(call.callId)).endReason).toBe('voicemail recorded (silence)');
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it('voicemail from a withheld number: the callback number keyed in as RFC 4733 events (a * in it is asked again), # ends the message', async () => {
    const caller = await CallerPhone.create(700);
    try {
      // A phone number is digits only: with a * it is not taken, and the caller is asked again.
      const call = await takenAtSecondTry(caller, '555*1234567#');
      await caller.rtp.sendDigit('#');
      await call.waitRequest('BYE', 10_000);
      const record = await cc.recordOf(call.callId);
      expect(record.facts.callbackNumber).toBe('5551234567');
      expect(record.endReason).toBe('voicemail recorded (caller pressed #)');
      const { meta } = await delivered(record.recordings[0]!);
      expect(meta.metadata.details).toMatchObject({ callbackNumber: '5551234567', caller: null });
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 150_000); // its own waits add up to more than the default 60 s on a busy machine

  it('a callback number keyed one too many is asked for again once the caller has finished it: the rest of its keys are not the next try', async () => {
    const caller = await CallerPhone.create(700);
    try {
      // 15 digits where 12 are allowed: the 13th must not end the entry, or the last keys and the #
      // would cut the re-prompt short and be taken as the second (and last) try.
      const call = await takenAtSecondTry(caller, '123456789012345#');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.facts.callbackNumber).toBe('5551234567');
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 150_000); // its own waits add up to more than the default 60 s on a busy machine

  it('voicemail from a withheld number keying a too-short number over SIP INFO: asked again, then the voicemail goes on without one', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const call = caller.dial(cc.udp, '3000', { fromUser: 'anonymous' });
      await call.waitStatus(200);
      const ask = await cc.sb.media!.prompts.configuredPrompt('deflection.messages.voicemailAskNumber.en');
      for (let attempt = 1; attempt <= 2; attempt++) {
        await eventually(() => streamsWith(caller, ask) >= attempt, 20_000, `ask number #${attempt}`, 250);
        for (const d of '12#') call.info(d);
      }
      await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'recording without a number');
      await spoken(caller);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.facts.callbackNumber).toBeUndefined();
      expect(record.caller.withheld).toBe(true);
      expect(record.caller.contact).toMatch(/^Phone User - \d\d\/\d\d \d\d:\d\d$/);
      const { meta } = await delivered(record.recordings[0]!);
      expect(meta.metadata.details).toMatchObject({ callbackNumber: null });
      await cc.settled();
    } finally {
      caller.close();
    }
  }, 150_000); // its own waits add up to more than the default 60 s on a busy machine

  it('queue: a closed queue sends the call to the open one, whose whisper and agent take it', async () => {
    const caller = await CallerPhone.create(700);
    try {
      const n = agent.calls.length;
      const call = caller.dial(cc.udp, '4000');
      await call.waitStatus(200, 30_000);
      expect(agent.calls.length).toBe(n + 1);
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      expect(record.queuePath).toEqual(['overflow', 'support']);
      expect(record.decisions.map((d) => [d.queue, d.open, d.action])).toEqual([
        ['overflow', false, 'queue'],
        ['support', true, 'enqueue'],
      ]);
      await cc.settled();
    } finally {
      caller.close();
    }
  });

  it.each(['udp', 'tcp'] as const)('phone number (caller over %s): the carrier challenges with 407 then 401; both are answered and the caller hears the far end', async (transport) => {
    const logDir = mkdtempSync(join(tmpdir(), 'sb-gateway-'));
    const gateway = runSipp({
      scenario: 'uas-gateway-auth.xml',
      port: gatewayPort,
      transport: 'udp',
      calls: 1,
      timeoutSec: 40,
      extra: ['-key', 'user', 'switchboard', '-key', 'pass', 's3cret', '-rtp_echo', '-mp', String(await freePort()), '-trace_logs', '-log_file', join(logDir, 'gateway.log')],
    });
    const caller = await CallerPhone.create(700, transport);
    try {
      const call = caller.dial(transport === 'udp' ? cc.udp : cc.tcp, '5000', { fromUser: '+15551230000' });
      await call.waitStatus(200, 20_000);
      const at = caller.rtp.received.length;
      await eventually(() => caller.rtp.received.length > at + 50, 10_000, 'audio from the gateway');
      // SIPp echoes what it receives: the caller hears its own tone back through rtpengine.
      expect(goertzel(streamPcm(caller.rtp.received.slice(at)), 700)).toBeGreaterThan(1000);
      // The forwarded call is recorded like the queue's calls (recording is on by default).
      await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the forwarded call is being recorded');
      await spoken(caller);
      call.hangUp();
      const result = await gateway.done;
      expect(result.stats.successful, describeRun(result)).toBe(1);
      // The gateway verified the Authorization itself (403 otherwise); SIPp cannot verify a
      // Proxy-Authorization, so its answer to the 407 is checked here (RFC 2617 §3.2.2, no qop).
      const logged = /proxy-authorization: (.*)/.exec(readFileSync(join(logDir, 'gateway.log'), 'utf8'));
      expect(logged, 'the gateway logged the Proxy-Authorization').not.toBeNull();
      const p = digestParams(logged![1]!);
      expect([p.get('username'), p.get('realm'), p.get('nonce')]).toEqual(['switchboard', 'proxy.carrier.example', 'p1c0ffee1']);
      const ha1 = md5('switchboard:proxy.carrier.example:s3cret');
      expect(p.get('response')).toBe(md5(`${ha1}:p1c0ffee1:${md5(`INVITE:${p.get('uri')}`)}`));
      expect(p.get('uri')).toBe('sip:+15550199@127.0.0.1:' + String(gatewayPort));
      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ deflection: { action: 'phoneNumber', target: '+15550199' }, facts: { trunk: 'carrier' } });
      expect(record.recordings).toHaveLength(1);
      const { wav, meta } = await delivered(record.recordings[0]!);
      expect(meta.metadata.kind).toBe('call');
      // Both sides: the caller's tone and the gateway's echo of it.
      const audio = readAudio(wav);
      expect(audio.channels).toBe(2);
      for (const side of [0, 1]) expect(goertzel(audio.samples.filter((_, i) => i % 2 === side), 700), `channel ${side}`).toBeGreaterThan(1000);
      await cc.settled();
    } finally {
      gateway.kill();
      caller.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
