/**
 * The role × route matrix, walked from the route table itself: for every
 * route, every built-in role, two custom roles, a revoked key, a malformed key
 * and no key at all, and (for routes on one call) a call of the user's team,
 * of another team and of no team, (for routes on one agent) the user's own
 * agent and agents of a team and of none, the real server answers what the
 * rules say: 401 without a valid key, 403 without the permission or outside a
 * manager's teams (an agent may always act on itself), otherwise what the
 * route does. Every denial is in the audit log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_ROLE_DEFINITIONS, RoleBook } from '../../src/api/auth/roles.js';
import { ROUTES, type RouteSpec } from '../../src/api/route-table.js';
import { CUSTOM_ROLES, startFixture, USERS, type Fixture, type UserName } from './support/api-fixture.js';

let fx: Fixture & { server?: { port: number } };
const roles = new RoleBook(CUSTOM_ROLES);

let clock = Date.now();

beforeAll(async () => {
  fx = await startFixture({}, { listen: true, now: () => clock });
});
afterAll(async () => fx?.close());

type Caller = UserName | 'anonymous' | 'garbage';
const CALLERS: readonly Caller[] = [...(Object.keys(USERS) as UserName[]), 'anonymous', 'garbage'];
/** The call a call-scoped route is tried on: the queue's team. */
const CALL_QUEUES = { red: 'sales', blue: 'billing', none: 'lobby' } as const;
/** The agent an agent-scoped route is tried on: the caller's own (user `agent`, team red), or one of a team. */
const AGENT_OF = { own: 'agent', red: 'rita', blue: 'bill', none: 'nora' } as const;
type Target = keyof typeof AGENT_OF;

/** What an allowed request to each route answers here (no media plane: monitors conflict; no recording: pause conflicts). */
const ALLOWED: Record<string, number> = {
  'GET /openapi.json': 200,
  'GET /me': 200,
  'GET /calls': 200,
  'GET /calls/:id': 200,
  'GET /calls/:id/monitors': 200,
  'POST /calls/:id/monitors': 409,
  'POST /calls/:id/monitor-tickets': 409,
  'DELETE /calls/:id/monitors/:monitorId': 404,
  'POST /calls/:id/end': 200,
  'POST /calls/:id/recording/pause': 409,
  'POST /calls/:id/recording/resume': 409,
  'GET /calls/:id/reserved-data': 200,
  'PUT /calls/:id/reserved-data': 200,
  'GET /agents': 200,
  'GET /agents/:id': 200,
  'POST /agents/:id/state': 200,
  'GET /queues': 200,
  'GET /events': 200,
  'GET /audit': 200,
};

function expected(route: RouteSpec, caller: Caller, target: Target | undefined): number {
  if (route.access === 'public') return 200;
  if (caller === 'anonymous' || caller === 'garbage' || caller === 'gone') return 401;
  const u: { role: string; teams?: readonly string[] } = USERS[caller];
  const role = roles.get(u.role)!;
  if (route.access !== 'authenticated' && !role.permissions.includes(route.access)) return 403;
  if (route.agentScoped !== undefined) {
    if (target === 'own' && caller === 'agent') return ALLOWED[`${route.method} ${route.url}`]!;
    if (!role.permissions.includes(route.agentScoped)) return 403;
    const agentTeam = target === 'own' ? 'red' : target;
    if (role.scope === 'teams' && (agentTeam === 'none' || !(u.teams ?? []).includes(agentTeam!))) return 403;
    return ALLOWED[`${route.method} ${route.url}`]!;
  }
  const team = target === 'own' ? undefined : target;
  if (route.callScoped && role.scope === 'teams' && (team === 'none' || !(u.teams ?? []).includes(team!))) return 403;
  return ALLOWED[`${route.method} ${route.url}`]!;
}

function headersOf(caller: Caller): Record<string, string> {
  if (caller === 'anonymous') return {};
  if (caller === 'garbage') return { authorization: 'Bearer sbk_0000000000000000.not-a-real-key-at-all-but-well-formed-000000' };
  return fx.auth(caller);
}

async function ask(route: RouteSpec, caller: Caller, target: Target | undefined): Promise<{ status: number; body: string; wwwAuthenticate?: unknown }> {
  const id = route.agentScoped !== undefined ? AGENT_OF[target!] : target !== undefined && target !== 'own' ? fx.call(CALL_QUEUES[target]).id : 'x';
  const url = route.url.replace(':id', id).replace(':monitorId', 'm0123456789ab');
  if (route.url === '/events') {
    // A real socket: the stream never ends by itself.
    const abort = new AbortController();
    const res = await fetch(`http://127.0.0.1:${fx.server!.port}${url}`, { headers: headersOf(caller), signal: abort.signal });
    const body = res.status === 200 ? '' : await res.text();
    abort.abort();
    return { status: res.status, body };
  }
  const payload = route.url.endsWith('/end')
    ? { confirm: true, reason: 'matrix' }
    : route.url.endsWith('/monitors') && route.method === 'POST'
      ? { device: 'sip:supervisor@127.0.0.1:5999' }
      : route.method === 'PUT' && route.url.endsWith('/reserved-data')
        ? { reserved_verified_customer: true, reserved_bad_actor: null, reserved_repeat_customer: false }
        : route.url.endsWith('/state')
          ? { state: 'not-ready', reason: 'matrix' }
        : undefined;
  const res = await fx.api.app.inject({ method: route.method, url, headers: headersOf(caller), ...(payload !== undefined ? { payload } : {}) });
  return { status: res.statusCode, body: res.body, wwwAuthenticate: res.headers['www-authenticate'] };
}

interface Case {
  readonly route: RouteSpec;
  readonly caller: Caller;
  readonly team: Target | undefined;
}
const cases: Case[] = ROUTES.flatMap((route: RouteSpec) =>
  CALLERS.flatMap((caller): Case[] =>
    route.agentScoped !== undefined
      ? (['own', 'red', 'blue', 'none'] as const).map((team) => ({ route, caller, team }))
      : route.callScoped
        ? (['red', 'blue', 'none'] as const).map((team) => ({ route, caller, team }))
        : [{ route, caller, team: undefined }],
  ),
);

describe('permissions matrix (every route × every role, built-in and custom)', () => {
  it('covers every built-in role and at least one custom role', () => {
    const used = new Set<string>(Object.values(USERS).map((u) => u.role));
    for (const r of BUILT_IN_ROLE_DEFINITIONS) expect(used.has(r.id), r.id).toBe(true);
    expect(CUSTOM_ROLES.every((r) => used.has(r.id))).toBe(true);
  });

  it.each(cases.map((c) => [`${c.route.method} ${c.route.url}`, c.caller, c.team ?? '-', c] as const))('%s as %s (call or agent of team %s)', async (_r, _c, _t, c) => {
    const want = expected(c.route, c.caller, c.team);
    const got = await ask(c.route, c.caller, c.team);
    expect(got.status, got.body).toBe(want);
    if (want === 401 || want === 403) {
      const err = JSON.parse(got.body) as { statusCode: number; code: string; reason: string };
      expect(err).toMatchObject({ statusCode: want, code: want === 401 ? 'SB_API_UNAUTHORIZED' : 'SB_API_FORBIDDEN' });
      expect(err.reason.length).toBeGreaterThan(10);
    }
    // RFC 6750 §3: a 401 names the Bearer scheme, and says invalid_token when a token was sent and refused.
    if (want === 401 && c.route.url !== '/events') expect(got.wwwAuthenticate).toBe(c.caller === 'anonymous' ? 'Bearer realm="switchboard"' : 'Bearer realm="switchboard", error="invalid_token"');
  });

  it('every denial above is in the audit log, with who (when known), what and from where', async () => {
    // Unauthenticated denials beyond 20 a minute from one address are counted in one entry once the minute is over.
    clock += 60_000;
    expect((await fx.api.app.inject({ method: 'GET', url: '/calls' })).statusCode).toBe(401);
    const entries = fx.api.audit.recent(10_000, (e) => e.outcome === 'denied');
    const counted = /^(\d+) more unauthenticated requests? refused/;
    const denied = entries.filter((e) => !counted.test(e.reason ?? ''));
    const held = entries.reduce((n, e) => n + Number(counted.exec(e.reason ?? '')?.[1] ?? 0), 0);
    const expectedDenials = cases.filter((c) => [401, 403].includes(expected(c.route, c.caller, c.team))).length;
    expect(held).toBeGreaterThan(0);
    expect(denied.length + held).toBe(expectedDenials + 1);
    const managerOutside = denied.find((e) => e.user === 'manager' && e.action === 'call.end');
    expect(managerOutside).toMatchObject({ role: 'manager', status: 403, code: 'SB_API_FORBIDDEN', from: { address: '127.0.0.1' }, request: { method: 'POST' } });
    expect(managerOutside!.reason).toMatch(/team/);
    expect(denied.filter((e) => e.status === 401).every((e) => e.user === null)).toBe(true);
  });
});
