/**
 * Delivery through BullMQ on a real redis-server to a CRM that misbehaves in
 * every way the issue lists: every recording arrives, parts in order, none
 * attached twice, the audio intact, the local files gone.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { FakeCrm, type Fault } from './support/fake-crm.js';
import { collectEvents, expectedPcm, testConfig } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';
import { eventually } from '../support/harness.js';

const root = mkdtempSync(join(tmpdir(), 'sb-rec-deliv-'));
let redis: EmbeddedRedis;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  redis = new EmbeddedRedis({ dir: join(root, 'redis'), logger: silentLogger() });
  await redis.start();
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
afterAll(async () => {
  await redis.stop();
  rmSync(root, { recursive: true, force: true });
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('a capture that holds no audio', () => {
  it('fails with its reason and is never delivered (no "uploaded" with no parts)', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const config = testConfig({ stateDir: dir, redisUrl: redis.url });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    // rtpengine started and stopped the segment, but no RTP came from either party (a caller whose media never reached it).
    const f = recordingFixture({ recordingId: 'rec-silent', captureDir: worker.paths.captureDir, seconds: 0 });
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
    await submitter.submit(f.manifest);
    await events.until((all) => all.some((e) => e.recordingId === 'rec-silent' && (e.type === 'failed' || e.type === 'uploaded')), 30_000);
    const outcome = events.all.filter((e) => e.recordingId === 'rec-silent' && (e.type === 'failed' || e.type === 'uploaded'));
    expect(outcome.map((e) => e.type)).toEqual(['failed']);
    expect(outcome[0]!.reason).toMatch(/holds no audio.*nothing to keep: its empty capture and spool entry are deleted$/);
    expect(existsSync(join(dir, 'crm', 'rec-silent'))).toBe(false);
    // Nothing to keep: not left in the spool (and its gauges) nor in the capture directory for the retention time.
    await eventually(async () => !(await worker.ctx.store.list()).includes('rec-silent'), 10_000, 'the empty recording gone from the spool');
    expect(readdirSync(join(worker.paths.captureDir, 'pcaps'))).toEqual([]);
    expect(await worker.ctx.store.readTombstone('rec-silent')).toMatchObject({ state: 'failed' });
    events.stop();
  });
});

describe('a capture with one party in a codec the converter does not decode', () => {
  it('is delivered with that channel silent, and the converted event says so', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const config = testConfig({ stateDir: dir, redisUrl: redis.url });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    // The caller's RTP in G.722 (payload type 9), the agent's in PCMU.
    const f = recordingFixture({ recordingId: 'rec-g722', captureDir: worker.paths.captureDir, seconds: 2, payloadTypes: { caller: 9 } });
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
    await submitter.submit(f.manifest);
    await events.until((all) => all.some((e) => e.recordingId === 'rec-g722' && (e.type === 'failed' || e.type === 'uploaded')), 30_000);
    const mine = events.all.filter((e) => e.recordingId === 'rec-g722');
    expect(mine.filter((e) => e.type === 'failed' || e.type === 'uploaded').map((e) => e.type)).toEqual(['uploaded']);
    expect(mine.find((e) => e.type === 'converted')!.reason).toBe("the caller's audio is in a format the converter does not decode (payload type 9, 100 packets; only G.711, PCMU 0 and PCMA 8, is): that channel is silent");
    // Neither party decodable: nothing to deliver, a failure that says why.
    const both = recordingFixture({ recordingId: 'rec-g722-both', captureDir: worker.paths.captureDir, seconds: 2, payloadTypes: { caller: 9, agent: 9 } });
    await submitter.submit(both.manifest);
    await events.until((all) => all.some((e) => e.recordingId === 'rec-g722-both' && (e.type === 'failed' || e.type === 'uploaded')), 30_000);
    const outcome = events.all.filter((e) => e.recordingId === 'rec-g722-both' && (e.type === 'failed' || e.type === 'uploaded'));
    expect(outcome.map((e) => e.type)).toEqual(['failed']);
    expect(outcome[0]!.reason).toMatch(/the caller's audio is in a format the converter does not decode .*; the agent's audio is in a format/);
    events.stop();
  });
});

describe('delivery to a CRM with injected faults (BullMQ on a real redis-server)', () => {
  it('delivers every recording, in ordered parts, none twice, audio intact, local files deleted', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const forced: Fault[] = [
      { kind: 'status', status: 429, retryAfter: '1' },
      { kind: 'status', status: 500 },
      { kind: 'timeout' },
      { kind: 'drop' },
      { kind: 'store-then-drop' },
      { kind: 'slow', delayMs: 300 },
      { kind: 'unconfirmed' },
      { kind: 'status', status: 503, retryAfter: '0' },
    ];
    const rand = mulberry32(42);
    // Each forced fault meets one request, whichever recording's part comes first (that order varies with the
    // machine's load): a request the 413 below takes does not use one up.
    let nextForced = 0;
    const crm = new FakeCrm({
      token: 'secret-token',
      dropEarly: (n) => n === 12,
      fault: ({ recordingId, size }) => {
        // One CRM accepts at most 40 kB per file from this recording: 413 until parts are small enough.
        if (recordingId === 'rec-big' && size > 40_000) return { kind: 'status', status: 413 };
        if (nextForced < forced.length) return forced[nextForced++];
        const r = rand();
        if (r < 0.35) return forced[Math.floor(rand() * forced.length)];
        return undefined;
      },
    });
    await crm.start();
    cleanups.push(() => crm.stop());
    const config = testConfig({ stateDir: dir, crmUrl: crm.url, redisUrl: redis.url, recordings: { partMaxBytes: 65_536 } });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);

    const ids = ['rec-a', 'rec-b', 'rec-c', 'rec-d', 'rec-e', 'rec-big'];
    const expected = new Map<string, Buffer>();
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
    for (const [i, id] of ids.entries()) {
      const f = recordingFixture({ recordingId: id, captureDir: worker.paths.captureDir, seconds: 6 + i * 0.5, ticketId: `T-${id}`, copyTo: join(dir, 'copies') });
      expected.set(id, await expectedPcm(f.copy!));
      await submitter.submit(f.manifest);
    }
    await events.until((all) => ids.every((id) => all.some((e) => e.type === 'uploaded' && e.recordingId === id)), 90_000);

    for (const id of ids) {
      const parts = crm.partsOf(id);
      // parts attached strictly in order, each exactly once
      expect(parts.map((p) => p.partNumber)).toEqual(parts.map((_, i) => i + 1));
      expect(new Set(parts.map((p) => p.idempotencyKey)).size).toBe(parts.length);
      for (const p of parts) {
        expect(p.bytes.length).toBeLessThanOrEqual(id === 'rec-big' ? 40_000 : 65_536);
        expect(p.bytes.toString('ascii', 0, 4)).toBe('RIFF');
        expect(p.bytes.readUInt32LE(40)).toBe(p.bytes.length - 44);
        expect(p.contentType).toBe('audio/wav');
        expect(p.ticketId).toBe(`T-${id}`);
        expect(JSON.parse(p.fields.metadata!)).toMatchObject({ callId: `${id}@test.invalid`, format: 'wav', channels: 'stereo' });
      }
      // the audio, reassembled from the parts, is exactly what the capture held
      const audio = Buffer.concat(parts.map((p) => p.bytes.subarray(44)));
      expect(audio.equals(expected.get(id)!)).toBe(true);
      expect(events.all.find((e) => e.type === 'uploaded' && e.recordingId === id)?.parts).toBe(parts.length);
    }
    expect(crm.partsOf('rec-big').length).toBeGreaterThan(crm.partsOf('rec-a').length);

    // every request carried the credential and an idempotency key
    expect(crm.requests.every((r) => r.authorization === 'Bearer secret-token')).toBe(true);
    expect(crm.requests.filter((r) => r.outcome !== 'dropped mid-upload').every((r) => r.idempotencyKey !== undefined)).toBe(true);
    // the stored-but-unanswered part was sent again and recognised, not attached twice
    expect(crm.requests.some((r) => r.outcome === 'duplicate')).toBe(true);

    // after a 429 with Retry-After: 1, no upload starts for a second (the whole queue waits)
    for (const r of crm.requests.filter((q) => q.outcome === '429')) {
      const early = crm.requests.filter((q) => q.startedAt > r.at + 250 && q.startedAt < r.at + 900);
      expect(early.map((q) => `${q.outcome} ${q.recordingId} p${q.partNumber} +${q.startedAt - r.at}`)).toEqual([]);
    }

    // every kind of failure was reported as a retry, with its reason
    const reasons = events.all.filter((e) => e.type === 'retrying').map((e) => e.reason ?? '');
    for (const needle of ['(429)', 'answered 500', 'did not answer', 'could not deliver', 'without confirming', 'too large (413)', 'splitting the rest']) {
      expect(reasons.some((r) => r.includes(needle)), needle).toBe(true);
    }
    expect(events.all.filter((e) => e.type === 'failed' || e.type === 'expired')).toEqual([]);

    // nothing left behind: spool empty, capture files deleted, tombstones say delivered
    expect(readdirSync(worker.ctx.store.recordingsDir)).toEqual([]);
    expect(readdirSync(join(worker.paths.captureDir, 'pcaps'))).toEqual([]);
    expect(readdirSync(join(worker.paths.captureDir, 'metadata'))).toEqual([]);
    for (const id of ids) expect((await worker.ctx.store.readTombstone(id))?.state).toBe('delivered');
    expect(existsSync(worker.paths.eventsFile)).toBe(true);
  }, 120_000);

  it('keeps to the CRM rate limit (BullMQ limiter): no more part uploads per window than configured', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const crm = new FakeCrm();
    await crm.start();
    cleanups.push(() => crm.stop());
    const config = testConfig({
      stateDir: dir,
      crmUrl: crm.url,
      redisUrl: redis.url,
      recordings: { partMaxBytes: 65_536, upload: { concurrency: 4, rateLimit: { max: 2, durationMs: 1000 }, initialBackoffMs: 50, maxBackoffMs: 400, lockMs: 1000 } },
    });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
    const ids = ['rl-1', 'rl-2', 'rl-3'];
    for (const id of ids) await submitter.submit(recordingFixture({ recordingId: id, captureDir: worker.paths.captureDir, seconds: 2 }).manifest);
    await events.until((all) => ids.every((id) => all.some((e) => e.type === 'uploaded' && e.recordingId === id)), 30_000);
    const starts = crm.requests.map((r) => r.startedAt).sort((a, b) => a - b);
    expect(starts.length).toBe(3 * 1);
    // The third upload waited for the next window. (The window opens when the first job becomes
    // active, a little before its request reaches the CRM; without the limiter all three start
    // within a few milliseconds.)
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(500);
  }, 60_000);
});
