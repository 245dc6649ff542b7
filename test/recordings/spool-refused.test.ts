/**
 * A spool that cannot be written at hang-up (disk full, permissions; here a
 * file in the way of `<spool>/recordings`, which refuses every write as
 * ENOSPC or EPERM would, even for root) does not lose the recording silently:
 * the hand-over is tried again with back-off (`retrying`), the recording is
 * delivered once the spool takes it, and one the spool keeps refusing, or
 * that is still waiting when the engine stops, is reported `failed` with the
 * reason in the events file, the log and the webhook.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import { RecordingEvents, type RecordingEvent } from '../../src/recordings/events/recording-events.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { RecordingStore } from '../../src/recordings/store/recording-store.js';
import { allocatePort } from '../support/ports.js';
import { collectEvents, testConfig } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'sb-rec-spool-'));
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

/** Puts a file where the spool's recordings directory is: every recording's mkdir fails (ENOTDIR). Returns the undo. */
function blockSpool(store: RecordingStore): () => void {
  const aside = `${store.recordingsDir}.aside`;
  renameSync(store.recordingsDir, aside);
  writeFileSync(store.recordingsDir, 'in the way\n');
  return () => {
    rmSync(store.recordingsDir);
    renameSync(aside, store.recordingsDir);
  };
}

function eventsInFile(file: string, id: string): RecordingEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RecordingEvent)
    .filter((e) => e.recordingId === id);
}

describe('a spool that cannot be written at hang-up', () => {
  it('is tried again with back-off, and the recording is delivered once the spool takes it', async () => {
    const dir = mkdtempSync(join(root, 'case-'));
    const config = testConfig({ stateDir: dir, redisUrl: redis.url });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    cleanups.push(async () => events.stop());
    const store = worker.ctx.store;
    const submitter = new RecordingSubmitter(store, worker.ctx.events, worker.queues, silentLogger(), { handover: { attempts: 1000, initialBackoffMs: 20, maxBackoffMs: 100 } });
    cleanups.push(() => submitter.close());
    const f = recordingFixture({ recordingId: 'rec-refused', captureDir: worker.paths.captureDir, seconds: 1 });

    const unblock = blockSpool(store);
    // The hang-up does not wait for the disk, and does not throw.
    await submitter.submit(f.manifest);
    await events.until((all) => all.filter((e) => e.recordingId === 'rec-refused' && e.type === 'retrying').length >= 2, 10_000);
    const first = eventsInFile(join(dir, 'recordings', 'events.jsonl'), 'rec-refused')[0]!;
    expect(first).toMatchObject({ type: 'retrying', callId: f.manifest.callId, attempt: 1 });
    expect(first.reason).toMatch(/cannot write the recording to the spool \(.*ENOTDIR.*\)/);
    expect(submitter.pendingIds).toEqual(['rec-refused']);

    unblock();
    await events.until((all) => all.some((e) => e.recordingId === 'rec-refused' && (e.type === 'uploaded' || e.type === 'failed')), 30_000);
    const types = events.all.filter((e) => e.recordingId === 'rec-refused').map((e) => e.type);
    expect(types.filter((t) => t !== 'retrying')).toEqual(['captured', 'converted', 'part-uploaded', 'uploaded']);
    expect(types.indexOf('captured')).toBeGreaterThan(types.lastIndexOf('retrying'));
    expect(submitter.pendingIds).toEqual([]);
    expect(readdirSync(join(dir, 'crm', 'rec-refused')).filter((n) => n.endsWith('.wav'))).toHaveLength(1);
  });

  describe('without a worker (the call side alone)', () => {
    let server: Server;
    let url: string;
    const posted: RecordingEvent[] = [];
    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          posted.push(JSON.parse(body) as RecordingEvent);
          res.writeHead(204).end();
        });
      });
      const port = await allocatePort();
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
      url = `http://127.0.0.1:${port}/hook`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    async function callSide(attempts: number, initialBackoffMs: number) {
      const dir = mkdtempSync(join(root, 'side-'));
      const store = new RecordingStore(join(dir, 'spool'));
      await store.init();
      const file = join(store.root, 'events.jsonl');
      const events = new RecordingEvents(file, silentLogger(), { url, headers: {}, timeoutMs: 2000 });
      const heard = collectEvents(events);
      cleanups.push(async () => heard.stop());
      const submitter = new RecordingSubmitter(store, events, undefined, silentLogger(), { handover: { attempts, initialBackoffMs, maxBackoffMs: initialBackoffMs * 4 } });
      cleanups.push(() => submitter.close());
      return { dir, store, file, events, heard, submitter };
    }

    it('a spool that keeps refusing: `failed` with the reason after the last try, in the events file and at the webhook', async () => {
      const { dir, store, file, events, heard, submitter } = await callSide(3, 10);
      blockSpool(store);
      const f = recordingFixture({ recordingId: 'rec-lost', captureDir: join(dir, 'capture'), seconds: 1 });
      await submitter.submit(f.manifest);
      await heard.until((all) => all.some((e) => e.recordingId === 'rec-lost' && e.type === 'failed'), 10_000);
      await events.flush();
      const inFile = eventsInFile(file, 'rec-lost');
      expect(inFile.map((e) => e.type)).toEqual(['retrying', 'retrying', 'failed']);
      const failed = inFile[2]!;
      expect(failed).toMatchObject({ callId: f.manifest.callId, attempt: 3 });
      expect(failed.reason).toMatch(/^never handed to the pipeline: the spool refused it 3 time\(s\) \(.*ENOTDIR.*\); rtpengine's capture files are kept/);
      expect(posted.filter((e) => e.recordingId === 'rec-lost').map((e) => e.type)).toEqual(['retrying', 'retrying', 'failed']);
      expect(submitter.pendingIds).toEqual([]);
      // The capture is left for the retention sweeper (reported `expired` at the limit), not deleted here.
      expect(existsSync(f.pcap)).toBe(true);
    });

    it('stopping with a hand-over still waiting: one last try, then `failed`; one the spool takes by then is captured', async () => {
      const { dir, store, file, events, heard, submitter } = await callSide(1000, 60_000);
      const unblock = blockSpool(store);
      for (const id of ['rec-at-stop-a', 'rec-at-stop-b']) await submitter.submit(recordingFixture({ recordingId: id, captureDir: join(dir, 'capture'), seconds: 1 }).manifest);
      expect(submitter.pendingIds.sort()).toEqual(['rec-at-stop-a', 'rec-at-stop-b']);
      // a: the spool takes it at the last try; b: still refused when the engine stops.
      unblock();
      blockSpoolFor(store, 'rec-at-stop-b');
      await submitter.close();
      await events.flush();
      expect(heard.all.filter((e) => e.recordingId === 'rec-at-stop-a').map((e) => e.type)).toEqual(['retrying', 'captured']);
      expect(await store.readManifest('rec-at-stop-a')).toMatchObject({ recordingId: 'rec-at-stop-a', state: 'captured' });
      const lost = eventsInFile(file, 'rec-at-stop-b');
      expect(lost.map((e) => e.type)).toEqual(['retrying', 'failed']);
      expect(lost[1]!.reason).toMatch(/^never handed to the pipeline: the engine stopped before the recording could be written to the spool after 2 tries/);
      expect(posted.filter((e) => e.recordingId === 'rec-at-stop-b').map((e) => e.type)).toEqual(['retrying', 'failed']);
    });
  });
});

/** A file where one recording's directory would go: that recording alone is refused. */
function blockSpoolFor(store: RecordingStore, id: string): void {
  writeFileSync(join(store.recordingsDir, id), 'in the way\n');
}
