/**
 * The Agents page's source. Agents as entities (teams, states, registration)
 * come with the agents work; until then they are the queues' configured agent
 * URIs, with their status derived from the live calls: ringing (an attempt in
 * progress), whisper, on a call, or idle. The agents work replaces this
 * implementation behind the same interface.
 */
import type { CallSession } from '../../engine/session/call-session.js';
import type { AgentView } from '../schemas.js';

export interface AgentSource {
  list(): AgentView[];
}

export interface AgentQueue {
  readonly id: string;
  readonly team?: string | undefined;
  readonly agents?: readonly string[] | undefined;
}

const RANK = { idle: 0, ringing: 1, whisper: 2, 'on-call': 3 } as const;

export class ConfiguredAgentSource implements AgentSource {
  private readonly agents = new Map<string, { teams: Set<string>; queues: Set<string> }>();

  constructor(
    queues: readonly AgentQueue[],
    private readonly sessions: () => readonly CallSession[],
  ) {
    for (const q of queues) {
      for (const uri of q.agents ?? []) {
        const a = this.agents.get(uri) ?? { teams: new Set<string>(), queues: new Set<string>() };
        a.queues.add(q.id);
        if (q.team !== undefined) a.teams.add(q.team);
        this.agents.set(uri, a);
      }
    }
  }

  list(): AgentView[] {
    const status = new Map<string, { status: AgentView['status']; call: string }>();
    const note = (uri: string, s: AgentView['status'], call: string): void => {
      const prev = status.get(uri);
      if (prev === undefined || RANK[s] > RANK[prev.status]) status.set(uri, { status: s, call });
    };
    for (const s of this.sessions()) {
      if (s.ended) continue;
      for (const a of s.attempts) if (a.outcome === undefined) note(a.agent, 'ringing', s.id);
      if (s.agent !== undefined && s.state === 'whisper') note(s.agent, 'whisper', s.id);
      if (s.agent !== undefined && s.state === 'connected') note(s.agent, 'on-call', s.id);
    }
    return [...this.agents.entries()].map(([uri, a]) => {
      const st = status.get(uri);
      return { uri, teams: [...a.teams], queues: [...a.queues], status: st?.status ?? 'idle', call: st?.call ?? null };
    });
  }
}
