import { parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { printJson, QUERY_OPTIONS, readQuery } from './policy-options.js';

const usage = 'switchboard policy decide --config FILE --queue ID --channel ivr|mobile|web|sms|chat [--language xx] --at ISO-8601|now';

export const policyDecideCommand: Command = {
  words: ['policy', 'decide'],
  summary: 'Print the after-hours decision for a queue, channel and instant as one JSON object.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { ...QUERY_OPTIONS }, usage);
    const { policy, queue, channel, at, language } = readQuery(opts, usage);
    printJson(ctx.stdout, policy.decide({ queue, channel, at, ...language }));
    return 0;
  },
};
