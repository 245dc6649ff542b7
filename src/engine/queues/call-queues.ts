/**
 * The waiting queues: calls for queues served by agents wait here until an
 * agent is offered to them. Matching is one pass over every waiting call in
 * order (call priority, highest first, then first come, first served), each
 * given the best offerable agent of its queue (lowest level, then longest
 * idle: AgentRegistry.offerable). It runs when a call joins, when an offer
 * failed and the call is back, and whenever an agent may have become
 * available. Everything here is synchronous, so an agent can never be
 * reserved for two calls.
 *
 * A call being offered keeps its place: if the agent does not take it, it
 * is back at the same position (ahead of calls that came later).
 */
import type { AgentAssignment, AgentRegistry } from '../agents/agent-registry.js';

export interface QueueSettings {
  readonly id: string;
  readonly name: string;
  /** Call priority of the queue's calls. */
  readonly priority: number;
  readonly maxWaitMs: number;
  readonly wrapUpSeconds: number;
}

interface Entry {
  readonly call: string;
  readonly queue: string;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly seq: number;
  /** An agent was reserved for it and the call flow is offering the call. */
  offering: boolean;
  /** Delivered before the call flow asked for it. */
  ready: AgentAssignment | undefined;
  waiter: ((a: AgentAssignment) => void) | undefined;
  /** Not offered an agent for now (its caller has not acknowledged our answer yet); it keeps its place. */
  held: boolean;
}

export interface QueueStats {
  readonly id: string;
  readonly name: string;
  /** Calls waiting (being offered to an agent included). */
  readonly waiting: number;
  readonly offering: number;
  readonly longestWaitMs: number;
  readonly agents: { readonly loggedIn: number; readonly ready: number; readonly busy: number; readonly notReady: number; readonly wrapUp: number };
  /** Calls answered by an agent, and that overflowed or were abandoned while waiting, since start. */
  readonly answered: number;
  readonly overflowed: number;
  readonly abandoned: number;
  /** Average handle time (talk and wrap-up) of recent calls; null before the first. */
  readonly averageHandleMs: number | null;
}

interface Counters {
  answered: number;
  overflowed: number;
  abandoned: number;
  ahtMs: number | null;
}

export class CallQueues {
  private readonly entries = new Map<string, Entry>();
  private readonly settings = new Map<string, QueueSettings>();
  private readonly counters = new Map<string, Counters>();
  private seq = 0;
  private scheduled = false;

  constructor(
    private readonly agents: AgentRegistry,
    queues: readonly QueueSettings[],
    private readonly now: () => number = Date.now,
  ) {
    for (const q of queues) {
      this.settings.set(q.id, q);
      this.counters.set(q.id, { answered: 0, overflowed: 0, abandoned: 0, ahtMs: null });
    }
    agents.on('available', () => this.schedule());
  }

  /** Whether `queue` is a waiting queue (served by agents). */
  has(queue: string): boolean {
    return this.settings.has(queue);
  }

  settingsOf(queue: string): QueueSettings {
    const s = this.settings.get(queue);
    if (s === undefined) throw new Error(`queue ${queue} is not served by agents`);
    return s;
  }

  /** A call joins `queue` with `priority` (its queue's, maybe raised by the caller's SIP Priority). */
  join(call: string, queue: string, priority: number): WaitingPlace {
    const entry: Entry = { call, queue, priority, enqueuedAt: this.now(), seq: this.seq++, offering: false, ready: undefined, waiter: undefined, held: false };
    this.entries.set(call, entry);
    this.dispatch();
    return new WaitingPlace(this, entry);
  }

  /** @internal: a call may be offered an agent again. */
  wake(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private ordered(): Entry[] {
    return [...this.entries.values()].sort((a, b) => b.priority - a.priority || a.enqueuedAt - b.enqueuedAt || a.seq - b.seq);
  }

  /** Matches waiting calls with offerable agents. */
  dispatch(): void {
    for (const e of this.ordered()) {
      if (e.offering || e.held) continue;
      const agent = this.agents.offerable(e.queue)[0];
      if (agent === undefined) continue;
      const assignment = this.agents.reserve(agent, e.call, e.queue);
      e.offering = true;
      if (e.waiter !== undefined) {
        const w = e.waiter;
        e.waiter = undefined;
        w(assignment);
      } else e.ready = assignment;
    }
  }

  /** 1 for the next call to be offered; calls being offered to an agent count as ahead. */
  position(call: string): number | undefined {
    const e = this.entries.get(call);
    if (e === undefined) return undefined;
    return this.ordered().filter((x) => x.queue === e.queue).indexOf(e) + 1;
  }

  /** A call's place: position, priority, when it joined, whether an agent rings for it. */
  placeOf(call: string): { position: number; priority: number; enqueuedAt: number; offering: boolean } | undefined {
    const e = this.entries.get(call);
    if (e === undefined) return undefined;
    return { position: this.position(call)!, priority: e.priority, enqueuedAt: e.enqueuedAt, offering: e.offering };
  }

  waitingIn(queue: string): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.queue === queue) n++;
    return n;
  }

  /** Estimated wait for `position` in `queue`: position × handle time ÷ agents logged in; undefined without history. */
  estimatedWaitMs(queue: string, position: number): number | undefined {
    const aht = this.counters.get(queue)?.ahtMs;
    if (aht === null || aht === undefined) return undefined;
    const staffed = Math.max(1, this.agents.countsFor(queue).loggedIn);
    return (position * aht) / staffed;
  }

  /** @internal */
  entryOf(call: string): Entry | undefined {
    return this.entries.get(call);
  }

  /** @internal: the call left the queue. */
  remove(entry: Entry, why: 'answered' | 'overflowed' | 'abandoned'): void {
    if (this.entries.get(entry.call) !== entry) return;
    this.entries.delete(entry.call);
    entry.waiter = undefined;
    // An agent reserved in the instant the call left (its maximum wait, its caller gone) is given back.
    entry.ready?.release(0);
    entry.ready = undefined;
    const c = this.counters.get(entry.queue);
    if (c !== undefined) c[why]++;
    this.schedule();
  }

  /** @internal: an offer failed; the call waits again at its place. */
  back(entry: Entry): void {
    if (this.entries.get(entry.call) !== entry) return;
    entry.offering = false;
    entry.ready = undefined;
    this.dispatch();
  }

  /** A call of `queue` handled by an agent ended: its talk and wrap-up feed the estimate. */
  handled(queue: string, handleMs: number): void {
    const c = this.counters.get(queue);
    if (c === undefined) return;
    c.ahtMs = c.ahtMs === null ? handleMs : c.ahtMs * 0.8 + handleMs * 0.2;
  }

  stats(): QueueStats[] {
    const t = this.now();
    return [...this.settings.values()].map((q) => {
      const mine = [...this.entries.values()].filter((e) => e.queue === q.id);
      const c = this.counters.get(q.id)!;
      return {
        id: q.id,
        name: q.name,
        waiting: mine.length,
        offering: mine.filter((e) => e.offering).length,
        longestWaitMs: mine.length === 0 ? 0 : t - Math.min(...mine.map((e) => e.enqueuedAt)),
        agents: this.agents.countsFor(q.id),
        answered: c.answered,
        overflowed: c.overflowed,
        abandoned: c.abandoned,
        averageHandleMs: c.ahtMs === null ? null : Math.round(c.ahtMs),
      };
    });
  }
}

/** One call's place in a queue, as its call flow sees it. */
export class WaitingPlace {
  private left = false;

  constructor(
    private readonly queues: CallQueues,
    private readonly entry: Entry,
  ) {}

  get queue(): string {
    return this.entry.queue;
  }

  get enqueuedAt(): number {
    return this.entry.enqueuedAt;
  }

  get hasLeft(): boolean {
    return this.left;
  }

  position(): number | undefined {
    return this.queues.position(this.entry.call);
  }

  /**
   * Offered no agent until `until` settles (the caller's ACK of our answer: an agent is not rung for a
   * caller whose phone may never have the call); the place is kept, and it is offered one then.
   */
  async holdUntil(until: Promise<unknown>): Promise<void> {
    this.entry.held = true;
    try {
      await until;
    } finally {
      this.entry.held = false;
      this.queues.wake();
    }
  }

  /** An agent reserved for this call already (no waiting). */
  takeNow(): AgentAssignment | undefined {
    const a = this.entry.ready;
    this.entry.ready = undefined;
    return a;
  }

  /** Waits for an agent until `deadline` (epoch ms): undefined then. Rejects when `signal` aborts. */
  next(deadline: number, signal: AbortSignal): Promise<AgentAssignment | undefined> {
    const now = this.takeNow();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.entry.waiter = undefined;
      };
      // A timer may fire a millisecond early: the maximum wait is never cut short.
      const arm = (): void => {
        const left = deadline - Date.now();
        if (left > 0) {
          timer = setTimeout(arm, left);
          return;
        }
        finish();
        resolve(undefined);
      };
      timer = setTimeout(arm, Math.max(0, deadline - Date.now()));
      const onAbort = (): void => {
        finish();
        reject(signal.reason instanceof Error ? signal.reason : new Error('the call ended'));
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.entry.waiter = (a) => {
        finish();
        resolve(a);
      };
    });
  }

  /** The offer failed: back to the same place. */
  back(): void {
    if (!this.left) this.queues.back(this.entry);
  }

  /** Leaves the queue (idempotent). */
  leave(why: 'answered' | 'overflowed' | 'abandoned'): void {
    if (this.left) return;
    this.left = true;
    this.queues.remove(this.entry, why);
  }
}
