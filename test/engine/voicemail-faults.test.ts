/**
 * A voicemail whose prompts rtpengine fails to play, or whose silence meter it
 * refuses, still takes the caller's message (review AI-3): under load rtpengine
 * answered "Failed to start media playback from file" to the greeting, and
 * "Failed to request subscription" to the meter, and the answered caller was
 * hung up on with nothing recorded. Here rtpengine's `play media` fails for
 * every prompt, and for the second call its `subscribe request` fails too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RtpengineError } from '../../src/media/media-errors.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let caller: CallerPhone;
let refuseSubscriptions = false;

beforeAll(async () => {
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({
    engine: { voicemail: { maxSeconds: 5, silenceSeconds: 2 } },
    deflection: { messages: { voicemailGreeting: { en: { text: 'Leave a message.' } } } },
    queues: [{ id: 'voicemail', name: 'Voicemail', numbers: ['3000'], emergency: { force: 'closed' }, deflection: { ivr: { option: 'voicemail' } } }],
  }, { worker: true });
  const client = cc.sb.media!.instances[0]!.client;
  const request = client.request.bind(client);
  (client as { request: typeof request }).request = ((command: string, params: never) => {
    if (command === 'play media') return Promise.reject(new RtpengineError(command, 'Failed to start media playback from file', 'test'));
    if (command === 'subscribe request' && refuseSubscriptions) return Promise.reject(new RtpengineError(command, 'Failed to request subscription', 'test'));
    return request(command as 'offer', params);
  });
});
afterAll(async () => {
  await cc?.stop();
  caller?.close();
});

it('the greeting not played: the message is recorded all the same, ended by silence', async () => {
  const call = caller.dial(cc.udp, '3000', { fromUser: '+15551230000' });
  await call.waitStatus(200);
  await eventually(() => cc.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the message being recorded');
  caller.tone?.stop();
  await call.waitRequest('BYE', 30_000);
  const record = await cc.recordOf(call.callId);
  expect(record.endReason).toBe('voicemail recorded (silence)');
  expect(record.recordings).toHaveLength(1);
  await cc.settled();
}, 60_000);

it('no silence meter either: the message is recorded to its maximum length', async () => {
  refuseSubscriptions = true;
  const call = caller.dial(cc.udp, '3000', { fromUser: '+15551230000' });
  await call.waitStatus(200);
  caller.tone?.stop();
  await call.waitRequest('BYE', 30_000);
  const record = await cc.recordOf(call.callId);
  expect(record.endReason).toBe('voicemail recorded (maximum length reached)');
  expect(record.recordings).toHaveLength(1);
  await cc.settled();
}, 60_000);
