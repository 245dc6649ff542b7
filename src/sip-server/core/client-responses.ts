/**
 * Responses to the requests the server sends (client transactions, RFC 3261
 * §17.1): handed to the owning app, UAC dialogs made early by a 1xx with a To
 * tag (§12.1.2) and confirmed by the 2xx, ACK re-sent on a retransmitted 2xx
 * (§13.2.2.4), a 2xx nobody wants any more ACKed and hung up, CANCEL sent
 * once a provisional response came, 100 included (§9.1), and the outcomes the network never
 * sent (Timer B/F 408, transport error 503, CANCEL without answer 487).
 */
import { parseNameAddr } from '../message/name-addr.js';
import type { MessageInfo } from '../message/parser.js';
import { serialize, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import type { Destination, ListenerInfo } from '../transport/types.js';
import type { ClientEvents, CoreBase } from './core-base.js';
import { newDialog, slimRequest, type ClientEntry, type Dialog, type SentAck } from './core-state.js';
import type { LingeringClient } from './lingering.js';
import { detach } from '../message/detach.js';
import { networkSipFrame } from './frames.js';
import { buildResponse } from './message-builder.js';
import { natDestination, RESPONSE_PATH } from './nat-destination.js';
import { acceptReliable } from './reliable-provisionals.js';
import { allows } from './session-expires.js';
import type { SessionTimers } from './session-timers.js';

/** Where an unwanted 2xx's ACK and BYE go when no dialog holds it: the INVITE's listener, destination and URI. */
type AckTarget = { readonly listener: ListenerInfo | undefined; readonly dest: Destination; readonly uri: string };

export class ClientResponses implements ClientEvents {
  constructor(
    private readonly core: CoreBase,
    private readonly timers: SessionTimers,
  ) {}

  /**
   * Sends the CANCEL of a request that had a provisional response. RFC 3261
   * §9.1: an INVITE with no final response 64·T1 after its CANCEL is taken
   * as cancelled and its transaction destroyed (a callee that rang and then
   * vanished would otherwise hold it, and its early dialog, for ever: Timer B
   * no longer runs once a 1xx came). The app gets a 487 made here.
   */
  sendCancel(entry: ClientEntry, cancel: SipRequest): void {
    const core = this.core;
    core.startClientTransaction(cancel, entry.dest, { owner: undefined, dialog: undefined, createsDialog: false, silent: true });
    if (entry.method !== 'INVITE') return;
    core.ctx.timers.schedule(64 * core.ctx.t1, () => {
      if (entry.gotFinal || entry.tx.state === 'terminated' || core.state.clientByKey.get(entry.tx.key) !== entry) return;
      core.logger.info({ callId: entry.request.headers.get('call-id') }, 'no final response 64·T1 after CANCEL: INVITE transaction destroyed, 487 to app');
      this.synthesize(entry, 487);
      entry.tx.terminate();
    });
  }

  onResponse(entry: ClientEntry, response: SipResponse, info: MessageInfo): void {
    const core = this.core;
    const status = response.status;
    const d = entry.dialog;
    if (entry.internal !== undefined) {
      // The server's own request (a session refresh): its outcome stays here.
      if (status < 200) return;
      entry.gotFinal = true;
      entry.internal(status, response, info);
      entry.request = slimRequest(entry.request);
      return;
    }
    if (status === 422 && this.timers.retryInvite(entry, response)) return;
    // RFC 3261 §9.1: a CANCEL may go once any provisional response came, 100 Trying included
    // (a gateway that sends only 100 and then nothing must still be cancellable).
    if (status < 200 && !entry.gotProvisional) entry.gotProvisional = true;
    if (status < 200 && entry.deferredCancel !== undefined) {
      this.sendCancel(entry, entry.deferredCancel);
      entry.deferredCancel = undefined;
    }
    if (status >= 200) entry.gotFinal = true;
    // An early dialog (RFC 3261 §12.1.2): a 1xx with a To tag gives the peer's tag and target,
    // which in-dialog requests before the 2xx (PRACK, UPDATE, INFO) need.
    if (entry.createsDialog && d !== undefined && d.state === 'early' && status > 100 && status < 200 && info.toTag !== undefined) {
      // Each To tag is an early dialog of its own (a forking proxy, RFC 3261 §12.1.2): kept by tag, and the
      // dialog takes the latest one's (for UPDATE/INFO); a PRACK goes in its 1xx's own (outgoing.ts).
      d.preloadedRoute ??= d.routeSet;
      d.early ??= new Map();
      let peer = d.early.get(info.toTag);
      if (peer === undefined) {
        const contact = response.headers.entries('contact')[0];
        const uri = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
        const rr = response.headers.entries('record-route').reverse();
        const routeSet = rr.length > 0 ? rr : d.preloadedRoute;
        const flow = core.currentFlow;
        peer = {
          remoteHeader: detach(response.headers.get('to') ?? d.remoteHeader),
          // Without a Contact (RFC 3261 §12.1.2 wants one): the INVITE's own target, never another fork's.
          remoteTarget: detach(uri ?? entry.request.uri),
          routeSet,
          dest: flow !== undefined ? natDestination(flow, routeSet.length > 0, uri, RESPONSE_PATH) : undefined,
          rseq: undefined,
        };
        // Bounded: a peer answering with ever new To tags cannot grow it (the oldest early dialog goes).
        if (d.early.size >= MAX_EARLY_DIALOGS) d.early.delete(d.early.keys().next().value!);
        d.early.set(info.toTag, peer);
      }
      if (d.remoteTag !== info.toTag) {
        this.core.state.setRemoteTag(d, info.toTag);
        d.remoteHeader = peer.remoteHeader;
        d.remoteTarget = peer.remoteTarget;
        d.routeSet = peer.routeSet;
        d.dest = peer.dest;
      }
    }
    if (entry.createsDialog && d !== undefined && status > 100 && status < 200 && !acceptReliable(d, response, info)) return;

    if (entry.method === 'INVITE' && status >= 200 && status < 300) {
      const target = { listener: entry.dialog?.listener, dest: entry.dest, uri: entry.request.uri };
      if (d === undefined || entry.silent || core.state.dialogs.get(d.id) !== d) {
        // A re-INVITE's 2xx after its dialog ended (by a BYE, ours or the peer's): ACK it, nothing more.
        if (d !== undefined && !entry.createsDialog) this.ackLate(entry, d, info.cseq);
        // A call nobody wants any more (app gone, CANCEL race): ACK and hang up; the app's own dialog, ended by its BYE: ACK.
        else this.endOnce(endedOf(entry), target, response, info, { hangUp: entry.silent || d?.state !== 'confirmed' || info.toTag !== d.remoteTag });
        return;
      }
      if (entry.createsDialog && d.state === 'confirmed') {
        if (info.toTag === d.remoteTag) this.resendAck(d, info.cseq);
        else this.endOnce(endedOf(entry), target, response, info, { credentials: d.ackCredentials }); // a second fork answered (spec §2.6)
        return;
      }
      if (!entry.createsDialog && d.sentAck?.cseq === info.cseq) {
        this.resendAck(d, info.cseq);
        return;
      }
      if (entry.createsDialog && !hasSipContact(response)) {
        // RFC 3261 §8.1.1.8, §12.1.2: a dialog needs the callee's SIP or SIPS URI to send its requests to. Without
        // one the 2xx cannot make a dialog: it is ACKed and BYEd at the INVITE's target, and the app told 502.
        this.endOnce(endedOf(entry), target, response, info, { useContact: false });
        this.synthesize(entry, 502, 'Bad Gateway (a 2xx without a SIP Contact)');
        return;
      }
      this.confirm(entry, d, response, info);
      if (response.headers.has('allow')) d.peerAllowsUpdate = allows(response.headers, 'UPDATE');
      this.timers.answered(d, response);
    } else if (entry.method === 'UPDATE' && d !== undefined && status >= 200 && status < 300 && d.state === 'confirmed') {
      this.timers.answered(d, response);
    } else if (status >= 200) {
      this.onOtherFinal(entry, d, response);
    }
    if (status >= 200) entry.request = slimRequest(entry.request);
    if (entry.silent || entry.owner === undefined) return;
    const flow = core.currentFlow;
    const buf = serialize(response);
    if (flow !== undefined) {
      const dialogId = d !== undefined ? d.id : '';
      entry.owner.send(networkSipFrame(buf.toString('utf8'), buf.length, flow, entry.txnId, dialogId));
    }
  }

  private confirm(entry: ClientEntry, d: Dialog, response: SipResponse, info: MessageInfo): void {
    const core = this.core;
    const contact = response.headers.entries('contact')[0];
    const contactUri = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
    if (contactUri !== undefined) d.remoteTarget = detach(contactUri);
    d.ackCSeq = info.cseq;
    // RFC 3261 §13.2.2.4: the ACK carries the credentials of the INVITE it acknowledges (this one: a re-INVITE's own, or none).
    const creds = entry.request.headers.fields.filter((f) => f.key === 'authorization' || f.key === 'proxy-authorization');
    d.ackCredentials = creds.length > 0 ? creds.map((f) => ({ name: f.name, key: f.key, value: detach(f.value) })) : undefined;
    if (entry.createsDialog) {
      if (info.toTag !== undefined) core.state.setRemoteTag(d, info.toTag);
      d.remoteHeader = detach(response.headers.get('to') ?? d.remoteHeader);
      // RFC 3261 §12.1.2: the 2xx's own Record-Route (none: the INVITE's preloaded route), never an early dialog's.
      const rr = response.headers.entries('record-route').reverse();
      d.preloadedRoute ??= d.routeSet;
      d.routeSet = rr.length > 0 ? rr : d.preloadedRoute;
      // Another fork's reliable 1xx handed to the app before this 2xx may still be PRACKed by the app after it:
      // that PRACK belongs in that fork's early dialog (RFC 3262 §4), never in the answered one; keep those alone.
      const pending = d.awaitingPrack?.filter((e) => e.tag !== info.toTag);
      d.awaitingPrack = pending !== undefined && pending.length > 0 ? pending : undefined;
      if (d.awaitingPrack === undefined) d.early = undefined;
      d.state = 'confirmed';
      const flow = core.currentFlow;
      if (flow !== undefined) d.dest = natDestination(flow, d.routeSet.length > 0, contactUri, RESPONSE_PATH);
      core.emitCdr('start', 'network', response, 'uac');
      if (entry.cancelRequested) d.cancelRace = true;
    } else if (d.pendingOutgoingInvite === entry.txnId) {
      d.pendingOutgoingInvite = undefined;
    }
  }

  private onOtherFinal(entry: ClientEntry, d: Dialog | undefined, response: SipResponse): void {
    const core = this.core;
    const status = response.status;
    if (d === undefined) return;
    if (entry.method === 'INVITE') {
      if (entry.createsDialog) {
        core.state.removeDialog(d);
        if (!entry.silent) core.emitCdr('stop', 'network', response, status === 487 ? 'call-canceled' : 'call-rejected');
      } else if (d.pendingOutgoingInvite === entry.txnId) {
        d.pendingOutgoingInvite = undefined;
      }
    } else if (entry.method === 'BYE' && status !== 401 && status !== 407) {
      core.state.removeDialog(d);
    } else if (entry.method === 'BYE') {
      // RFC 3261 §22.2: a challenged BYE may be sent again with credentials, so its dialog stays. An app
      // that sends nothing more in it within 64·T1 has given up: the dialog goes (our BYE ended it).
      const cseq = d.localCSeq;
      core.ctx.timers.schedule(64 * core.ctx.t1, () => {
        if (d.localCSeq === cseq) core.state.removeDialog(d);
      });
    } else if (entry.method === 'SUBSCRIBE' && entry.createsDialog && status >= 300) {
      core.state.removeDialog(d);
    }
  }

  private resendAck(d: Dialog, cseq: number): void {
    if (d.sentAck !== undefined && d.sentAck.cseq === cseq) this.core.send(d.sentAck.bytes, d.sentAck.dest);
  }

  /**
   * A response to a request whose transaction only waits out its timer
   * (core/lingering.ts). Timer D: a retransmitted final response gets the
   * same ACK again (RFC 3261 §17.1.1.2). Timer M (RFC 6026 §7.2): a 2xx goes
   * to the TU, which re-sends its ACK for a retransmission, and ACKs and
   * ends a 2xx from another fork or one nobody wants any more (once: see
   * endOnce); the app has seen the final response already and is not given
   * it again. Timer K, and anything else: absorbed.
   */
  onLingeringResponse(r: LingeringClient, response: SipResponse, info: MessageInfo): void {
    const status = response.status;
    const a = r.accepted;
    if (a === undefined) {
      if (r.ack !== undefined && status >= 300) this.core.send(r.ack, r.dest);
      return;
    }
    if (status < 200 || status >= 300) return;
    const target = { listener: a.listener, dest: r.dest, uri: a.uri };
    const d = a.dialogId === undefined ? undefined : this.core.state.dialogs.get(a.dialogId);
    if (!a.createsDialog && (d === undefined || a.silent)) {
      // A re-INVITE's 2xx again, its dialog gone: the same ACK again, else one built from the 2xx (its first
      // copy came while the dialog lived); never a BYE, the dialog was ended by one already.
      const late = a.lateAck;
      if (late?.bytes !== undefined && late.dest !== undefined) this.core.send(late.bytes, late.dest);
      else if (late === undefined) this.ackAndHangUp(target, response, info, { hangUp: false });
    } else if (d === undefined || a.silent) this.endOnce(endedOf(a), target, response, info, { hangUp: info.toTag === undefined || info.toTag !== a.confirmedTag });
    else if (!a.createsDialog || info.toTag === d.remoteTag) this.resendAck(d, info.cseq);
    else this.endOnce(endedOf(a), target, response, info, { credentials: d.ackCredentials });
  }

  /**
   * ackAndHangUp once per 2xx, `ended` keeping them by To tag: a retransmission (its ACK was lost) gets
   * the same ACK again (RFC 3261 §13.2.2.4, §17.1.1.2) and no other BYE; the dialog is ended once (§15).
   * `hangUp` false: the dialog it made was the app's, ended by the app's BYE already (only the ACK).
   */
  private endOnce(ended: Map<string, SentAck>, target: AckTarget, response: SipResponse, info: MessageInfo, o: { readonly hangUp?: boolean; readonly useContact?: boolean; readonly credentials?: HeaderField[] | undefined } = {}): void {
    const tag = info.toTag ?? '';
    const sent = ended.get(tag);
    if (sent !== undefined) {
      if (sent.bytes !== undefined && sent.dest !== undefined) this.core.send(sent.bytes, sent.dest);
      return;
    }
    const ack: SentAck = { bytes: undefined, dest: undefined };
    ended.set(tag, ack);
    this.ackAndHangUp(target, response, info, { ...o, sent: ack });
  }

  /**
   * The 2xx to a re-INVITE whose dialog has ended meanwhile (RFC 3261
   * §13.2.2.4: every 2xx is ACKed): the ACK is built on the dialog as it was
   * (route set, target) and kept for the 2xx's retransmissions. No BYE: the
   * dialog already ended with one, and another with its CSeq would be a
   * second, different request under the same number.
   */
  private ackLate(entry: ClientEntry, d: Dialog, cseq: number): void {
    const core = this.core;
    const sent: SentAck = { bytes: undefined, dest: undefined };
    entry.lateAck = sent;
    const ack = core.routing.build(d, 'ACK', { cseq });
    void core.routing.destination(d).then((dest) => {
      if (typeof dest === 'string') return;
      core.routing.setVia(ack, dest);
      sent.bytes = serialize(ack);
      sent.dest = dest;
      core.send(sent.bytes, dest);
    });
  }

  /**
   * ACK a 2xx that no dialog wants, then BYE it (orphaned call, extra fork, race with our BYE);
   * `hangUp` false only ACKs it (a re-INVITE's 2xx whose dialog already ended); `sent` keeps the ACK.
   */
  private ackAndHangUp(target: AckTarget, response: SipResponse, info: MessageInfo, o: { readonly hangUp?: boolean; readonly useContact?: boolean; readonly sent?: SentAck; readonly credentials?: HeaderField[] | undefined } = {}): void {
    const core = this.core;
    const contact = o.useContact !== false ? response.headers.entries('contact')[0] : undefined;
    const listener = target.listener ?? core.transport.listenerFor(target.dest);
    if (listener === undefined) return;
    const temp: Dialog = newDialog({
      id: `${info.callId};from-tag=${info.fromTag ?? ''};to-tag=${info.toTag ?? ''}`,
      role: 'uac',
      callId: info.callId,
      localTag: info.fromTag ?? '',
      remoteTag: info.toTag,
      localHeader: response.headers.get('from') ?? '',
      remoteHeader: response.headers.get('to') ?? '',
      localCSeq: info.cseq,
      remoteCSeq: -1,
      remoteTarget: (contact !== undefined ? parseNameAddr(contact)?.uri : undefined) ?? target.uri,
      routeSet: response.headers.entries('record-route').reverse(),
      listener,
      dest: core.currentFlow !== undefined ? natDestination(core.currentFlow, response.headers.has('record-route'), undefined, RESPONSE_PATH) : undefined,
      owner: undefined,
      state: 'confirmed',
      inviteTxnId: undefined,
    });
    // RFC 3261 §13.2.2.4: the INVITE's credentials, as on the wanted fork's ACK.
    const ack = core.routing.build(temp, 'ACK', { cseq: info.cseq, ...(o.credentials !== undefined ? { headers: o.credentials } : {}) });
    void core.routing.destination(temp).then((dest) => {
      if (typeof dest === 'string') return;
      core.routing.setVia(ack, dest);
      const bytes = serialize(ack);
      if (o.sent !== undefined) Object.assign(o.sent, { bytes, dest });
      core.send(bytes, dest);
      if (o.hangUp === false) return;
      core.state.addDialog(temp);
      core.serverBye(temp, 'call no longer wanted', false);
    });
  }

  onTimeout(entry: ClientEntry): void {
    this.synthesize(entry, 408);
  }

  onTransportError(entry: ClientEntry, error: Error): void {
    this.core.logger.info({ method: entry.method, err: error.message }, 'transport error sending request: 503 to app');
    this.synthesize(entry, 503);
  }

  /** A final response the network never sent (Timer B/F, transport failure), so the app sees an outcome. */
  private synthesize(entry: ClientEntry, status: 408 | 487 | 502 | 503, reason?: string): void {
    entry.gotFinal = true;
    if (entry.internal !== undefined) {
      entry.internal(0, undefined, undefined);
      return;
    }
    const response = buildResponse(entry.request, status, reason !== undefined ? { reason } : {});
    this.onOtherFinal(entry, entry.dialog, response);
    if (entry.silent || entry.owner === undefined) return;
    const buf = serialize(response);
    const flow = { transport: entry.dest.transport, address: entry.dest.address, port: entry.dest.port, listener: entry.dialog?.listener ?? this.core.transport.listeners[0]! };
    entry.owner.send(networkSipFrame(buf.toString('utf8'), buf.length, flow, entry.txnId, entry.dialog?.id ?? ''));
  }
}

/** Early dialogs kept for one INVITE (forks of a proxy; RFC 3261 §16.7 sets no limit, phones per user are few). */
const MAX_EARLY_DIALOGS = 16;

/** The 2xx an INVITE's transaction (or its lingering record) ACKed and ended, made at the first. */
function endedOf(holder: { ended: Map<string, SentAck> | undefined }): Map<string, SentAck> {
  return (holder.ended ??= new Map<string, SentAck>());
}

/** Whether a dialog-creating response names a SIP or SIPS URI in its Contact (RFC 3261 §8.1.1.8). */
function hasSipContact(response: SipResponse): boolean {
  const contact = response.headers.entries('contact')[0];
  const uri = contact !== undefined ? parseNameAddr(contact)?.uri : undefined;
  return uri !== undefined && /^sips?:/i.test(uri);
}
