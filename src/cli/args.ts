import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/**
 * Strict option parsing: unknown options, stray positionals and an option
 * given twice (unless it takes several values) are usage errors; the last of
 * two --config would otherwise win silently.
 */
export function parseOptions<T extends OptionSpec>(argv: readonly string[], options: T, usage: string) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false, tokens: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nusage: ${usage}`);
  }
  refuseRepeatedOptions(parsed.tokens, options, usage);
  return parsed.values;
}

/** An option that takes one value, given twice, is a usage error (parseArgs would keep the last silently). */
export function refuseRepeatedOptions(tokens: readonly { kind: string; name?: string }[], options: OptionSpec, usage: string): void {
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined || options[t.name]?.multiple === true) continue;
    if (seen.has(t.name)) throw new UsageError(`--${t.name} was given twice; give it once\nusage: ${usage}`);
    seen.add(t.name);
  }
}

export function requireOption(value: string | undefined, name: string, usage: string): string {
  if (value === undefined || value === '') throw new UsageError(`missing --${name}\nusage: ${usage}`);
  return value;
}
