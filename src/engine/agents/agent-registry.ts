/**
 * Agents at run time: each configured agent's state (logged out, ready, not
 * ready with a reason, ringing, whisper, on call, wrap-up), since when, calls
 * taken, when the last one ended, and whether its device can be reached (a
 * static URI always; a registered device while it has a live binding).
 *
 * An agent is offered one call at a time: `reserve()` takes a ready,
 * reachable agent for one call and returns the assignment through which the
 * call flow reports what happened (answered, connected, missed, over). States
 * an agent asks for during a call (not ready, log out) wait for the call and
 * its wrap-up to end; "ready" during wrap-up ends the wrap-up.
 *
 * A registered agent who is ready and loses its last binding (expired,
 * unregistered, stopped answering OPTIONS) becomes not ready "unreachable",
 * and ready again when its device registers again.
 */
import { EventEmitter } from 'node:events';
import type { SwitchboardConfig } from '../../config/load.js';
import { ErrorCodes, SwitchboardError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Binding } from '../registrar/binding-table.js';
import { AgentAssignment, type AssignmentHost } from './agent-assignment.js';
import { MISSED, UNREACHABLE } from './reasons.js';

export { AgentAssignment };
export { MISSED, UNREACHABLE };

export const AGENT_STATES = ['logged-out', 'ready', 'not-ready', 'ringing', 'whisper', 'on-call', 'wrap-up'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
/** What an agent (or a supervisor) may ask for. */
export type RequestedState = 'ready' | 'not-ready' | 'logged-out';

export interface AgentSnapshot {
  readonly id: string;
  readonly name: string;
  readonly team: string | null;
  readonly queues: readonly { readonly queue: string; readonly level: number }[];
  readonly device: string;
  readonly state: AgentState;
  readonly reason: string | null;
  readonly since: number;
  readonly callsTaken: number;
  readonly callsMissed: number;
  readonly lastCallEndedAt: number | null;
  /** The call it is ringing for, hearing the whisper of, on, or wrapping up. */
  readonly call: string | null;
  readonly callQueue: string | null;
  /** Ready since (for longest-idle order); null unless ready. */
  readonly idleSince: number | null;
  readonly reachable: boolean;
  readonly contacts: readonly { readonly contact: string; readonly expiresAt: number; readonly source: string; readonly userAgent: string | null }[];
  /** A state asked for during a call, applied when it (and its wrap-up) ends. */
  readonly pending: { readonly state: RequestedState; readonly reason: string | null } | null;
}

interface Agent {
  readonly id: string;
  readonly name: string;
  readonly team: string | null;
  readonly levels: Map<string, number>;
  readonly device: string;
  state: AgentState;
  reason: string | null;
  since: number;
  callsTaken: number;
  callsMissed: number;
  lastCallEndedAt: number | null;
  call: string | null;
  callQueue: string | null;
  idleSince: number | null;
  pending: { state: RequestedState; reason: string | null } | null;
  wrapUp: NodeJS.Timeout | undefined;
  contacts: readonly Binding[];
}

export interface RegistryEvents {
  changed: [agent: AgentSnapshot, by: string];
  /** An agent may have become offerable: the queues should dispatch. */
  available: [];
}

export class AgentStateError extends SwitchboardError {
  constructor(
    readonly kind: 'not-found' | 'conflict',
    message: string,
  ) {
    super(kind === 'not-found' ? ErrorCodes.NOT_FOUND : ErrorCodes.CONFLICT, message);
  }
}

export class AgentRegistry extends EventEmitter<RegistryEvents> implements AssignmentHost {
  private readonly agents = new Map<string, Agent>();
  private readonly byQueue = new Map<string, Agent[]>();
  /** Agents whose phone is carrying a supervisor's monitor (a trainee listening in): how many, each. */
  private readonly listening = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    config: SwitchboardConfig,
    private readonly logger: Logger,
    now?: () => number,
  ) {
    super();
    this.now = now ?? Date.now;
    const t = this.now();
    for (const a of config.agents) {
      const agent: Agent = {
        id: a.id,
        name: a.name,
        team: a.team ?? null,
        levels: new Map(a.queues.map((q) => [q.queue, q.level])),
        device: a.device,
        state: 'logged-out',
        reason: null,
        since: t,
        callsTaken: 0,
        callsMissed: 0,
        lastCallEndedAt: null,
        call: null,
        callQueue: null,
        idleSince: null,
        pending: null,
        wrapUp: undefined,
        contacts: [],
      };
      this.agents.set(a.id, agent);
      for (const q of a.queues) this.byQueue.set(q.queue, [...(this.byQueue.get(q.queue) ?? []), agent]);
      if (a.startState === 'ready') this.enter(agent, this.reachable(agent) ? 'ready' : 'not-ready', this.reachable(agent) ? null : UNREACHABLE, 'engine');
    }
  }

  get size(): number {
    return this.agents.size;
  }

  has(id: string): boolean {
    return this.agents.has(id);
  }

  /** Whether the agent's device registers (its id is then a registrar user). */
  registers(id: string): boolean {
    return this.agents.get(id)?.device === 'registered';
  }

  /** Queues served by at least one agent. */
  servedQueues(): string[] {
    return [...this.byQueue.keys()];
  }

  list(): AgentSnapshot[] {
    return [...this.agents.values()].map((a) => this.snapshot(a));
  }

  get(id: string): AgentSnapshot {
    return this.snapshot(this.need(id));
  }

  private need(id: string): Agent {
    const a = this.agents.get(id);
    if (a === undefined) throw new AgentStateError('not-found', `no agent ${id}`);
    return a;
  }

  private reachable(a: Agent): boolean {
    return a.device !== 'registered' || a.contacts.length > 0;
  }

  private snapshot(a: Agent): AgentSnapshot {
    return {
      id: a.id,
      name: a.name,
      team: a.team,
      queues: [...a.levels].map(([queue, level]) => ({ queue, level })),
      device: a.device,
      state: a.state,
      reason: a.reason,
      since: a.since,
      callsTaken: a.callsTaken,
      callsMissed: a.callsMissed,
      lastCallEndedAt: a.lastCallEndedAt,
      call: a.call,
      callQueue: a.callQueue,
      idleSince: a.state === 'ready' ? a.idleSince : null,
      reachable: this.reachable(a),
      contacts: a.contacts.map((b) => ({ contact: b.contact, expiresAt: b.expiresAt, source: b.source, userAgent: b.userAgent ?? null })),
      pending: a.pending === null ? null : { ...a.pending },
    };
  }

  private enter(a: Agent, state: AgentState, reason: string | null, by: string, idleSince?: number | null): void {
    const t = this.now();
    if (a.wrapUp !== undefined && state !== 'wrap-up') {
      clearTimeout(a.wrapUp);
      a.wrapUp = undefined;
    }
    const changed = a.state !== state || a.reason !== reason;
    // Asked for ready while ready (a second press, a tool re-asserting states): still idle since then.
    const stillIdle = a.state === 'ready' && state === 'ready' && (idleSince === undefined || idleSince === null);
    a.state = state;
    a.reason = reason;
    if (changed) a.since = t;
    if (state === 'ready' && !stillIdle) a.idleSince = idleSince === undefined || idleSince === null ? t : idleSince;
    if (state === 'logged-out' || state === 'not-ready' || state === 'ready') {
      a.call = null;
      a.callQueue = null;
    }
    if (changed) {
      this.logger.info({ agent: a.id, state, reason, by }, 'agent state');
      this.emit('changed', this.snapshot(a), by);
    }
    if (state === 'ready') this.emit('available');
  }

  /**
   * An agent's or a supervisor's request. During a call the request waits
   * for the call and its wrap-up (`pending`), except "ready" during wrap-up,
   * which ends it. Returns the agent as it now is.
   */
  request(id: string, state: RequestedState, reason: string | null, by: string): AgentSnapshot {
    const a = this.need(id);
    const r = state === 'not-ready' ? (reason ?? 'not-ready') : null;
    if (a.state === 'wrap-up' || a.state === 'ringing' || a.state === 'whisper' || a.state === 'on-call') {
      if (a.state === 'wrap-up') {
        a.pending = null;
        this.enter(a, state, r, by);
      } else {
        a.pending = state === 'ready' ? null : { state, reason: r };
        this.logger.info({ agent: id, state, reason: r, by, during: a.state }, 'agent state requested during a call');
        this.emit('changed', this.snapshot(a), by);
      }
      return this.snapshot(a);
    }
    if (state === 'ready' && !this.reachable(a)) {
      // Logged in, but no device to ring: not ready until it registers.
      this.enter(a, 'not-ready', UNREACHABLE, by);
      return this.snapshot(a);
    }
    this.enter(a, state, r, by);
    return this.snapshot(a);
  }

  /** The registrar's bindings of a registered agent changed. */
  bindings(id: string, contacts: readonly Binding[]): void {
    const a = this.agents.get(id);
    if (a === undefined || a.device !== 'registered') return;
    const was = this.reachable(a);
    a.contacts = contacts;
    const is = this.reachable(a);
    if (was && !is && a.state === 'ready') this.enter(a, 'not-ready', UNREACHABLE, 'engine');
    else if (!was && is && a.state === 'not-ready' && a.reason === UNREACHABLE) this.enter(a, 'ready', null, 'engine');
    else this.emit('changed', this.snapshot(a), 'engine');
  }

  /**
   * Agent `id`'s phone carries a monitor from now until the returned function is called (idempotent):
   * the agent is offered no queue call meanwhile, its phone being in use, whatever its state.
   */
  listen(id: string): () => void {
    this.need(id);
    this.listening.set(id, (this.listening.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.listening.get(id) ?? 1) - 1;
      if (n > 0) this.listening.set(id, n);
      else {
        this.listening.delete(id);
        this.emit('available');
      }
    };
  }

  /**
   * Agents of `queue` that may be offered a call now, in the order to offer
   * them: lowest level first, then longest idle.
   */
  offerable(queue: string): string[] {
    return (this.byQueue.get(queue) ?? [])
      .filter((a) => a.state === 'ready' && a.call === null && !this.listening.has(a.id) && this.reachable(a))
      .sort((x, y) => x.levels.get(queue)! - y.levels.get(queue)! || (x.idleSince ?? 0) - (y.idleSince ?? 0) || (x.id < y.id ? -1 : 1))
      .map((a) => a.id);
  }

  /** Counts for a queue's agents (the lists' metrics). */
  countsFor(queue: string): { loggedIn: number; ready: number; busy: number; notReady: number; wrapUp: number } {
    const c = { loggedIn: 0, ready: 0, busy: 0, notReady: 0, wrapUp: 0 };
    for (const a of this.byQueue.get(queue) ?? []) {
      if (a.state === 'logged-out') continue;
      c.loggedIn++;
      if (a.state === 'ready') c.ready++;
      else if (a.state === 'not-ready') c.notReady++;
      else if (a.state === 'wrap-up') c.wrapUp++;
      else c.busy++;
    }
    return c;
  }

  /** Takes a ready agent for one call: it rings. */
  reserve(id: string, call: string, queue: string): AgentAssignment {
    const a = this.need(id);
    if (a.state !== 'ready' || a.call !== null) throw new AgentStateError('conflict', `agent ${id} is ${a.state}`);
    const idleSince = a.idleSince;
    a.call = call;
    a.callQueue = queue;
    this.enter(a, 'ringing', null, 'engine');
    return new AgentAssignment(this, a.id, call, idleSince, this.now());
  }

  /** @internal: the assignment's phases. */
  phase(id: string, call: string, phase: 'whisper' | 'on-call'): void {
    const a = this.need(id);
    if (a.call !== call) return;
    if (phase === 'on-call' && a.state !== 'on-call') a.callsTaken++;
    this.enter(a, phase, null, 'engine');
  }

  /** @internal: the offer ended without a conversation. `missed`: the agent did not answer. */
  released(id: string, call: string, missed: boolean, idleSince: number | null): void {
    const a = this.need(id);
    if (a.call !== call) return;
    a.call = null;
    a.callQueue = null;
    if (!missed) {
      this.afterCall(a, idleSince);
      return;
    }
    a.callsMissed++;
    const p = a.pending;
    a.pending = null;
    // Not ready "missed", unless the agent asked for not ready or logged out meanwhile.
    if (p !== null) this.enter(a, p.state, p.reason, 'engine');
    else this.enter(a, 'not-ready', MISSED, 'engine');
  }

  /** @internal: the conversation ended: wrap-up, then ready (or what was asked for meanwhile). */
  finished(id: string, call: string, wrapUpSeconds: number): void {
    const a = this.need(id);
    if (a.call !== call) return;
    a.lastCallEndedAt = this.now();
    if (wrapUpSeconds <= 0) {
      this.afterCall(a, null);
      return;
    }
    this.enter(a, 'wrap-up', null, 'engine');
    const until = a.lastCallEndedAt + wrapUpSeconds * 1000;
    // A timer may fire a millisecond early: the wrap-up is never cut short.
    const check = (): void => {
      const left = until - this.now();
      if (left > 0) {
        a.wrapUp = setTimeout(check, left);
        a.wrapUp.unref();
        return;
      }
      a.wrapUp = undefined;
      if (a.state === 'wrap-up') this.afterCall(a, null);
    };
    a.wrapUp = setTimeout(check, wrapUpSeconds * 1000);
    a.wrapUp.unref();
  }

  private afterCall(a: Agent, idleSince: number | null): void {
    const p = a.pending;
    a.pending = null;
    if (p !== null) this.enter(a, p.state, p.reason, 'engine');
    else if (!this.reachable(a)) this.enter(a, 'not-ready', UNREACHABLE, 'engine');
    else this.enter(a, 'ready', null, 'engine', idleSince);
  }

  close(): void {
    for (const a of this.agents.values()) clearTimeout(a.wrapUp);
  }
}
