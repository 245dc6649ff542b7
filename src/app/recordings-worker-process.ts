/**
 * The recordings worker as a child of `switchboard start`: BullMQ's roles say
 * the worker lives apart from the call side, so it is its own process (the
 * same `switchboard recordings-worker` command an operator can run elsewhere),
 * supervised: restarted with back-off if it dies, stopped with the engine.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SupervisedProcess } from '../daemon/supervised-process.js';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { WORKER_READY_LINE } from '../recordings/service/recordings-worker.js';

/** The compiled CLI entry; from TypeScript sources (tests), the built copy under dist/. */
export function cliEntry(): string {
  const here = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (existsSync(here)) return here;
  const built = fileURLToPath(import.meta.url).replace(/\/src\/app\/recordings-worker-process\.ts$/, '/dist/src/cli/main.js');
  if (existsSync(built)) return built;
  throw new SwitchboardError(ErrorCodes.CHILD_PROCESS, 'switchboard CLI entry not found: run `npm run build` first');
}

export async function startRecordingsWorkerProcess(configFile: string | undefined, cwd: string, logger: Logger, redisUrl?: string): Promise<SupervisedProcess> {
  const args = [cliEntry(), 'recordings-worker', '--announce-ready', ...(configFile !== undefined ? ['--config', configFile] : [])];
  const ref: { proc?: SupervisedProcess } = {};
  const proc = new SupervisedProcess({
    name: 'recordings-worker',
    command: process.execPath,
    args,
    cwd,
    // The worker reads REDIS_URL: it gets exactly the engine's choice (empty: the configuration's).
    env: { ...process.env, REDIS_URL: redisUrl ?? '' },
    // Ready once it has connected to Redis and started its queues (it says so whatever its log level).
    ready: async () => ref.proc?.outputTail().includes(WORKER_READY_LINE) === true,
    readyTimeoutMs: 30_000,
    restart: { enabled: true, minDelayMs: 500, maxDelayMs: 30_000 },
    stopGraceMs: 10_000,
    // its own redis-server goes with it, even when it has to be killed
    processGroup: true,
    // its pino lines join ours on stdout
    onOutput: (chunk: Buffer) => {
      const text = chunk.toString('utf8').replace(`${WORKER_READY_LINE}\n`, '');
      if (text !== '') process.stdout.write(text);
    },
    logger,
  });
  ref.proc = proc;
  await proc.start();
  return proc;
}
