/**
 * Live calls as supervisors see them: the engine's views plus what the API
 * adds (the queue's name and team, age, the stuck flag, participants,
 * transfers, reserved-data flags), and the lists' search and filters (the
 * product's Calls > Connected and Calls > In Queue pages).
 */
import type { CallControl, CallDetails, CallView } from '../../engine/call-control.js';
import type { CallDetailsView, CallListQueryValue, CallSummary } from '../schemas.js';

export interface QueueInfo {
  readonly id: string;
  readonly name: string;
  readonly team?: string | undefined;
}

/** A call's place in a waiting queue (the engine's CallQueues). */
export interface WaitingPlaceView {
  readonly position: number;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly offering: boolean;
}

export class LiveCalls {
  private readonly queues = new Map<string, QueueInfo>();

  constructor(
    readonly control: CallControl,
    queues: readonly QueueInfo[],
    private readonly stuckAfterMs: number,
    private readonly now: () => number = Date.now,
    private readonly placeOf: (call: string) => WaitingPlaceView | undefined = () => undefined,
  ) {
    for (const q of queues) this.queues.set(q.id, q);
  }

  teamOf(queue: string | null): string | null {
    return queue === null ? null : (this.queues.get(queue)?.team ?? null);
  }

  queueTeams(): string[] {
    return [...new Set([...this.queues.values()].map((q) => q.team).filter((t): t is string => t !== undefined))];
  }

  summary(v: CallView): CallSummary {
    const ageMs = Math.max(0, this.now() - Date.parse(v.arrivedAt));
    return {
      id: v.id,
      sipCallId: v.sipCallId,
      state: v.state,
      caller: { ...v.caller },
      dialed: v.dialed,
      queue: v.queue,
      queueName: v.queue === null ? null : (this.queues.get(v.queue)?.name ?? null),
      team: this.teamOf(v.queue),
      queuePath: [...v.queuePath],
      agent: v.agent,
      arrivedAt: v.arrivedAt,
      bridgedAt: v.bridgedAt,
      ageMs,
      stuck: ageMs >= this.stuckAfterMs,
      metrics: { ...v.metrics },
      recording: v.recording,
      deflection: v.deflection,
      monitors: v.monitors.map((m) => ({ ...m })),
      waiting: this.waitingOf(v.id),
    };
  }

  private waitingOf(call: string): CallSummary['waiting'] {
    const p = this.placeOf(call);
    return p === undefined ? null : { position: p.position, priority: p.priority, since: new Date(p.enqueuedAt).toISOString(), offering: p.offering };
  }

  list(): CallSummary[] {
    return this.control.list().map((v) => this.summary(v));
  }

  details(id: string): CallDetailsView {
    return this.detailsOf(this.control.details(id));
  }

  detailsOf(d: CallDetails): CallDetailsView {
    const participants: CallDetailsView['participants'] = [
      { role: 'caller', id: d.caller.withheld ? 'withheld' : (d.caller.number ?? 'unknown'), state: d.state === 'connected' ? 'talking' : d.state, since: d.arrivedAt },
    ];
    if (d.agent !== null) {
      const ringing = d.attempts.find((a) => a.agent === d.agent && a.outcome === 'ringing');
      participants.push({ role: 'agent', id: d.agent, state: ringing !== undefined ? 'ringing' : d.state === 'connected' ? 'talking' : d.state, since: d.bridgedAt ?? ringing?.startedAt ?? d.times.agentAnswered });
    }
    for (const m of d.monitors) participants.push({ role: 'supervisor', id: m.user, state: m.state, since: m.listeningSince ?? m.startedAt });
    const transfers: CallDetailsView['transfers'] = [];
    for (let i = 1; i < d.queuePath.length; i++) transfers.push({ from: d.queuePath[i - 1]!, to: d.queuePath[i]!, kind: 'deflection' });
    return {
      ...this.summary(d),
      language: d.language,
      source: { ...d.source },
      participants,
      attempts: d.attempts.map((a) => ({ ...a })),
      transfers,
      decisions: d.decisions.map((x) => ({ ...x })),
      reservedData: { ...d.reservedData },
      reservedDataSetBy: { ...d.reservedDataSetBy },
      callerAttestation: d.callerAttestation,
      crmTicket: d.crmTicket === null ? null : { ...d.crmTicket },
      trunk: { ...d.trunk },
      facts: { ...d.facts },
      times: { ...d.times },
    };
  }
}

/** The lists' search and filters; oldest first. */
export function filterCalls(calls: readonly CallSummary[], q: CallListQueryValue): CallSummary[] {
  const text = q.q?.trim().toLowerCase();
  const states = q.state !== undefined ? new Set<string>(q.state) : undefined;
  const queues = q.queue !== undefined ? new Set(q.queue) : undefined;
  const teams = q.team !== undefined ? new Set(q.team) : undefined;
  const out = calls.filter((c) => {
    if (states !== undefined && !states.has(c.state)) return false;
    if (queues !== undefined && (c.queue === null || !queues.has(c.queue))) return false;
    if (teams !== undefined && (c.team === null || !teams.has(c.team))) return false;
    if (q.minAgeSeconds !== undefined && c.ageMs < q.minAgeSeconds * 1000) return false;
    if (q.maxAgeSeconds !== undefined && c.ageMs > q.maxAgeSeconds * 1000) return false;
    if (q.stuck !== undefined && c.stuck !== q.stuck) return false;
    if (text !== undefined && text !== '') {
      const fields = [c.caller.number, c.caller.name, c.dialed, c.agent, c.queue, c.queueName, ...c.queuePath];
      if (!fields.some((f) => f !== null && f.toLowerCase().includes(text))) return false;
    }
    return true;
  });
  return out.sort((a, b) => b.ageMs - a.ageMs).slice(0, q.limit ?? 1000);
}
