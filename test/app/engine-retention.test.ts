/**
 * The 7-day limit holds while the engine runs, with no recordings worker (node.recordingsWorker:
 * false, the workers elsewhere and down): the engine sweeps the spool itself, reports what it
 * deleted, and its /metrics and /status show what waits in the spool and the recording events.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSwitchboard, type RunningSwitchboard } from '../../src/app/switchboard.js';
import { loadConfigObject } from '../../src/config/load.js';
import { silentLogger } from '../../src/observability/logger.js';
import { RecordingStore } from '../../src/recordings/store/recording-store.js';
import { waitFor } from '../recordings/support/harness.js';
import { recordingFixture } from '../recordings/support/recording-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'sb-engine-ret-'));
let sb: RunningSwitchboard | undefined;
afterAll(async () => {
  await sb?.stop();
  rmSync(root, { recursive: true, force: true });
});

const DAY = 86_400_000;

describe('retention without a recordings worker', () => {
  it('the engine deletes an over-age recording and reports it expired; /metrics and /status show the spool', async () => {
    const stateDir = join(root, 'state');
    const config = loadConfigObject({
      node: { stateDir, logLevel: 'silent', recordingsWorker: false, status: { enabled: true, host: '127.0.0.1', port: 0 } },
      sipServer: { thread: 'inline', listen: [{ transport: 'udp', host: '127.0.0.1', port: 0 }], control: { port: 0 }, overload: { enabled: false } },
      recordings: { sweepIntervalSeconds: 1 },
    });
    // What an earlier run left in the spool: one recording 8 days old (with its capture), one an hour old.
    const store = new RecordingStore(join(stateDir, 'recordings'));
    await store.init();
    const captureDir = join(stateDir, 'rtpengine', 'recordings');
    const old = recordingFixture({ recordingId: 'rec-old', captureDir, seconds: 1, startedAt: Date.now() - 8 * DAY, retentionMs: 7 * DAY });
    const young = recordingFixture({ recordingId: 'rec-young', captureDir, seconds: 1, startedAt: Date.now() - 3_600_000 });
    await store.create(old.manifest);
    await store.create(young.manifest);

    sb = await startSwitchboard(config, silentLogger(), { media: false });
    const eventsFile = join(stateDir, 'recordings', 'events.jsonl');
    const events = (): { type: string; recordingId: string; callId?: string; reason?: string }[] =>
      existsSync(eventsFile) ? readFileSync(eventsFile, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as never) : [];
    await waitFor(() => events().some((e) => e.type === 'expired' && e.recordingId === 'rec-old'), 30_000, 'rec-old to be reported expired');

    const expired = events().filter((e) => e.type === 'expired');
    expect(expired.map((e) => [e.recordingId, e.callId])).toEqual([['rec-old', 'rec-old@test.invalid']]);
    expect(expired[0]!.reason).toContain('retention limit');
    // The tombstone and the event come first, then the files go (expire.ts: a crash in between is finished by the next sweep).
    await waitFor(async () => !existsSync(old.pcap) && (await store.readManifest('rec-old')) === undefined, 30_000, 'rec-old deleted');
    expect((await store.readManifest('rec-young'))?.recordingId).toBe('rec-young');
    expect(existsSync(young.pcap)).toBe(true);

    // What the sweep found, once it has finished: one recording waiting, an hour old; one expired event.
    const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${sb!.statusPort}/metrics`)).text();
    await waitFor(async () => /^switchboard_recordings_spool_recordings 1$/m.test(await metrics()), 30_000, 'the spool gauge');
    const text = await metrics();
    const age = Number(/^switchboard_recordings_spool_oldest_age_seconds (\S+)$/m.exec(text)?.[1]);
    expect(age).toBeGreaterThanOrEqual(3600);
    expect(age).toBeLessThan(7 * 86_400);
    expect(text).toMatch(/^switchboard_recording_events_total\{type="expired"\} 1$/m);
    const status = (await sb.status()) as { recordings?: { spoolRecordings: number; oldestSpoolAgeSeconds: number } };
    expect(status.recordings?.spoolRecordings).toBe(1);
    expect(status.recordings?.oldestSpoolAgeSeconds).toBeGreaterThanOrEqual(3600);
  }, 90_000);
});
