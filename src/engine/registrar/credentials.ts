/**
 * Agents' digest passwords: from the agent's `password`, its `passwordFile`
 * (first line), or a line `id:password` of `registrar.credentialsFile`, in
 * that order. Passwords stay in this object: nothing here logs or returns
 * them except to the digest check, and `describe()` says only where each
 * came from.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SwitchboardConfig } from '../../config/load.js';
import { ConfigError } from '../../errors.js';

export type CredentialSource = 'config' | 'passwordFile' | 'credentialsFile';

export class Credentials {
  private readonly passwords = new Map<string, string>();
  private readonly sources = new Map<string, CredentialSource>();

  constructor(config: SwitchboardConfig, baseDir: string) {
    const fromFile = new Map<string, string>();
    const file = config.registrar.credentialsFile;
    if (file !== undefined) {
      for (const [id, password] of readCredentialsFile(resolve(baseDir, file))) fromFile.set(id, password);
    }
    config.agents.forEach((a, i) => {
      let password: string | undefined;
      let source: CredentialSource | undefined;
      if (a.password !== undefined) [password, source] = [a.password, 'config'];
      else if (a.passwordFile !== undefined) {
        const path = resolve(baseDir, a.passwordFile);
        try {
          password = readFileSync(path, 'utf8').split(/\r?\n/)[0]!.trim();
        } catch (e) {
          throw new ConfigError([{ path: `agents[${i}].passwordFile`, message: `cannot read ${path}: ${(e as Error).message}` }]);
        }
        source = 'passwordFile';
      } else if (fromFile.has(a.id)) [password, source] = [fromFile.get(a.id), 'credentialsFile'];
      if (password !== undefined && password !== '' && source !== undefined) {
        this.passwords.set(a.id, password);
        this.sources.set(a.id, source);
      }
    });
  }

  passwordOf(id: string): string | undefined {
    return this.passwords.get(id);
  }

  has(id: string): boolean {
    return this.passwords.has(id);
  }

  /** Where each agent's password came from (never the password). */
  describe(): Record<string, CredentialSource> {
    return Object.fromEntries(this.sources);
  }
}

/** `id:password` lines; blank lines and `#` comments skipped. A malformed line is a configuration error (its number, not its content). */
export function readCredentialsFile(path: string): [string, string][] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ path: 'registrar.credentialsFile', message: `cannot read ${path}: ${(e as Error).message}` }]);
  }
  const out: [string, string][] = [];
  const problems: { path: string; message: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const colon = l.indexOf(':');
    if (colon <= 0 || colon === l.length - 1) problems.push({ path: 'registrar.credentialsFile', message: `${path} line ${i + 1}: expected id:password` });
    else out.push([l.slice(0, colon), l.slice(colon + 1)]);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
