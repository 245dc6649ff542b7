import { redisUrlFromEnvironment } from './redis-env.js';
import { dirname, resolve } from 'node:path';
import { configChecks } from '../../app/config-checks.js';
import { startSwitchboard, type RunningSwitchboard } from '../../app/switchboard.js';
import { defaultConfig, loadConfigFile, type SwitchboardConfig } from '../../config/load.js';
import { keepServingThroughStrayErrors } from '../../observability/last-resort.js';
import { createLogger, type Logger } from '../../observability/logger.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { onReloadSignal, waitForSignal } from './signals.js';

const usage = 'switchboard start [--config FILE]   (REDIS_URL overrides redis.url)';

export const startCommand: Command = {
  words: ['start'],
  summary: 'Run the engine (with the embedded SIP server unless configured otherwise) until SIGINT/SIGTERM.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } }, usage);
    const config = opts.config !== undefined ? loadConfigFile(opts.config, { checks: configChecks }) : defaultConfig({ checks: configChecks });
    const logger = createLogger({ level: config.node.logLevel, name: 'switchboard' });
    // The one place the environment is read (as `recordings-worker` does): REDIS_URL overrides redis.url.
    const redisUrl = redisUrlFromEnvironment(process.env);
    const running = await startSwitchboard(config, logger, {
      ...(redisUrl !== undefined ? { redisUrl } : {}),
      ...(opts.config !== undefined ? { configFile: resolve(ctx.cwd, opts.config), baseDir: dirname(resolve(ctx.cwd, opts.config)) } : { baseDir: ctx.cwd }),
    });
    logger.info(
      {
        sip: running.sipListeners.map((l) => `${l.transport}/${l.advertisedHost.includes(':') ? `[${l.advertisedHost}]` : l.advertisedHost}:${l.port}`),
        control: running.controlPort,
        status: running.statusPort !== undefined ? `http://${config.node.status.host}:${running.statusPort}/status` : undefined,
        api: running.api !== undefined ? `http://${config.api.host}:${running.api.port}` : undefined,
      },
      'switchboard running',
    );
    if (process.platform === 'linux' && process.env['MALLOC_ARENA_MAX'] === undefined) {
      // glibc gives each thread that allocates its own arena (up to 8 per core); after a burst of
      // calls their freed pages stay resident. Two arenas keep RSS after load near its idle level
      // (README "Memory"; bench/sip/soak.ts). Only the environment of the process can set it.
      logger.info('MALLOC_ARENA_MAX is not set: resident memory after load stays higher; `npm start` sets MALLOC_ARENA_MAX=2 (README, Operations: Memory)');
    }
    // SIGHUP re-reads the TLS certificates and keys, and the API keys file (keys added or revoked without a restart),
    // opens the call records and audit files again (rotated by rename), and re-reads the configuration file
    // for its hours policy and deflection (Engine.reloadConfig), one reload after another.
    let reloading = Promise.resolve();
    const file = opts.config;
    const stopReloading = onReloadSignal(() => {
      if (file !== undefined) reloading = reloading.then(() => reloadConfigFile(file, running, logger));
      running.api?.reloadKeys();
      running.reopenFiles();
      logger.info('SIGHUP: call records and audit log files opened again');
      void running.reloadTls().then(
        (results) => logger.info({ reloaded: results.map((r) => `${r.listener}: ${r.result.ok ? 'ok' : r.result.reason}`) }, 'SIGHUP: TLS certificates re-read'),
        (e: unknown) => logger.error({ err: e instanceof Error ? e.message : String(e) }, 'SIGHUP: TLS reload failed'),
      );
    });
    // From here on a throw no code caught costs its own call, not every live call (last-resort.ts).
    const stopLastResort = keepServingThroughStrayErrors({ logger });
    const signal = await waitForSignal();
    // A second signal stops at once; the first drains (new calls refused, live ones go on for engine.drain.maxSeconds).
    logger.info({ signal, maxSeconds: config.engine.drain.maxSeconds }, 'draining, then stopping');
    await Promise.race([running.drain(), waitForSignal()]);
    await running.stop();
    // Only now: a SIGHUP during the drain (logrotate, a reload) would otherwise end the process at once (Node's default).
    stopReloading();
    stopLastResort();
    return 0;
  },
};

/** SIGHUP: the configuration file read and checked again; what a running engine can take is applied, or nothing. */
async function reloadConfigFile(file: string, running: RunningSwitchboard, logger: Logger): Promise<void> {
  let next: SwitchboardConfig;
  try {
    next = loadConfigFile(file, { checks: configChecks });
  } catch (e) {
    logger.error({ file, err: e instanceof Error ? e.message : String(e) }, 'SIGHUP: configuration not reloaded (the file has problems); the running configuration stays');
    return;
  }
  try {
    const r = await running.reloadConfig(next);
    if (!r.applied) logger.warn({ file, reasons: r.reasons }, 'SIGHUP: configuration not reloaded; the running configuration stays');
    else if (r.changed.length === 0) logger.info({ file }, 'SIGHUP: configuration unchanged');
    else logger.info({ file, changed: r.changed }, 'SIGHUP: hours and deflection reloaded; calls that arrive from now on use them');
  } catch (e) {
    logger.error({ file, err: e instanceof Error ? e.message : String(e) }, 'SIGHUP: configuration not reloaded; the running configuration stays');
  }
}
