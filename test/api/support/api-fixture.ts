/**
 * The API on a real Fastify server over a real call registry and call
 * control, with real CallSessions placed in queues of two teams (no SIP: the
 * sessions are what the engine's flows create, driven here by their own
 * methods), and one key per role written by the real key code into a keys
 * file in a fresh state directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApi, startApiServer, type Api, type ApiServer } from '../../../src/api/api-server.js';
import { generateKey } from '../../../src/api/auth/api-key.js';
import { writeKeysFile, type StoredKey } from '../../../src/api/auth/keys-file.js';
import { configChecks } from '../../../src/app/config-checks.js';
import { loadConfigObject, type SwitchboardConfig } from '../../../src/config/load.js';
import { AgentRegistry } from '../../../src/engine/agents/agent-registry.js';
import { CallControl } from '../../../src/engine/call-control.js';
import { CallQueues } from '../../../src/engine/queues/call-queues.js';
import { CallRegistry } from '../../../src/engine/session/call-registry.js';
import { CallSession, type CallState } from '../../../src/engine/session/call-session.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { merge } from '../../support/contact-center.js';

export const QUEUES = [
  { id: 'sales', name: 'Sales', team: 'red', numbers: ['100'], agents: ['sip:ann@127.0.0.1:5071', 'sip:bob@127.0.0.1:5072'] },
  { id: 'billing', name: 'Billing', team: 'blue', numbers: ['200'], agents: ['sip:cid@127.0.0.1:5073', 'sip:bob@127.0.0.1:5072'] },
  { id: 'lobby', name: 'Lobby', numbers: ['300'], agents: [] },
  { id: 'care', name: 'Care', team: 'red', numbers: ['400'] },
  { id: 'desk', name: 'Desk', team: 'blue', numbers: ['500'] },
  { id: 'hall', name: 'Hall', numbers: ['600'] },
];

/** Agents with a state (src/engine/agents): `agent` is the user `agent` itself; the others one per team and one of none. */
export const AGENTS = [
  { id: 'agent', name: 'Agent', team: 'red', device: 'sip:agent@127.0.0.1:5081', queues: [{ queue: 'care' }] },
  { id: 'rita', name: 'Rita', team: 'red', device: 'sip:rita@127.0.0.1:5082', queues: [{ queue: 'care' }] },
  { id: 'bill', name: 'Bill', team: 'blue', device: 'sip:bill@127.0.0.1:5083', queues: [{ queue: 'desk' }] },
  { id: 'nora', name: 'Nora', device: 'sip:nora@127.0.0.1:5084', queues: [{ queue: 'hall' }] },
];

/** The users of the fixture: a key each. */
export const USERS = {
  admin: { role: 'admin' },
  manager: { role: 'manager', teams: ['red'] },
  supervisor: { role: 'supervisor' },
  agent: { role: 'agent', teams: ['red'] },
  /** A custom role: may view and end calls of its teams, nothing else. */
  qa: { role: 'qa', teams: ['red'] },
  /** A custom role with scope all: may listen, not see lists. */
  listener: { role: 'listener' },
  /** Its key is revoked once the API runs. */
  gone: { role: 'admin' },
} as const satisfies Record<string, { role: string; teams?: readonly string[] }>;
export type UserName = keyof typeof USERS;

export const CUSTOM_ROLES = [
  { id: 'qa', permissions: ['calls-view', 'monitor-edit'], scope: 'teams' },
  { id: 'listener', permissions: ['monitor'], scope: 'all' },
] as const;

export interface Fixture {
  readonly dir: string;
  readonly config: SwitchboardConfig;
  readonly registry: CallRegistry;
  readonly control: CallControl;
  readonly agents: AgentRegistry;
  readonly queues: CallQueues;
  readonly api: Api;
  readonly keys: Record<UserName, string>;
  readonly keysFile: string;
  /** A live call in `queue`, in `state`. */
  call(queue: string, state?: Exclude<CallState, 'ended'>, caller?: string): CallSession;
  auth(user: UserName): { authorization: string };
  close(): Promise<void>;
}

let counter = 0;

export function makeSession(registry: CallRegistry, queue: string, state: Exclude<CallState, 'ended'>, caller = '+15550100'): CallSession {
  const s = new CallSession({
    callId: `test-${++counter}@127.0.0.1`,
    caller: { number: caller, name: undefined, withheld: false },
    dialed: QUEUES.find((q) => q.id === queue)?.numbers[0] ?? '999',
    source: { address: '127.0.0.1', port: 5060, transport: 'udp' },
    language: 'en',
    logger: silentLogger(),
  });
  s.enterQueue(queue);
  registry.add(s);
  if (state === 'in-queue' || state === 'whisper' || state === 'connected') {
    s.transition('in-queue');
    const agent = QUEUES.find((q) => q.id === queue)?.agents?.[0];
    if (agent !== undefined) {
      const a = s.attempt(agent);
      if (state !== 'in-queue') s.settle(a, 'answered', 200);
    }
  }
  if (state !== 'in-queue') s.transition(state);
  return s;
}

export async function startFixture(overrides: Record<string, unknown> = {}, options: { listen?: boolean; now?: () => number; agentTickMs?: number } = {}): Promise<Fixture & { server?: ApiServer }> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-api-'));
  const config = loadConfigObject(
    merge({ node: { stateDir: dir, logLevel: 'silent' }, api: { enabled: true, host: '127.0.0.1', port: 0, roles: CUSTOM_ROLES }, queues: QUEUES, agents: AGENTS }, overrides),
    { checks: configChecks },
  );
  const keysFile = join(dir, 'api', 'keys.json');
  const entries: StoredKey[] = [];
  const keys = {} as Record<UserName, string>;
  for (const [user, u] of Object.entries(USERS) as [UserName, { role: string; teams?: readonly string[] }][]) {
    const k = generateKey();
    keys[user] = k.key;
    entries.push({ id: k.id, user, role: u.role, ...(u.teams !== undefined ? { teams: [...u.teams] } : {}), hash: k.hash });
  }
  writeKeysFile(keysFile, entries);
  const registry = new CallRegistry();
  const control = new CallControl(registry);
  const agents = new AgentRegistry(config, silentLogger());
  const queues = new CallQueues(agents, ['care', 'desk', 'hall'].map((id) => ({ id, name: id, priority: 0, maxWaitMs: 60_000, wrapUpSeconds: 0 })));
  // As an embedded SIP server listening on UDP and TCP only.
  const deps = { config, baseDir: dir, logger: silentLogger(), control, calls: registry, agentRegistry: agents, queues, sipTransports: ['udp', 'tcp'], ...(options.now !== undefined ? { now: options.now } : {}), ...(options.agentTickMs !== undefined ? { agentTickMs: options.agentTickMs } : {}) };
  const server = options.listen === true ? await startApiServer(deps) : undefined;
  const api = server ?? (await buildApi(deps));
  // Revoked the way `switchboard keys revoke` does it: the file rewritten without it, then re-read.
  writeKeysFile(keysFile, entries.filter((e) => e.user !== 'gone'));
  api.keys.reload();
  return {
    dir,
    config,
    registry,
    control,
    agents,
    queues,
    api,
    ...(server !== undefined ? { server } : {}),
    keys,
    keysFile,
    call: (queue, state = 'connected', caller) => makeSession(registry, queue, state, caller),
    auth: (user) => ({ authorization: `Bearer ${keys[user]}` }),
    async close() {
      await Promise.all(registry.all().map((s) => s.end('test over')));
      await api.close();
      agents.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
