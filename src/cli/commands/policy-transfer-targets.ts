import { UsageError } from '../../errors.js';
import { parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { printJson, QUERY_OPTIONS, readQuery } from './policy-options.js';

const usage =
  'switchboard policy transfer-targets --config FILE --queue ID --at ISO-8601|now [--channel ivr] [--language xx] [--logged-in ID,ID...]';

export const policyTransferTargetsCommand: Command = {
  words: ['policy', 'transfer-targets'],
  summary: 'Print the queues an agent may transfer a contact to (visible, and hidden with the rule that hides them).',
  usage,
  async run(ctx) {
    const opts = parseOptions(ctx.argv, { ...QUERY_OPTIONS, 'logged-in': { type: 'string', multiple: true } }, usage);
    const { policy, queue, channel, at, language } = readQuery(opts, usage, 'ivr');
    const loggedIn = (opts['logged-in'] ?? []).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
    const result = policy.transferTargets({ queue, channel, at, loggedIn, ...language });
    const known = new Set([queue, ...result.visible.map((t) => t.queue), ...result.hidden.map((t) => t.queue)]);
    const unknown = loggedIn.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new UsageError(`--logged-in: ${unknown.map((u) => `"${u}"`).join(', ')} is not a leaf queue serving ${channel}\nusage: ${usage}`);
    }
    printJson(ctx.stdout, result);
    return 0;
  },
};
