/**
 * Draining with a recorded call (the README's Drain section): the call goes on
 * until engine.drain.maxSeconds, is ended, and its recording is delivered to
 * the CRM by the real recordings worker child before the drain is over, that
 * is before the worker is stopped and the process exits.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingEvent } from '../../src/recordings/events/recording-events.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter(
    {
      engine: { drain: { maxSeconds: 1, deliverySeconds: 120 } },
      queues: [{ id: 'support', name: 'Support', numbers: ['1000'], agents: [agent.uri()] }],
    },
    { worker: true },
  );
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  caller?.close();
});

function events(): RecordingEvent[] {
  try {
    return readFileSync(join(cc.dir, 'recordings', 'events.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as RecordingEvent);
  } catch {
    return [];
  }
}

describe('draining with a recorded call', () => {
  it('ends the call at the limit and delivers its recording before the drain is over', async () => {
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    const id = cc.sb.engine.control.list().find((c) => c.sipCallId === call.callId)!.id;
    await eventually(() => cc.sb.engine.control.get(id).recording?.state === 'recording', 10_000, 'recording started');
    const from = caller.rtp.received.length;
    await eventually(() => caller.rtp.received.length >= from + 25, 15_000, 'half a second of audio');

    await cc.sb.drain();

    // The drain is over: the call was ended by it, and its recording is already in the CRM.
    const record = await cc.recordOf(call.callId);
    expect(record.endReason).toBe('engine draining');
    expect(record.recordings).toHaveLength(1);
    const recordingId = record.recordings[0]!;
    expect(events().filter((e) => e.recordingId === recordingId).map((e) => e.type)).toContain('uploaded');
    const crmDir = join(cc.dir, 'crm', recordingId);
    expect(existsSync(crmDir) && readdirSync(crmDir).some((f) => f.endsWith('.wav.json'))).toBe(true);
    // The worker was not stopped for it: it is still the one that started with the engine.
    const status = (await cc.sb.status()) as { recordingsWorker: { pid: number | null; restarts: number } };
    expect(status.recordingsWorker.pid).not.toBeNull();
    expect(status.recordingsWorker.restarts).toBe(0);
    await call.waitRequest('BYE', 10_000);
  }, 90_000);
});
