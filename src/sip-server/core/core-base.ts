/**
 * What the request/response handlers of the core share: the tables, sending
 * responses through server transactions, starting client transactions, CDRs,
 * and the BYEs the server sends on its own (spec §1.8 (i)). Where in-dialog
 * requests go and how they are built is dialog-routing.ts.
 */
import type { Logger } from '../../observability/logger.js';
import type { AppConnection } from '../control/app-connection.js';
import { headerKey } from '../message/header-names.js';
import type { MessageInfo } from '../message/parser.js';
import { serialize, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import type { TransactionContext } from '../transaction/context.js';
import { InviteClientTransaction } from '../transaction/invite-client-transaction.js';
import { InviteServerTransaction } from '../transaction/invite-server-transaction.js';
import { NonInviteClientTransaction } from '../transaction/non-invite-client-transaction.js';
import { NonInviteServerTransaction } from '../transaction/non-invite-server-transaction.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { Destination, Flow } from '../transport/types.js';
import { CoreState, slimServerEntry, type ClientEntry, type Dialog, type ServerEntry } from './core-state.js';
import { DialogRouting, parseBranch, responseDestination } from './dialog-routing.js';
import { FlowRegistry } from './flows.js';
import { cdrFrame, unsolicitedFrame } from './frames.js';
import { newTag, newTransactionId } from './ids.js';
import { buildNon2xxAck, buildResponse, type ResponseOptions } from './message-builder.js';
import type { ServerStats } from './stats.js';
import { UasChecks, type UasPolicy } from './uas-checks.js';
import { detach } from '../message/detach.js';
import type { OverloadControl } from '../overload/overload-control.js';
import type { SourceFilter } from '../overload/source-filter.js';
import { LingerTable, type LingeringClient, type LingeringServer } from './lingering.js';

/**
 * Decides whether a new request from the network may go on to the apps, from
 * where it came (address, transport, the verified TLS identity of the peer):
 * the place for trunk rules. Undefined admits it; otherwise the request is
 * answered with that status.
 */
export type Admission = (request: SipRequest, flow: Flow) => { readonly status: number; readonly reason: string } | undefined;

export interface CoreConfig {
  readonly admission?: Admission | undefined;
  readonly appResponseTimeoutMs: number;
  readonly maxPendingInvites: number;
  readonly cdrs: boolean;
  readonly userAgent: string;
  readonly maxMessageBytes: number;
  /** RFC 4028 session timers; undefined turns them off. */
  readonly sessionTimers: SessionTimerConfig | undefined;
  readonly uas: UasPolicy;
}

export interface SessionTimerConfig {
  /** Session-Expires we ask for (our INVITEs) or grant when the peer names none, seconds. */
  readonly defaultSeconds: number;
  /** Smallest interval we accept (our Min-SE; smaller requests get 422), seconds. */
  readonly minSeconds: number;
}

/** Receives client-transaction events (implemented by the outgoing-request handler). */
export interface ClientEvents {
  onResponse(entry: ClientEntry, response: SipResponse, info: MessageInfo): void;
  onTimeout(entry: ClientEntry): void;
  onTransportError(entry: ClientEntry, error: Error): void;
}

/** What guards the front door and what is timed (set up by the server, see overload/). */
export interface CoreGuards {
  readonly overload: OverloadControl;
  readonly filter: SourceFilter;
  /** Seconds from a new INVITE to its first response above 100. */
  readonly observeFirstResponse: (seconds: number) => void;
}

export interface AppRouter {
  routed(verb: string): AppConnection[];
  routedVerbs(): string[];
}

export class CoreBase {
  readonly state = new CoreState();
  /** Clients registered over a connection, reachable only through it (spec §2.9). */
  readonly flows = new FlowRegistry();
  /** Where in-dialog requests go, and how they are built. */
  readonly routing: DialogRouting;
  readonly uas: UasChecks;
  private readonly roundRobin = new Map<string, number>();
  clientEvents: ClientEvents | undefined;
  /**
   * The flow of the response being dispatched to a client transaction. Client
   * transactions do not know flows, but the dialog layer needs the source of a
   * 2xx (NAT handling, spec §2.9), so the dispatcher sets this around the call.
   */
  currentFlow: Flow | undefined;
  /** Server transactions that only wait out Timer J or L, as small records (see lingering.ts and linger()). */
  readonly lingering: LingerTable<LingeringServer>;
  /** Client transactions that only wait out Timer D, K or M, as small records (see lingerClient()). */
  readonly lingeringClients: LingerTable<LingeringClient>;

  constructor(
    readonly transport: TransportLayer,
    readonly ctx: TransactionContext,
    readonly apps: AppRouter,
    readonly config: CoreConfig,
    readonly logger: Logger,
    readonly stats: ServerStats,
    readonly guards: CoreGuards,
  ) {
    this.uas = new UasChecks(config.uas);
    this.routing = new DialogRouting(transport, this.flows);
    this.lingering = new LingerTable<LingeringServer>(ctx.timers, (key, r) => {
      if (r.mergedKey !== undefined && this.state.merged.get(r.mergedKey) === key) this.state.merged.delete(r.mergedKey);
    });
    this.lingeringClients = new LingerTable<LingeringClient>(ctx.timers);
  }

  /** Round-robin among the connections that routed `verb` (spec §2.2.3). */
  pickApp(verb: string): AppConnection | undefined {
    const list = this.apps.routed(verb);
    if (list.length === 0) return undefined;
    const i = (this.roundRobin.get(verb) ?? 0) % list.length;
    this.roundRobin.set(verb, i + 1);
    return list[i];
  }

  emitCdr(type: 'attempt' | 'start' | 'stop', source: 'network' | 'application', msg: SipRequest | SipResponse, extra?: string): void {
    if (!this.config.cdrs) return;
    const app = this.pickApp(`cdr:${type}`);
    if (app === undefined) return;
    app.send(cdrFrame(type, source, serialize(msg).toString('utf8'), extra));
  }

  send(data: Buffer, dest: Destination, onError?: (e: Error) => void): void {
    this.stats.messagesOut++;
    this.transport.send(data, dest, onError);
  }

  // -------------------------------------------------------------------------
  // Server transactions

  serverKey(request: SipRequest, info: MessageInfo, method: string): string {
    const branch = info.via.branch;
    if (branch !== undefined && branch.startsWith('z9hG4bK')) return `${branch}\u0000${info.via.host}:${info.via.port ?? 5060}\u0000${method}`;
    // RFC 2543 peers (§17.2.3): match on the request's identifying fields.
    return `2543\u0000${request.uri}\u0000${info.fromTag ?? ''}\u0000${info.callId}\u0000${info.cseq}\u0000${info.via.host}:${info.via.port ?? 5060}\u0000${method}`;
  }

  createServerEntry(request: SipRequest, info: MessageInfo, flow: Flow, messageKey: string): ServerEntry {
    // Detached: the key outlives the message by the transaction's wait timer (see detach.ts).
    const key = detach(messageKey);
    const dest = responseDestination(flow, info);
    const txnId = newTransactionId();
    const mergedKey = info.toTag === undefined ? detach(CoreState.mergedKey(info.callId, info.fromTag, info.cseq, request.method)) : undefined;
    if (mergedKey !== undefined && !this.state.merged.has(mergedKey)) this.state.merged.set(mergedKey, key);
    const onTerminated = (): void => {
      const e = this.state.serverByKey.get(key);
      if (e?.txnId === txnId) this.state.serverByKey.delete(key);
      if (mergedKey !== undefined && this.state.merged.get(mergedKey) === key) this.state.merged.delete(mergedKey);
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteServerTransaction(this.ctx, key, dest, { onTerminated })
        : new NonInviteServerTransaction(this.ctx, key, dest, onTerminated);
    const entry: ServerEntry = {
      txnId,
      tx,
      mergedKey,
      request,
      info,
      flow,
      owner: undefined,
      localTag: undefined,
      dialog: undefined,
      awaitingApp: false,
      appTimer: undefined,
      countedPending: false,
      early: undefined,
      afterFinal: undefined,
      receivedAt: request.method === 'INVITE' && info.toTag === undefined ? performance.now() : undefined,
    };
    this.state.serverByKey.set(key, entry);
    if (entry.receivedAt !== undefined) this.state.invitesAwaitingFirstResponse++;
    return entry;
  }

  /** Sends a response built by the server itself; a final response also ends the app's part. */
  respond(entry: ServerEntry, status: number, options: ResponseOptions = {}): SipResponse {
    if (status > 100 && entry.localTag === undefined) entry.localTag = entry.info.toTag ?? newTag();
    const extra: HeaderField[] = [...(options.headers ?? [])];
    if (!extra.some((f) => f.key === 'server')) extra.push({ name: 'Server', key: 'server', value: this.config.userAgent });
    const response = buildResponse(entry.request, status, { ...options, toTag: entry.localTag, headers: extra });
    entry.tx.respond(status, serialize(response));
    this.stats.messagesOut++;
    this.noteResponse(entry, status);
    if (status >= 200) this.finishServerEntry(entry);
    return response;
  }

  /** A response went out on a server transaction: the first one above 100 to a new INVITE is timed. */
  noteResponse(entry: ServerEntry, status: number): void {
    if (status <= 100 || entry.receivedAt === undefined) return;
    this.guards.observeFirstResponse((performance.now() - entry.receivedAt) / 1000);
    entry.receivedAt = undefined;
    this.state.invitesAwaitingFirstResponse--;
  }

  /** The app's part of a server transaction is over (final response sent, or the app is gone). */
  finishServerEntry(entry: ServerEntry): void {
    if (!entry.awaitingApp) {
      if (entry.tx.lastStatus >= 200) {
        slimServerEntry(entry);
        this.linger(entry);
      }
      return;
    }
    entry.awaitingApp = false;
    slimServerEntry(entry);
    entry.appTimer?.cancel();
    entry.appTimer = undefined;
    this.state.serverByTxnId.delete(entry.txnId);
    entry.owner?.pendingServer.delete(entry.txnId);
    if (entry.countedPending) {
      entry.countedPending = false;
      this.state.pendingInvites--;
    }
    if (entry.dialog?.pendingIncomingInvite === entry.txnId) entry.dialog.pendingIncomingInvite = undefined;
    entry.dialog?.peerRequests?.delete(entry.txnId);
    // An early dialog (reliable provisional, RFC 3262) ends with a failure response to its INVITE.
    if (entry.early !== undefined && entry.early.state === 'early' && entry.tx.lastStatus >= 300) this.state.removeDialog(entry.early);
    const after = entry.afterFinal;
    entry.afterFinal = undefined;
    after?.();
    this.linger(entry);
  }

  /**
   * A server transaction that now only waits out Timer J (non-INVITE, final
   * response sent over UDP) or Timer L (an INVITE's 2xx, RFC 6026 §7.1)
   * leaves the table for a small record carrying what that wait needs.
   */
  private linger(entry: ServerEntry): void {
    const tx = entry.tx;
    if (this.state.serverByKey.get(tx.key) !== entry) return;
    let response: Buffer | undefined;
    if (tx instanceof NonInviteServerTransaction) {
      if (tx.responseDest.transport !== 'udp') return;
      response = tx.handOff();
      if (response === undefined) return;
    } else if (!tx.handOff()) return;
    this.state.serverByKey.delete(tx.key);
    const invite = entry.request.method === 'INVITE';
    const record: LingeringServer = {
      method: entry.request.method,
      response,
      dest: tx.responseDest,
      localTag: invite && entry.localTag !== undefined ? detach(entry.localTag) : undefined,
      dialogId: invite ? entry.dialog?.id : undefined,
      mergedKey: entry.mergedKey,
    };
    this.lingering.add(tx.key, record, 64 * this.ctx.t1);
  }

  /** Gives a request to an app: it now owes a final response within the app timeout. */
  awaitApp(entry: ServerEntry, owner: AppConnection): void {
    entry.owner = owner;
    entry.awaitingApp = true;
    this.state.serverByTxnId.set(entry.txnId, entry);
    owner.pendingServer.add(entry.txnId);
    if (entry.request.method === 'INVITE' && entry.dialog === undefined) {
      entry.countedPending = true;
      this.state.pendingInvites++;
    }
    this.armAppTimer(entry);
  }

  /**
   * An app that sends an INVITE a provisional response is alive and working on
   * it (ringing agents, a caller waiting): its time starts again, as a proxy's
   * Timer C does (RFC 3261 §16.8). A UAS taking long sends one every minute
   * (RFC 3261 §13.3.1.1).
   */
  appProgressed(entry: ServerEntry): void {
    if (entry.awaitingApp) this.armAppTimer(entry);
  }

  private armAppTimer(entry: ServerEntry): void {
    entry.appTimer?.cancel();
    entry.appTimer = this.ctx.timers.schedule(this.config.appResponseTimeoutMs, () => {
      if (!entry.awaitingApp) return;
      this.logger.warn({ callId: entry.info.callId, method: entry.request.method }, 'app did not answer in time: 500');
      // A BYE the app never answered still ends the dialog, so answer it as done.
      this.respond(entry, entry.request.method === 'BYE' ? 200 : 500, entry.request.method === 'BYE' ? {} : { reason: 'Server Internal Error (application did not respond)' });
    });
  }

  // -------------------------------------------------------------------------
  // Client transactions

  startClientTransaction(
    request: SipRequest,
    dest: Destination,
    opts: {
      owner: AppConnection | undefined;
      dialog: Dialog | undefined;
      createsDialog: boolean;
      silent: boolean;
      /** Keep the app's transaction id (an INVITE re-sent after 422 is the same request to the app). */
      txnId?: string;
      internal?: ClientEntry['internal'];
    },
  ): ClientEntry {
    const branch = parseBranch(request.headers.entries('via')[0] ?? '');
    const key = detach(`${branch}\u0000${request.method}`);
    const bytes = serialize(request);
    const txnId = opts.txnId ?? newTransactionId();
    // The transaction's callbacks need the entry, which needs the transaction: tie the knot through a holder.
    const ref: { entry?: ClientEntry } = {};
    const events = (): ClientEvents => this.clientEvents!;
    // A send can fail at once (a WebSocket client whose connection is gone): the app must get its request's
    // echo (the caller writes it after this returns) before the 503, or drachtio-srf drops the response.
    const transportError = (e: Error): void => queueMicrotask(() => events().onTransportError(ref.entry!, e));
    const onTerminated = (): void => {
      if (this.state.clientByKey.get(key) === ref.entry) this.state.clientByKey.delete(key);
      // A retried INVITE hands its txn id on to the new transaction: only the current holder lets go.
      if (this.state.clientByTxnId.get(txnId) !== ref.entry) return;
      this.state.clientByTxnId.delete(txnId);
      ref.entry?.owner?.pendingClient.delete(txnId);
    };
    const tx =
      request.method === 'INVITE'
        ? new InviteClientTransaction(
            this.ctx,
            key,
            bytes,
            dest,
            {
              onResponse: (_t, r, i) => events().onResponse(ref.entry!, r, i),
              onTimeout: () => events().onTimeout(ref.entry!),
              onTransportError: (_t, e) => transportError(e),
              onTerminated,
            },
            non2xxAckBuilder(request, this.stats),
          )
        : new NonInviteClientTransaction(this.ctx, key, bytes, dest, {
            onResponse: (_t, r, i) => events().onResponse(ref.entry!, r, i),
            onTimeout: () => events().onTimeout(ref.entry!),
            onTransportError: (_t, e) => transportError(e),
            onTerminated,
          });
    const entry: ClientEntry = {
      txnId,
      tx,
      request,
      method: request.method,
      owner: opts.owner,
      dialog: opts.dialog,
      dest,
      createsDialog: opts.createsDialog,
      cancelRequested: false,
      deferredCancel: undefined,
      gotProvisional: false,
      gotFinal: false,
      silent: opts.silent,
      internal: opts.internal,
      timerAdded: false,
      retries422: 0,
      lateAck: undefined,
      ended: undefined,
    };
    ref.entry = entry;
    this.state.clientByKey.set(key, entry);
    this.state.clientByTxnId.set(txnId, entry);
    opts.owner?.pendingClient.add(txnId);
    this.stats.messagesOut++;
    tx.start();
    return entry;
  }

  /**
   * After the TU has seen a final response: a client transaction that now
   * only waits out Timer D, K or M leaves the tables for a small record
   * carrying what that wait needs (the ACK to re-send; how a further 2xx is
   * answered). The app's transaction id ends here, as at termination.
   */
  lingerClient(entry: ClientEntry): void {
    const tx = entry.tx;
    // A session refresh keeps its transaction: its ACK lives in its own handler (session-timers.ts), and refreshes are few.
    if (this.state.clientByKey.get(tx.key) !== entry || entry.internal !== undefined) return;
    const handed = tx.handOff();
    if (handed === undefined) return;
    this.state.clientByKey.delete(tx.key);
    if (this.state.clientByTxnId.get(entry.txnId) === entry) {
      this.state.clientByTxnId.delete(entry.txnId);
      entry.owner?.pendingClient.delete(entry.txnId);
    }
    const accepted =
      tx instanceof InviteClientTransaction && tx.lastStatus < 300
        ? {
            dialogId: entry.dialog?.id,
            createsDialog: entry.createsDialog,
            silent: entry.silent,
            uri: detach(entry.request.uri),
            listener: entry.dialog?.listener,
            lateAck: entry.lateAck,
            confirmedTag: entry.createsDialog && !entry.silent && entry.dialog?.state === 'confirmed' ? entry.dialog.remoteTag : undefined,
            ended: entry.ended,
          }
        : undefined;
    this.lingeringClients.add(tx.key, { dest: entry.dest, ack: handed.ack, accepted }, handed.waitMs);
  }

  // -------------------------------------------------------------------------
  // Dialogs

  /** Ends a dialog from our side (spec §1.8 (i)): BYE on the wire, the unsolicited frame to its app, CDR. */
  serverBye(d: Dialog, reason: string, notifyApp: boolean, cdrReason?: string): void {
    if (this.state.dialogs.get(d.id) !== d) return;
    this.state.removeDialog(d);
    // A session timer that ran out is a timer expiry (Q.850 102, RFC 3326); other BYEs of our own keep
    // drachtio-server's form (spec §2.5: `SIP ;cause=200 ;text="ACK timeout"`).
    const value = cdrReason === 'session-expired' ? `Q.850;cause=102;text="${reason}"` : `SIP ;cause=200 ;text="${reason}"`;
    const bye = this.routing.build(d, 'BYE', { headers: [{ name: 'Reason', key: headerKey('reason'), value }] });
    void this.routing.destination(d).then((dest) => {
      if (typeof dest === 'string') {
        this.logger.warn({ dialog: d.id, reason: dest }, 'cannot send BYE');
        return;
      }
      this.routing.setVia(bye, dest);
      this.startClientTransaction(bye, dest, { owner: undefined, dialog: undefined, createsDialog: false, silent: true });
      const text = serialize(bye);
      if (notifyApp && d.owner !== undefined) d.owner.send(unsolicitedFrame(text.toString('utf8'), text.length, dest, d.id));
      this.emitCdr('stop', 'application', bye, cdrReason ?? (reason === 'ACK timeout' ? 'session-expired' : 'system-initiated-termination'));
    });
  }
}

/**
 * The ACK builder of an INVITE client transaction (§17.1.1.3), made in a scope
 * of its own: V8 closures of one function share one context, so had it been
 * made next to the transaction's other callbacks, they would all keep the
 * request (headers and body) for as long as the transaction lingers. The
 * transaction lets go of this one at its final response.
 */
function non2xxAckBuilder(request: SipRequest, stats: ServerStats): (response: SipResponse) => Buffer {
  return (response) => {
    stats.messagesOut++;
    return serialize(buildNon2xxAck(request, response));
  };
}
