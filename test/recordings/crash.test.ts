/**
 * Crashes: the worker process killed in the middle of an upload (its embedded
 * Redis stops with it; one orphaned by an owner that died is taken over), and Redis itself killed and restarted from its AOF while
 * jobs are queued; the engine killed during recorded calls. Nothing is lost, nothing attached twice,
 * order kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/observability/logger.js';
import type { RecordingEvent } from '../../src/recordings/events/recording-events.js';
import { processAlive } from '../../src/daemon/processes.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { RecordingCapture, RecordingSubmitter } from '../../src/recordings/service/recording-capture.js';
import { recordingPaths } from '../../src/recordings/service/recordings-setup.js';
import { RecordingsWorker } from '../../src/recordings/service/recordings-worker.js';
import { RecordingStore } from '../../src/recordings/store/recording-store.js';
import { FakeCrm } from './support/fake-crm.js';
import { collectEvents, expectedPcm, testConfig, TEST_KEY, waitFor } from './support/harness.js';
import { recordingFixture, writeRtpengineSegment } from './support/recording-fixture.js';

const repo = resolve(import.meta.dirname, '../..');
const root = mkdtempSync(join(tmpdir(), 'sb-rec-crash-'));
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const alive = processAlive;

function startWorkerProcess(configFile: string, logFile: string): ChildProcess {
  const env = { ...process.env };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'recordings-worker', '--config', configFile], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 3000).unref() && child.once('exit', r));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
  return child;
}

function readEvents(file: string): RecordingEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as RecordingEvent);
}

function checkDelivered(crm: FakeCrm, ids: readonly string[], expected: Map<string, Buffer>): void {
  for (const id of ids) {
    const parts = crm.partsOf(id);
    expect(parts.map((p) => p.partNumber)).toEqual(parts.map((_, i) => i + 1));
    expect(new Set(parts.map((p) => p.idempotencyKey)).size).toBe(parts.length);
    expect(Buffer.concat(parts.map((p) => p.bytes.subarray(44))).equals(expected.get(id)!)).toBe(true);
  }
}

/** What an engine's capture side needs, in a folder of its own: a Redis, a stand-in CRM, the config and paths, rtpengine's recording control. */
async function engineRig(prefix: string, recordings?: Parameters<typeof testConfig>[0]['recordings']) {
  const dir = mkdtempSync(join(root, prefix));
  const redis = new EmbeddedRedis({ dir: join(dir, 'redis'), logger: silentLogger() });
  await redis.start();
  cleanups.push(() => redis.stop());
  const crm = new FakeCrm({});
  await crm.start();
  cleanups.push(() => crm.stop());
  const config = testConfig({ stateDir: join(dir, 'state'), crmUrl: crm.url, redisUrl: redis.url, ...(recordings !== undefined ? { recordings } : {}) });
  const control = { start: async () => undefined, stop: async () => undefined };
  return { redis, crm, config, paths: recordingPaths(config, repo), control };
}

describe('crash safety', () => {
  it('a worker process killed mid-upload: a new one finishes the job, the half-answered part is not attached twice', async () => {
    const dir = mkdtempSync(join(root, 'worker-'));
    let killAt: (() => void) | undefined;
    const crm = new FakeCrm({
      // The fourth request is stored by the CRM but answered slowly; the worker dies while waiting.
      fault: ({ n }) => (n === 4 ? { kind: 'slow', delayMs: 3000 } : { kind: 'slow', delayMs: 50 }),
      onRequest: (n) => {
        if (n === 4) setTimeout(() => killAt?.(), 300);
      },
    });
    await crm.start();
    cleanups.push(() => crm.stop());
    const stateDir = join(dir, 'state');
    const configObject = {
      node: { stateDir, logLevel: 'info' },
      redis: { keyPrefix: 'crash' },
      recordings: {
        format: 'wav',
        partMaxBytes: 65_536,
        encryption: { keyId: 'test', key: TEST_KEY },
        reconcileIntervalSeconds: 0.5,
        sweepIntervalSeconds: 5,
        upload: { initialBackoffMs: 50, maxBackoffMs: 400, lockMs: 1000, concurrency: 1 },
      },
      crm: { adapter: 'http', http: { url: crm.url, responseTimeoutMs: 5000 } },
    };
    const configFile = join(dir, 'config.yaml');
    writeFileSync(configFile, JSON.stringify(configObject));
    const config = testConfig({ stateDir, crmUrl: crm.url });
    const paths = recordingPaths(config, repo);
    const redisPid = join(paths.redisDir, 'redis.pid');
    cleanups.push(() => {
      const pid = Number(existsSync(redisPid) ? readFileSync(redisPid, 'utf8') : 0);
      if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
    });

    // The call side wrote its recordings to the spool but could not reach any queue: the worker finds them.
    const store = new RecordingStore(paths.spoolDir);
    await store.init();
    const ids = ['crash-1', 'crash-2', 'crash-3'];
    const expected = new Map<string, Buffer>();
    for (const id of ids) {
      const f = recordingFixture({ recordingId: id, captureDir: paths.captureDir, seconds: 5, copyTo: join(dir, 'copies') });
      expected.set(id, await expectedPcm(f.copy!));
      await store.create(f.manifest);
    }

    const logFile = join(dir, 'worker.log');
    const first = startWorkerProcess(configFile, logFile);
    const killed = new Promise<number>((r) => {
      killAt = () => {
        const redisOfFirst = Number(readFileSync(redisPid, 'utf8'));
        first.kill('SIGKILL');
        r(redisOfFirst);
      };
    });
    const redisOfFirst = await killed;
    await new Promise((r) => first.once('exit', r));
    // Its redis-server does not outlive it (parent-death signal): it shuts down cleanly, the AOF kept.
    await waitFor(() => !alive(redisOfFirst), 15_000, 'the killed worker\'s redis-server stopped');

    const second = startWorkerProcess(configFile, logFile);
    await waitFor(() => ids.every((id) => readEvents(paths.eventsFile).some((e) => e.type === 'uploaded' && e.recordingId === id)), 60_000, `all uploaded (log: ${logFile})`);
    expect(second.exitCode).toBe(null);

    checkDelivered(crm, ids, expected);
    expect(crm.requests.some((r) => r.outcome === 'duplicate')).toBe(true);
    expect(readdirSync(store.recordingsDir)).toEqual([]);
    expect(readdirSync(join(paths.captureDir, 'pcaps'))).toEqual([]);
    expect(readEvents(paths.eventsFile).filter((e) => e.type === 'failed' || e.type === 'expired')).toEqual([]);
  }, 90_000);

  it('the engine killed during a recorded call: at its next start the recording is handed over as it stood, ended when its capture was last written, and delivered', async () => {
    const { redis, crm, config, paths, control } = await engineRig('engine-', { partMaxBytes: 65_536 });
    const party = { caller: { number: '+15550100' }, agent: { id: 'ann', name: 'Ann' }, queue: { id: 'sales', name: 'Sales' } };

    // The first run: a call recorded, paused once and resumed, then the process dies (its capture side is dropped unfinished).
    const first = await RecordingCapture.create({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo, control });
    const rec = first.begin({ callId: 'killed-call', ...party });
    await rec.start();
    await rec.pause();
    await rec.resume();
    expect(readdirSync(paths.liveDir)).toEqual([`${rec.recordingId}.json`]);
    // rtpengine died with the engine: its pcap is there, its metadata file never written.
    const startedMicros = Date.now() * 1000;
    const pcap = writeRtpengineSegment(paths.captureDir, 'killed-call', rec.recordingId, 1, startedMicros, 4);
    rmSync(join(paths.captureDir, 'metadata'), { recursive: true, force: true });
    const { utimesSync } = await import('node:fs');
    const lastWritten = new Date(Math.ceil(Date.now() / 1000) * 1000 + 4000);
    utimesSync(pcap, lastWritten, lastWritten);
    const expected = await expectedPcm(pcap);
    await first.close();

    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    const second = await RecordingCapture.create({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo, control });
    cleanups.push(() => second.close());
    await events.until((all) => all.some((e) => e.recordingId === rec.recordingId && (e.type === 'uploaded' || e.type === 'failed')), 60_000).catch((e: unknown) => {
      throw new Error(`${String(e)}\nfile: ${JSON.stringify(readEvents(paths.eventsFile))}\nlive: ${readdirSync(paths.liveDir).join()}`);
    });
    expect(events.all.filter((e) => e.recordingId === rec.recordingId).map((e) => e.type)).toContain('uploaded');
    const parts = crm.partsOf(rec.recordingId);
    expect(Buffer.concat(parts.map((p) => p.bytes.subarray(44))).equals(expected)).toBe(true);
    const metadata = JSON.parse(parts[0]!.fields.metadata!) as { endedAt: string; pauses: unknown[]; queue: unknown; details: { recovered?: string } };
    expect(metadata).toMatchObject({ endedAt: lastWritten.toISOString(), queue: { id: 'sales' }, details: { recovered: expect.stringMatching(/engine stopped during the call/) } });
    expect(metadata.pauses).toHaveLength(1);
    expect(readdirSync(paths.liveDir)).toEqual([]);
    expect(readdirSync(join(paths.captureDir, 'pcaps'))).toEqual([]);

    // A recording that ends normally leaves no journal behind.
    const normal = second.begin({ callId: 'normal-call', ...party });
    await normal.start();
    expect(readdirSync(paths.liveDir)).toEqual([`${normal.recordingId}.json`]);
    await normal.finish();
    expect(readdirSync(paths.liveDir)).toEqual([]);
  }, 90_000);

  it('the engine killed after handing a recording over but before forgetting it: a recording delivered meanwhile is not handed over again at the next start', async () => {
    const { redis, crm, config, paths, control } = await engineRig('handed-');
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);

    // The call ended ten minutes ago (past the wait for rtpengine's last segment), so it is converted at once.
    const first = await RecordingCapture.create({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo, control, clock: () => Date.now() - 600_000 });
    const rec = first.begin({ callId: 'handed-call', caller: { number: '+15550100' }, agent: { id: 'ann' }, queue: { id: 'sales' } });
    await rec.start();
    writeRtpengineSegment(paths.captureDir, 'handed-call', rec.recordingId, 1, Date.now() * 1000, 2);
    const journalFile = join(paths.liveDir, `${rec.recordingId}.json`);
    const journalEntry = readFileSync(journalFile);
    await rec.finish();
    await events.until((all) => all.some((e) => e.recordingId === rec.recordingId && e.type === 'uploaded'), 30_000);
    expect(crm.partsOf(rec.recordingId).length).toBeGreaterThan(0);
    await first.close();

    // The engine had died between the spool write and the journal's removal: its entry is still there.
    writeFileSync(journalFile, journalEntry);
    const second = await RecordingCapture.create({ config, logger: silentLogger(), redisUrl: redis.url, cwd: repo, control });
    cleanups.push(() => second.close());
    // The recovery ran within create(): the delivered recording stays delivered, out of the spool; the stale entry is gone.
    expect(await worker.ctx.store.list()).toEqual([]);
    expect(readdirSync(paths.liveDir)).toEqual([]);
    expect(readEvents(paths.eventsFile).filter((e) => e.recordingId === rec.recordingId).map((e) => e.type).filter((t) => t === 'captured')).toHaveLength(1);
  }, 60_000);

  it('a redis-server orphaned by an owner that died (started without a parent-death signal) is shut down and replaced on its data', async () => {
    const dir = join(mkdtempSync(join(root, 'orphan-')), 'redis');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const socket = join(dir, 'redis.sock');
    const orphan = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--appendonly', 'yes', '--save', ''], { stdio: 'ignore' });
    cleanups.push(() => void orphan.kill('SIGKILL'));
    const deadOwner = spawn('true');
    await new Promise((r) => deadOwner.once('exit', r));
    writeFileSync(join(dir, 'owner.pid'), `${deadOwner.pid}\n`);
    await waitFor(() => existsSync(socket), 15_000, 'the orphan listening');
    const { pingRedis } = await import('../../src/recordings/queue/redis-connection.js');
    await waitFor(() => pingRedis({ path: socket }, 300), 15_000, 'the orphan answering');

    const redis = new EmbeddedRedis({ dir, logger: silentLogger() });
    await redis.start();
    cleanups.push(() => redis.stop());
    await waitFor(() => orphan.exitCode !== null || orphan.signalCode !== null, 15_000, 'the orphan shut down');
    expect(redis.pid).not.toBe(orphan.pid);
    expect(await pingRedis({ path: socket }, 1000)).toBe(true);
    expect(readFileSync(join(dir, 'owner.pid'), 'utf8').trim()).toBe(String(process.pid));
  }, 60_000);

  it('Redis killed and restarted from its AOF mid-queue: every queued recording is delivered once, in order', async () => {
    const dir = mkdtempSync(join(root, 'redis-'));
    const redis = new EmbeddedRedis({ dir: join(dir, 'redis'), logger: silentLogger(), appendfsync: 'always' });
    await redis.start();
    cleanups.push(() => redis.stop());
    let killRedis: (() => void) | undefined;
    const crm = new FakeCrm({
      fault: () => ({ kind: 'slow', delayMs: 100 }),
      onRequest: (n) => {
        if (n === 5) killRedis?.();
      },
    });
    await crm.start();
    cleanups.push(() => crm.stop());
    const config = testConfig({ stateDir: join(dir, 'state'), crmUrl: crm.url, redisUrl: redis.url, recordings: { partMaxBytes: 65_536 } });
    const worker = await RecordingsWorker.start({ config, logger: silentLogger(), redisUrl: redis.url });
    cleanups.push(() => worker.stop());
    const events = collectEvents(worker.events);
    const submitter = new RecordingSubmitter(worker.ctx.store, worker.ctx.events, worker.queues, silentLogger());

    const killed = new Promise<number>((r) => {
      killRedis = () => {
        const pid = redis.pid!;
        process.kill(pid, 'SIGKILL');
        r(pid);
      };
    });
    const ids = ['aof-1', 'aof-2', 'aof-3', 'aof-4', 'aof-5'];
    const expected = new Map<string, Buffer>();
    for (const id of ids) {
      const f = recordingFixture({ recordingId: id, captureDir: worker.paths.captureDir, seconds: 5, copyTo: join(dir, 'copies') });
      expected.set(id, await expectedPcm(f.copy!));
      await submitter.submit(f.manifest);
    }
    const oldPid = await killed;
    await events.until((all) => ids.every((id) => all.some((e) => e.type === 'uploaded' && e.recordingId === id)), 60_000);
    expect(redis.supervised?.restarts).toBeGreaterThanOrEqual(1);
    expect(redis.pid).not.toBe(oldPid);
    checkDelivered(crm, ids, expected);
    expect(readdirSync(worker.ctx.store.recordingsDir)).toEqual([]);
    expect(events.all.filter((e) => e.type === 'failed' || e.type === 'expired')).toEqual([]);
  }, 90_000);
});
