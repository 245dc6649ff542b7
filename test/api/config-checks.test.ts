/**
 * The API's configuration checks: what the schema cannot say about roles,
 * keys and teams, reported with the rest of a file's problems in one error.
 */
import { describe, expect, it } from 'vitest';
import { generateKey } from '../../src/api/auth/api-key.js';
import { configChecks } from '../../src/app/config-checks.js';
import { loadConfigObject } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const queues = [
  { id: 'sales', name: 'Sales', team: 'red' },
  { id: 'billing', name: 'Billing', team: 'blue' },
];
const key = (user: string, role: string, teams?: string[]): Record<string, unknown> => {
  const k = generateKey();
  return { id: k.id, user, role, hash: k.hash, ...(teams !== undefined ? { teams } : {}) };
};

function problems(api: Record<string, unknown>): string[] {
  try {
    loadConfigObject({ api, queues }, { checks: configChecks });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe('api configuration checks', () => {
  it('a good api section passes', () => {
    expect(problems({ enabled: true, roles: [{ id: 'qa', permissions: ['calls-view', 'monitor-edit'] }], keys: [key('ann', 'qa', ['red']), key('bob', 'admin'), key('cid', 'manager', ['red', 'blue'])] })).toEqual([]);
  });

  it('custom roles may not take a built-in name or be defined twice; unknown permissions are refused', () => {
    expect(problems({ roles: [{ id: 'admin', permissions: [] }, { id: 'qa', permissions: [] }, { id: 'qa', permissions: ['monitor'] }] })).toEqual([
      expect.stringMatching(/api\.roles\[0\]\.id: "admin" is a built-in role/),
      expect.stringMatching(/api\.roles\[2\]\.id: the role "qa" is defined twice/),
    ]);
    expect(problems({ roles: [{ id: 'qa', permissions: ['fly'] }] })).toEqual([expect.stringMatching(/api\.roles\[0\]\.permissions\[0\]: expected one of: calls-view, monitor/)]);
  });

  it("keys name a known role and teams some queue belongs to; a manager's key needs a team", () => {
    const p = problems({ keys: [key('ann', 'wizard'), key('bob', 'manager', ['green']), key('cid', 'manager')] });
    expect(p).toEqual([
      expect.stringMatching(/api\.keys\[0\]\.role: unknown role "wizard"/),
      expect.stringMatching(/api\.keys\[1\]\.teams\[0\]: no queue belongs to team "green" \(teams: red, blue\)/),
      expect.stringMatching(/api\.keys\[2\]\.teams: the role manager acts only for its teams/),
    ]);
  });

  it('schema errors name the field: a hash that is not sha256, a bad user name, a team id on a queue', () => {
    const p = problems({ keys: [{ ...key('ann', 'admin'), hash: 'plain-text-key' }, { ...key('has space', 'admin') }] });
    expect(p.join('\n')).toMatch(/api\.keys\[0\]\.hash.*sha256/);
    expect(p.join('\n')).toMatch(/api\.keys\[1\]\.user/);
  });
});
