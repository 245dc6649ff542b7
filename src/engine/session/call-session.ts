/**
 * A call as the engine sees it: a sequencer that owns what the call holds
 * (legs, media, recording, timers) and the facts the call record is made of.
 * Tasks change its state through `transition`, record facts through its
 * methods, and register what they hold with `own()`. `end()` is the one
 * teardown: it runs on every exit path, once, aborts `signal` (so every task
 * still running stops), then releases everything most recent first, with
 * errors logged and never thrown.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Logger } from '../../observability/logger.js';
import { ReservedData } from '../reserved/reserved-data.js';
import type { CallerAttestation } from '../reserved/verstat.js';
import type { CallerIdentity, SignalingSource } from '../signaling/sip-port.js';
import { UNKNOWN_TRUNK, type TrunkRef } from '../trunks/inbound-trunks.js';
import { CallTimeline, type CallMetrics } from './call-timeline.js';

/** in-queue: hunting for an agent; whisper: an agent answered and hears the whisper. */
export type CallState = 'routing' | 'in-queue' | 'whisper' | 'connected' | 'message' | 'voicemail' | 'forwarding' | 'ended';

/** Who ended the call. */
export type EndedBy = 'caller' | 'agent' | 'gateway' | 'engine' | 'supervisor';

export type AttemptOutcome = 'answered' | 'busy' | 'declined' | 'no-answer' | 'failed' | 'cancelled' | 'left-during-whisper';

export interface AgentAttempt {
  readonly agent: string;
  readonly queue: string;
  readonly startedAt: number;
  endedAt?: number;
  outcome?: AttemptOutcome;
  status?: number;
  /** A waiting queue's offer: when the agent was taken for the call, and since when it had been idle (ready). */
  offer?: { readonly at: number; readonly idleSince: number | null };
}

/** What the hours policy decided for one queue of the call's path. */
export interface DecisionSummary {
  readonly queue: string;
  readonly open: boolean;
  readonly action: string;
  readonly reason: string;
  readonly deflection: 'queue' | 'global' | null;
  readonly schedule: string | null;
  /** The schedule's time zone (its `at` is in it). */
  readonly timeZone: string | null;
  readonly exception: string | null;
  readonly at: string;
}

/** A live call's recording, as the API and the agent's DTMF codes act on it. */
export interface RecordingHandle {
  readonly recordingId: string;
  /** idle, recording, paused, finished */
  readonly state: string;
  /** A pause or resume on its way to the media relay: another is refused until it is confirmed. */
  readonly pending: 'pausing' | 'resuming' | undefined;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/** A supervisor listening to the call (src/engine/tasks/monitor-task.ts). */
export interface SupervisorMonitor {
  readonly id: string;
  /** The API user who asked for it. */
  readonly user: string;
  /** The SIP URI of the supervisor's device. */
  readonly device: string;
  readonly startedAt: number;
  /** ringing: the device is being called; listening: it answered and receives the mix. */
  readonly state: 'ringing' | 'listening';
  readonly listeningSince: number | undefined;
  /** Hangs the device up and stops its stream (idempotent); `by` is who stopped it (a user, `device`, `engine`). */
  stop(reason: string, by: string): Promise<void>;
}

export interface CallSessionInit {
  readonly callId: string;
  readonly caller: CallerIdentity;
  readonly dialed: string;
  readonly source: SignalingSource;
  readonly language: string;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The inbound trunk the call came in on (default: an unknown, untrusted source). */
  readonly trunk?: TrunkRef;
}

export interface SessionEvents {
  state: [CallSession, CallState];
  /** Something shown in the call's details changed (its reserved data). */
  changed: [CallSession];
  ended: [CallSession];
}

type Release = () => void | Promise<void>;

export class CallSession extends EventEmitter<SessionEvents> {
  readonly id = randomUUID();
  readonly callId: string;
  readonly caller: CallerIdentity;
  readonly dialed: string;
  readonly source: SignalingSource;
  readonly trunk: TrunkRef;
  readonly language: string;
  readonly timeline: CallTimeline;
  readonly log: Logger;
  readonly queuePath: string[] = [];
  readonly decisions: DecisionSummary[] = [];
  readonly attempts: AgentAttempt[] = [];
  /** The call's recordings, in order (addRecording). */
  readonly recordingIds: string[] = [];
  /** The agent (or gateway) currently on the other side. */
  agent: string | undefined;
  /** What a closed queue did with the call (the last deflection taken), for the record. */
  deflection: { readonly action: string; readonly target: string | null } | undefined;
  /** The recording in progress (set by the record task). */
  recording: RecordingHandle | undefined;
  /** Extra facts features attach for the record and the CRM (callback number, ...). */
  readonly facts: Record<string, string | number | boolean> = {};
  /** Supervisors listening now, by monitor id (each ends with the call: it is owned). */
  readonly monitors = new Map<string, SupervisorMonitor>();
  /** The reserved properties (verified customer, bad actor, repeat customer). */
  readonly reserved: ReservedData;
  /** The caller's STIR/SHAKEN verification result, from a trusted trunk. */
  callerAttestation: CallerAttestation | undefined;
  /** The CRM ticket (case) the call belongs to, from a trusted trunk's `crm.ticket.header`. */
  crmTicket: string | undefined;
  /** Incoming headers kept to pass on (trusted trunks only, checked), by lower-case name. */
  readonly inboundFields = new Map<string, string>();
  /** Data parameters sent on with the call, when kept (redirection.sip.data_records). */
  dataParameters: { readonly inMetadata: Readonly<Record<string, string>> | undefined; readonly inCrmRecord: Readonly<Record<string, string>> | undefined } | undefined;
  private stateValue: CallState = 'routing';
  private endReasonValue: string | undefined;
  private endedByValue: EndedBy | undefined;
  private readonly releases: { name: string; fn: Release }[] = [];
  private ending: Promise<void> | undefined;
  private readonly lifetime = new AbortController();
  readonly now: () => number;

  constructor(init: CallSessionInit) {
    super();
    this.callId = init.callId;
    this.caller = init.caller;
    this.dialed = init.dialed;
    this.source = init.source;
    this.trunk = init.trunk ?? UNKNOWN_TRUNK;
    this.language = init.language;
    this.now = init.now ?? Date.now;
    this.timeline = new CallTimeline(this.now);
    this.log = init.logger.child({ call: this.id, callId: init.callId, trunk: this.trunk.id });
    this.reserved = new ReservedData(this.now, () => {
      if (!this.ended) this.emit('changed', this);
    });
  }

  /** A recording of the call started: named in its record (and in its journal line, by `changed`). */
  addRecording(id: string): void {
    this.recordingIds.push(id);
    this.changed();
  }

  /** Something shown in the call's details changed (a recording started, paused or resumed): `changed`. */
  changed(): void {
    if (!this.ended) this.emit('changed', this);
  }

  get state(): CallState {
    return this.stateValue;
  }

  get ended(): boolean {
    return this.ending !== undefined;
  }

  /** Aborted when the call ends: every task of the call listens to it. */
  get signal(): AbortSignal {
    return this.lifetime.signal;
  }

  get endReason(): string | undefined {
    return this.endReasonValue;
  }

  get endedBy(): EndedBy | undefined {
    return this.endedByValue;
  }

  get queue(): string | undefined {
    return this.queuePath[this.queuePath.length - 1];
  }

  metrics(): CallMetrics {
    return this.timeline.metrics();
  }

  transition(state: Exclude<CallState, 'ended'>): void {
    if (this.ended || state === this.stateValue) return;
    this.stateValue = state;
    this.timeline.inQueue(state === 'in-queue');
    if (state === 'connected') this.timeline.mark('bridgedAt');
    this.emit('state', this, state);
  }

  enterQueue(queueId: string): void {
    this.queuePath.push(queueId);
  }

  attempt(agent: string): AgentAttempt {
    const a: AgentAttempt = { agent, queue: this.queue ?? '', startedAt: this.now() };
    this.attempts.push(a);
    this.agent = agent;
    return a;
  }

  settle(attempt: AgentAttempt, outcome: AttemptOutcome, status?: number): void {
    attempt.endedAt ??= this.now();
    attempt.outcome = outcome;
    if (status !== undefined) attempt.status = status;
    if (outcome !== 'answered' && this.agent === attempt.agent) this.agent = undefined;
  }

  /**
   * Registers something to release when the call ends; returns a function that
   * releases it early (and removes it from the list), e.g. when a task is done with it.
   */
  own(name: string, fn: Release): () => Promise<void> {
    const entry = { name, fn };
    if (this.ending !== undefined) {
      void this.runRelease(entry);
      return async () => undefined;
    }
    this.releases.push(entry);
    return async () => {
      const i = this.releases.indexOf(entry);
      if (i < 0) return;
      this.releases.splice(i, 1);
      await this.runRelease(entry);
    };
  }

  /**
   * Ends the call (idempotent): tasks are aborted, every owned resource released, most recent first.
   * `abortReason`: what the tasks' signal says why (a DialGivenUp puts a Reason on the agents' CANCELs).
   */
  end(reason: string, by: EndedBy = 'engine', abortReason?: unknown): Promise<void> {
    if (this.ending !== undefined) return this.ending;
    this.endReasonValue = reason;
    this.endedByValue = by;
    this.stateValue = 'ended';
    this.timeline.inQueue(false);
    this.timeline.onHold(false);
    this.timeline.mark('endedAt');
    // An agent still ringing when the call ends was cancelled (the record is written before the hunt hears back).
    for (const a of this.attempts) if (a.outcome === undefined) this.settle(a, 'cancelled');
    this.lifetime.abort(abortReason);
    this.ending = (async () => {
      while (this.releases.length > 0) await this.runRelease(this.releases.pop()!);
      this.log.info({ reason, by, agent: this.agent }, 'call ended');
      this.emit('ended', this);
    })();
    return this.ending;
  }

  private async runRelease(entry: { name: string; fn: Release }): Promise<void> {
    try {
      await entry.fn();
    } catch (e) {
      this.log.warn({ resource: entry.name, err: e instanceof Error ? e.message : String(e) }, 'release failed');
    }
  }
}
