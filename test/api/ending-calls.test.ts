/**
 * Ending calls through the API (the seed's "End Call" for stuck calls) and
 * recording control, on the real engine with real phones, rtpengine and the
 * recording pipeline: a call stuck in queue (its ringing agent gets CANCEL,
 * the caller a final response) and a connected, recorded call (BYE to both
 * legs, the recording finished and delivered with the pause made through the
 * API); every count returns to zero, and the audit log and the call record
 * say who did it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import { generateKey } from '../../src/api/auth/api-key.js';
import type { CallDetailsView, CallSummary } from '../../src/api/schemas.js';
import type { CallRecord } from '../../src/engine/call-record.js';
import { silentSpans, splitStereo } from '../recordings/support/audio-check.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';
import { readAudio } from '../support/rtp/audio-check.js';
import { apiClient } from './support/api-http.js';

let cc: ContactCenter;
let agent: AgentPhone;
let caller: CallerPhone;
const manager = generateKey();
const admin = generateKey();
let asManager: ReturnType<typeof apiClient>;
let asAdmin: ReturnType<typeof apiClient>;

beforeAll(async () => {
  agent = await AgentPhone.create(1300);
  caller = await CallerPhone.create(700);
  cc = await startContactCenter(
    {
      media: { whisper: { enabled: false } },
      api: {
        enabled: true,
        port: 0,
        keys: [
          { id: manager.id, user: 'mia', role: 'manager', teams: ['care'], hash: manager.hash },
          { id: admin.id, user: 'alice', role: 'admin', hash: admin.hash },
        ],
      },
      queues: [{ id: 'support', name: 'Support', team: 'care', numbers: ['1000'], agents: [agent.uri()], ringTimeoutSeconds: 120 }],
    },
    { worker: true },
  );
  asManager = apiClient(cc.sb.api!.port, manager.key);
  asAdmin = apiClient(cc.sb.api!.port, admin.key);
});
afterAll(async () => {
  await cc?.stop();
  agent?.close();
  caller?.close();
});

async function callIdOf(sipCallId: string, state: string): Promise<string> {
  let id = '';
  await eventually(async () => {
    const { body } = await asManager<{ calls: CallSummary[] }>('GET', `/calls?state=${state}`);
    id = body.calls.find((c) => c.sipCallId === sipCallId)?.id ?? '';
    return id !== '';
  }, 10_000, `the call ${state}`);
  return id;
}

async function talk(n: number): Promise<void> {
  const from = caller.rtp.received.length;
  await eventually(() => caller.rtp.received.length >= from + n, 15_000, `${n} packets of audio`);
}

describe('ending a call', () => {
  it('stuck in queue: the ringing agent gets CANCEL, the caller a final response; the record and the audit log name the manager', async () => {
    agent.behaviour = 'ring';
    try {
      const call = caller.dial(cc.udp, '1000');
      const id = await callIdOf(call.callId, 'in-queue');
      await eventually(() => agent.calls.some((c) => c.invite.message.headers.get('x-switchboard-call') === id), 10_000, 'the agent ringing');
      const agentCall = agent.calls.find((c) => c.invite.message.headers.get('x-switchboard-call') === id)!;
      const before = await asManager<CallDetailsView>('GET', `/calls/${id}`);
      expect(before.body).toMatchObject({ state: 'in-queue', team: 'care', participants: expect.arrayContaining([expect.objectContaining({ role: 'agent', state: 'ringing' })]) });

      const res = await asManager('POST', `/calls/${id}/end`, { confirm: true, reason: 'stuck in queue' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ call: id, endedBy: 'mia' });
      await eventually(() => agentCall.requests.includes('CANCEL'), 10_000, 'CANCEL at the ringing agent');
      const final = await call.waitFinal();
      expect(final).toBeGreaterThanOrEqual(400);
      expect((await asManager('GET', `/calls/${id}`)).status).toBe(404);
      await cc.settled();

      const record = await cc.recordOf(call.callId);
      expect(record).toMatchObject({ call: id, endedBy: 'supervisor', facts: { endedByUser: 'mia' }, endReason: 'ended by mia: stuck in queue', agent: null });
      expect(record.agentsTried.map((a) => a.agent)).toEqual([agent.uri()]);
      const [entry] = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries;
      expect(entry).toMatchObject({ action: 'call.end', outcome: 'ok', user: 'mia', role: 'manager', status: 200, reason: 'stuck in queue (was in-queue)' });
    } finally {
      agent.behaviour = 'answer';
    }
  });

  it('connected and recorded: paused and resumed through the API (details and recording show it), then ended: BYE to both legs, the recording delivered', async () => {
    const call = caller.dial(cc.udp, '1000');
    await call.waitStatus(200, 30_000);
    const id = await callIdOf(call.callId, 'connected');
    const agentCall = agent.calls.at(-1)!;
    await eventually(async () => (await asManager<CallDetailsView>('GET', `/calls/${id}`)).body.recording?.state === 'recording', 10_000, 'recording');
    await talk(50);

    const pauseAsked = Date.now();
    const paused = await asManager<{ recording: { state: string } }>('POST', `/calls/${id}/recording/pause`);
    expect(paused.status, JSON.stringify(paused.body)).toBe(200);
    expect(paused.body.recording.state).toBe('paused');
    expect((await asManager<CallDetailsView>('GET', `/calls/${id}`)).body.recording?.state).toBe('paused');
    // Pausing twice is the caller's mistake: 409 with the reason.
    const again = await asManager('POST', `/calls/${id}/recording/pause`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'SB_CONFLICT', reason: expect.stringMatching(/is paused/) });
    await talk(50);
    const resumeAsked = Date.now();
    const resumed = await asManager<{ recording: { state: string } }>('POST', `/calls/${id}/recording/resume`);
    expect(resumed.body.recording.state).toBe('recording');
    await talk(50);

    const res = await asManager('POST', `/calls/${id}/end`, { confirm: true, reason: 'customer asked' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await call.waitRequest('BYE');
    await eventually(() => agentCall.requests.includes('BYE'), 10_000, 'BYE at the agent');
    const record: CallRecord = await cc.recordOf(call.callId);
    expect(record).toMatchObject({ endedBy: 'supervisor', facts: { endedByUser: 'mia' }, agent: agent.uri() });
    expect(record.recordings).toHaveLength(1);
    await cc.settled();

    // The recording: finished at the end, delivered with the one pause made through the API, silent exactly there.
    const crmDir = join(cc.dir, 'crm', record.recordings[0]!);
    await eventually(() => existsSync(crmDir) && readdirSync(crmDir).some((f) => f.endsWith('.wav.json')), 60_000, 'the recording delivered');
    const wavName = readdirSync(crmDir).find((f) => f.endsWith('.wav'))!;
    const meta = JSON.parse(readFileSync(join(crmDir, `${wavName}.json`), 'utf8')) as { metadata: { pauses: { pausedAt: string; resumedAt: string }[]; details: { callRecord: CallRecord } } };
    expect(meta.metadata.pauses).toHaveLength(1);
    expect(meta.metadata.details.callRecord).toMatchObject({ endedBy: 'supervisor', facts: { endedByUser: 'mia' } });
    const wav = readAudio(join(crmDir, wavName));
    const { left } = splitStereo(Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength));
    const spans = silentSpans(left, 300);
    expect(spans).toHaveLength(1);
    // As long as the pause: each edge took effect between its request and the time the recording noted
    // (give or take two 20 ms packets), however long the commands took on a busy machine.
    // A stream's place in the recording comes from its first packets' capture times, so a phone that
    // ran late (and caught up in a burst) moves an edge by as much: measured from what it sent.
    const late = Math.max(...[caller.tone, agent.tone].map((t) => (t === undefined ? 0 : Math.max(0, ...t.sent.map((p) => p.sentMs - (t.sent[0]!.sentMs + p.index * 20))))));
    const silence = spans[0]!.to - spans[0]!.from;
    expect(silence).toBeGreaterThanOrEqual(resumeAsked - Date.parse(meta.metadata.pauses[0]!.pausedAt) - 40 - late);
    expect(silence).toBeLessThanOrEqual(Date.parse(meta.metadata.pauses[0]!.resumedAt) - pauseAsked + 40 + late);

    const actions = (await asAdmin<{ entries: AuditEntry[] }>('GET', `/audit?call=${id}`)).body.entries.map((e) => [e.action, e.outcome, e.user]);
    expect(actions).toEqual([
      ['recording.pause', 'ok', 'mia'],
      ['recording.pause', 'failed', 'mia'],
      ['recording.resume', 'ok', 'mia'],
      ['call.end', 'ok', 'mia'],
    ]);
  }, 120_000);
});
