/**
 * The Agents page's source: the configured agents with their state from the
 * engine's AgentRegistry (state, reason, since, calls taken, the last call's
 * end, registered devices), plus, for queues that still list static SIP URIs
 * instead of agents, those targets with a status derived from the live calls
 * (ringing, whisper, on a call, or idle). State changes go to the registry;
 * a static target has no state to change.
 */
import { AgentStateError, type AgentRegistry, type AgentSnapshot, type RequestedState } from '../../engine/agents/agent-registry.js';
import type { CallSession } from '../../engine/session/call-session.js';
import type { AgentView } from '../schemas.js';

export interface AgentSource {
  list(): AgentView[];
  /** One agent or target by id; undefined when there is none. */
  get(id: string): AgentView | undefined;
  /** Asks for a state (`by`: the API user); throws AgentStateError (404, 409). */
  request(id: string, state: RequestedState, reason: string | null, by: string): AgentView;
  /** The queues' static targets alone (their status derives from the calls). */
  targets(): AgentView[];
  /** Calls `listener` with an agent's id whenever it changes (the event stream); returns the unsubscribe. */
  subscribe(listener: (id: string) => void): () => void;
}

export interface AgentQueue {
  readonly id: string;
  readonly team?: string | undefined;
  readonly agents?: readonly string[] | undefined;
}

const RANK = { idle: 0, ringing: 1, whisper: 2, 'on-call': 3 } as const;
type TargetStatus = keyof typeof RANK;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function statusOf(a: AgentSnapshot): AgentView['status'] {
  return a.state === 'ready' ? 'idle' : a.state;
}

export function agentViewOf(a: AgentSnapshot, teamOf: (queue: string) => string | undefined): AgentView {
  const teams = a.team !== null ? [a.team] : [...new Set(a.queues.map((q) => teamOf(q.queue)).filter((t): t is string => t !== undefined))];
  return {
    id: a.id,
    kind: 'agent',
    name: a.name,
    uri: a.device !== 'registered' ? a.device : (a.contacts[0]?.contact ?? null),
    teams,
    queues: a.queues.map((q) => q.queue),
    status: statusOf(a),
    call: a.call,
    state: a.state,
    reason: a.reason,
    since: iso(a.since),
    callsTaken: a.callsTaken,
    callsMissed: a.callsMissed,
    lastCallEndedAt: iso(a.lastCallEndedAt),
    idleSince: iso(a.idleSince),
    reachable: a.reachable,
    devices: a.contacts.map((c) => ({ contact: c.contact, expiresAt: new Date(c.expiresAt).toISOString(), source: c.source, userAgent: c.userAgent })),
    pending: a.pending === null ? null : { ...a.pending },
  };
}

function targetView(uri: string, teams: readonly string[], queues: readonly string[], status: TargetStatus, call: string | null): AgentView {
  return { id: uri, kind: 'target', name: null, uri, teams: [...teams], queues: [...queues], status, call, state: null, reason: null, since: null, callsTaken: null, callsMissed: null, lastCallEndedAt: null, idleSince: null, reachable: true, devices: [], pending: null };
}

export class ConfiguredAgentSource implements AgentSource {
  private readonly staticTargets = new Map<string, { teams: Set<string>; queues: Set<string> }>();
  private readonly teams = new Map<string, string>();

  constructor(
    queues: readonly AgentQueue[],
    private readonly sessions: () => readonly CallSession[],
    private readonly registry?: AgentRegistry,
  ) {
    for (const q of queues) {
      if (q.team !== undefined) this.teams.set(q.id, q.team);
      for (const uri of q.agents ?? []) {
        const a = this.staticTargets.get(uri) ?? { teams: new Set<string>(), queues: new Set<string>() };
        a.queues.add(q.id);
        if (q.team !== undefined) a.teams.add(q.team);
        this.staticTargets.set(uri, a);
      }
    }
  }

  targets(): AgentView[] {
    const status = new Map<string, { status: TargetStatus; call: string }>();
    const note = (uri: string, s: TargetStatus, call: string): void => {
      const prev = status.get(uri);
      if (prev === undefined || RANK[s] > RANK[prev.status]) status.set(uri, { status: s, call });
    };
    for (const s of this.sessions()) {
      if (s.ended) continue;
      for (const a of s.attempts) if (a.outcome === undefined && this.staticTargets.has(a.agent)) note(a.agent, 'ringing', s.id);
      if (s.agent !== undefined && s.state === 'whisper') note(s.agent, 'whisper', s.id);
      if (s.agent !== undefined && s.state === 'connected') note(s.agent, 'on-call', s.id);
    }
    return [...this.staticTargets.entries()].map(([uri, a]) => {
      const st = status.get(uri);
      return targetView(uri, [...a.teams], [...a.queues], st?.status ?? 'idle', st?.call ?? null);
    });
  }

  list(): AgentView[] {
    const agents = this.registry?.list().map((a) => agentViewOf(a, (q) => this.teams.get(q))) ?? [];
    return [...agents, ...this.targets()];
  }

  get(id: string): AgentView | undefined {
    if (this.registry?.has(id) === true) return agentViewOf(this.registry.get(id), (q) => this.teams.get(q));
    return this.staticTargets.has(id) ? this.targets().find((t) => t.id === id) : undefined;
  }

  request(id: string, state: RequestedState, reason: string | null, by: string): AgentView {
    const registry = this.registry;
    if (registry === undefined || !registry.has(id)) {
      // AgentRegistry's own errors: 404 for nobody, 409 for a static target (it has no state).
      if (this.staticTargets.has(id)) throw conflict(`${id} is a queue's static target, not an agent: it has no state`);
      throw notFoundAgent(id);
    }
    return agentViewOf(registry.request(id, state, reason, by), (q) => this.teams.get(q));
  }

  subscribe(listener: (id: string) => void): () => void {
    const r = this.registry;
    if (r === undefined) return () => undefined;
    const changed = (a: AgentSnapshot): void => listener(a.id);
    r.on('changed', changed);
    return () => r.off('changed', changed);
  }
}

function conflict(message: string): AgentStateError {
  return new AgentStateError('conflict', message);
}

function notFoundAgent(id: string): AgentStateError {
  return new AgentStateError('not-found', `no agent ${id}`);
}
