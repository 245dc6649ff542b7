/**
 * What the `switchboard policy ...` commands share: loading the config into a
 * policy and reading the instant, channel and language options. Bad input is
 * a UsageError (exit 2); an unknown queue is the policy's own error (exit 1).
 */
import { configChecks } from '../../app/config-checks.js';
import { loadConfigFile } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { CHANNELS, createPolicy, parseInstant, type Channel, type Policy } from '../../policy/index.js';
import { requireOption } from '../args.js';

export function loadPolicy(file: string): Policy {
  return createPolicy(loadConfigFile(file, { checks: configChecks }));
}

/** `--at`: an ISO-8601 instant with an offset, or `now` (the command line is where the clock is read). */
export function readInstant(value: string | undefined, usage: string, now: () => number = Date.now): number {
  const text = requireOption(value, 'at', usage);
  if (text === 'now') return now();
  const t = parseInstant(text);
  if (typeof t === 'string') throw new UsageError(`--at: ${t}\nusage: ${usage}`);
  return t;
}

export function readChannel(value: string | undefined, usage: string, fallback?: Channel): Channel {
  if (value === undefined && fallback !== undefined) return fallback;
  const text = requireOption(value, 'channel', usage);
  if (!(CHANNELS as readonly string[]).includes(text)) {
    throw new UsageError(`--channel: unknown channel "${text}"; expected one of: ${CHANNELS.join(', ')}\nusage: ${usage}`);
  }
  return text as Channel;
}

export function readLanguage(value: string | undefined, usage: string): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(value)) {
    throw new UsageError(`--language: "${value}" is not a language tag such as en, en-US or id\nusage: ${usage}`);
  }
  return value;
}

export function printJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The options every policy query takes. */
export const QUERY_OPTIONS = {
  config: { type: 'string', short: 'c' },
  queue: { type: 'string', short: 'q' },
  channel: { type: 'string' },
  language: { type: 'string' },
  at: { type: 'string' },
} as const;

export interface PolicyQuery {
  readonly policy: Policy;
  readonly queue: string;
  readonly channel: Channel;
  readonly at: number;
  /** `{ language }` when given, `{}` otherwise: spread into the policy call. */
  readonly language: { readonly language?: string };
}

/** Reads the common query options (a channel fallback makes --channel optional) and loads the policy. */
export function readQuery(
  opts: { config?: string; queue?: string; channel?: string; language?: string; at?: string },
  usage: string,
  channelFallback?: Channel,
): PolicyQuery {
  const file = requireOption(opts.config, 'config', usage);
  const queue = requireOption(opts.queue, 'queue', usage);
  const channel = readChannel(opts.channel, usage, channelFallback);
  const language = readLanguage(opts.language, usage);
  const at = readInstant(opts.at, usage);
  return { policy: loadPolicy(file), queue, channel, at, language: language === undefined ? {} : { language } };
}
