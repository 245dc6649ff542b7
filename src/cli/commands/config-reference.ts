import { writeFileSync } from 'node:fs';
import { renderConfigReference } from '../../config/reference.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';

const usage = 'switchboard config-reference [--out FILE]';

export const configReferenceCommand: Command = {
  words: ['config-reference'],
  summary: 'Print (or write) the configuration reference generated from the schema.',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { out: { type: 'string', short: 'o' } }, usage);
    const text = renderConfigReference();
    if (opts.out !== undefined) writeFileSync(opts.out, text);
    else ctx.stdout.write(text);
    return 0;
  },
};
