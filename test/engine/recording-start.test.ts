/**
 * A recorded call's recording starts before the parties hear each other
 * (review AI-2, AI-4). Under load rtpengine took up to 3 s to answer `start
 * recording`; the call showed connected meanwhile, so its first words were not
 * recorded (half the short calls recorded nothing), and a supervisor's pause
 * in that window was refused as "not being recorded", then the recording
 * started and kept what was to be redacted. Here rtpengine's answer to `start
 * recording` is held for 1.5 s.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually, sleep } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;
/** When rtpengine answered `start recording` (this process's clock, as packet arrivals). */
let recordingStartedAt = Infinity;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter({ media: { whisper: { countdown: false } }, queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }] }, { worker: true });
  const client = cc.sb.media!.instances[0]!.client;
  const request = client.request.bind(client);
  (client as { request: typeof request }).request = (async (command: string, params: never) => {
    if (command !== 'start recording') return request(command as 'offer', params);
    await sleep(1500);
    const reply = await request(command, params);
    recordingStartedAt = performance.now();
    return reply;
  });
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  caller?.close();
});

it('a call shown connected is recorded already: the caller hears the agent only after the start, and a pause asked for at once is applied', async () => {
  const call = caller.dial(cc.udp, '1000');
  const control = cc.sb.engine.control;
  await eventually(() => control.list().some((c) => c.sipCallId === call.callId && c.state === 'connected'), 30_000, 'connected');
  const id = control.list().find((c) => c.sipCallId === call.callId)!.id;
  expect(control.get(id).recording?.state).toBe('recording');
  // Nothing of the agent reached the caller before the recording had started (the whisper is the agent's alone).
  await eventually(() => caller.rtp.received.some((p) => agent.tone?.ssrcs.includes(p.ssrc) === true), 10_000, "the agent's audio at the caller");
  const firstHeard = caller.rtp.received.find((p) => agent.tone!.ssrcs.includes(p.ssrc))!;
  expect(firstHeard.arrivalMs).toBeGreaterThanOrEqual(recordingStartedAt);
  const paused = await control.pauseRecording(id).then(
    (v) => v.state,
    (e: Error) => e.message,
  );
  expect(paused).toBe('paused');
  call.hangUp();
  const record = await cc.recordOf(call.callId);
  expect(record.recordings).toHaveLength(1);
  await cc.settled();
}, 60_000);
