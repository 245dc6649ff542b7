/**
 * Recording on a live call, delivered through the real pipeline (recordings
 * worker child, Redis, directory CRM): started at the bridge, paused and
 * resumed by the agent's keys (RFC 4733 and SIP INFO, which the caller does
 * not get) and by the engine's call control; the delivered file has the caller on the left, the agent on
 * the right, no whisper, and silence exactly where it was paused; its CRM
 * metadata carries the call record. A worker that exits (a stray signal) is
 * restarted and delivers what was handed over meanwhile.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallRecord } from '../../src/engine/call-record.js';
import { medianToneLevel, silentSpans, splitStereo } from '../recordings/support/audio-check.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { readAudio } from '../support/rtp/audio-check.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter(
    {
      engine: { recordingCodes: { pause: '*7', resume: '*8' } },
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

/** Waits until the caller has received `n` more packets (the call carried about n×20 ms of audio). */
async function talk(n: number): Promise<void> {
  const from = caller.rtp.received.length;
  await eventually(() => caller.rtp.received.length >= from + n, 15_000, `${n} packets of audio`);
}

function readEvents(): string {
  try {
    return readFileSync(join(cc.dir, 'recordings', 'events.jsonl'), 'utf8');
  } catch {
    return '(none)';
  }
}

function recordingState(id: string): string | undefined {
  return cc.sb.engine.control.get(id).recording?.state;
}

describe('a recorded call', () => {
  it('pauses and resumes by agent codes and by call control; the delivered file has both parties and silence where paused', async () => {
    const call = caller.dial(cc.udp, '1000');
    // A key the agent presses during the whisper (the call is blocked then) does not reach the caller either.
    await eventually(() => agent.calls.at(-1)?.answered === true, 30_000, 'the agent answered');
    await agent.rtp.sendDigit('5');
    await call.waitStatus(200, 30_000);
    const id = cc.sb.engine.control.list().find((c) => c.sipCallId === call.callId)!.id;
    await eventually(() => recordingState(id) === 'recording', 10_000, 'recording started');
    // The live call journal names the recording: a call recovered after a crash still does.
    const recordingId = cc.sb.engine.control.get(id).recording!.id;
    const journal = join(cc.dir, 'calls', 'live');
    await eventually(() => existsSync(journal) && readdirSync(journal).some((f) => readFileSync(join(journal, f), 'utf8').includes(recordingId)), 10_000, 'the recording in the live call journal');
    await talk(60);
    // Every pause and resume shows in the call's details (`changed`: the API's call.updated), whoever asked.
    const shown: string[] = [];
    cc.sb.engine.calls.on('changed', (s) => {
      if (s.id === id) shown.push(s.recording?.state ?? 'none');
    });
    // When each pause and resume was asked for: it took effect between then and the time it recorded.
    const asked: { pause: number; resume: number }[] = [];
    // The agent keys *7 as RFC 4733 events: the recording pauses.
    asked.push({ pause: Date.now(), resume: 0 });
    await agent.rtp.sendDigit('*');
    await agent.rtp.sendDigit('7');
    await eventually(() => recordingState(id) === 'paused', 10_000, 'paused by *7');
    await talk(50);
    // *8 over SIP INFO: it resumes.
    asked[0]!.resume = Date.now();
    agent.info('*');
    agent.info('8');
    await eventually(() => recordingState(id) === 'recording', 10_000, 'resumed by *8');
    await talk(50);
    asked.push({ pause: Date.now(), resume: 0 });
    await cc.sb.engine.control.pauseRecording(id);
    await talk(40);
    asked[1]!.resume = Date.now();
    await cc.sb.engine.control.resumeRecording(id);
    await talk(50);
    expect(shown).toEqual(['paused', 'recording', 'paused', 'recording']);
    call.hangUp();
    const record: CallRecord = await cc.recordOf(call.callId);
    // The agent's keys were for us: the caller got neither its RFC 4733 events nor its INFO.
    expect(caller.rtp.received.filter((p) => p.payloadType === 101)).toHaveLength(0);
    expect(caller.peer.received.filter((r) => r.message.kind === 'request' && r.message.method === 'INFO')).toHaveLength(0);
    // A stray SIGTERM to the recordings worker (its pid from /status): it is restarted and still delivers.
    const before = (await cc.sb.status()) as { recordingsWorker: { pid: number; restarts: number } };
    process.kill(before.recordingsWorker.pid, 'SIGTERM');
    await eventually(async () => {
      const w = ((await cc.sb.status()) as { recordingsWorker: { pid: number | null; restarts: number } }).recordingsWorker;
      return w.restarts > before.recordingsWorker.restarts && w.pid !== null && w.pid !== before.recordingsWorker.pid;
    }, 30_000, 'the recordings worker restarted');
    expect(record.recordings).toEqual([recordingId]);
    const crmDir = join(cc.dir, 'crm', recordingId);
    await eventually(() => existsSync(crmDir) && readdirSync(crmDir).some((f) => f.endsWith('.wav.json')), 60_000, () => `the recording delivered to the CRM; events: ${readEvents()}`);
    const wavName = readdirSync(crmDir).find((f) => f.endsWith('.wav'))!;
    const meta = JSON.parse(readFileSync(join(crmDir, `${wavName}.json`), 'utf8')) as { metadata: { kind: string; pauses: { pausedAt: string; resumedAt: string }[]; details: { callRecord: CallRecord } } };
    expect(meta.metadata.kind).toBe('call');
    expect(meta.metadata.details.callRecord).toMatchObject({ call: id, queuePath: ['support'], dialed: '1000' });
    expect(meta.metadata.pauses).toHaveLength(2);

    const wav = readAudio(join(crmDir, wavName));
    expect(wav.channels).toBe(2);
    const pcm = Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength);
    const { left, right } = splitStereo(pcm);
    const durationMs = (left.length / 8000) * 1000;
    const spansL = silentSpans(left, 300);
    const spansR = silentSpans(right, 300);
    expect(spansL).toHaveLength(2);
    expect(spansR).toHaveLength(2);
    // Each silence is as long as its pause: no shorter than from its recorded pause to the resume
    // being asked for, no longer than from the pause being asked for to its recorded resume (give or
    // take two 20 ms packets at the edges), however long the commands took on a busy machine.
    // A phone running late (catching up in a burst) moves an edge by as much: measured from what it sent.
    const late = Math.max(...[caller.tone, agent.tone].map((t) => (t === undefined ? 0 : Math.max(0, ...t.sent.map((x) => x.sentMs - (t.sent[0]!.sentMs + x.index * 20))))));
    meta.metadata.pauses.forEach((p, i) => {
      for (const spans of [spansL, spansR]) {
        const silence = spans[i]!.to - spans[i]!.from;
        expect(silence).toBeGreaterThanOrEqual(asked[i]!.resume - Date.parse(p.pausedAt) - 40 - late);
        expect(silence).toBeLessThanOrEqual(Date.parse(p.resumedAt) - asked[i]!.pause + 40 + late);
      }
    });
    // Outside the pauses: the caller on the left, the agent on the right.
    const talkFrom = 100;
    const talkTo = spansL[0]!.from - 100;
    expect(medianToneLevel(left, talkFrom, talkTo, 700)).toBeGreaterThan(1000);
    expect(medianToneLevel(right, talkFrom, talkTo, 1300)).toBeGreaterThan(1000);
    expect(medianToneLevel(left, spansL[1]!.to + 100, durationMs - 100, 700)).toBeGreaterThan(1000);
    await cc.settled();
  });
});
