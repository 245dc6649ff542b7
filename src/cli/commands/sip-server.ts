import { dirname, resolve } from 'node:path';
import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { sipServerConfigChecks } from '../../sip-server/config-checks.js';
import { sipServerOptions } from '../../sip-server/options-from-config.js';
import { SipServer } from '../../sip-server/sip-server.js';
import { parseOptions, requireOption } from '../args.js';
import type { Command } from '../command.js';
import { onReloadSignal, waitForSignal } from './signals.js';

const usage = 'switchboard sip-server --config FILE';

export const sipServerCommand: Command = {
  words: ['sip-server'],
  summary: 'Run only the embedded drachtio-compatible SIP server, for any drachtio-srf app to connect to (SIGHUP re-reads TLS certificates).',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } }, usage);
    const file = resolve(ctx.cwd, requireOption(opts.config, 'config', usage));
    const config = loadConfigFile(file, { checks: sipServerConfigChecks });
    const logger = createLogger({ level: config.node.logLevel, name: 'sip-server' });
    const server = new SipServer(sipServerOptions(config.sipServer, logger, dirname(file)));
    await server.start();
    // The server logs each listener's outcome itself.
    const stopReloading = onReloadSignal(() => void server.reloadTls());
    const signal = await waitForSignal();
    stopReloading();
    logger.info({ signal }, 'stopping');
    await server.stop();
    return 0;
  },
};
