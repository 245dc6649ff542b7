/**
 * `switchboard keys add|revoke|list`: API keys in the keys file named by the
 * configuration (`api.keysFile`, default `<stateDir>/api/keys.json`). A new
 * key is printed once, on stdout alone (for scripts); only its hash is
 * stored. A running engine picks changes up by itself (it watches the file;
 * SIGHUP forces a re-read).
 */
import { dirname, resolve } from 'node:path';
import { keyProblems, configuredTeams } from '../../api/config-checks.js';
import { generateKey } from '../../api/auth/api-key.js';
import { keysFilePath, readKeysFile, writeKeysFile, type StoredKey } from '../../api/auth/keys-file.js';
import { RoleBook } from '../../api/auth/roles.js';
import { configChecks } from '../../app/config-checks.js';
import { defaultConfig, loadConfigFile, type SwitchboardConfig } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { parseOptions, requireOption } from '../args.js';
import type { Command, CommandContext } from '../command.js';

interface KeysSetup {
  readonly config: SwitchboardConfig;
  readonly file: string;
  readonly roles: RoleBook;
}

function setup(ctx: CommandContext, configFile: string | undefined): KeysSetup {
  const config = configFile !== undefined ? loadConfigFile(resolve(ctx.cwd, configFile), { checks: configChecks }) : defaultConfig({ checks: configChecks });
  const baseDir = configFile !== undefined ? dirname(resolve(ctx.cwd, configFile)) : ctx.cwd;
  return { config, file: keysFilePath(config, baseDir), roles: new RoleBook(config.api.roles) };
}

const USER = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const SIP_URI = /^sips?:[^\s<>"]+$/;

const addUsage = 'switchboard keys add --user NAME --role ROLE [--team TEAM]... [--device SIP-URI] [--config FILE]';

export const keysAddCommand: Command = {
  words: ['keys', 'add'],
  summary: 'Create an API key for a user and role; prints the key once, stores only its hash.',
  usage: addUsage,
  async run(ctx) {
    const o = parseOptions(ctx.argv, { user: { type: 'string' }, role: { type: 'string' }, team: { type: 'string', multiple: true }, device: { type: 'string' }, config: { type: 'string', short: 'c' } }, addUsage);
    const user = requireOption(o.user, 'user', addUsage);
    const role = requireOption(o.role, 'role', addUsage);
    if (!USER.test(user)) throw new UsageError(`--user "${user}": a letter or digit, then up to 63 letters, digits, ".", "_", "@" or "-"`);
    if (o.device !== undefined && !SIP_URI.test(o.device)) throw new UsageError(`--device "${o.device}": expected a SIP URI such as sip:alice@192.0.2.7:5060`);
    const s = setup(ctx, o.config);
    const teams = [...new Set(o.team ?? [])];
    const problems = keyProblems({ role, teams }, s.roles, configuredTeams(s.config), 'key');
    if (problems.length > 0) throw new UsageError(problems.map((p) => `${p.path.replace(/^key\./, '--')}: ${p.message}`).join('\n'));
    const existing = readKeysFile(s.file, s.roles);
    const k = generateKey();
    const entry: StoredKey = { id: k.id, user, role, ...(teams.length > 0 ? { teams } : {}), ...(o.device !== undefined ? { device: o.device } : {}), hash: k.hash, createdAt: new Date().toISOString() };
    writeKeysFile(s.file, [...existing, entry]);
    ctx.stdout.write(`${k.key}\n`);
    ctx.stderr.write(`key ${k.id} for ${user} (role ${role}${teams.length > 0 ? `, teams ${teams.join(', ')}` : ''}) stored in ${s.file}; the key is shown only now.\n`);
    return 0;
  },
};

const revokeUsage = 'switchboard keys revoke --user NAME [--id KEY-ID] [--config FILE]';

export const keysRevokeCommand: Command = {
  words: ['keys', 'revoke'],
  summary: "Revoke a user's API keys (or one of them, --id); a running engine stops accepting them at once.",
  usage: revokeUsage,
  async run(ctx) {
    const o = parseOptions(ctx.argv, { user: { type: 'string' }, id: { type: 'string' }, config: { type: 'string', short: 'c' } }, revokeUsage);
    const user = requireOption(o.user, 'user', revokeUsage);
    const s = setup(ctx, o.config);
    const existing = readKeysFile(s.file, s.roles);
    const revoked = existing.filter((k) => k.user === user && (o.id === undefined || k.id === o.id));
    const inConfig = s.config.api.keys.filter((k) => k.user === user && (o.id === undefined || k.id === o.id));
    if (revoked.length === 0) {
      ctx.stderr.write(`no key of ${user}${o.id !== undefined ? ` with id ${o.id}` : ''} in ${s.file}${inConfig.length > 0 ? `; ${inConfig.length} in the configuration file (api.keys): remove them there` : ''}\n`);
      return 1;
    }
    writeKeysFile(s.file, existing.filter((k) => !revoked.includes(k)));
    ctx.stdout.write(`revoked ${revoked.length} key${revoked.length === 1 ? '' : 's'} of ${user}: ${revoked.map((k) => k.id).join(', ')}\n`);
    if (inConfig.length > 0) ctx.stderr.write(`${inConfig.length} more in the configuration file (api.keys): remove them there\n`);
    return 0;
  },
};

const listUsage = 'switchboard keys list [--config FILE] [--json]';

export const keysListCommand: Command = {
  words: ['keys', 'list'],
  summary: 'List API keys (ids, users, roles, teams; never the keys).',
  usage: listUsage,
  async run(ctx) {
    const o = parseOptions(ctx.argv, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, listUsage);
    const s = setup(ctx, o.config);
    const row = (k: StoredKey, source: string): { id: string; user: string; role: string; teams: string[]; device: string | null; createdAt: string | null; source: string } => ({
      id: k.id,
      user: k.user,
      role: k.role,
      teams: [...(k.teams ?? [])],
      device: k.device ?? null,
      createdAt: k.createdAt ?? null,
      source,
    });
    const rows = [...s.config.api.keys.map((k) => row(k, 'config')), ...readKeysFile(s.file, s.roles).map((k) => row(k, 'file'))];
    if (o.json === true) {
      ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    const table: string[][] = [['ID', 'USER', 'ROLE', 'TEAMS', 'DEVICE', 'CREATED', 'SOURCE'], ...rows.map((r) => [r.id, r.user, r.role, r.teams.join(',') || '-', r.device ?? '-', r.createdAt ?? '-', r.source])];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
    for (const r of table) ctx.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
    if (rows.length === 0) ctx.stdout.write(`(no keys; keys file ${s.file})\n`);
    return 0;
  },
};
