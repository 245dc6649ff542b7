import { redisUrlFromEnvironment } from './redis-env.js';
import { dirname, resolve } from 'node:path';
import { configChecks } from '../../app/config-checks.js';
import { defaultConfig, loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { RecordingsWorker, WORKER_READY_LINE } from '../../recordings/service/recordings-worker.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { waitForSignal } from './signals.js';

const usage = 'switchboard recordings-worker [--config FILE] [--announce-ready]   (REDIS_URL overrides redis.url)';

export const recordingsWorkerCommand: Command = {
  words: ['recordings-worker'],
  summary: 'Run the recordings worker (convert, encrypt, deliver to the CRM, enforce retention) until SIGINT/SIGTERM.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' }, 'announce-ready': { type: 'boolean' } }, usage);
    const config = opts.config !== undefined ? loadConfigFile(opts.config, { checks: configChecks }) : defaultConfig({ checks: configChecks });
    const logger = createLogger({ level: config.node.logLevel, name: 'recordings-worker' });
    // The one place the environment is read: the composition root hands the URL in.
    const redisUrl = redisUrlFromEnvironment(process.env) ?? config.redis.url;
    // Relative paths resolve against the configuration file's folder, as `switchboard start` does.
    const baseDir = opts.config !== undefined ? dirname(resolve(ctx.cwd, opts.config)) : ctx.cwd;
    const worker = await RecordingsWorker.start({ config, logger, cwd: baseDir, ...(redisUrl !== undefined ? { redisUrl } : {}) });
    if (opts['announce-ready'] === true) ctx.stdout.write(`${WORKER_READY_LINE}\n`);
    const signal = await waitForSignal();
    logger.info({ signal }, 'stopping the recordings worker');
    await worker.stop();
    return 0;
  },
};
