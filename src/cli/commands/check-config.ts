import { loadConfigFile } from '../../config/load.js';
import { configChecks } from '../../app/config-checks.js';
import { parseOptions, requireOption } from '../args.js';
import type { Command } from '../command.js';

const usage = 'switchboard check-config --config FILE';

export const checkConfigCommand: Command = {
  words: ['check-config'],
  summary: 'Validate a configuration file and list every problem in it.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' } }, usage);
    const file = requireOption(opts.config, 'config', usage);
    const config = loadConfigFile(file, { checks: configChecks });
    ctx.stdout.write(`${file}: OK (${config.queues.length} queue${config.queues.length === 1 ? '' : 's'})\n`);
    return 0;
  },
};
