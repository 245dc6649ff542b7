/**
 * A voicemail left while the queue is closed with no known reopening (an
 * emergency closure without `until`): its agents are not told at once (that
 * would claim the queue open again, probe C F10). The notice is held; once
 * the closure is lifted in the configuration and the engine restarted on it,
 * the held notice is read back and sent, the queue now being open.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VoicemailNotice } from '../../src/engine/voicemail/voicemail-notices.js';
import { startContactCenter, type ContactCenter } from '../support/contact-center.js';
import { eventually } from '../support/harness.js';
import { AgentPhone, CallerPhone } from '../support/phones.js';

let cc: ContactCenter | undefined;
let agent: AgentPhone | undefined;
afterAll(async () => {
  await cc?.stop();
  agent?.close();
});

function settings(queue: Record<string, unknown>): Record<string, unknown> {
  return {
    engine: { voicemail: { maxSeconds: 10, silenceSeconds: 2 } },
    // Recorded (a notice names the voicemail's recording), not delivered: no worker is needed here.
    recordings: { enabled: true },
    deflection: { calls: { enabled: true, ivr: { option: 'voicemail' } }, messages: { voicemailGreeting: { en: { text: 'Leave a message.' } } } },
    queues: [{ id: 'voicemail', name: 'Voicemail', numbers: ['3000'], agents: [agent!.uri()], deflection: { ivr: { option: 'voicemail' } }, ...queue }],
  };
}

const sentNotices = (dir: string): string => {
  const file = join(dir, 'voicemail', 'notices.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
};

describe('voicemail notices wait for the queue to open', () => {
  it('closed with no end: held; the closure lifted and the engine restarted: sent', async () => {
    agent = await AgentPhone.create(1300);
    cc = await startContactCenter(settings({ emergency: { force: 'closed', reason: 'storm' } }));
    const held: VoicemailNotice[] = [];
    cc.sb.engine.notices.on('held', (n) => held.push(n));
    const caller = await CallerPhone.create(700);
    let recordingId: string;
    try {
      const call = caller.dial(cc.udp, '3000', { fromUser: '+15551230000' });
      await call.waitStatus(200);
      await eventually(() => cc!.sb.engine.calls.all().some((s) => s.callId === call.callId && s.recording !== undefined), 20_000, 'the message is being recorded');
      const sent = caller.tone!.sent.length;
      await eventually(() => caller.tone!.sent.length > sent + 50, 20_000, 'a second of the caller speaking');
      call.hangUp();
      const record = await cc.recordOf(call.callId);
      recordingId = record.recordings[0]!;
      expect(recordingId).toBeDefined();
    } finally {
      caller.close();
    }
    // Checked and held: the queue is closed and nobody knows until when.
    await eventually(() => held.some((n) => n.recordingId === recordingId), 10_000, 'the notice held');
    expect(held.find((n) => n.recordingId === recordingId)).toMatchObject({ queue: 'voicemail', notifyAt: null, caller: '+15551230000' });
    expect(sentNotices(cc.dir)).not.toContain(recordingId);
    expect(cc.sb.engine.notices.size).toBe(1);
    await cc.settled();

    // The operator lifts the closure and restarts: the held notice is read back, and sent.
    const dir = cc.dir;
    await cc.stop(true);
    cc = undefined;
    cc = await startContactCenter(settings({}), { dir });
    await eventually(() => sentNotices(dir).includes(recordingId), 10_000, 'the notice sent once the queue is open');
    expect(JSON.parse(sentNotices(dir).trim().split('\n').at(-1)!)).toMatchObject({ recordingId, queue: 'voicemail', notifiedAt: expect.any(String) });
    expect(cc.sb.engine.notices.size).toBe(0);
  }, 120_000);
});
