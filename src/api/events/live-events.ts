/**
 * What the event stream tells dashboards: a call was added, changed (state,
 * agent, monitors, reserved data) or ended, and an agent's status changed. Call changes come
 * from the call registry and the call control as they happen, agents' from
 * the agent registry, one agent at a time; static targets' statuses are derived from the calls (a
 * ring starts without a call state change), so the targets are compared after call changes (once
 * per turn of the event loop, however many came in it), and everyone once a second while anyone
 * listens. No change costs a pass over every agent: this runs on the thread that answers INVITEs.
 * Each subscriber sees only what its role's scope covers.
 */
import type { CallControl, MonitorEvent } from '../../engine/call-control.js';
import { viewOf } from '../../engine/call-control.js';
import type { CallRegistry } from '../../engine/session/call-registry.js';
import type { CallSession } from '../../engine/session/call-session.js';
import type { AgentSource } from '../agents/agent-source.js';
import { coversAnyTeam, coversTeam, type Principal } from '../auth/roles.js';
import type { AgentView, CallSummary } from '../schemas.js';
import type { LiveCalls } from '../views/live-calls.js';

export type LiveEvent =
  | { readonly type: 'call.added' | 'call.updated'; readonly call: CallSummary }
  | { readonly type: 'call.ended'; readonly call: { readonly id: string; readonly team: string | null; readonly endReason: string | null; readonly endedBy: string | null; readonly endedByUser: string | null } }
  /** The call goes on, out of what this subscriber sees (it overflowed to another team's queue). */
  | { readonly type: 'call.removed'; readonly call: { readonly id: string; readonly team: string | null } }
  | { readonly type: 'agent.updated'; readonly agent: AgentView };

type CallEvent = Extract<LiveEvent, { readonly type: 'call.added' | 'call.updated' | 'call.ended' }>;

export interface Subscriber {
  readonly principal: Principal;
  send(event: LiveEvent): void;
}

export class LiveEvents {
  private readonly subscribers = new Set<Subscriber>();
  /** The calls each subscriber has been shown (its snapshot, then events) and not yet told are gone from its view. */
  private readonly shown = new WeakMap<Subscriber, Set<string>>();
  private lastAgents = new Map<string, string>();
  private tick: NodeJS.Timeout | undefined;
  private targetsPending: NodeJS.Immediate | undefined;
  private readonly detach: (() => void)[] = [];

  constructor(
    registry: CallRegistry,
    control: CallControl,
    private readonly live: LiveCalls,
    private readonly agents: AgentSource,
    private readonly tickMs = 1000,
  ) {
    const added = (s: CallSession): void => this.call('call.added', s);
    const changed = (s: CallSession): void => this.call('call.updated', s);
    const ended = (s: CallSession): void => {
      const team = live.teamOf(s.queue ?? null);
      const endedByUser = s.facts.endedByUser;
      this.publish({ type: 'call.ended', call: { id: s.id, team, endReason: s.endReason ?? null, endedBy: s.endedBy ?? null, endedByUser: typeof endedByUser === 'string' ? endedByUser : null } });
      this.targetsChanged();
    };
    const monitor = (e: MonitorEvent): void => {
      if (!e.call.ended) changed(e.call);
    };
    registry.on('added', added);
    registry.on('state', changed);
    registry.on('changed', changed);
    registry.on('ended', ended);
    control.on('monitor', monitor);
    const unsubscribeAgents = agents.subscribe((id) => this.agentChanged(id));
    this.detach.push(
      unsubscribeAgents,
      () => registry.off('added', added),
      () => registry.off('state', changed),
      () => registry.off('changed', changed),
      () => registry.off('ended', ended),
      () => control.off('monitor', monitor),
    );
  }

  /** What a new subscriber starts from (and, given the subscriber, the calls it has been shown). */
  snapshot(p: Principal, s?: Subscriber): { calls: CallSummary[]; agents: AgentView[] } {
    const calls = this.live.list().filter((c) => coversTeam(p, c.team));
    if (s !== undefined) this.shown.set(s, new Set(calls.map((c) => c.id)));
    return { calls, agents: this.agents.list().filter((a) => coversAnyTeam(p, a.teams)) };
  }

  subscribe(s: Subscriber): () => void {
    if (this.subscribers.size === 0) {
      this.lastAgents = new Map(this.agents.list().map((a) => [a.id, JSON.stringify(a)]));
      this.tick = setInterval(() => this.agentChanges(), this.tickMs);
      this.tick.unref();
    }
    this.subscribers.add(s);
    // What it may see now is what it is taken to know (the snapshot it is sent next): later changes to those are updates.
    this.shown.set(s, new Set(this.live.list().filter((c) => coversTeam(s.principal, c.team)).map((c) => c.id)));
    return () => {
      this.subscribers.delete(s);
      if (this.subscribers.size === 0) clearInterval(this.tick);
    };
  }

  get size(): number {
    return this.subscribers.size;
  }

  private call(type: 'call.added' | 'call.updated', s: CallSession): void {
    if (this.subscribers.size === 0) return;
    this.publish({ type, call: this.live.summary(viewOf(s)) });
    this.targetsChanged();
  }

  /** One agent changed: it alone is compared. */
  private agentChanged(id: string): void {
    if (this.subscribers.size === 0) return;
    const a = this.agents.get(id);
    if (a !== undefined) this.compare([a]);
  }

  /** Calls changed: the static targets are compared once this turn's events are in. */
  private targetsChanged(): void {
    if (this.subscribers.size === 0 || this.targetsPending !== undefined) return;
    this.targetsPending = setImmediate(() => {
      this.targetsPending = undefined;
      if (this.subscribers.size > 0) this.compare(this.agents.targets());
    });
  }

  /** Publishes the views that differ from the last ones sent (`everyone`: the views are all there are: the gone are forgotten). */
  private compare(views: readonly AgentView[], everyone = false): void {
    const seen = everyone ? new Map<string, string>() : this.lastAgents;
    for (const a of views) {
      const text = JSON.stringify(a);
      if (this.lastAgents.get(a.id) !== text) this.publish({ type: 'agent.updated', agent: a });
      seen.set(a.id, text);
    }
    this.lastAgents = seen;
  }

  private agentChanges(): void {
    if (this.subscribers.size === 0) return;
    this.compare(this.agents.list(), true);
  }

  private publish(e: LiveEvent): void {
    for (const s of [...this.subscribers]) {
      if (e.type === 'agent.updated') {
        if (coversAnyTeam(s.principal, e.agent.teams)) s.send(e);
      } else if (e.type !== 'call.removed') {
        this.publishCall(s, e);
      }
    }
  }

  /**
   * A call's change as this subscriber sees it: the first event it may see is `call.added` (a call
   * arrives before it has a queue, so a team's view first sees it later); one it saw that leaves its
   * teams (an overflow to another team's queue) is `call.removed`; its end goes to whoever saw it.
   */
  private publishCall(s: Subscriber, e: CallEvent): void {
    let shown = this.shown.get(s);
    if (shown === undefined) this.shown.set(s, (shown = new Set()));
    const id = e.call.id;
    const visible = coversTeam(s.principal, e.call.team);
    if (e.type === 'call.ended') {
      if (visible || shown.has(id)) s.send(e);
      shown.delete(id);
    } else if (visible) {
      s.send(shown.has(id) ? e : { ...e, type: 'call.added' });
      shown.add(id);
    } else if (shown.delete(id)) {
      s.send({ type: 'call.removed', call: { id, team: e.call.team } });
    }
  }

  close(): void {
    clearInterval(this.tick);
    if (this.targetsPending !== undefined) clearImmediate(this.targetsPending);
    for (const d of this.detach.splice(0)) d();
    this.subscribers.clear();
  }
}
