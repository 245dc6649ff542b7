import { UsageError } from '../../errors.js';
import { parseOptions, requireOption } from '../args.js';
import type { Command } from '../command.js';
import { loadPolicy, printJson, readChannel, readInstant, readLanguage } from './policy-options.js';

const usage = 'switchboard policy slots --config FILE --queue ID --at ISO-8601|now [--channel mobile] [--language xx] [--count N]';

export const policySlotsCommand: Command = {
  words: ['policy', 'slots'],
  summary: "Print the next bookable scheduled-call slots inside a queue's hours.",
  usage,
  async run(ctx) {
    const opts = parseOptions(
      ctx.argv,
      {
        config: { type: 'string', short: 'c' },
        queue: { type: 'string', short: 'q' },
        channel: { type: 'string' },
        language: { type: 'string' },
        at: { type: 'string' },
        count: { type: 'string' },
      },
      usage,
    );
    const file = requireOption(opts.config, 'config', usage);
    const queue = requireOption(opts.queue, 'queue', usage);
    const channel = readChannel(opts.channel, usage, 'mobile');
    const language = readLanguage(opts.language, usage);
    const at = readInstant(opts.at, usage);
    let count: number | undefined;
    if (opts.count !== undefined) {
      count = Number(opts.count);
      if (!/^\d+$/.test(opts.count) || count < 1 || count > 500) throw new UsageError(`--count: expected a whole number from 1 to 500, got "${opts.count}"\nusage: ${usage}`);
    }
    const policy = loadPolicy(file);
    const slots = policy.scheduledCallSlots({ queue, channel, at, ...(language === undefined ? {} : { language }), ...(count === undefined ? {} : { count }) });
    printJson(ctx.stdout, { queue, channel, slots });
    return 0;
  },
};
