import { UsageError } from '../../errors.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { printJson, QUERY_OPTIONS, readQuery } from './policy-options.js';

const usage = 'switchboard policy slots --config FILE --queue ID --at ISO-8601|now [--channel mobile] [--language xx] [--count N]';

export const policySlotsCommand: Command = {
  words: ['policy', 'slots'],
  summary: "Print the next bookable scheduled-call slots inside a queue's hours.",
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { ...QUERY_OPTIONS, count: { type: 'string' } }, usage);
    const { policy, queue, channel, at, language } = readQuery(opts, usage, 'mobile');
    let count: number | undefined;
    if (opts.count !== undefined) {
      count = Number(opts.count);
      if (!/^\d+$/.test(opts.count) || count < 1 || count > 500) throw new UsageError(`--count: expected a whole number from 1 to 500, got "${opts.count}"\nusage: ${usage}`);
    }
    const slots = policy.scheduledCallSlots({ queue, channel, at, ...language, ...(count === undefined ? {} : { count }) });
    printJson(ctx.stdout, { queue, channel, slots });
    return 0;
  },
};
