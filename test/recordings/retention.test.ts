/**
 * Retention with a shortened limit: a recording the CRM never accepts is
 * deleted at the limit and reported as expired (lost), retries stop there, and
 * nothing older than the limit survives on disk — including capture files no
 * recording ever claimed.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { FakeCrm } from './support/fake-crm.js';
import { collectEvents, testConfig, waitFor } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'sb-rec-ret-'));
let redis: EmbeddedRedis;
let crm: FakeCrm;
let worker: RecordingsWorker | undefined;

beforeAll(async () => {
  redis = new EmbeddedRedis({ dir: join(root, 'redis'), logger: silentLogger() });
  await redis.start();
  crm = new FakeCrm({ fault: () => ({ kind: 'status', status: 500, body: 'CRM down for maintenance' }) });
  await crm.start();
});
afterAll(async () => {
  await worker?.stop();
  await crm.stop();
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

describe('retention: nothing is kept past the limit, and every deletion is reported', () => {
  it('deletes an undeliverable recording at the limit, stops retrying, reports it expired with the reason', async () => {
    const retentionSeconds = 3;
    const config = testConfig({ stateDir: join(root, 'state'), crmUrl: crm.url, redisUrl: redis.url, recordings: { retentionSeconds, sweepIntervalSeconds: 1 } });
    worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    const events = collectEvents(worker.events);
    const captureDir = worker.paths.captureDir;

    // a capture file no recording claims, written 8 days ago
    mkdirSync(join(captureDir, 'pcaps'), { recursive: true });
    const orphan = join(captureDir, 'pcaps', 'forgotten-call-0123456789abcdef.pcap');
    writeFileSync(orphan, Buffer.alloc(100));
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    utimesSync(orphan, eightDaysAgo, eightDaysAgo);

    const started = Date.now();
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
    const f = recordingFixture({ recordingId: 'rec-undeliverable', captureDir, seconds: 3, startedAt: started, retentionMs: retentionSeconds * 1000 });
    await submitter.submit(f.manifest);
    // a recording whose capture never appeared (rtpengine lost it): waits for its segment, then expires too
    const ghost = recordingFixture({ recordingId: 'rec-no-capture', captureDir: join(root, 'elsewhere'), seconds: 1, startedAt: started, retentionMs: retentionSeconds * 1000 });
    await submitter.submit(ghost.manifest);

    await events.until(
      (all) =>
        ['rec-undeliverable', 'rec-no-capture'].every((id) => all.some((e) => e.type === 'expired' && e.recordingId === id)) &&
        all.some((e) => e.type === 'expired' && e.reason?.includes('forgotten-call') === true),
      20_000,
    );
    const deadline = started + retentionSeconds * 1000;

    const expired = events.all.find((e) => e.type === 'expired' && e.recordingId === 'rec-undeliverable')!;
    expect(Date.parse(expired.at)).toBeGreaterThanOrEqual(deadline);
    expect(expired.reason).toContain('retention limit');
    expect(expired.reason).toContain('nothing had been delivered');
    expect(expired.reason).toContain('CRM down for maintenance');
    // it was retried until then, with back-off, and no attempt started at or after the deadline (the
    // worker's own start of each attempt: the CRM sees a request a moment later, in flight)
    const retries = events.all.filter((e) => e.type === 'retrying' && e.recordingId === 'rec-undeliverable');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    for (const r of retries) expect(Date.parse(r.attemptedAt!)).toBeLessThan(deadline);
    // every request the CRM saw was one of those attempts, but for at most one still in flight when the
    // sweeper deleted the recording at the deadline (it ends as expired, with no retrying event)
    expect(crm.requests.length - retries.length).toBeGreaterThanOrEqual(0);
    expect(crm.requests.length - retries.length).toBeLessThanOrEqual(1);

    // the orphan capture file was deleted and reported as a loss
    expect(existsSync(orphan)).toBe(false);
    expect(events.all.some((e) => e.type === 'expired' && e.reason?.includes('forgotten-call-0123456789abcdef.pcap'))).toBe(true);

    // nothing of either recording is left: no spool directory, no capture file, only a tombstone (no audio)
    expect(readdirSync(worker.ctx.store.recordingsDir)).toEqual([]);
    expect(filesUnder(captureDir)).toEqual([]);
    expect((await worker.ctx.store.readTombstone('rec-undeliverable'))?.state).toBe('expired');
    const [day] = await worker.ctx.store.tombstoneDays();
    const tombstone = readFileSync(join(worker.ctx.store.tombstonesDir, day!, 'rec-undeliverable.json'), 'utf8');
    expect(JSON.parse(tombstone)).not.toHaveProperty('audio');
    // the audit file holds the same story
    const audit = readFileSync(worker.paths.eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; recordingId: string });
    expect(audit.filter((e) => e.type === 'expired').map((e) => e.recordingId)).toEqual(expect.arrayContaining(['rec-undeliverable', 'rec-no-capture']));
    // the jobs ended: no attempt runs after the limit
    const w = worker;
    await waitFor(async () => (await w.queues.upload.getJobState('upload-rec-undeliverable')) === 'failed', 5000, 'the upload job to end');
    expect((await w.queues.upload.getJob('upload-rec-undeliverable'))?.failedReason).toContain('expired');
  }, 60_000);
});
