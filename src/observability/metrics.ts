/**
 * Every Prometheus metric Switchboard exposes, typed and with HELP text, on
 * prom-client. Two kinds of registry:
 *
 * - `appRegistry`: the main thread's (engine, media plane, process metrics).
 *   The engine and the ng client record into `metrics.callSetup` and
 *   `metrics.rtpengineCommand` directly.
 * - one registry per SIP server ({@link SipServerMetrics}), living in the
 *   server's thread (a worker by default). Its counts are plain fields the hot
 *   path increments, read by collect callbacks at scrape time; the main thread
 *   asks the worker for `getMetricsAsJSON()` and merges it into the
 *   exposition ({@link exposition}).
 *
 * Counters end in `_total`; durations are histograms in seconds.
 */
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue } from 'prom-client';

/** Metrics of the main thread. */
export const appRegistry = new Registry();

let defaultsStarted = false;

/** Process metrics (CPU, memory, event-loop lag, GC) of the main thread; once per process. */
export function startProcessMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: appRegistry });
}

export const metrics = {
  /** Recorded by the engine when a call connects. */
  callSetup: new Histogram({
    name: 'switchboard_call_setup_seconds',
    help: 'Time from a caller INVITE reaching the engine to the call being connected to an agent (both legs answered).',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60],
    registers: [appRegistry],
  }),
  /** Recorded by the rtpengine ng client for every command. */
  rtpengineCommand: new Histogram<'command' | 'outcome'>({
    name: 'switchboard_rtpengine_command_seconds',
    help: 'Latency of rtpengine ng commands, from sending to the reply (outcome: ok, error reply, timeout, failed).',
    labelNames: ['command', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [appRegistry],
  }),
  /** Counted by the engine process's last resort (last-resort.ts). */
  internalErrors: new Counter<'kind'>({
    name: 'switchboard_internal_errors_total',
    help: 'Errors no code caught (kind: exception, rejection), each logged with its stack; the engine went on serving. Any is a bug.',
    labelNames: ['kind'],
    registers: [appRegistry],
  }),
};

/** A counter whose value is read at scrape time from a count kept elsewhere. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge read at scrape time. */
function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read());
    },
  });
}

/** A labelled counter read at scrape time from a map of label value → count. */
function readLabelledCounter(registry: Registry, name: string, help: string, label: string, read: () => Iterable<readonly [string, number]>): void {
  new Counter<string>({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of read()) this.inc({ [label]: value }, n);
    },
  });
}

/** What the engine reports (its status). */
export interface EngineCounts {
  readonly connected: boolean;
  readonly liveCalls: number;
  readonly callsTotal: number;
  readonly callsConnected: number;
  readonly callsRejected: number;
  /** Per inbound trunk (by id). */
  readonly trunks?: Readonly<Record<string, { readonly live: number; readonly admitted: number; readonly refusedRate: number; readonly refusedConcurrency: number }>>;
  /** Agents, waiting queues and the registrar, when agents are configured. */
  readonly contactCenter?: ContactCenterCounts;
}

/** What the engine's agent services report (AgentServicesStatus), as far as metrics need it. */
export interface ContactCenterCounts {
  /** `total`, and the number of agents in each state. */
  readonly agents: Readonly<Record<string, number | undefined>>;
  readonly queues: readonly {
    readonly id: string;
    readonly waiting: number;
    readonly offering: number;
    readonly longestWaitMs: number;
    readonly answered: number;
    readonly overflowed: number;
    readonly abandoned: number;
  }[];
  readonly registrar: {
    readonly bindings: number;
    readonly agentsRegistered: number;
    readonly registers: number;
    readonly challenged: number;
    readonly refused: number;
    readonly malformed: number;
    readonly rateLimited: number;
  } | null;
}

/** Agents by state, each waiting queue, and the registrar: what a wallboard or an alert watches. */
function registerContactCenterMetrics(read: () => ContactCenterCounts | undefined, registry: Registry): void {
  new Gauge<'state'>({
    name: 'switchboard_agents',
    help: 'Agents in each state (logged-out, ready, ringing, whisper, on-call, wrap-up, not-ready).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of Object.entries(read()?.agents ?? {})) if (state !== 'total' && n !== undefined) this.set({ state }, n);
    },
  });
  const perQueue = (name: string, help: string, value: (q: ContactCenterCounts['queues'][number]) => number): void => {
    new Gauge<'queue'>({
      name,
      help,
      labelNames: ['queue'],
      registers: [registry],
      collect() {
        this.reset();
        for (const q of read()?.queues ?? []) this.set({ queue: q.id }, value(q));
      },
    });
  };
  perQueue('switchboard_queue_waiting_calls', 'Calls waiting in the queue (being offered to an agent included).', (q) => q.waiting);
  perQueue('switchboard_queue_offering_calls', 'Calls of the queue being offered to an agent now.', (q) => q.offering);
  perQueue('switchboard_queue_longest_wait_seconds', 'How long the longest-waiting call of the queue has waited.', (q) => q.longestWaitMs / 1000);
  new Counter<'queue' | 'outcome'>({
    name: 'switchboard_queue_calls_total',
    help: 'Calls that left the waiting queue, by how: answered by an agent, overflowed at the maximum wait, abandoned by the caller.',
    labelNames: ['queue', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const q of read()?.queues ?? []) {
        this.inc({ queue: q.id, outcome: 'answered' }, q.answered);
        this.inc({ queue: q.id, outcome: 'overflowed' }, q.overflowed);
        this.inc({ queue: q.id, outcome: 'abandoned' }, q.abandoned);
      }
    },
  });
  const registrar = (): NonNullable<ContactCenterCounts['registrar']> | undefined => read()?.registrar ?? undefined;
  readGauge(registry, 'switchboard_registrar_bindings', 'Registered contacts of agents\' phones.', () => registrar()?.bindings ?? 0);
  readGauge(registry, 'switchboard_registrar_agents_registered', 'Agents with at least one registered contact.', () => registrar()?.agentsRegistered ?? 0);
  readCounter(registry, 'switchboard_registrar_registers_total', 'REGISTER requests received.', () => registrar()?.registers ?? 0);
  readCounter(registry, 'switchboard_registrar_challenged_total', 'REGISTERs answered with a digest challenge.', () => registrar()?.challenged ?? 0);
  readCounter(registry, 'switchboard_registrar_refused_total', 'REGISTERs refused (wrong credentials, unknown user, bad request).', () => registrar()?.refused ?? 0);
  readCounter(registry, 'switchboard_registrar_malformed_total', 'REGISTERs with a malformed Authorization.', () => registrar()?.malformed ?? 0);
  readCounter(registry, 'switchboard_registrar_rate_limited_total', 'REGISTERs refused for too many failed attempts.', () => registrar()?.rateLimited ?? 0);
}

/** Per-trunk calls: live now, admitted, and refused by each limit. */
function registerTrunkMetrics(read: () => EngineCounts['trunks'], registry: Registry): void {
  const entries = (): [string, NonNullable<EngineCounts['trunks']>[string]][] => Object.entries(read() ?? {});
  new Gauge<'trunk'>({
    name: 'switchboard_trunk_live_calls',
    help: 'Live calls per inbound trunk.',
    labelNames: ['trunk'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [trunk, c] of entries()) this.set({ trunk }, c.live);
    },
  });
  new Counter<'trunk'>({
    name: 'switchboard_trunk_calls_admitted_total',
    help: 'Calls admitted per inbound trunk.',
    labelNames: ['trunk'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [trunk, c] of entries()) this.inc({ trunk }, c.admitted);
    },
  });
  new Counter<'trunk' | 'limit'>({
    name: 'switchboard_trunk_calls_refused_total',
    help: 'Calls refused with 503 per inbound trunk, by the limit they were over (rate, concurrency).',
    labelNames: ['trunk', 'limit'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [trunk, c] of entries()) {
        this.inc({ trunk, limit: 'rate' }, c.refusedRate);
        this.inc({ trunk, limit: 'concurrency' }, c.refusedConcurrency);
      }
    },
  });
}

/** Engine gauges and counters, read from its status at scrape time. */
export function registerEngineMetrics(read: () => EngineCounts, registry: Registry = appRegistry): void {
  readGauge(registry, 'switchboard_engine_connected', 'Whether the engine is connected to its drachtio server (1) or not (0).', () => (read().connected ? 1 : 0));
  readGauge(registry, 'switchboard_engine_live_calls', 'Calls the engine is handling now (routing, ringing or connected).', () => read().liveCalls);
  readCounter(registry, 'switchboard_engine_calls_total', 'Inbound INVITEs the engine received.', () => read().callsTotal);
  readCounter(registry, 'switchboard_engine_calls_connected_total', 'Calls connected to an agent.', () => read().callsConnected);
  readCounter(registry, 'switchboard_engine_calls_rejected_total', 'Calls the engine refused (unknown number, no agent, shutting down, too many hops, trunk limits).', () => read().callsRejected);
  registerTrunkMetrics(() => read().trunks, registry);
  registerContactCenterMetrics(() => read().contactCenter, registry);
}

/** The media plane and the recordings worker, when they run. */
export function registerMediaMetrics(read: () => { activeCalls: number; healthy: number; instances: number }, registry: Registry = appRegistry): void {
  readGauge(registry, 'switchboard_media_active_calls', 'Calls with media through rtpengine.', () => read().activeCalls);
  readGauge(registry, 'switchboard_media_rtpengine_instances', 'rtpengine instances configured.', () => read().instances);
  readGauge(registry, 'switchboard_media_rtpengine_healthy', 'rtpengine instances answering their health check.', () => read().healthy);
}

export function registerRecordingsWorkerMetrics(restarts: () => number, registry: Registry = appRegistry): void {
  readCounter(registry, 'switchboard_recordings_worker_restarts_total', 'Times the recordings worker child process was restarted after dying.', restarts);
}

/** What the engine knows of the recordings (its retention sweeper's last pass over the spool; the events file). */
export interface RecordingsCounts {
  readonly spoolRecordings: number;
  readonly oldestStartedAtMs: number | undefined;
  readonly events: ReadonlyMap<string, number>;
}

/** Recordings waiting in the spool and recording events by type; one read per scrape. */
export function registerRecordingsMetrics(read: () => Promise<RecordingsCounts>, registry: Registry = appRegistry): void {
  let cached: { at: number; value: Promise<RecordingsCounts> } | undefined;
  const once = (): Promise<RecordingsCounts> => {
    if (cached === undefined || Date.now() - cached.at > 100) cached = { at: Date.now(), value: read() };
    return cached.value;
  };
  const gauge = (name: string, help: string, value: (c: RecordingsCounts) => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await once()));
      },
    });
  };
  gauge('switchboard_recordings_spool_recordings', 'Recordings in the spool not delivered yet (waiting, retrying or failed), at the last retention sweep.', (c) => c.spoolRecordings);
  gauge('switchboard_recordings_spool_oldest_age_seconds', 'Age of the oldest recording in the spool (since its call started; 0 when none), at the last retention sweep.', (c) =>
    c.oldestStartedAtMs === undefined ? 0 : Math.max(0, (Date.now() - c.oldestStartedAtMs) / 1000),
  );
  new Counter<'type'>({
    name: 'switchboard_recording_events_total',
    help: 'Recording events (captured, converted, part-uploaded, uploaded, retrying, failed, expired) appended to the spool\'s events file by any process since this one started.',
    labelNames: ['type'],
    registers: [registry],
    async collect() {
      const c = await once();
      this.reset();
      for (const [type, n] of c.events) this.inc({ type }, n);
    },
  });
}

/** What a SIP server reports (its status), as far as metrics need it. */
export interface SipServerCounts {
  readonly serverTransactions: number;
  readonly clientTransactions: number;
  readonly pendingAppRequests: number;
  readonly dialogs: number;
  readonly appConnections: number;
  readonly sipConnections: number;
  readonly timers: number;
  readonly pendingInvites: number;
  readonly earlyInvites: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly malformed: number;
  readonly strayResponses: number;
  readonly unrouted: number;
  readonly retransmissionsAbsorbed: number;
  readonly heapUsedBytes: number;
  readonly refusals: Readonly<Record<string, number>>;
  readonly overload: {
    readonly overloaded: boolean;
    readonly serverLagMs: number;
    readonly appLagMs: number;
    readonly cpuPercent: number;
    readonly waitingInvites: number;
    readonly transitions: number;
    readonly refusals: Readonly<Record<string, number>>;
  };
  readonly rateLimited: number;
  readonly scannersRefused: number;
}

/** The metrics of one SIP server, in its own registry (see the module comment). */
export class SipServerMetrics {
  readonly registry = new Registry();
  readonly inviteFirstResponse: Histogram;

  constructor(readStatus: () => SipServerCounts) {
    const r = this.registry;
    // One status read serves every collect callback of a scrape.
    let cached: { at: number; value: SipServerCounts } | undefined;
    const read = (): SipServerCounts => {
      const now = Date.now();
      if (cached === undefined || now - cached.at > 100) cached = { at: now, value: readStatus() };
      return cached.value;
    };
    const p = 'switchboard_sip_server_';
    this.inviteFirstResponse = new Histogram({
      name: `${p}invite_first_response_seconds`,
      help: 'Time from a new INVITE arriving to the first response other than 100 Trying leaving (the server own answers included).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [r],
    });
    type GaugeKey = 'serverTransactions' | 'clientTransactions' | 'pendingAppRequests' | 'dialogs' | 'appConnections' | 'sipConnections' | 'timers' | 'pendingInvites' | 'earlyInvites';
    const gauges: [GaugeKey, string][] = [
      ['serverTransactions', 'server_transactions'],
      ['clientTransactions', 'client_transactions'],
      ['pendingAppRequests', 'pending_app_requests'],
      ['dialogs', 'dialogs'],
      ['appConnections', 'app_connections'],
      ['sipConnections', 'sip_connections'],
      ['timers', 'timers'],
      ['pendingInvites', 'pending_invites'],
      ['earlyInvites', 'early_invites'],
    ];
    const gaugeHelp: Record<GaugeKey, string> = {
      serverTransactions: 'Server transactions alive (including those waiting out RFC 3261 timers).',
      clientTransactions: 'Client transactions alive.',
      pendingAppRequests: 'Requests given to an app and not yet answered by it.',
      dialogs: 'Dialogs (early and confirmed).',
      appConnections: 'drachtio control connections of apps.',
      sipConnections: 'SIP TCP connections.',
      timers: 'Timers scheduled in the timer heap.',
      pendingInvites: 'New INVITEs waiting for an app answer.',
      earlyInvites: 'INVITEs with an early dialog (a 1xx with a To tag sent) and no final response yet.',
    };
    for (const [key, name] of gauges) readGauge(r, `${p}${name}`, gaugeHelp[key], () => read()[key]);
    readGauge(r, `${p}heap_used_bytes`, 'V8 heap in use in the SIP server thread.', () => read().heapUsedBytes);
    readCounter(r, `${p}messages_received_total`, 'SIP messages received (datagrams and stream messages).', () => read().messagesIn);
    readCounter(r, `${p}messages_sent_total`, 'SIP messages sent, retransmissions included.', () => read().messagesOut);
    readCounter(r, `${p}malformed_total`, 'Messages refused as malformed (answered 400/505/513 or dropped).', () => read().malformed);
    readCounter(r, `${p}stray_responses_total`, 'Well-formed responses that matched no transaction (dropped).', () => read().strayResponses);
    readCounter(r, `${p}unrouted_total`, 'Requests answered 503 because no app routed their method.', () => read().unrouted);
    readCounter(r, `${p}retransmissions_absorbed_total`, 'Retransmitted requests absorbed by their server transaction.', () => read().retransmissionsAbsorbed);
    readLabelledCounter(r, `${p}refusals_total`, 'Requests the UAS core refused by itself (RFC 3261 section 8.2), by status code.', 'status', () => Object.entries(read().refusals));
    readLabelledCounter(r, `${p}overload_refusals_total`, 'New INVITEs refused with 503 for overload, by cause (event_loop_lag, cpu, pending_invites).', 'cause', () =>
      Object.entries(read().overload.refusals),
    );
    readCounter(r, `${p}overload_transitions_total`, 'Times the overload state changed (entering or leaving).', () => read().overload.transitions);
    readGauge(r, `${p}overloaded`, 'Whether new INVITEs are being refused for overload (1) or not (0).', () => (read().overload.overloaded ? 1 : 0));
    new Gauge<'thread'>({
      name: `${p}event_loop_lag_seconds`,
      help: 'Event-loop lag (90th percentile over the last sampling interval) of the SIP server thread and of the app thread it serves.',
      labelNames: ['thread'],
      registers: [r],
      collect() {
        const o = read().overload;
        this.set({ thread: 'sip-server' }, o.serverLagMs / 1000);
        this.set({ thread: 'app' }, o.appLagMs / 1000);
      },
    });
    readGauge(r, `${p}machine_cpu_ratio`, 'CPU used on the whole machine (all cores, all processes) over the last sampling interval, 0 to 1.', () => read().overload.cpuPercent / 100);
    readGauge(r, `${p}invites_awaiting_first_response`, 'New INVITEs that have had no response but 100 Trying yet (the backlog overload control watches).', () => read().overload.waitingInvites);
    readCounter(r, `${p}rate_limited_total`, 'New requests refused by the per-source rate limit.', () => read().rateLimited);
    readCounter(r, `${p}scanner_refusals_total`, 'Requests from known scanner user agents refused (dropped or 403).', () => read().scannersRefused);
  }
}

/** A SIP server registry's content, as sent between threads. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** The Prometheus text exposition of the app registry plus SIP server snapshots (from worker threads) and registries (inline). */
export async function exposition(snapshots: readonly MetricsSnapshot[], registries: readonly Registry[] = []): Promise<{ contentType: string; body: string }> {
  const parts: Registry[] = [appRegistry, ...registries];
  if (snapshots.length > 0) parts.push(AggregatorRegistry.aggregate(snapshots.map((s) => s)));
  const merged = Registry.merge(parts);
  return { contentType: merged.contentType, body: await merged.metrics() };
}
