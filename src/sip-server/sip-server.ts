/**
 * The embedded drachtio-compatible SIP server: SIP transports on one side,
 * the drachtio control port on the other, and the core in between. It knows
 * nothing of contact centres; any unmodified drachtio-srf 5.x app can use it.
 */
import type { Logger } from '../observability/logger.js';
import type { AppConnection } from './control/app-connection.js';
import { parseAppMessage } from './control/app-message.js';
import { ControlServer } from './control/control-server.js';
import { AppResponses } from './core/app-responses.js';
import { Capabilities } from './core/capabilities.js';
import { CoreBase, type Admission } from './core/core-base.js';
import { IncomingRequests } from './core/incoming.js';
import { buildCancel, hostPortOf } from './core/message-builder.js';
import { ClientResponses } from './core/client-responses.js';
import { OutgoingRequests } from './core/outgoing.js';
import { ReliableProvisionals } from './core/reliable-provisionals.js';
import { SessionTimers } from './core/session-timers.js';
import { ServerStats, type ServerStatus } from './core/stats.js';
import { DEFAULT_UAS_POLICY, type UasPolicy } from './core/uas-checks.js';
import { SipServerMetrics } from '../observability/metrics.js';
import { memoryUsage } from '../observability/memory.js';
import { ProcessLoadSource, type LoadSource } from './overload/load-source.js';
import { DEFAULT_OVERLOAD, OverloadControl, type OverloadSettings } from './overload/overload-control.js';
import { DEFAULT_SOURCE_FILTER, SourceFilter, type SourceFilterSettings } from './overload/source-filter.js';
import { parseMessage, type AnswerableRequest, type MessageInfo } from './message/parser.js';
import type { SipRequest } from './message/sip-message.js';
import { findTopViaEnd, formatVia } from './message/via.js';
import { malformedRequestAnswer } from './core/malformed-answer.js';
import type { TransactionContext } from './transaction/context.js';
import { TimerQueue, type Clock } from './transaction/timer-queue.js';
import { TransportLayer, type ListenerConfig, type TlsReload } from './transport/transport-layer.js';
import { peerSpeaksFor } from './transport/tls-identity.js';
import type { ConnectionLimits, Flow, ListenerInfo } from './transport/types.js';

/** The version we report to apps; drachtio-srf enables pings for ≥ v0.8.2. */
export const DRACHTIO_COMPAT_VERSION = 'v0.9.10';

export interface SipServerOptions {
  readonly listen: readonly ListenerConfig[];
  readonly control: { readonly host: string; readonly port: number; readonly secret: string };
  readonly timers: { readonly t1Ms: number; readonly t2Ms: number; readonly t4Ms: number; readonly appResponseTimeoutMs: number };
  readonly maxMessageBytes: number;
  /** Connection limits for TCP, TLS, WS and WSS (defaults in transport-layer.ts). */
  readonly connections?: Partial<Omit<ConnectionLimits, 'maxMessageBytes'>>;
  readonly maxPendingInvites: number;
  /** Admission of new requests by origin (trunk rules; see core-base.ts). Inline servers only: a function cannot reach a worker. */
  readonly admission?: Admission;
  readonly cdrs: boolean;
  readonly userAgent: string;
  /** RFC 4028 session timers (seconds); absent or not enabled: off, and `Require: timer` gets 420. */
  readonly sessionTimers?: { readonly enabled: boolean; readonly defaultSeconds: number; readonly minSeconds: number };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** RFC 3261 §8.2 checks: methods served, readable body types (default {@link DEFAULT_UAS_POLICY}). */
  readonly uas?: UasPolicy;
  /** Overload control (default {@link DEFAULT_OVERLOAD}). */
  readonly overload?: OverloadSettings;
  /** Scanner user agents and per-source rate limit (default {@link DEFAULT_SOURCE_FILTER}). */
  readonly sourceFilter?: SourceFilterSettings;
  /** Where the load is read from (tests inject one; default: this process's event loop and CPU). */
  readonly loadSource?: LoadSource;
}

export interface StartedSipServer {
  readonly listeners: readonly ListenerInfo[];
  readonly controlPort: number;
}

export class SipServer {
  private readonly transport: TransportLayer;
  private readonly control: ControlServer;
  private readonly timers: TimerQueue;
  private readonly core: CoreBase;
  private readonly incoming: IncomingRequests;
  private readonly outgoing: OutgoingRequests;
  private readonly clientResponses: ClientResponses;
  private readonly appResponses: AppResponses;
  private readonly stats = new ServerStats();
  private readonly logger: Logger;
  private readonly overload: OverloadControl;
  /** This server's Prometheus metrics (its own registry; see observability/metrics.ts). */
  readonly metrics: SipServerMetrics;

  constructor(private readonly options: SipServerOptions) {
    this.logger = options.logger;
    this.timers = new TimerQueue(options.clock, (e) => this.logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'timer callback failed'));
    this.transport = new TransportLayer({
      listeners: options.listen,
      limits: {
        // as long as a client transaction waits for a response (Timer B/F)
        messageDeadlineMs: 64 * options.timers.t1Ms,
        ...options.connections,
        maxMessageBytes: options.maxMessageBytes,
      },
      onMessage: (data, flow) => this.onNetworkMessage(data, flow),
      onStreamError: (reason, status, head, flow, partial) => this.onStreamError(reason, status, head, flow, partial === true),
      onConnection: (conn, open) => {
        if (!open) this.core.flows.forgetConnection(conn.id);
        else if (conn.tlsPeer !== undefined) {
          const p = conn.tlsPeer;
          this.logger.debug({ transport: conn.transport, peer: `${conn.address}:${conn.port}`, verified: p.verified, identities: p.identities, cn: p.subjectCN }, 'TLS peer');
        }
      },
      onRefused: (transport, address, reason) => {
        this.stats.refusedConnections++;
        this.logger.debug({ transport, from: address, reason }, 'connection refused');
      },
    });
    const ctx: TransactionContext = {
      timers: this.timers,
      t1: options.timers.t1Ms,
      t2: options.timers.t2Ms,
      t4: options.timers.t4Ms,
      send: (data, dest, onError) => this.transport.send(data, dest, onError),
    };
    this.control = new ControlServer({
      host: options.control.host,
      port: options.control.port,
      secret: options.control.secret,
      maxFrameBytes: options.maxMessageBytes + 8192,
      logger: this.logger,
      handler: {
        onSip: (conn, msgId, tokens, sip) => this.onAppSip(conn, msgId, tokens, sip),
        onConnectionClosed: (conn) => this.onAppGone(conn),
        authenticateReply: () => this.authenticateReply(),
      },
    });
    const overload = options.overload ?? DEFAULT_OVERLOAD;
    this.overload = new OverloadControl(overload, options.loadSource ?? new ProcessLoadSource(overload.sampleIntervalMs), this.logger, () => this.core.state.invitesAwaitingFirstResponse);
    this.metrics = new SipServerMetrics(() => this.status());
    this.core = new CoreBase(
      this.transport,
      ctx,
      this.control,
      {
        admission: options.admission,
        appResponseTimeoutMs: options.timers.appResponseTimeoutMs,
        maxPendingInvites: options.maxPendingInvites,
        cdrs: options.cdrs,
        userAgent: options.userAgent,
        maxMessageBytes: options.maxMessageBytes,
        sessionTimers:
          options.sessionTimers?.enabled === true
            ? { defaultSeconds: options.sessionTimers.defaultSeconds, minSeconds: options.sessionTimers.minSeconds }
            : undefined,
        uas: options.uas ?? DEFAULT_UAS_POLICY,
      },
      this.logger,
      this.stats,
      {
        overload: this.overload,
        filter: new SourceFilter(options.sourceFilter ?? DEFAULT_SOURCE_FILTER),
        observeFirstResponse: (seconds) => this.metrics.inviteFirstResponse.observe(seconds),
      },
    );
    const timers = new SessionTimers(this.core);
    const reliable = new ReliableProvisionals(this.core);
    this.incoming = new IncomingRequests(this.core, timers, reliable);
    this.clientResponses = new ClientResponses(this.core, timers);
    this.outgoing = new OutgoingRequests(this.core, timers, this.clientResponses);
    this.appResponses = new AppResponses(this.core, timers, reliable, new Capabilities(this.core.uas, this.core.apps, timers.enabled));
    this.core.clientEvents = this.clientResponses;
  }

  async start(): Promise<StartedSipServer> {
    const listeners = await this.transport.start();
    let controlPort: number;
    try {
      controlPort = await this.control.start();
    } catch (e) {
      await this.transport.stop();
      throw e;
    }
    this.logger.info(
      { listeners: listeners.map((l) => `${l.transport}/${hostPortOf(l)}`), control: `${this.options.control.host}:${controlPort}` },
      'SIP server listening',
    );
    return { listeners, controlPort };
  }

  /** The app thread's event-loop lag, reported by the embedding code (ms). */
  reportAppLag(lagMs: number): void {
    this.overload.reportAppLag(lagMs);
  }

  async stop(): Promise<void> {
    this.overload.stop();
    await this.control.stop();
    await this.transport.stop();
    this.timers.clear();
  }

  /** The live, authenticated app connections and the verbs each routed (drachtio-srf waits for no reply to its routes; tests wait on this). */
  appRoutes(): { id: number; routes: string[] }[] {
    return [...this.control.connections].filter((c) => !c.closed && c.authenticated).map((c) => ({ id: c.id, routes: [...c.routes] }));
  }

  status(): ServerStatus {
    const s = this.core.state;
    const mem = memoryUsage();
    const o = this.overload.status();
    return {
      serverTransactions: s.serverByKey.size + this.core.lingering.size,
      clientTransactions: s.clientByKey.size + this.core.lingeringClients.size,
      pendingAppRequests: s.serverByTxnId.size,
      dialogs: s.dialogs.size,
      appConnections: this.control.connections.size,
      sipConnections: this.transport.connectionCount,
      registeredFlows: this.core.flows.size,
      timers: this.timers.size,
      pendingInvites: s.pendingInvites,
      earlyInvites: s.earlyInvites.size,
      messagesIn: this.stats.messagesIn,
      messagesOut: this.stats.messagesOut,
      malformed: this.stats.malformed,
      strayResponses: this.stats.strayResponses,
      overloaded: this.stats.overloaded,
      unrouted: this.stats.unrouted,
      retransmissionsAbsorbed: this.stats.retransmissionsAbsorbed,
      refusedConnections: this.stats.refusedConnections,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      rssBytes: mem.rss,
      refusals: Object.fromEntries(this.stats.refusals),
      overload: {
        overloaded: o.overloaded,
        cause: o.cause ?? null,
        serverLagMs: Math.round(o.serverLagMs * 10) / 10,
        appLagMs: Math.round(o.appLagMs * 10) / 10,
        cpuPercent: Math.round(o.cpuPercent * 10) / 10,
        waitingInvites: o.waitingInvites,
        transitions: o.transitions,
        refusals: Object.fromEntries(this.stats.overloadRefusals),
      },
      rateLimited: this.stats.rateLimited,
      scannersRefused: this.stats.scannersRefused,
    };
  }

  /** Re-reads the certificate, key and CA of every TLS and WSS listener (SIGHUP); a listener whose new files are bad keeps its old ones. */
  reloadTls(): TlsReload[] {
    const results = this.transport.reloadTls();
    for (const r of results) {
      if (r.result.ok) this.logger.info({ listener: r.listener, notAfter: r.result.notAfter }, 'TLS certificate reloaded');
      else this.logger.error({ listener: r.listener, reason: r.result.reason }, 'TLS certificate not reloaded: keeping the previous one');
    }
    return results;
  }

  private authenticateReply(): string {
    const fmt = (host: (l: ListenerInfo) => string): string =>
      this.transport.listeners.map((l) => `${l.transport}/${host(l).includes(':') ? `[${host(l)}]` : host(l)}:${l.port}`).join(',');
    return `${fmt((l) => l.advertisedHost)}|${DRACHTIO_COMPAT_VERSION}|${fmt((l) => l.host)}`;
  }

  // ---------------------------------------------------------------------------
  // Network side

  private onNetworkMessage(data: Buffer, flow: Flow): void {
    this.stats.messagesIn++;
    if (data.length <= 4 && data.toString('latin1').trim() === '') {
      // RFC 5626 keep-alive over UDP (CRLF or double CRLF): nothing to process.
      return;
    }
    try {
      this.handleNetworkMessage(data, flow);
    } catch (e) {
      // A bug must never take the server down: log it and keep serving.
      this.logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'error handling SIP message');
    }
  }

  private handleNetworkMessage(data: Buffer, flow: Flow): void {
    // A WebSocket message is a whole message, like a datagram (RFC 7118 §5.1): Content-Length is optional there.
    const stream = flow.transport === 'tcp' || flow.transport === 'tls';
    const parsed = parseMessage(data, { stream, maxBytes: this.options.maxMessageBytes });
    if (!parsed.ok) {
      this.stats.malformed++;
      this.logger.debug({ from: `${flow.address}:${flow.port}`, reason: parsed.reason }, 'malformed SIP message');
      if (parsed.request !== undefined && parsed.request.method !== 'ACK') this.answerMalformed(parsed.request, parsed.status, parsed.reason, flow);
      return;
    }
    if (parsed.message.kind === 'response') {
      // §8.1.3.3: a response with more than one Via was meant for someone else (a proxy would have taken its own off).
      if (parsed.message.headers.entries('via').length > 1) {
        this.stats.strayResponses++;
        return;
      }
      const key = `${parsed.info.via.branch ?? ''}\u0000${parsed.info.cseqMethod}`;
      const entry = this.core.state.clientByKey.get(key);
      const lingering = entry === undefined ? this.core.lingeringClients.get(key) : undefined;
      if (entry === undefined && lingering === undefined) {
        this.stats.strayResponses++;
        return;
      }
      this.core.currentFlow = flow;
      try {
        if (entry !== undefined) {
          entry.tx.onResponse(parsed.message, parsed.info);
          this.core.lingerClient(entry);
        } else if (lingering !== undefined) {
          this.clientResponses.onLingeringResponse(lingering, parsed.message, parsed.info);
        }
      } finally {
        this.core.currentFlow = undefined;
      }
      return;
    }
    this.stampVia(parsed.message, parsed.info, flow);
    this.acceptAlias(parsed.info, flow);
    this.incoming.onRequest(parsed.message, parsed.info, flow);
  }

  /**
   * RFC 5923 §5: a TLS client asking (`alias` in its top Via) that requests
   * for its sent-by reuse this connection is taken at its word only when its
   * verified certificate names that host (§5.3; RFC 5922 matching).
   */
  private acceptAlias(info: MessageInfo, flow: Flow): void {
    const via = info.via;
    if (flow.transport !== 'tls' || flow.connectionId === undefined || !via.params.has('alias')) return;
    if (flow.tlsPeer === undefined || !peerSpeaksFor(flow.tlsPeer, via.host)) return;
    this.transport.alias(flow.connectionId, via.host, via.port ?? 5061);
  }

  /** RFC 3261 §18.2.1 and RFC 3581: record where the request really came from in its top Via. */
  private stampVia(request: SipRequest, info: MessageInfo, flow: Flow): void {
    const via = info.via;
    const rport = via.params.has('rport');
    // A received= the sender wrote itself is not what we saw: replaced (RFC 3261 §18.2.1 says the receiver sets it).
    const claimed = via.params.has('received');
    if (!rport && !claimed && via.host === flow.address) return;
    const params = new Map(via.params);
    if (via.host !== flow.address || rport || claimed) params.set('received', flow.address);
    if (rport) params.set('rport', String(flow.port));
    const stamped = formatVia({ ...via, params });
    const field = request.headers.fields.find((f) => f.key === 'via');
    if (field === undefined) return;
    const comma = findTopViaEnd(field.value);
    field.value = comma < 0 ? stamped : `${stamped}${field.value.slice(comma)}`;
  }

  private answerMalformed(request: AnswerableRequest, status: number, reason: string, flow: Flow): void {
    const answer = malformedRequestAnswer(request, status, reason, this.options.userAgent, flow);
    if (answer === undefined) return;
    this.transport.send(answer.bytes, answer.dest);
    this.stats.messagesOut++;
  }

  private onStreamError(reason: string, status: number, head: Buffer | undefined, flow: Flow, partial: boolean): void {
    this.stats.malformed++;
    this.logger.debug({ from: `${flow.address}:${flow.port}`, reason }, 'SIP stream error, closing connection');
    if (head === undefined) return;
    // A partial head's Content-Length counts a body that is not there: left out, as the body is.
    const text = partial ? Buffer.from(head.toString('latin1').replace(/^(?:content-length|l)[ \t]*:[^\n]*\n/gim, ''), 'latin1') : head;
    const parsed = parseMessage(Buffer.concat([text, Buffer.from('\r\n')]), {});
    // The first lines of a header section too large to end: answered (513) only when they hold a whole,
    // valid request head (request line, Via, From, To, Call-ID, CSeq); otherwise refused silently.
    if (partial && (!parsed.ok || parsed.message.kind !== 'request')) return;
    const request: AnswerableRequest | undefined = parsed.ok
      ? parsed.message.kind === 'request'
        ? { method: parsed.message.method, headers: parsed.message.headers }
        : undefined
      : parsed.request;
    if (request !== undefined && request.method !== 'ACK') this.answerMalformed(request, status, reason, flow);
  }

  // ---------------------------------------------------------------------------
  // App side

  private onAppSip(conn: AppConnection, msgId: string, tokens: readonly string[], sip: string | undefined): void {
    if (sip === undefined || sip.trim() === '') {
      conn.reply(msgId, 'NOK|missing SIP message');
      return;
    }
    const app = parseAppMessage(sip);
    if (typeof app === 'string') {
      conn.reply(msgId, `NOK|${app}`);
      return;
    }
    const txnId = tokens[2] ?? '';
    const dialogId = tokens[3] ?? '';
    try {
      if (app.start.kind === 'response') {
        if (txnId === '') conn.reply(msgId, 'NOK|a response needs a transaction id');
        else this.appResponses.handle(conn, msgId, txnId, app);
      } else {
        this.outgoing.handle(conn, msgId, txnId, dialogId, tokens[4] ?? '', app);
      }
    } catch (e) {
      this.logger.error({ err: e instanceof Error ? e.stack : String(e) }, 'error handling app message');
      conn.reply(msgId, 'NOK|internal error');
    }
  }

  /**
   * An app connection dropped (spec §3 item 52): requests it owed answers to
   * get 503, its calls in progress are CANCELled, and its established calls
   * are hung up (nobody is left to manage them; drachtio-srf cannot resume
   * dialogs on a new connection).
   */
  private onAppGone(conn: AppConnection): void {
    const core = this.core;
    for (const txnId of [...conn.pendingServer]) {
      const entry = core.state.serverByTxnId.get(txnId);
      if (entry === undefined || !entry.awaitingApp) continue;
      if (entry.request.method === 'BYE') core.respond(entry, 200);
      else core.respond(entry, 503, { reason: 'Service Unavailable (application disconnected)' });
    }
    for (const txnId of [...conn.pendingClient]) {
      const entry = core.state.clientByTxnId.get(txnId);
      if (entry === undefined) continue;
      entry.silent = true;
    }
    for (const dialogId of [...conn.dialogs]) {
      const d = core.state.dialogs.get(dialogId);
      if (d === undefined) continue;
      if (d.state === 'confirmed') core.serverBye(d, 'application connection lost', false);
      else core.state.removeDialog(d);
    }
    for (const txnId of [...conn.pendingClient]) {
      const entry = core.state.clientByTxnId.get(txnId);
      if (entry?.method !== 'INVITE' || entry.gotFinal || entry.cancelRequested) continue;
      entry.cancelRequested = true;
      this.outgoingCancel(entry.txnId);
    }
  }

  private outgoingCancel(txnId: string): void {
    const entry = this.core.state.clientByTxnId.get(txnId);
    if (entry === undefined) return;
    const cancel = buildCancel(entry.request, []);
    if (entry.gotProvisional) this.clientResponses.sendCancel(entry, cancel);
    else entry.deferredCancel = cancel;
  }
}
