import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../observability/logger.js';
import { sipServerOptions } from '../../sip-server/options-from-config.js';
import { SipServer } from '../../sip-server/sip-server.js';
import { parseOptions, requireOption } from '../args.js';
import type { Command } from '../command.js';
import { waitForSignal } from './signals.js';

const usage = 'switchboard sip-server --config FILE';

export const sipServerCommand: Command = {
  words: ['sip-server'],
  summary: 'Run only the embedded drachtio-compatible SIP server, for any drachtio-srf app to connect to.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } }, usage);
    const config = loadConfigFile(requireOption(opts.config, 'config', usage));
    const logger = createLogger({ level: config.node.logLevel, name: 'sip-server' });
    const server = new SipServer(sipServerOptions(config.sipServer, logger));
    await server.start();
    const signal = await waitForSignal();
    logger.info({ signal }, 'stopping');
    await server.stop();
    return 0;
  },
};
