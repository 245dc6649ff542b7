/** Recording settings (schema and checks), the embedded Redis, the local-directory CRM, the worker command. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { configChecks } from '../../src/app/config-checks.js';
import { commands } from '../../src/cli/commands/index.js';
import { runCli } from '../../src/cli/run.js';
import { loadConfigObject } from '../../src/config/load.js';
import { ErrorCodes } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/observability/logger.js';
import type { PartUpload } from '../../src/recordings/crm/crm-adapter.js';
import { DirectoryCrmAdapter } from '../../src/recordings/crm/directory-crm-adapter.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { redisOptionsFor } from '../../src/recordings/queue/redis-connection.js';
import { RecordingCapture } from '../../src/recordings/service/recording-capture.js';
import { freePort } from '../support/sipp.js';
import { TEST_KEY, waitFor } from './support/harness.js';
import { recordingFixture } from './support/recording-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-rec-cfg-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(value: unknown): string[] {
  try {
    loadConfigObject(value, { checks: configChecks });
    return [];
  } catch (e) {
    return ((e as { problems?: { path: string; message: string }[] }).problems ?? []).map((p) => `${p.path}: ${p.message}`);
  }
}

describe('recording configuration', () => {
  it('has defaults that follow the product rules: 50 MB parts, 7 days, embedded Redis, local CRM', () => {
    const c = loadConfigObject({});
    expect(c.recordings.partMaxBytes).toBe(50 * 1024 * 1024);
    expect(c.recordings.retentionSeconds).toBe(7 * 24 * 3600);
    expect(c.redis.url).toBeUndefined();
    expect(c.redis.embedded.appendfsync).toBe('always');
    expect(c.crm.adapter).toBe('directory');
  });

  it('never allows a retention longer than 7 days', () => {
    expect(problems({ recordings: { retentionSeconds: 8 * 24 * 3600 } }).join()).toContain('recordings.retentionSeconds: expected a number <= 604800');
  });

  it('lists every problem of the recording sections at once', () => {
    const found = problems({
      recordings: { encryption: { key: 'short', previousKeys: [{ id: 'default', key: 'x' }] }, mp3BitrateKbps: 33 },
      redis: { url: 'http://localhost:6379' },
      crm: { adapter: 'http', timeZone: 'Mars/Olympus' },
    }).join('\n');
    expect(found).toContain('recordings.encryption.key: expected a 256-bit key in base64');
    expect(found).toContain('recordings.mp3BitrateKbps: expected one of: 8, 16, 24, 32, 40, 48, 56, 64');
    expect(found).toContain('redis.url: expected redis://');
  });

  it('checks what the schema cannot: an http CRM needs its settings, a real time zone, one key source, distinct key ids', () => {
    const key = Buffer.alloc(32, 1).toString('base64');
    const found = problems({
      recordings: { encryption: { key, keyFile: '/etc/key', previousKeys: [{ id: 'default', key }] }, upload: { initialBackoffMs: 5000, maxBackoffMs: 100 } },
      crm: { adapter: 'http', timeZone: 'Mars/Olympus' },
    }).join('\n');
    expect(found).toContain('crm: adapter is "http" but crm.http');
    expect(found).toContain('crm.timeZone: "Mars/Olympus" is not an IANA time zone');
    expect(found).toContain('recordings.encryption: set either key or keyFile, not both');
    expect(found).toContain('recordings.encryption.previousKeys[0].id: key id "default" is used twice');
    expect(found).toContain('recordings.upload.maxBackoffMs: must be at least initialBackoffMs');
  });

  it('reads the key file as start does: a missing file or one that holds no 256-bit base64 key is a configuration problem, before start', () => {
    const good = join(dir, 'good.key');
    const bad = join(dir, 'bad.key');
    writeFileSync(good, `${TEST_KEY}\n`);
    writeFileSync(bad, 'notbase64\n');
    expect(problems({ recordings: { encryption: { keyFile: good } } })).toEqual([]);
    expect(problems({ recordings: { encryption: { keyFile: join(dir, 'none.key') } } })).toEqual([`recordings.encryption.keyFile: cannot read ${join(dir, 'none.key')}: ENOENT`]);
    expect(problems({ recordings: { encryption: { keyFile: bad } } })).toEqual([expect.stringMatching(/^recordings\.encryption\.keyFile: .*bad\.key: expected a 256-bit key in base64/)]);
    expect(problems({ recordings: { encryption: { keyFile: bad } } })[0]).not.toContain('notbase64');
  });

  it('reads redis://, rediss:// and unix:// URLs', () => {
    expect(redisOptionsFor('unix:///var/run/r.sock').options.path).toBe('/var/run/r.sock');
    expect(redisOptionsFor('redis://:pw@10.0.0.5:6380/2').url).toBe('redis://:pw@10.0.0.5:6380/2');
    expect(redisOptionsFor('redis://h:1').options.maxRetriesPerRequest).toBeNull();
  });
});

describe('embedded Redis', () => {
  it('persists in an append-only file under its directory and survives a restart; only this user can reach it', async () => {
    const rdir = join(dir, 'redis-a');
    const a = new EmbeddedRedis({ dir: rdir, logger: silentLogger() });
    await a.start();
    const c1 = new Redis({ path: a.socketPath });
    await c1.set('kept', 'yes');
    c1.disconnect();
    await a.stop();
    expect(readdirSync(rdir)).toContain('appendonlydir');
    expect(statSync(rdir).mode & 0o777).toBe(0o700);
    const b = new EmbeddedRedis({ dir: rdir, logger: silentLogger() });
    await b.start();
    const c2 = new Redis({ path: b.socketPath });
    expect(await c2.get('kept')).toBe('yes');
    expect(await c2.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    c2.disconnect();
    await b.stop();
  });

  it('refuses to start when another live process owns it, saying what to do', async () => {
    const rdir = join(dir, 'redis-b');
    const a = new EmbeddedRedis({ dir: rdir, logger: silentLogger() });
    await a.start();
    writeFileSync(join(rdir, 'owner.pid'), `${process.ppid}\n`); // pretend our parent owns it
    const b = new EmbeddedRedis({ dir: rdir, logger: silentLogger() });
    await expect(b.start()).rejects.toMatchObject({ code: ErrorCodes.REDIS_UNAVAILABLE, message: expect.stringContaining('set redis.url') });
    writeFileSync(join(rdir, 'owner.pid'), `${process.pid}\n`);
    await a.stop();
  });
});

describe('local-directory CRM', () => {
  function part(key: string, n: number, ticketId = 'T/7'): PartUpload {
    return {
      recordingId: 'rec-1',
      ticketId,
      partNumber: n,
      partsPlanned: 2,
      idempotencyKey: key,
      fileName: `rec-1-part00${n}.wav`,
      contentType: 'audio/wav',
      size: 4,
      body: async function* () {
        yield Buffer.from([n, n, n, n]);
      },
      metadata: { callId: 'c', kind: 'call', contact: { name: 'x', anonymous: true }, startedAt: '', endedAt: '', durationMs: 0, pauses: [], format: 'wav', channels: 'mono', partOffsetMs: 0, partDurationMs: 0 },
    };
  }

  it('files parts under the ticket, with a receipt each, and attaches a repeated idempotency key once', async () => {
    const crm = new DirectoryCrmAdapter(join(dir, 'crm'));
    const first = await crm.upload(part('k1', 1));
    const again = await crm.upload(part('k1', 1));
    await crm.upload(part('k2', 2));
    expect(again).toEqual({ ...first, duplicate: true });
    const folder = join(dir, 'crm', 'T_7');
    expect(readdirSync(folder).sort()).toEqual(['rec-1-part001.wav', 'rec-1-part001.wav.json', 'rec-1-part002.wav', 'rec-1-part002.wav.json']);
    expect([...readFileSync(join(folder, 'rec-1-part002.wav'))]).toEqual([2, 2, 2, 2]);
    expect(JSON.parse(readFileSync(join(folder, 'rec-1-part001.wav.json'), 'utf8'))).toMatchObject({ idempotencyKey: 'k1', partNumber: 1 });
  });

  it('a ticket named . or .. (a header from a trunk) stays a folder inside the CRM directory', async () => {
    const root = join(dir, 'crm-dots', 'crm');
    const crm = new DirectoryCrmAdapter(root);
    await crm.upload(part('d1', 1, '..'));
    await crm.upload(part('d2', 1, '.'));
    expect(readdirSync(join(dir, 'crm-dots'))).toEqual(['crm']);
    expect(readdirSync(root).filter((f) => !f.startsWith('.')).sort()).toEqual(['_', '_.']);
  });
});

describe('switchboard recordings-worker', () => {
  async function cli(argv: string[]): Promise<{ code: number; out: string }> {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const code = await runCli(commands, argv, { stdout: out, stderr: out, cwd: dir });
    return { code, out: text };
  }

  it('is listed and documents REDIS_URL', async () => {
    const r = await cli(['recordings-worker', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('REDIS_URL');
  });

  it('refuses a bad configuration before starting anything (exit 3, every problem listed)', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'recordings:\n  retentionSeconds: 999999999\ncrm:\n  adapter: http\n');
    const r = await cli(['recordings-worker', '--config', file]);
    expect(r.code).toBe(3);
    expect(r.out).toContain('recordings.retentionSeconds');
    expect(r.out).toContain('crm');
  });

  it.each([['recordings-worker'], ['start']])('%s refuses a REDIS_URL that is not a Redis URL at once (exit 3), without repeating it', async (command) => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'node: { logLevel: silent }\n');
    const before = process.env.REDIS_URL;
    process.env.REDIS_URL = 'http://user:hunter2@127.0.0.1:6379';
    try {
      const r = await cli([command, '--config', file]);
      expect(r.code).toBe(3);
      expect(r.out).toMatch(/REDIS_URL \(environment\): expected redis:\/\//);
      expect(r.out).not.toContain('hunter2');
    } finally {
      if (before === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = before;
    }
  });
});

describe('the engine side with Redis out of reach', () => {
  it('says once at start, naming the address (password masked), and still takes recordings into the spool', async () => {
    const port = await freePort(); // nothing listens there
    const lines: { msg: string; redis?: string }[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as { msg: string; redis?: string });
        done();
      },
    });
    const config = loadConfigObject({ node: { stateDir: join(dir, 'no-redis'), logLevel: 'warn' }, recordings: { encryption: { key: TEST_KEY } } });
    const capture = await RecordingCapture.create({
      config,
      logger: createLogger({ level: 'warn', destination: sink }),
      redisUrl: `redis://:s3cret@127.0.0.1:${port}`,
      control: { start: async () => undefined, stop: async () => undefined },
    });
    try {
      const unreachable = (): typeof lines => lines.filter((l) => l.msg.includes('Redis cannot be reached'));
      await waitFor(() => unreachable().length > 0, 20_000, 'the warning');
      expect(unreachable()[0]!.redis).toBe(`redis://:***@127.0.0.1:${port}`);
      // a call's recording is stored all the same (and said not queued); by then ioredis has retried several times
      const f = recordingFixture({ recordingId: 'rec-no-redis', captureDir: join(dir, 'no-redis-capture'), seconds: 1 });
      await capture.sink.submit(f.manifest);
      await waitFor(() => lines.some((l) => l.msg.includes('stored but not queued')), 20_000, 'the enqueue warning');
      expect(unreachable().length).toBe(1);
      expect(JSON.stringify(lines)).not.toContain('s3cret');
    } finally {
      await capture.close();
    }
  }, 60_000);
});
