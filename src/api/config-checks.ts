/**
 * What the API's part of a configuration must satisfy beyond the schema:
 * custom roles do not reuse a built-in name or each other's, keys name a role
 * that exists, their teams are teams some queue belongs to, and a key whose
 * role is limited to teams has at least one (else it would see nothing).
 * Registered in src/app/config-checks.ts.
 */
import type { ConfigCheck, SwitchboardConfig } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';
import { isBuiltInRole, RoleBook } from './auth/roles.js';

/** Teams that exist: those queues belong to. */
export function configuredTeams(config: Pick<SwitchboardConfig, 'queues'>): Set<string> {
  return new Set(config.queues.map((q) => q.team).filter((t): t is string => t !== undefined));
}

/** Problems of one key entry (config or keys file) against the configuration. */
export function keyProblems(key: { readonly role: string; readonly teams?: readonly string[] }, roles: RoleBook, teams: ReadonlySet<string>, path: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const role = roles.get(key.role);
  if (role === undefined) {
    out.push({ path: `${path}.role`, message: `unknown role "${key.role}" (known: ${roles.ids().join(', ')})` });
    return out;
  }
  (key.teams ?? []).forEach((t, i) => {
    if (!teams.has(t)) out.push({ path: `${path}.teams[${i}]`, message: `no queue belongs to team "${t}" (teams: ${[...teams].join(', ') || 'none; set queues[].team'})` });
  });
  if (role.scope === 'teams' && role.permissions.length > 0 && (key.teams ?? []).length === 0) {
    out.push({ path: `${path}.teams`, message: `the role ${role.id} acts only for its teams: give at least one` });
  }
  return out;
}

const apiCheck: ConfigCheck = {
  name: 'api roles and keys',
  sections: ['api', 'queues'],
  check(config) {
    const problems: ConfigProblem[] = [];
    const seen = new Set<string>();
    config.api.roles.forEach((r, i) => {
      if (isBuiltInRole(r.id)) problems.push({ path: `api.roles[${i}].id`, message: `"${r.id}" is a built-in role; give the custom role another name` });
      else if (seen.has(r.id)) problems.push({ path: `api.roles[${i}].id`, message: `the role "${r.id}" is defined twice` });
      seen.add(r.id);
    });
    const roles = new RoleBook(config.api.roles);
    const teams = configuredTeams(config);
    const ids = new Set<string>();
    config.api.keys.forEach((k, i) => {
      problems.push(...keyProblems(k, roles, teams, `api.keys[${i}]`));
      if (ids.has(k.id)) problems.push({ path: `api.keys[${i}].id`, message: `the key id ${k.id} is used twice` });
      ids.add(k.id);
    });
    return problems;
  },
};

export const apiConfigChecks: readonly ConfigCheck[] = [apiCheck];
