import { writeFileSync } from 'node:fs';
import { renderOpenApi } from '../../api/openapi.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';

const usage = 'switchboard openapi [--out FILE]';

export const openapiCommand: Command = {
  words: ['openapi'],
  summary: "Print (or write) the supervisors API's OpenAPI document (docs/openapi.json).",
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { out: { type: 'string', short: 'o' } }, usage);
    const text = await renderOpenApi();
    if (opts.out !== undefined) writeFileSync(opts.out, text);
    else ctx.stdout.write(text);
    return 0;
  },
};
