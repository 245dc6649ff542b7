/**
 * How the pipeline (BullMQ on a real redis-server, the HTTP adapter, a local
 * stand-in CRM) takes particular answers of a CRM: a slow one, a rate limit,
 * a refusal, a redirect; and what its events then say.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { FakeCrm, type FakeCrmOptions } from './support/fake-crm.js';
import { collectEvents, testConfig } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'sb-rec-answers-'));
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

/** A worker delivering to a stand-in CRM; `submit` hands it a recording of `seconds`. */
async function pipeline(crmOptions: FakeCrmOptions, o: { crmHttp?: Record<string, unknown>; recordings?: Record<string, unknown> } = {}) {
  const crm = new FakeCrm(crmOptions);
  await crm.start();
  cleanups.push(() => crm.stop());
  const config = testConfig({
    stateDir: mkdtempSync(join(root, 'case-')),
    crmUrl: crm.url,
    redisUrl: redis.url,
    recordings: o.recordings ?? {},
    crm: { http: { url: crm.url, authValue: 'Bearer secret-token', responseTimeoutMs: 600, idleTimeoutMs: 2000, ...o.crmHttp } },
  });
  const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
  cleanups.push(() => worker.stop());
  const events = collectEvents(worker.events);
  cleanups.push(async () => events.stop());
  const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());
  const submit = async (id: string, seconds = 2, retentionMs?: number): Promise<void> => {
    const f = recordingFixture({ recordingId: id, captureDir: worker.paths.captureDir, seconds, ...(retentionMs !== undefined ? { retentionMs } : {}) });
    await submitter.submit(f.manifest);
  };
  return { crm, worker, events, submit };
}

const ended = (id: string) => (all: readonly { type: string; recordingId: string }[]) =>
  all.some((e) => e.recordingId === id && (e.type === 'uploaded' || e.type === 'failed' || e.type === 'expired'));

describe('a CRM slower to answer than the idle timeout', () => {
  it('is waited for up to the response timeout: the part is POSTed once and confirmed', async () => {
    const p = await pipeline(
      { fault: () => ({ kind: 'slow', delayMs: 800 }) },
      { crmHttp: { idleTimeoutMs: 200, responseTimeoutMs: 60_000 } },
    );
    await p.submit('rec-slow');
    await p.events.until(ended('rec-slow'), 60_000);
    expect(p.events.all.filter((e) => e.recordingId === 'rec-slow' && e.type !== 'captured' && e.type !== 'converted').map((e) => e.type)).toEqual([
      'part-uploaded',
      'uploaded',
    ]);
    expect(p.crm.requests.map((r) => r.outcome)).toEqual(['stored-slowly']);
    expect(p.crm.partsOf('rec-slow').length).toBe(1);
  }, 90_000);
});

describe("the CRM's rate limit (429)", () => {
  it('uses no attempt and does not grow the back-off: the whole queue waits, then the part goes again', async () => {
    const statuses = [500, 429, 500];
    const p = await pipeline(
      { fault: ({ n }) => (n <= statuses.length ? { kind: 'status', status: statuses[n - 1]! } : undefined) },
      { recordings: { upload: { initialBackoffMs: 100, maxBackoffMs: 10_000, jitter: 0, lockMs: 1000, concurrency: 2, rateLimit: { max: 50, durationMs: 1000 } } } },
    );
    await p.submit('rec-429');
    await p.events.until(ended('rec-429'), 60_000);
    const retries = p.events.all.filter((e) => e.recordingId === 'rec-429' && e.type === 'retrying');
    expect(retries.map((e) => [e.attempt, e.retryInMs])).toEqual([
      [1, 100],
      [undefined, 100],
      [2, 200], // the part's second failure: the 429 did not count
    ]);
    expect(p.events.all.some((e) => e.recordingId === 'rec-429' && e.type === 'uploaded')).toBe(true);
    // BullMQ's count agrees: two failed attempts, the rate-limited one moved back to wait
    expect((await p.worker.queues.upload.getJob('upload-rec-429'))?.attemptsMade).toBe(2);
  }, 90_000);
});

describe('what failure events say', () => {
  it('a refusal, a conversion that fails and one that is retried carry the call id', async () => {
    const p = await pipeline({ fault: ({ recordingId }) => (recordingId === 'rec-400' ? { kind: 'status', status: 400, body: 'ticket closed' } : undefined) });
    // audio.enc cannot be written (a directory is in the way): the conversion is retried until it is gone
    mkdirSync(join(p.worker.ctx.store.dir('rec-retried'), 'audio.enc'), { recursive: true });
    await p.submit('rec-400');
    await p.submit('rec-silent', 0); // rtpengine captured no audio: the conversion fails for good
    await p.submit('rec-retried');
    await p.events.until((all) => all.some((e) => e.recordingId === 'rec-retried' && e.type === 'retrying'), 60_000);
    rmSync(join(p.worker.ctx.store.dir('rec-retried'), 'audio.enc'), { recursive: true });
    await p.events.until((all) => ['rec-400', 'rec-silent', 'rec-retried'].every((id) => ended(id)(all)), 60_000);

    const of = (id: string, type: string) => p.events.all.filter((e) => e.recordingId === id && e.type === type);
    expect(of('rec-400', 'failed').map((e) => [e.callId, e.reason])).toEqual([['rec-400@test.invalid', expect.stringContaining('ticket closed')]]);
    expect(of('rec-silent', 'failed').map((e) => [e.callId, e.reason])).toEqual([['rec-silent@test.invalid', expect.stringContaining('holds no audio')]]);
    const retried = of('rec-retried', 'retrying');
    expect(retried.length).toBeGreaterThanOrEqual(1);
    for (const e of retried) expect([e.callId, e.reason]).toEqual(['rec-retried@test.invalid', expect.stringContaining('conversion failed')]);
    expect(of('rec-retried', 'uploaded').length).toBe(1);
    // the events file says the same
    const lines = readFileSync(p.worker.paths.eventsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; callId?: string });
    expect(lines.filter((e) => e.type === 'failed' || e.type === 'retrying').every((e) => e.callId !== undefined)).toBe(true);
  }, 90_000);

  it('an expiry quotes the latest failure, not an older one of another kind', async () => {
    const ref: { worker?: RecordingsWorker } = {};
    const p = await pipeline({
      fault: ({ n }) => {
        if (n !== 1) return undefined;
        // The CRM fails the first try; meanwhile the stored file is damaged, so the next try fails to decrypt.
        const file = ref.worker!.ctx.store.audioPath('rec-damaged');
        const bytes = readFileSync(file);
        bytes[bytes.length - 100] = bytes[bytes.length - 100]! ^ 0x01;
        writeFileSync(file, bytes);
        return { kind: 'status', status: 500, body: 'CRM hiccup' };
      },
    });
    ref.worker = p.worker;
    await p.submit('rec-damaged');
    await p.events.until((all) => all.some((e) => e.recordingId === 'rec-damaged' && e.type === 'failed'), 60_000);
    const failed = p.events.all.find((e) => e.recordingId === 'rec-damaged' && e.type === 'failed')!;
    expect(failed.reason).toContain('failed authentication');
    // its deadline passes (moved into the past): the sweeper deletes it and reports the loss
    const store = p.worker.ctx.store;
    const m = (await store.readManifest('rec-damaged'))!;
    await store.writeManifest({ ...m, expiresAt: new Date(Date.now() - 1000).toISOString() });
    await p.events.until((all) => all.some((e) => e.recordingId === 'rec-damaged' && e.type === 'expired'), 30_000);
    const expired = p.events.all.find((e) => e.recordingId === 'rec-damaged' && e.type === 'expired')!;
    expect(expired.reason).toContain('last error:');
    expect(expired.reason).toContain('failed authentication');
    expect(expired.reason).not.toContain('CRM hiccup');
    expect([failed.callId, expired.callId]).toEqual(['rec-damaged@test.invalid', 'rec-damaged@test.invalid']);
  }, 90_000);
});
