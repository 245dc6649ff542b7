/**
 * Pausing and resuming a recording through the API when what it asks of the
 * media relay goes wrong or the call ends on the way: rtpengine not
 * confirming is a 502 naming it (the recording unchanged, the request can be
 * sent again), never "internal error"; a pause confirmed as the caller hangs
 * up is answered and audited as done. The recording here is a stand-in
 * handle whose rtpengine step the test controls; the real path (rtpengine,
 * the delivered pause) is in ending-calls.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/api/audit/audit-log.js';
import type { CallSession } from '../../src/engine/session/call-session.js';
import { RtpengineTimeoutError } from '../../src/media/media-errors.js';
import { startFixture, type Fixture } from './support/api-fixture.js';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => fx?.close());

/** A recording whose rtpengine step (the stop of a pause, the start of a resume) is `step`. */
function standInRecording(call: CallSession, id: string, state: 'recording' | 'paused', step: () => Promise<void>): { state: string } {
  const handle = {
    recordingId: id,
    state: state as string,
    pending: undefined,
    pause: async () => {
      await step();
      handle.state = 'paused';
    },
    resume: async () => {
      await step();
      handle.state = 'recording';
    },
  };
  (call as unknown as { recording: unknown }).recording = handle;
  return handle;
}

function lastAudit(action: string): AuditEntry | undefined {
  return fx.api.audit.recent(100, (e) => e.action === action).at(-1);
}

describe('recording control when the media relay or the call does not play along', () => {
  it('rtpengine not confirming a pause: 502 with its code and reason, the recording still recording, audited as failed', async () => {
    const call = fx.call('sales', 'connected');
    const handle = standInRecording(call, 'rec-timeout', 'recording', async () => {
      throw new RtpengineTimeoutError('stop recording', 1000, 3, 'rtpengine-1');
    });
    const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/recording/pause`, headers: fx.auth('admin') });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'SB_RTPENGINE_TIMEOUT', reason: expect.stringMatching(/media relay did not confirm.*did not answer "stop recording"/) });
    expect(handle.state).toBe('recording');
    expect(lastAudit('recording.pause')).toMatchObject({ outcome: 'failed', status: 502 });
  });

  it('a resume rtpengine does not confirm is a 502 too', async () => {
    const call = fx.call('sales', 'connected');
    standInRecording(call, 'rec-resume', 'paused', async () => {
      throw new RtpengineTimeoutError('start recording', 1000, 3, 'rtpengine-1');
    });
    const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/recording/resume`, headers: fx.auth('admin') });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ code: 'SB_RTPENGINE_TIMEOUT' });
  });

  it('the caller hangs up while the pause is on its way: the pause was applied, so the answer is 200 paused and the audit says ok', async () => {
    const call = fx.call('sales', 'connected');
    standInRecording(call, 'rec-ended', 'recording', async () => {
      await call.end('caller hung up', 'caller');
    });
    const res = await fx.api.app.inject({ method: 'POST', url: `/calls/${call.id}/recording/pause`, headers: fx.auth('admin') });
    expect(call.ended).toBe(true);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ call: call.id, recording: { id: 'rec-ended', state: 'paused' } });
    expect(lastAudit('recording.pause')).toMatchObject({ outcome: 'ok', status: 200 });
  });
});
