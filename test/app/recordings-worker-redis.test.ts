/**
 * The recordings worker child that `switchboard start` runs uses the same Redis as the engine's
 * capture: the Redis the engine was given (REDIS_URL on the command line), or else the
 * configuration's, never a REDIS_URL left in the environment that the engine did not take.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startRecordingsWorkerProcess } from '../../src/app/recordings-worker-process.js';
import type { SupervisedProcess } from '../../src/daemon/supervised-process.js';
import { silentLogger } from '../../src/observability/logger.js';
import { EmbeddedRedis } from '../../src/recordings/queue/embedded-redis.js';
import { openRedis, pingRedis } from '../../src/recordings/queue/redis-connection.js';

const root = mkdtempSync(join(tmpdir(), 'sb-wr-'));
const cleanups: (() => Promise<unknown>)[] = [];
const savedEnv = process.env.REDIS_URL;

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  if (savedEnv === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = savedEnv;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A Redis of its own, standing in for a shared one (`redis.url` or REDIS_URL). */
async function sharedRedis(name: string): Promise<EmbeddedRedis> {
  const redis = new EmbeddedRedis({ dir: join(root, name), logger: silentLogger() });
  await redis.start();
  cleanups.push(() => redis.stop());
  return redis;
}

/** A configuration file without redis.url, so the worker would start its own Redis under `stateDir`. */
function configFile(name: string): { file: string; stateDir: string } {
  const dir = mkdtempSync(join(root, `${name}-`));
  const stateDir = join(dir, 'state');
  const file = join(dir, 'switchboard.yaml');
  writeFileSync(file, `node: { stateDir: ${stateDir}, logLevel: warn }\nrecordings: { enabled: true }\n`);
  return { file, stateDir };
}

/** Names of the clients connected to `shared`. */
async function clientsOf(shared: EmbeddedRedis): Promise<string[]> {
  const redis = openRedis(shared.url, 'test-observer');
  try {
    const list = (await redis.client('LIST')) as string;
    return list.split('\n').flatMap((line) => /(?:^| )name=(\S+)/.exec(line)?.[1] ?? []);
  } finally {
    redis.disconnect();
  }
}

async function start(file: string, redisUrl?: string): Promise<SupervisedProcess> {
  const worker = await startRecordingsWorkerProcess(file, root, silentLogger(), redisUrl);
  cleanups.push(() => worker.stop());
  return worker;
}

describe('the recordings worker child and Redis', () => {
  it('uses the Redis the engine was given, and starts none of its own', async () => {
    const shared = await sharedRedis('given-redis');
    const { file, stateDir } = configFile('given');
    await start(file, shared.url);
    expect(await clientsOf(shared)).toContain('switchboard-recordings-worker');
    expect(existsSync(join(stateDir, 'redis', 'redis.sock'))).toBe(false);
  });

  it('ignores a REDIS_URL in the environment that the engine was not given: both use the configuration (here the embedded Redis)', async () => {
    const shared = await sharedRedis('env-redis');
    process.env.REDIS_URL = shared.url;
    const { file, stateDir } = configFile('config');
    await start(file);
    expect(await pingRedis({ path: join(stateDir, 'redis', 'redis.sock') })).toBe(true);
    expect(await clientsOf(shared)).not.toContain('switchboard-recordings-worker');
  });
});
