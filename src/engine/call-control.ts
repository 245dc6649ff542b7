/**
 * The engine's small internal API on live calls: list them, look at one, end
 * one, pause and resume its recording, and let supervisors listen. The HTTP
 * API (src/api/) and the status endpoint use it; commands reach a call through
 * its session, never by reaching into its legs.
 */
import { EventEmitter } from 'node:events';
import { ErrorCodes, SwitchboardError } from '../errors.js';
import { MediaStateError, type CallMedia } from '../media/index.js';
import type { ReservedProperty } from '../config/schema/reserved-data.js';
import type { ReservedValues } from './reserved/reserved-data.js';
import type { CallerAttestation } from './reserved/verstat.js';
import type { CallRegistry } from './session/call-registry.js';
import type { CallSession, CallState, DecisionSummary, EndedBy, SupervisorMonitor } from './session/call-session.js';
import type { CallMetrics } from './session/call-timeline.js';
import { MonitorTickets, type IssuedTicket } from './monitor-tickets.js';
import type { DialTarget, InboundInvite, SipPort } from './signaling/sip-port.js';
import { answerMonitor, startMonitor, type MonitorChange, type MonitorChangeDetail } from './tasks/monitor-task.js';

export interface MonitorView {
  readonly id: string;
  readonly user: string;
  readonly device: string;
  readonly state: 'ringing' | 'listening';
  readonly startedAt: string;
  readonly listeningSince: string | null;
}

/** A monitor as `stopMonitor` leaves it: what it was, stopped now. */
export interface StoppedMonitorView extends Omit<MonitorView, 'state'> {
  readonly state: 'stopped';
  readonly stoppedAt: string;
}

/** A live call's recording: its id and whether it is recording or paused. */
export interface RecordingStateView {
  readonly id: string;
  readonly state: string;
}

export interface CallView {
  readonly id: string;
  readonly sipCallId: string;
  readonly state: CallState;
  readonly caller: { readonly number: string | null; readonly name: string | null; readonly withheld: boolean };
  readonly dialed: string;
  readonly queue: string | null;
  readonly queuePath: readonly string[];
  readonly agent: string | null;
  readonly arrivedAt: string;
  readonly bridgedAt: string | null;
  readonly metrics: CallMetrics;
  readonly recording: RecordingStateView | null;
  readonly deflection: { readonly action: string; readonly target: string | null } | null;
  readonly monitors: readonly MonitorView[];
}

/** Everything known about one live call (the product's call details). */
export interface CallDetails extends CallView {
  readonly language: string;
  readonly source: { readonly address: string; readonly port: number; readonly transport: string };
  /** Every agent tried, in order, with what happened (`ringing` while it rings). */
  readonly attempts: readonly { readonly agent: string; readonly queue: string; readonly outcome: string; readonly status: number | null; readonly startedAt: string; readonly endedAt: string | null }[];
  readonly decisions: readonly DecisionSummary[];
  readonly times: { readonly answered: string | null; readonly agentAnswered: string | null };
  readonly facts: Readonly<Record<string, string | number | boolean>>;
  readonly trunk: { readonly id: string | null; readonly name: string | null; readonly trusted: boolean };
  readonly reservedData: ReservedValues;
  readonly reservedDataSetBy: Readonly<Record<string, string>>;
  readonly callerAttestation: CallerAttestation | null;
  /** The CRM ticket the call belongs to, and its page when `crm.ticket.link` is set. */
  readonly crmTicket: { readonly id: string; readonly link: string | null } | null;
}

/** A call's reserved data as the API reads and sets it. */
export interface ReservedDataView {
  readonly call: string;
  readonly reservedData: ReservedValues;
  readonly setBy: Readonly<Record<string, string>>;
  readonly callerAttestation: CallerAttestation | null;
  readonly trunk: { readonly id: string | null; readonly name: string | null; readonly trusted: boolean };
}

export class CallControlError extends SwitchboardError {
  constructor(
    readonly kind: 'not-found' | 'conflict',
    message: string,
  ) {
    super(kind === 'not-found' ? ErrorCodes.NOT_FOUND : ErrorCodes.CONFLICT, message);
  }
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function monitorViewOf(m: SupervisorMonitor): MonitorView {
  return { id: m.id, user: m.user, device: m.device, state: m.state, startedAt: new Date(m.startedAt).toISOString(), listeningSince: iso(m.listeningSince) };
}

export function viewOf(s: CallSession): CallView {
  const m = s.timeline.marks;
  return {
    id: s.id,
    sipCallId: s.callId,
    state: s.state,
    caller: { number: s.caller.number ?? null, name: s.caller.name ?? null, withheld: s.caller.withheld },
    dialed: s.dialed,
    queue: s.queue ?? null,
    queuePath: [...s.queuePath],
    agent: s.agent ?? null,
    arrivedAt: new Date(m.arrivedAt).toISOString(),
    bridgedAt: iso(m.bridgedAt),
    metrics: s.metrics(),
    recording: s.recording !== undefined ? { id: s.recording.recordingId, state: s.recording.state } : null,
    deflection: s.deflection ?? null,
    monitors: [...s.monitors.values()].map(monitorViewOf),
  };
}

export function detailsOf(s: CallSession, ticketLink?: string): CallDetails {
  const m = s.timeline.marks;
  return {
    ...viewOf(s),
    language: s.language,
    source: { ...s.source },
    attempts: s.attempts.map((a) => ({ agent: a.agent, queue: a.queue, outcome: a.outcome ?? 'ringing', status: a.status ?? null, startedAt: new Date(a.startedAt).toISOString(), endedAt: iso(a.endedAt) })),
    decisions: s.decisions.map((d) => ({ ...d })),
    times: { answered: iso(m.answeredAt), agentAnswered: iso(m.agentAnsweredAt) },
    facts: { ...s.facts },
    trunk: { ...s.trunk },
    reservedData: s.reserved.values(),
    reservedDataSetBy: s.reserved.setBy(),
    callerAttestation: s.callerAttestation ?? null,
    crmTicket: s.crmTicket === undefined ? null : { id: s.crmTicket, link: ticketLink === undefined ? null : ticketLink.replaceAll('{ticket}', encodeURIComponent(s.crmTicket)) },
  };
}

export function reservedDataOf(s: CallSession): ReservedDataView {
  return { call: s.id, reservedData: s.reserved.values(), setBy: s.reserved.setBy(), callerAttestation: s.callerAttestation ?? null, trunk: { ...s.trunk } };
}

export interface MonitorEvent {
  readonly call: CallSession;
  readonly monitor: MonitorView;
  readonly change: MonitorChange;
  readonly reason?: string;
  /** Who caused the change: the user, `device` (it hung up) or `engine`. */
  readonly by?: string;
}

export interface CallControlEvents {
  monitor: [MonitorEvent];
  /** An INVITE to a monitor ticket URI no ticket has (guessed, or used and forgotten): refused with 404. */
  'unknown-ticket': [TicketSource];
}

/** Where a browser's call-in came from. */
export interface TicketSource {
  readonly address: string;
  readonly transport: string;
  readonly userAgent: string | null;
}

/** How a ticket was used: the browser listens, or its INVITE was refused (and why). */
export type TicketUse = { readonly source: TicketSource } & (
  | { readonly ok: true; readonly monitor: MonitorView }
  | { readonly ok: false; readonly status: number; readonly reason: string }
);

export interface MonitorTicketOptions {
  readonly user: string;
  readonly ttlMs: number;
  /** Asked again when the device calls in: undefined if the user may still listen, else why not. */
  readonly authorize: () => string | undefined;
  /** Told when the browser calls in with the ticket, and again for each refused replay of its URI (404) until it expires. */
  readonly onUse?: (use: TicketUse) => void;
}

export interface CallControlDeps {
  /** Outbound SIP (supervisors' devices); without it monitoring is unavailable. */
  readonly sip?: SipPort;
  /** A call's media by the engine's call id; undefined without a media plane. */
  readonly mediaOf?: (callId: string) => CallMedia | undefined;
  /**
   * Where to call a supervisor's device: a registered address of record
   * becomes its newest contact (throws CallControlError when none is
   * registered), reached through its Path; undefined for a URI to dial as given.
   */
  readonly resolveDevice?: (device: string) => DialTarget | undefined;
  /**
   * A monitor is calling `device`: when it is an agent's phone, that agent is offered no queue call until
   * the returned function is called (the monitor stopped, or never answered).
   */
  readonly occupyDevice?: (device: string) => (() => void) | undefined;
  /** How often a listening monitor's device is probed (api.monitor.probeSeconds); undefined: never. */
  readonly monitorProbeMs?: number;
  /** The CRM ticket's page, `{ticket}` replaced (crm.ticket.link). */
  readonly ticketLink?: string;
}

export interface MonitorRequestOptions {
  readonly user: string;
  readonly device: string;
  readonly ringTimeoutMs: number;
}

export class CallControl extends EventEmitter<CallControlEvents> {
  /** Tickets for browsers that call in to listen (monitor-tickets.ts). */
  readonly tickets = new MonitorTickets<MonitorTicketOptions & { readonly callId: string }>();

  constructor(
    private readonly calls: CallRegistry,
    private readonly deps: CallControlDeps = {},
  ) {
    super();
    calls.on('ended', (s) => this.tickets.sweep(s.id));
  }

  list(): CallView[] {
    return this.calls.all().map(viewOf);
  }

  /** The live sessions themselves (read-only use: the API's filters and agents view). */
  sessions(): CallSession[] {
    return this.calls.all().filter((s) => !s.ended);
  }

  session(id: string): CallSession {
    const s = this.calls.get(id);
    if (s === undefined || s.ended) throw new CallControlError('not-found', `no live call ${id}`);
    return s;
  }

  get(id: string): CallView {
    return viewOf(this.session(id));
  }

  details(id: string): CallDetails {
    return detailsOf(this.session(id), this.deps.ticketLink);
  }

  /**
   * Ends a live call: every leg gets its BYE (or the caller a final response,
   * ringing agents a CANCEL), the recording is finished. `user` (a supervisor)
   * goes into the call record's facts as `endedByUser`.
   */
  async end(id: string, reason: string, by: EndedBy = 'engine', user?: string): Promise<void> {
    const s = this.session(id);
    if (user !== undefined) s.facts.endedByUser = user;
    await s.end(reason, by);
  }

  reservedData(id: string): ReservedDataView {
    return reservedDataOf(this.session(id));
  }

  /**
   * Sets the reserved properties of a live call (the seed's Apps API, mid-call): each given
   * property becomes true or false, or with null unset; the others keep their values. `user`
   * is recorded as who set them. Agent legs already ringing keep the headers they were sent.
   */
  setReservedData(id: string, changes: Partial<Record<ReservedProperty, boolean | null>>, user: string): { view: ReservedDataView; changed: boolean } {
    const s = this.session(id);
    const changed = s.reserved.apply(changes, `api:${user}`);
    if (changed) s.log.info({ reserved: s.reserved.values(), by: user }, 'reserved data set through the API');
    return { view: reservedDataOf(s), changed };
  }

  /**
   * Pauses the call's recording; resolves with its state once rtpengine
   * confirmed, even if the call ended meanwhile (the pause was applied).
   */
  async pauseRecording(id: string): Promise<RecordingStateView> {
    const rec = this.session(id).recording;
    if (rec === undefined) throw new CallControlError('conflict', `call ${id} is not being recorded`);
    if (rec.state !== 'recording' || rec.pending !== undefined) throw new CallControlError('conflict', `the recording of call ${id} is ${rec.pending ?? rec.state}`);
    await rec.pause();
    return { id: rec.recordingId, state: rec.state };
  }

  async resumeRecording(id: string): Promise<RecordingStateView> {
    const rec = this.session(id).recording;
    if (rec === undefined) throw new CallControlError('conflict', `call ${id} is not being recorded`);
    if (rec.state !== 'paused' || rec.pending !== undefined) throw new CallControlError('conflict', `the recording of call ${id} is ${rec.pending ?? rec.state}`);
    await rec.resume();
    return { id: rec.recordingId, state: rec.state };
  }

  /**
   * A supervisor listens: the engine calls `device` and sends it caller and
   * agent mixed. Resolves once the device answered (it hears the mix from
   * then on); rejects with MonitorDeviceError when it does not answer.
   */
  async monitor(id: string, request: MonitorRequestOptions): Promise<MonitorView> {
    const { session, media, sip } = this.monitorable(id);
    const reach = this.deps.resolveDevice?.(request.device) ?? { target: request.device };
    // A trainee listening on its own phone: that phone is in use, so its agent takes no queue call meanwhile.
    const release = this.deps.occupyDevice?.(request.device);
    const changed = this.monitorChanged(session);
    const onChange: typeof changed = (m, change, detail) => {
      if (change === 'stopped') release?.();
      changed(m, change, detail);
    };
    const monitor = await startMonitor({ session, media, sip, onChange, probeIntervalMs: this.deps.monitorProbeMs }, { ...request, device: reach.target, ...(reach.route !== undefined ? { route: reach.route } : {}), ...(reach.proxy !== undefined ? { proxy: reach.proxy } : {}) }).catch((e: unknown) => {
      release?.();
      throw e;
    });
    return monitorViewOf(monitor);
  }

  private monitorable(id: string): { session: CallSession; media: CallMedia; sip: SipPort } {
    const session = this.session(id);
    if (session.state !== 'connected') throw new CallControlError('conflict', `call ${id} is ${session.state}; only connected calls can be monitored`);
    const media = this.deps.mediaOf?.(session.id);
    if (media === undefined || media.released || this.deps.sip === undefined) throw new CallControlError('conflict', 'monitoring needs the media plane (this engine passes SDP through)');
    return { session, media, sip: this.deps.sip };
  }

  private monitorChanged(session: CallSession): (m: SupervisorMonitor, change: MonitorChange, detail: MonitorChangeDetail) => void {
    return (m, change, detail) => this.emit('monitor', { call: session, monitor: monitorViewOf(m), change, ...detail });
  }

  /**
   * A one-time ticket for `user`'s browser to call in and listen to call
   * `id` (see monitor-tickets.ts): the token goes into the SIP URI the page
   * calls. Same conditions as monitor().
   */
  issueMonitorTicket(id: string, options: MonitorTicketOptions): IssuedTicket {
    const { session } = this.monitorable(id);
    return this.tickets.issue({ callId: session.id, ...options });
  }

  /**
   * The engine's hook for every new INVITE: true when it was addressed to a
   * monitor ticket (it is then answered or refused here), false for any other
   * call. An unknown, used or expired ticket gets 404, like any unknown user
   * (RFC 3261 §21.4.5): the answer says nothing about which tickets exist.
   */
  takeMonitorCall(invite: InboundInvite): boolean {
    const claim = this.tickets.claim(invite.uri);
    if (claim.kind === 'not-a-ticket') return false;
    if (claim.kind === 'valid') {
      void this.answerCallIn(invite, claim.ticket);
      return true;
    }
    invite.reject(404, 'Not Found');
    // Refused all the same, but said: a replayed ticket URI (leaked?) is told to its owner's audit trail.
    if (claim.kind === 'spent') claim.ticket.onUse?.({ ok: false, status: 404, reason: claim.why === 'used' ? 'monitor ticket already used (its URI sent again)' : 'monitor ticket expired', source: callInSource(invite) });
    else this.emit('unknown-ticket', callInSource(invite));
    return true;
  }

  private async answerCallIn(invite: InboundInvite, ticket: MonitorTicketOptions & { readonly callId: string }): Promise<void> {
    const source = callInSource(invite);
    const refuse = (status: number, phrase: string, reason: string): void => {
      invite.reject(status, phrase);
      ticket.onUse?.({ ok: false, status, reason, source });
    };
    const denied = ticket.authorize();
    if (denied !== undefined) return refuse(403, 'Forbidden', denied);
    let target: { session: CallSession; media: CallMedia; sip: SipPort };
    try {
      target = this.monitorable(ticket.callId);
    } catch (e) {
      // RFC 3261 §21.4.9: 410 Gone for a call that ended; 480 for one that cannot be listened to now.
      const gone = e instanceof CallControlError && e.kind === 'not-found';
      return refuse(gone ? 410 : 480, gone ? 'Gone' : 'Temporarily Unavailable', e instanceof Error ? e.message : String(e));
    }
    const { session, media, sip } = target;
    const contact = /<([^>]+)>/.exec(invite.header('Contact') ?? '')?.[1] ?? `sip:browser@${invite.source.address}`;
    try {
      const monitor = await answerMonitor({ session, media, sip, onChange: this.monitorChanged(session), probeIntervalMs: this.deps.monitorProbeMs }, invite, { user: ticket.user, device: contact, browser: source.transport === 'ws' || source.transport === 'wss' });
      ticket.onUse?.({ ok: true, monitor: monitorViewOf(monitor), source });
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      session.log.warn({ user: ticket.user, err: reason }, 'monitor call-in failed');
      ticket.onUse?.({ ok: false, status: e instanceof MediaStateError ? 488 : 500, reason, source });
    }
  }

  monitorOf(id: string, monitorId: string): MonitorView {
    const m = this.session(id).monitors.get(monitorId);
    if (m === undefined) throw new CallControlError('not-found', `call ${id} has no monitor ${monitorId}`);
    return monitorViewOf(m);
  }

  /** Stops one supervisor's monitor (`by`: who asked, or `engine`; `reason` for the log and the monitor event). */
  async stopMonitor(id: string, monitorId: string, by: string, reason = `stopped by ${by}`): Promise<StoppedMonitorView> {
    const session = this.session(id);
    const m = session.monitors.get(monitorId);
    if (m === undefined) throw new CallControlError('not-found', `call ${id} has no monitor ${monitorId}`);
    const view = monitorViewOf(m);
    await m.stop(reason, by);
    return { ...view, state: 'stopped', stoppedAt: new Date(session.now()).toISOString() };
  }
}

/** Where a call-in came from: drachtio reports WebSocket as tcp (and WSS as tls); the client's top Via says which it was (RFC 7118 §5.2). */
function callInSource(invite: InboundInvite): TicketSource {
  const via = /^\s*SIP\s*\/\s*2\.0\s*\/\s*(WSS?)\b/i.exec(invite.header('Via') ?? '')?.[1]?.toLowerCase();
  return { address: invite.source.address, transport: via ?? invite.source.transport, userAgent: invite.header('User-Agent')?.slice(0, 200) ?? null };
}
