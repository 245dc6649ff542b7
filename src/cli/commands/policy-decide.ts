import { parseOptions, requireOption } from '../args.js';
import type { Command } from '../command.js';
import { loadPolicy, printJson, readChannel, readInstant, readLanguage } from './policy-options.js';

const usage = 'switchboard policy decide --config FILE --queue ID --channel ivr|mobile|web|sms|chat [--language xx] --at ISO-8601|now';

export const policyDecideCommand: Command = {
  words: ['policy', 'decide'],
  summary: 'Print the after-hours decision for a queue, channel and instant as one JSON object.',
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
      },
      usage,
    );
    const file = requireOption(opts.config, 'config', usage);
    const queue = requireOption(opts.queue, 'queue', usage);
    const channel = readChannel(opts.channel, usage);
    const language = readLanguage(opts.language, usage);
    const at = readInstant(opts.at, usage);
    const policy = loadPolicy(file);
    printJson(ctx.stdout, policy.decide({ queue, channel, at, ...(language === undefined ? {} : { language }) }));
    return 0;
  },
};
