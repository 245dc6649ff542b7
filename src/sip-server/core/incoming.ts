/**
 * Requests from the network (drachtio spec §2.2, §2.5): new requests are
 * routed to an app (100 Trying first for INVITE), retransmissions absorbed,
 * CANCEL answered here (RFC 3261 §9.2), a BYE on an early dialog as a CANCEL
 * (§15.1.2, see early-dialog.ts), in-dialog requests matched to their
 * dialog (§12.2.2) and its owning app, re-INVITE glare (§14.2), ACK for 2xx
 * forwarded and ACK for non-2xx absorbed (§17.2.1).
 */
import { parseUri } from '../message/uri.js';
import type { MessageInfo } from '../message/parser.js';
import { serialize, type SipRequest } from '../message/sip-message.js';
import { InviteServerTransaction } from '../transaction/invite-server-transaction.js';
import type { Flow } from '../transport/types.js';
import type { CoreBase } from './core-base.js';
import type { AppConnection } from '../control/app-connection.js';
import { CoreState, type Dialog, type ServerEntry } from './core-state.js';
import { byeOnEarlyDialog, requestOnEarlyDialog, terminatePeerRequests } from './early-dialog.js';
import { networkSipFrame } from './frames.js';
import { newTag, newTransactionId } from './ids.js';
import type { ReliableProvisionals } from './reliable-provisionals.js';
import type { SessionTimers } from './session-timers.js';
import { stampTlsIdentity } from './tls-identity-header.js';
import type { Refusal } from './uas-checks.js';

/**
 * Option tags this server implements for requests that Require them
 * (RFC 3261 §8.2.2.3): reliable provisionals (RFC 3262) always, session
 * timers (RFC 4028) when they are enabled, and `path` (RFC 3327) on a
 * REGISTER. Anything else gets 420.
 */
const WITH_TIMERS: ReadonlySet<string> = new Set(['100rel', 'timer']);
const WITHOUT_TIMERS: ReadonlySet<string> = new Set(['100rel']);

/**
 * Methods that only make sense inside a dialog: out of one they get 481
 * (RFC 3261 §12.2.2; INFO: RFC 6086 §4.2.1 and RFC 2976 before it), whoever
 * routes them. Never 503: that tells a carrier to fail over.
 */
const DIALOG_ONLY = new Set(['BYE', 'UPDATE', 'PRACK', 'INFO']);
/** Retry-After of the 503 while no application is connected (start-up, the end of a stop). */
const NO_APP_RETRY_AFTER_SECONDS = 5;

export class IncomingRequests {
  constructor(
    private readonly core: CoreBase,
    private readonly timers: SessionTimers,
    private readonly reliable: ReliableProvisionals,
  ) {}

  onRequest(request: SipRequest, info: MessageInfo, flow: Flow): void {
    // Before anything hands the request on (an app, a CDR): the connection's verified TLS identity, never a sender's.
    stampTlsIdentity(request, flow);
    const method = request.method;
    if (method === 'ACK') {
      this.onAck(request, info, flow);
      return;
    }
    if (method === 'CANCEL') {
      this.onCancel(request, info, flow);
      return;
    }
    const key = this.core.serverKey(request, info, method);
    const existing = this.core.state.serverByKey.get(key);
    if (existing !== undefined) {
      this.core.stats.retransmissionsAbsorbed++;
      existing.tx.onRetransmission();
      return;
    }
    if (this.lingered(key)) return;
    if (info.toTag === undefined && this.turnedAway(request, flow, key, info)) return;
    if (this.refused(request, info, flow, key)) return;
    if (info.toTag !== undefined) this.onInDialog(request, info, flow, key);
    else this.onNewRequest(request, info, flow, key);
  }

  /**
   * A retransmission of a request whose transaction only waits out its timer
   * (core/lingering.ts): Timer J re-sends the final response (RFC 3261
   * §17.2.2); in Timer L (RFC 6026 §7.1) the TU re-sends its 2xx while the
   * dialog still waits for the ACK, and otherwise the INVITE is absorbed.
   */
  private lingered(key: string): boolean {
    const core = this.core;
    const r = core.lingering.get(key);
    if (r === undefined) return false;
    core.stats.retransmissionsAbsorbed++;
    if (r.response !== undefined) core.send(r.response, r.dest);
    const u = r.dialogId === undefined ? undefined : core.state.dialogs.get(r.dialogId)?.uas2xx;
    if (u !== undefined) core.send(u.bytes, u.dest);
    return true;
  }

  /**
   * The front door, for new requests outside a dialog: scanner user agents
   * (dropped, or 403) and sources over their rate (503 with Retry-After,
   * RFC 3261 §21.5.4). Counted, never logged per request.
   */
  private turnedAway(request: SipRequest, flow: Flow, key: string, info: MessageInfo): boolean {
    const core = this.core;
    const { filter, overload } = core.guards;
    if (filter.isScanner(request.headers.values('user-agent'))) {
      core.stats.scannersRefused++;
      if (filter.scannerAction === 'reject') core.respond(core.createServerEntry(request, info, flow, key), 403);
      return true;
    }
    if (!filter.admit(flow.address)) {
      core.stats.rateLimited++;
      core.respond(core.createServerEntry(request, info, flow, key), 503, {
        reason: 'Service Unavailable (rate limit)',
        headers: [{ name: 'Retry-After', key: 'retry-after', value: String(overload.retryAfterSeconds) }],
      });
      return true;
    }
    return false;
  }

  /** Requests the server answers with an error before anything else sees them (RFC 3261 §8.2, in its order). */
  private refused(request: SipRequest, info: MessageInfo, flow: Flow, key: string): boolean {
    const core = this.core;
    const method = request.method;
    // Dialog-only methods outside a dialog are not a method question: they get 481 (§12.2.2) further on.
    const outside = info.toTag === undefined && !DIALOG_ONLY.has(method);
    const apps = core.apps;
    const early =
      (outside ? core.uas.checkMethod(method, (verb) => apps.routed(verb).length > 0, () => apps.routedVerbs()) : undefined) ??
      this.headerRefusal(request, info, key) ??
      core.uas.checkContent(request);
    if (early === undefined) return false;
    core.stats.countRefusal(early.status);
    const entry = core.createServerEntry(request, info, flow, key);
    core.respond(entry, early.status, { headers: early.headers, ...(early.reason !== undefined ? { reason: early.reason } : {}) });
    return true;
  }

  /** §8.2.2: a merged request (482), an unsupported Require (420); and §8.1.1.8: an INVITE without Contact (400). */
  private headerRefusal(request: SipRequest, info: MessageInfo, key: string): Refusal | undefined {
    const core = this.core;
    const method = request.method;
    // §8.2.2.1: a Request-URI scheme we cannot serve (tel: reaches the app, which may route numbers).
    const ruri = info.toTag === undefined ? parseUri(request.uri) : undefined;
    if (ruri?.kind === 'other' && ruri.scheme !== 'tel') return { status: 416, headers: [] };
    const options = this.timers.enabled ? WITH_TIMERS : WITHOUT_TIMERS;
    // RFC 3327: a REGISTER may require `path` (the registrar stores the Path; the engine's does).
    const unsupported = request.headers.entries('require').map((t) => t.toLowerCase()).filter((t) => !options.has(t) && !(t === 'path' && method === 'REGISTER'));
    // §8.2.2.2: the same request arriving again through another branch (forking upstream).
    const merged = info.toTag === undefined ? core.state.merged.get(CoreState.mergedKey(info.callId, info.fromTag, info.cseq, method)) : undefined;
    if (merged !== undefined && merged !== key) return { status: 482, headers: [] };
    if (unsupported.length > 0) return { status: 420, headers: [{ name: 'Unsupported', key: 'unsupported', value: unsupported.join(', ') }] };
    if (method === 'INVITE' && !request.headers.has('contact')) return { status: 400, reason: 'Bad Request (missing Contact)', headers: [] };
    // RFC 4028 §8: a Session-Expires below our Min-SE gets 422 with it; a malformed one 400.
    const timer = this.timers.check(request);
    if (timer?.status === 422) return { status: 422, headers: [{ name: 'Min-SE', key: 'min-se', value: String(timer.minSE) }] };
    if (timer !== undefined) return { status: 400, reason: timer.status === 400 ? timer.reason : 'Bad Request', headers: [] };
    return undefined;
  }

  private text(request: SipRequest): { text: string; bytes: number } {
    const buf = serialize(request);
    return { text: buf.toString('utf8'), bytes: buf.length };
  }

  private onNewRequest(request: SipRequest, info: MessageInfo, flow: Flow, key: string): void {
    const core = this.core;
    const method = request.method;
    const entry = core.createServerEntry(request, info, flow, key);
    if (DIALOG_ONLY.has(method)) {
      core.respond(entry, 481);
      return;
    }
    const refusal = core.config.admission?.(request, flow);
    if (refusal !== undefined) {
      core.respond(entry, refusal.status, { reason: refusal.reason });
      return;
    }
    if (method === 'INVITE') {
      // Overload (RFC 3261 §21.5.4): the machine is too busy, or too many INVITEs already wait for apps.
      const overload = core.guards.overload;
      const cause = overload.overloaded ? overload.cause : core.state.pendingInvites >= core.config.maxPendingInvites ? 'pending_invites' : undefined;
      if (cause !== undefined) {
        core.stats.countOverload(cause);
        core.respond(entry, 503, { headers: [{ name: 'Retry-After', key: 'retry-after', value: String(overload.retryAfterSeconds) }] });
        return;
      }
      core.respond(entry, 100);
    }
    const app = core.pickApp(method.toLowerCase());
    if (app === undefined) {
      core.stats.unrouted++;
      if (method === 'INVITE') core.emitCdr('attempt', 'network', request);
      // No application connected at all (the engine starting, or its last seconds of a stop): a passing state, so
      // Retry-After lets a carrier try again or elsewhere (RFC 3261 §21.5.4). Apps that route other methods only: as is.
      const passing = core.apps.routedVerbs().length === 0;
      const res = core.respond(entry, 503, {
        reason: passing ? 'Service Unavailable (no application connected)' : 'Service Unavailable (no application for this method)',
        ...(passing ? { headers: [{ name: 'Retry-After', key: 'retry-after', value: String(NO_APP_RETRY_AFTER_SECONDS) }] } : {}),
      });
      if (method === 'INVITE') core.emitCdr('stop', 'application', res, 'call-rejected');
      return;
    }
    core.awaitApp(entry, app);
    if (method === 'INVITE') core.emitCdr('attempt', 'network', request);
    const { text, bytes } = this.text(request);
    app.send(networkSipFrame(text, bytes, flow, entry.txnId, '', flow.listener));
  }

  private onCancel(request: SipRequest, info: MessageInfo, flow: Flow): void {
    const core = this.core;
    const cancelKey = core.serverKey(request, info, 'CANCEL');
    const again = core.state.serverByKey.get(cancelKey);
    if (again !== undefined) {
      core.stats.retransmissionsAbsorbed++;
      again.tx.onRetransmission();
      return;
    }
    if (this.lingered(cancelKey)) return;
    const entry = core.createServerEntry(request, info, flow, cancelKey);
    const inviteKey = core.serverKey(request, info, 'INVITE');
    const invite = core.state.serverByKey.get(inviteKey);
    if (invite === undefined || invite.request.method !== 'INVITE') {
      // An INVITE already answered with 2xx (waiting out Timer L): 200 with its To tag and no effect (§9.2).
      const accepted = core.lingering.get(inviteKey);
      if (accepted?.method === 'INVITE') {
        entry.localTag = accepted.localTag;
        core.respond(entry, 200);
        return;
      }
      core.respond(entry, 481);
      return;
    }
    // §9.2: the 200 to the CANCEL and the INVITE's response carry the same To tag (the 487 below, when none went yet).
    invite.localTag ??= invite.info.toTag ?? newTag();
    entry.localTag = invite.localTag;
    core.respond(entry, 200);
    // After a final response the CANCEL has no effect (§9.2); before it, the INVITE ends with 487.
    if (!invite.awaitingApp) return;
    const owner = invite.owner;
    core.respond(invite, 487);
    core.emitCdr('stop', 'network', request, 'call-canceled');
    const { text, bytes } = this.text(request);
    owner?.send(networkSipFrame(text, bytes, flow, invite.txnId, invite.dialog?.id ?? ''));
  }

  private onAck(request: SipRequest, info: MessageInfo, flow: Flow): void {
    const core = this.core;
    const invite = core.state.serverByKey.get(core.serverKey(request, info, 'INVITE'));
    if (invite !== undefined && invite.tx instanceof InviteServerTransaction && (invite.tx.state === 'completed' || invite.tx.state === 'confirmed')) {
      // ACK for our non-2xx final response: the transaction absorbs it (spec §2.1).
      invite.tx.onAck();
      return;
    }
    const d = core.state.findDialogByTags(info.callId, info.toTag, info.fromTag);
    if (d === undefined || d.owner === undefined) return; // stray ACK: nothing to answer
    if (info.cseq <= d.ackedCSeq) return; // duplicate ACK for a 2xx already acknowledged
    const u = d.uas2xx;
    // Only the ACK of the 2xx waiting for one counts (every 2xx to an INVITE waits, app-responses.ts): a stray
    // ACK numbered higher must not make the real ACK of the next 2xx look like a duplicate.
    if (u === undefined || u.cseq !== info.cseq) return;
    d.ackedCSeq = info.cseq;
    u.retransmit?.cancel();
    u.giveUp?.cancel();
    d.uas2xx = undefined;
    const txnId = u.txnId === d.inviteTxnId ? u.txnId : newTransactionId();
    const { text, bytes } = this.text(request);
    d.owner.send(networkSipFrame(text, bytes, flow, txnId, d.id));
    // The app's BYE held for this ACK (RFC 3261 §15) goes now.
    const bye = d.deferredBye;
    if (bye !== undefined) {
      d.deferredBye = undefined;
      bye();
    }
  }

  private onInDialog(request: SipRequest, info: MessageInfo, flow: Flow, key: string): void {
    const core = this.core;
    const method = request.method;
    // §15: a BYE on an early dialog whose INVITE still waits for the app ends that INVITE as a CANCEL would.
    if (method === 'BYE' && byeOnEarlyDialog(core, request, info, flow, key)) return;
    const d = core.state.findDialogByTags(info.callId, info.toTag, info.fromTag);
    if (d === undefined && method !== 'BYE' && method !== 'PRACK' && requestOnEarlyDialog(core, request, info, flow, key)) return;
    const entry: ServerEntry = core.createServerEntry(request, info, flow, key);
    if (method === 'INVITE') core.respond(entry, 100);
    if (d === undefined || d.owner === undefined || d.owner.closed) {
      core.respond(entry, 481);
      return;
    }
    // §12.2.2: a CSeq *lower* than the remote sequence number is out of order (equal is not: e.g. an INFO
    // numbered like the INVITE by a peer that counts per method; a retransmission was absorbed above).
    if (d.remoteCSeq >= 0 && info.cseq < d.remoteCSeq) {
      core.respond(entry, 500, { reason: 'Server Internal Error (CSeq out of order)' });
      return;
    }
    d.remoteCSeq = info.cseq;
    // RFC 3262 §3: a PRACK must name the reliable 1xx waiting for it.
    if (method === 'PRACK') {
      const inviteTxnId = this.reliable.onPrack(d, request);
      if (inviteTxnId === undefined) {
        core.respond(entry, 481);
        return;
      }
      // Once the app has a Dialog (after the initial INVITE's final response, or for a re-INVITE's
      // reliable 1xx) it cannot take a PRACK (drachtio-srf answers 501): answer it here.
      if (d.state !== 'early' || core.state.serverByTxnId.get(inviteTxnId)?.awaitingApp !== true) {
        core.respond(entry, 200);
        this.reliable.flush(d);
        return;
      }
    }
    if (method === 'BYE' && d.role === 'uac' && d.ackCSeq !== undefined) {
      // A second BYE while the first waits: the dialog is ending already.
      if (d.heldPeerBye !== undefined) core.respond(entry, 200);
      else this.holdByeForAck(entry, request, flow, d);
      return;
    }
    this.deliver(entry, request, flow, d, d.owner);
  }

  /**
   * A peer's BYE that overtakes the ACK the app owes its 2xx (a phone that answers and hangs up at
   * once; the app is computing the answer for a delayed offer): handed on right after that ACK, so the
   * 2xx is ACKed in the dialog as it was (RFC 3261 §13.2.2.4) and the app has its dialog when the BYE
   * comes. An app that sends no ACK within 8·T1 gets the BYE all the same.
   */
  private holdByeForAck(entry: ServerEntry, request: SipRequest, flow: Flow, d: Dialog): void {
    const core = this.core;
    const release = (): void => {
      if (d.heldPeerBye !== release) return;
      d.heldPeerBye = undefined;
      timer.cancel();
      if (core.state.dialogs.get(d.id) !== d || d.owner === undefined || d.owner.closed) core.respond(entry, 481);
      else this.deliver(entry, request, flow, d, d.owner);
    };
    const timer = core.ctx.timers.schedule(8 * core.ctx.t1, release);
    d.heldPeerBye = release;
  }

  /** An in-dialog request of the peer, matched to its dialog, to the app that owns it. */
  private deliver(entry: ServerEntry, request: SipRequest, flow: Flow, d: Dialog, owner: AppConnection): void {
    const core = this.core;
    const method = request.method;
    if (method === 'INVITE') {
      if (d.pendingOutgoingInvite !== undefined) {
        core.respond(entry, 491);
        return;
      }
      if (d.pendingIncomingInvite !== undefined) {
        core.respond(entry, 500, { headers: [{ name: 'Retry-After', key: 'retry-after', value: String(Math.floor(Math.random() * 10)) }] });
        return;
      }
      d.pendingIncomingInvite = entry.txnId;
    }
    if (method === 'BYE') {
      // The dialog ends on receipt (spec §2.5); a re-INVITE of ours still pending is forgotten.
      const pending = d.pendingOutgoingInvite !== undefined ? core.state.clientByTxnId.get(d.pendingOutgoingInvite) : undefined;
      if (pending !== undefined) pending.silent = true;
      terminatePeerRequests(core, d);
      core.state.removeDialog(d);
      core.emitCdr('stop', 'network', request, 'normal-release');
    } else {
      entry.dialog = d;
      (d.peerRequests ??= new Set()).add(entry.txnId);
    }
    core.awaitApp(entry, owner);
    const { text, bytes } = this.text(request);
    owner.send(networkSipFrame(text, bytes, flow, entry.txnId, d.id));
    // What waited for the PRACK goes once the app has answered it: the caller sees 200 (PRACK)
    // before 200 (INVITE), and the app's Dialog, made by that 2xx, never meets the PRACK.
    if (method === 'PRACK') entry.afterFinal = () => this.reliable.flush(d);
  }
}
