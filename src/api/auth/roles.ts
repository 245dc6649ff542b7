/**
 * Roles and what they allow. Built-in roles (the product's Admin, Manager,
 * Supervisor, Agent) and custom roles from `api.roles` are both a set of
 * permissions plus a scope: `all` (every call and agent) or `teams` (only the
 * calls and agents of the teams assigned to the user, as the seed's Manager).
 *
 * The seed: monitoring needs a role with the monitor permission; ending a call
 * needs Monitor-Chats-Edit (`monitor-edit`), held by Admin and by Manager
 * (for their teams only), and addable to any custom role.
 */
import { BUILT_IN_ROLES, PERMISSIONS, type Permission } from '../../config/schema/api.js';

export { PERMISSIONS, type Permission };

export type RoleScope = 'all' | 'teams';

export interface RoleDefinition {
  readonly id: string;
  readonly permissions: readonly Permission[];
  readonly scope: RoleScope;
  readonly builtIn: boolean;
}

export const BUILT_IN_ROLE_DEFINITIONS: readonly RoleDefinition[] = [
  { id: 'admin', permissions: PERMISSIONS, scope: 'all', builtIn: true },
  { id: 'manager', permissions: ['calls-view', 'monitor', 'monitor-edit', 'recording-control', 'reserved-data-edit', 'agent-state'], scope: 'teams', builtIn: true },
  { id: 'supervisor', permissions: ['calls-view', 'monitor', 'agent-state'], scope: 'all', builtIn: true },
  // Agents get none of the supervisors' permissions (each may change its own state); a trainee who should listen gets a custom role.
  { id: 'agent', permissions: [], scope: 'teams', builtIn: true },
];

export function isBuiltInRole(id: string): boolean {
  return (BUILT_IN_ROLES as readonly string[]).includes(id);
}

/** Every role a configuration defines: the built-in ones and its custom ones. */
export class RoleBook {
  private readonly roles = new Map<string, RoleDefinition>();

  constructor(custom: readonly { readonly id: string; readonly permissions: readonly Permission[]; readonly scope: RoleScope }[] = []) {
    for (const r of BUILT_IN_ROLE_DEFINITIONS) this.roles.set(r.id, r);
    for (const r of custom) if (!this.roles.has(r.id)) this.roles.set(r.id, { id: r.id, permissions: [...new Set(r.permissions)], scope: r.scope, builtIn: false });
  }

  get(id: string): RoleDefinition | undefined {
    return this.roles.get(id);
  }

  all(): RoleDefinition[] {
    return [...this.roles.values()];
  }

  ids(): string[] {
    return [...this.roles.keys()];
  }
}

/** Who is asking: the user a key maps to, with what the role allows. */
export interface Principal {
  readonly user: string;
  readonly role: string;
  readonly keyId: string;
  readonly permissions: ReadonlySet<Permission>;
  readonly scope: RoleScope;
  /** Teams the user acts for (meaningful with scope `teams`). */
  readonly teams: ReadonlySet<string>;
  /** The user's own SIP device (the default monitor target). */
  readonly device: string | undefined;
}

export function principalOf(role: RoleDefinition, entry: { readonly id: string; readonly user: string; readonly teams?: readonly string[]; readonly device?: string }): Principal {
  return {
    user: entry.user,
    role: role.id,
    keyId: entry.id,
    permissions: new Set(role.permissions),
    scope: role.scope,
    teams: new Set(entry.teams ?? []),
    device: entry.device,
  };
}

/** Whether `p` may see and act on something of `team` (null: a call or agent of no team). */
export function coversTeam(p: Principal, team: string | null): boolean {
  return p.scope === 'all' || (team !== null && p.teams.has(team));
}

/** Whether `p` may see something that belongs to any of `teams`. */
export function coversAnyTeam(p: Principal, teams: readonly string[]): boolean {
  return p.scope === 'all' || teams.some((t) => p.teams.has(t));
}
