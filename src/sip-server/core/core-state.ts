/**
 * The server's tables (drachtio spec §2.6), all O(1): server and client
 * transactions by network key and by the app's transaction id, dialogs by
 * dialog id and by (Call-ID, local tag, remote tag). Every entry is removed on
 * exactly one path, so the counts return to zero when traffic stops.
 */
import type { MessageInfo } from '../message/parser.js';
import { EMPTY_BODY, SipHeaders, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import type { InviteClientTransaction } from '../transaction/invite-client-transaction.js';
import type { InviteServerTransaction } from '../transaction/invite-server-transaction.js';
import type { NonInviteClientTransaction } from '../transaction/non-invite-client-transaction.js';
import type { NonInviteServerTransaction } from '../transaction/non-invite-server-transaction.js';
import type { TimerHandle } from '../transaction/timer-queue.js';
import type { Destination, Flow, ListenerInfo } from '../transport/types.js';
import { detach } from '../message/detach.js';
import type { AppConnection } from '../control/app-connection.js';

/** A request received from the network and the server transaction answering it. */
export interface ServerEntry {
  readonly txnId: string;
  readonly tx: InviteServerTransaction | NonInviteServerTransaction;
  /** Its entry in CoreState.merged (requests outside a dialog). */
  readonly mergedKey: string | undefined;
  /** The request; only its method and URI once the app's part is over (see slimServerEntry). */
  request: SipRequest;
  /** The request's identifying fields (only the Call-ID, CSeq and tags once the app's part is over). */
  info: MessageInfo;
  readonly flow: Flow;
  /** The app connection it was given to (undefined when the server answers it alone). */
  owner: AppConnection | undefined;
  /** The local tag used in this transaction's responses (chosen at the first response with a tag). */
  localTag: string | undefined;
  /** The dialog the request belongs to (in-dialog requests), or the dialog its 2xx created. */
  dialog: Dialog | undefined;
  /** Still waiting for the app's final response. */
  awaitingApp: boolean;
  appTimer: TimerHandle | undefined;
  /** Counted in CoreState.pendingInvites (an initial INVITE waiting for the app). */
  countedPending: boolean;
  /** UAS: the early dialog a reliable provisional response created (RFC 3262 §3), confirmed by the 2xx. */
  early: Dialog | undefined;
  /** Runs once the app's part is over (a PRACK's answer releases the responses that waited for it). */
  afterFinal: (() => void) | undefined;
  /** When an initial INVITE arrived (performance.now()), until its first response above 100 is timed. */
  receivedAt: number | undefined;
}

/** A request the app asked us to send and the client transaction carrying it. */
export interface ClientEntry {
  readonly txnId: string;
  readonly tx: InviteClientTransaction | NonInviteClientTransaction;
  /** The request as sent; only its method and URI once a final response arrived (see slimRequest). */
  request: SipRequest;
  readonly method: string;
  readonly owner: AppConnection | undefined;
  readonly dialog: Dialog | undefined;
  /** The destination the request was sent to (CANCEL goes the same way). */
  readonly dest: Destination;
  /** The initial INVITE/SUBSCRIBE that creates `dialog` (as opposed to a request inside it). */
  readonly createsDialog: boolean;
  /** The app asked to CANCEL it. */
  cancelRequested: boolean;
  /** A CANCEL waiting for the first provisional response (RFC 3261 §9.1). */
  deferredCancel: SipRequest | undefined;
  /** Any 1xx came, 100 Trying included: a CANCEL may be sent (§9.1). */
  gotProvisional: boolean;
  gotFinal: boolean;
  /** Responses are not forwarded (the app that asked is gone, or the server sent it on its own). */
  silent: boolean;
  /** A request the server sent on its own (a session refresh): its final response goes here, not to an app. */
  internal: ((status: number, response: SipResponse | undefined, info: MessageInfo | undefined) => void) | undefined;
  /** The server put Session-Expires into the app's INVITE, so a 422 is the server's to retry (RFC 4028 §7.4). */
  timerAdded: boolean;
  /** How many times this INVITE was re-sent after a 422. */
  retries422: number;
  /** A re-INVITE whose 2xx came after its dialog ended: the ACK we sent, re-sent for a retransmitted 2xx. */
  lateAck: SentAck | undefined;
  /** An INVITE's 2xx no dialog wanted, by To tag, ACKed and ended with a BYE: the ACK re-sent for a retransmission, no second BYE. */
  ended: Map<string, SentAck> | undefined;
}

/** An ACK for a 2xx, filled in once its destination is known (see client-responses.ts). */
export interface SentAck {
  bytes: Buffer | undefined;
  dest: Destination | undefined;
}

export type DialogRole = 'uas' | 'uac';

export interface Dialog {
  /** `<Call-ID>;from-tag=<tag of the dialog-creating request's From>` (spec §2.6). */
  readonly id: string;
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string | undefined;
  /** Our side's name-addr with our tag (From of our requests). */
  localHeader: string;
  /** The peer's name-addr with its tag (To of our requests). */
  remoteHeader: string;
  localCSeq: number;
  remoteCSeq: number;
  remoteTarget: string;
  routeSet: string[];
  readonly listener: ListenerInfo;
  /** Where in-dialog requests go when not derived from the route set / target (NAT, stream reuse). */
  dest: Destination | undefined;
  owner: AppConnection | undefined;
  state: 'early' | 'confirmed';
  /** txn id of the dialog-creating INVITE (the initial ACK is forwarded with it). */
  inviteTxnId: string | undefined;
  /** UAC: CSeq of the last INVITE that got a 2xx and still needs (or got) the app's ACK. */
  ackCSeq: number | undefined;
  /** UAC: the ACK we sent for the last 2xx, re-sent when that 2xx is retransmitted. */
  sentAck: { readonly bytes: Buffer; readonly dest: Destination; readonly cseq: number; timer: TimerHandle | undefined } | undefined;
  /** UAS: our 2xx to an INVITE, retransmitted until the ACK (RFC 3261 §13.3.1.4). */
  uas2xx: Uas2xx | undefined;
  /** Our re-INVITE in progress (client txn id). */
  pendingOutgoingInvite: string | undefined;
  /** The peer's re-INVITE the app has not answered yet (server txn id). */
  pendingIncomingInvite: string | undefined;
  /** Every request of the peer in this dialog the app has not answered yet (server txn ids; made when first needed). */
  peerRequests: Set<string> | undefined;
  /** The app CANCELled the INVITE but a 2xx won the race: after the app's ACK, we send BYE. */
  cancelRace: boolean;
  /** The app (or we) sent BYE; the dialog goes when its final response arrives. */
  byeSent: boolean;
  /**
   * UAS: the app's BYE that came while our 2xx still waited for its ACK. RFC 3261 §15: the callee
   * MUST NOT send BYE before that ACK (or before the 2xx gives up at 64·T1); it goes then.
   */
  deferredBye: (() => void) | undefined;
  /**
   * UAC: the peer's BYE that came while our 2xx's ACK was still the app's to send (RFC 3261 §13.2.2.4;
   * with a delayed offer that ACK carries the answer). It is handed on once the ACK is sent, or after 8·T1.
   */
  heldPeerBye: (() => void) | undefined;
  /** UAS: highest INVITE CSeq whose ACK was forwarded (duplicate ACKs are not). */
  ackedCSeq: number;
  /** RFC 4028 session timer of this dialog, when one was negotiated. */
  sessionTimer: SessionTimerState | undefined;
  /** The peer listed UPDATE in Allow (RFC 3311), so a refresh can be an UPDATE without SDP. */
  peerAllowsUpdate: boolean;
  /** The last session description we sent (offer or answer), for a refresh re-INVITE. */
  localBody: { readonly body: Buffer; readonly type: string } | undefined;
  /** UAS: reliable provisional responses of the INVITE (RFC 3262 §3). */
  reliable: ReliableState | undefined;
  /** UAC: RSeq of the last reliable provisional accepted from the peer, and its INVITE's CSeq (RFC 3262 §4). */
  rseqIn: { rseq: number; cseq: number; tag: string } | undefined;
  /**
   * UAC: the early dialogs of a forked INVITE by To tag (RFC 3261 §12.1.2, §13.2.2.4): each its own remote
   * header, target, route set and last RSeq (RFC 3262 §4), so a PRACK goes in the dialog of its 1xx.
   */
  early: Map<string, EarlyPeer> | undefined;
  /**
   * UAC: the reliable 1xx handed to the app and not PRACKed yet, in the order they came: the app PRACKs
   * each as it gets it, naming it by RAck only, which two forks numbering from the same RSeq share.
   */
  awaitingPrack: { tag: string; rseq: number; cseq: number }[] | undefined;
  /** UAC: the INVITE's own preloaded route (an outbound proxy), the route set when a response has no Record-Route. */
  preloadedRoute: string[] | undefined;
  /** UAC: the credentials of the INVITE that got the 2xx; its ACK carries them (RFC 3261 §13.2.2.4). */
  ackCredentials: HeaderField[] | undefined;
}

/** One early dialog of a UAC INVITE (one To tag). */
export interface EarlyPeer {
  remoteHeader: string;
  remoteTarget: string;
  routeSet: string[];
  dest: Destination | undefined;
  rseq: { rseq: number; cseq: number } | undefined;
}

/** RFC 4028: the negotiated interval and who refreshes. */
export interface SessionTimerState {
  /** Session interval, seconds. */
  interval: number;
  /** 'local': we send the refreshes; 'remote': the peer does and we watch for them. */
  refresher: 'local' | 'remote';
  /** The smallest interval the peer will take (its Min-SE), so our refreshes never ask for less. */
  minSE: number;
  /** When the session expires without a refresh (clock ms). */
  expiresAt: number;
  /** The refresh (local) or expiry (remote) timer. */
  timer: TimerHandle | undefined;
  /** Our refresh in flight (client txn id). */
  refreshing: string | undefined;
}

/** A reliable provisional response waiting for its PRACK, and what waits behind it. */
export interface ReliableState {
  nextRSeq: number;
  unacked: UnackedProvisional | undefined;
  /** Responses the app sent meanwhile (a further reliable 1xx; a 2xx after one with SDP), sent in order after the PRACK. */
  readonly queue: { send(): void; abandon(): void }[];
}

export interface UnackedProvisional {
  readonly rseq: number;
  readonly cseq: number;
  readonly bytes: Buffer;
  readonly dest: Destination;
  /** The INVITE's server txn id. */
  readonly txnId: string;
  interval: number;
  retransmit: TimerHandle | undefined;
  giveUp: TimerHandle | undefined;
}

/** Cancels every timer a dialog's extensions hold (session timer, reliable provisionals). */
export function cancelExtensionTimers(d: Dialog): void {
  d.sessionTimer?.timer?.cancel();
  d.sessionTimer = undefined;
  const u = d.reliable?.unacked;
  if (u !== undefined) {
    u.retransmit?.cancel();
    u.giveUp?.cancel();
  }
  if (d.reliable !== undefined) {
    d.reliable.unacked = undefined;
    for (const q of d.reliable.queue.splice(0)) q.abandon();
  }
}

/**
 * What a finished transaction still needs of its request: the method and the
 * URI. A transaction lingers for its RFC 3261 wait timers (up to 64·T1) after
 * its final response; dropping the headers and body then keeps the in-flight
 * memory (and the garbage collector's work) proportional to live calls.
 */
export function slimRequest(r: SipRequest): SipRequest {
  return { kind: 'request', method: r.method, uri: detach(r.uri), headers: new SipHeaders(), body: EMPTY_BODY };
}

/**
 * A server transaction whose final response is sent only absorbs
 * retransmissions until its timer ends (Timer J, L or I, RFC 3261 §17.2 and
 * RFC 6026 §7.1): it keeps the request's method and URI and the identifying
 * fields, in storage of their own, and lets go of the received message.
 */
export function slimServerEntry(entry: ServerEntry): void {
  entry.request = slimRequest(entry.request);
  const i = entry.info;
  const v = i.via;
  entry.info = {
    callId: detach(i.callId),
    cseq: i.cseq,
    cseqMethod: i.cseqMethod,
    fromTag: i.fromTag === undefined ? undefined : detach(i.fromTag),
    toTag: i.toTag === undefined ? undefined : detach(i.toTag),
    via: { transport: v.transport, host: detach(v.host), port: v.port, params: NO_PARAMS, branch: v.branch === undefined ? undefined : detach(v.branch) },
    viaCount: i.viaCount,
  };
}

const NO_PARAMS: ReadonlyMap<string, string | null> = new Map();

/** What identifies a dialog and where it goes; everything else starts empty. */
export type DialogBasics = Pick<
  Dialog,
  'id' | 'role' | 'callId' | 'localTag' | 'remoteTag' | 'localHeader' | 'remoteHeader' | 'localCSeq' | 'remoteCSeq' | 'remoteTarget' | 'routeSet' | 'listener' | 'dest' | 'owner' | 'state' | 'inviteTxnId'
>;

export function newDialog(b: DialogBasics): Dialog {
  // Written out (not spread) so every dialog object has the same shape: this runs twice per call.
  // The strings are detached: a dialog lives for the call (and a little after), its messages do not.
  return {
    id: detach(b.id),
    role: b.role,
    callId: detach(b.callId),
    localTag: detach(b.localTag),
    remoteTag: b.remoteTag === undefined ? undefined : detach(b.remoteTag),
    localHeader: detach(b.localHeader),
    remoteHeader: detach(b.remoteHeader),
    localCSeq: b.localCSeq,
    remoteCSeq: b.remoteCSeq,
    remoteTarget: detach(b.remoteTarget),
    routeSet: b.routeSet,
    listener: b.listener,
    dest: b.dest,
    owner: b.owner,
    state: b.state,
    inviteTxnId: b.inviteTxnId,
    ackCSeq: undefined,
    sentAck: undefined,
    uas2xx: undefined,
    pendingOutgoingInvite: undefined,
    pendingIncomingInvite: undefined,
    peerRequests: undefined,
    cancelRace: false,
    byeSent: false,
    deferredBye: undefined,
    heldPeerBye: undefined,
    ackedCSeq: -1,
    sessionTimer: undefined,
    peerAllowsUpdate: false,
    localBody: undefined,
    reliable: undefined,
    rseqIn: undefined,
    early: undefined,
    awaitingPrack: undefined,
    preloadedRoute: undefined,
    ackCredentials: undefined,
  };
}

export interface Uas2xx {
  readonly bytes: Buffer;
  readonly dest: Destination;
  readonly cseq: number;
  readonly txnId: string;
  interval: number;
  retransmit: TimerHandle | undefined;
  giveUp: TimerHandle | undefined;
}

export class CoreState {
  readonly serverByKey = new Map<string, ServerEntry>();
  readonly serverByTxnId = new Map<string, ServerEntry>();
  readonly clientByKey = new Map<string, ClientEntry>();
  readonly clientByTxnId = new Map<string, ClientEntry>();
  readonly dialogs = new Map<string, Dialog>();
  readonly dialogsByTags = new Map<string, Dialog>();
  readonly dialogsByCallId = new Map<string, Dialog>();
  /**
   * Out-of-dialog requests by (Call-ID, From tag, CSeq, method) → their
   * transaction key, to recognise the same request arriving again on another
   * branch after forking (RFC 3261 §8.2.2.2, "merged requests").
   */
  readonly merged = new Map<string, string>();
  /** Initial INVITEs waiting for the app after a 1xx with our tag, by (Call-ID, our tag, caller's tag): see early-dialog.ts. */
  readonly earlyInvites = new Map<string, ServerEntry>();
  pendingInvites = 0;
  /** New INVITEs that have had no response but 100 Trying yet (a backlog signal for overload control). */
  invitesAwaitingFirstResponse = 0;

  static mergedKey(callId: string, fromTag: string | undefined, cseq: number, method: string): string {
    return `${callId}\u0000${fromTag ?? ''}\u0000${cseq}\u0000${method}`;
  }

  static tagsKey(callId: string, localTag: string, remoteTag: string): string {
    return `${callId}\u0000${localTag}\u0000${remoteTag}`;
  }

  addDialog(d: Dialog): void {
    this.dialogs.set(d.id, d);
    // The first dialog of a Call-ID keeps it: another one of the same call (a stray fork's, hung up at once) must not take it over.
    if (!this.dialogsByCallId.has(d.callId)) this.dialogsByCallId.set(d.callId, d);
    if (d.remoteTag !== undefined) this.dialogsByTags.set(CoreState.tagsKey(d.callId, d.localTag, d.remoteTag), d);
    d.owner?.dialogs.add(d.id);
  }

  /** Records the peer's tag once known (UAC dialogs learn it from the response). */
  setRemoteTag(d: Dialog, tag: string): void {
    if (d.remoteTag !== undefined) this.dialogsByTags.delete(CoreState.tagsKey(d.callId, d.localTag, d.remoteTag));
    d.remoteTag = detach(tag);
    this.dialogsByTags.set(CoreState.tagsKey(d.callId, d.localTag, tag), d);
  }

  findDialogByTags(callId: string, localTag: string | undefined, remoteTag: string | undefined): Dialog | undefined {
    if (localTag === undefined || remoteTag === undefined) return undefined;
    return this.dialogsByTags.get(CoreState.tagsKey(callId, localTag, remoteTag));
  }

  removeDialog(d: Dialog): void {
    if (this.dialogs.get(d.id) !== d) return;
    this.dialogs.delete(d.id);
    if (this.dialogsByCallId.get(d.callId) === d) this.dialogsByCallId.delete(d.callId);
    if (d.remoteTag !== undefined) {
      const k = CoreState.tagsKey(d.callId, d.localTag, d.remoteTag);
      if (this.dialogsByTags.get(k) === d) this.dialogsByTags.delete(k);
    }
    d.owner?.dialogs.delete(d.id);
    if (d.uas2xx !== undefined) {
      d.uas2xx.retransmit?.cancel();
      d.uas2xx.giveUp?.cancel();
      d.uas2xx = undefined;
    }
    d.sentAck?.timer?.cancel();
    d.sentAck = undefined;
    // A BYE still waiting for the ACK is answered now that the dialog is gone (the app gets NOK: no dialog).
    const bye = d.deferredBye;
    d.deferredBye = undefined;
    if (bye !== undefined) queueMicrotask(bye);
    // A peer's BYE held for our ACK is answered now (481: the dialog it names has ended).
    const peerBye = d.heldPeerBye;
    if (peerBye !== undefined) queueMicrotask(peerBye);
    cancelExtensionTimers(d);
    // The transactions that end with it may keep the object for up to 64·T1: not its session description.
    d.localBody = undefined;
  }
}
