/**
 * RFC 3261 §15, §15.1.2: a caller may end an early dialog with BYE (after
 * our 1xx with a To tag, before our final response). The BYE gets 200 and
 * the still-pending INVITE 487 Request Terminated, and the app is told as
 * for a CANCEL (the network CANCEL frame with the INVITE's transaction id:
 * drachtio-srf emits `cancel` on the request).
 *
 * Other requests on such an early dialog (RFC 3261 §12.1.1: a 1xx with a To
 * tag makes one) are answered here, never 481, which RFC 5057 §5.1 makes the
 * end of the dialog (a carrier would give up the waiting call): an INFO (RFC
 * 6086: legacy DTMF, say) 200, or 469 for an Info Package; an UPDATE without
 * an offer 200, with one 500 + Retry-After (RFC 3311 §5.2: our answer to the
 * INVITE's offer is not final until the 2xx); a second INVITE 500 +
 * Retry-After (§14.2); OPTIONS 200 with Allow; anything else 403.
 *
 * An ordinary 1xx makes no dialog in our tables (only a reliable one does,
 * RFC 3262), so the initial INVITEs that sent a 1xx with our tag are kept
 * by (Call-ID, our tag, the caller's tag) in CoreState.earlyInvites, from the
 * first such 1xx until the app's part of the INVITE is over (its one removal
 * path, ServerEntry.afterFinal, run by CoreBase.finishServerEntry).
 */
import type { MessageInfo } from '../message/parser.js';
import { serialize, type HeaderField, type SipRequest } from '../message/sip-message.js';
import type { Flow } from '../transport/types.js';
import { allowValue } from './capabilities.js';
import type { CoreBase } from './core-base.js';
import { CoreState, type Dialog, type ServerEntry } from './core-state.js';
import { networkSipFrame } from './frames.js';
import { buildCancel } from './message-builder.js';

/** An initial INVITE's 1xx with our tag went out: a BYE with that tag may now end the early dialog. */
export function noteEarlyInvite(state: CoreState, entry: ServerEntry): void {
  const { info, localTag } = entry;
  if (entry.request.method !== 'INVITE' || info.toTag !== undefined || entry.dialog !== undefined || localTag === undefined || info.fromTag === undefined) return;
  const key = CoreState.tagsKey(info.callId, localTag, info.fromTag);
  if (state.earlyInvites.get(key) === entry) return;
  state.earlyInvites.set(key, entry);
  const before = entry.afterFinal;
  entry.afterFinal = () => {
    if (state.earlyInvites.get(key) === entry) state.earlyInvites.delete(key);
    before?.();
  };
}

/**
 * A BYE from the network on an early UAS dialog whose INVITE still waits for
 * the app: 200 to the BYE, then what a CANCEL does (487 to the INVITE, the
 * app hears a CANCEL); the early dialog, if a reliable 1xx made one, goes
 * with the 487. False when the BYE is not for such a dialog (the INVITE has
 * its final response already: the ordinary in-dialog case).
 */
export function byeOnEarlyDialog(core: CoreBase, request: SipRequest, info: MessageInfo, flow: Flow, key: string): boolean {
  if (info.toTag === undefined || info.fromTag === undefined) return false;
  const invite = core.state.earlyInvites.get(CoreState.tagsKey(info.callId, info.toTag, info.fromTag));
  if (invite === undefined || !invite.awaitingApp) return false;
  core.respond(core.createServerEntry(request, info, flow, key), 200);
  const owner = invite.owner;
  // Built before the 487: a finished transaction keeps only the request's method and URI.
  const reason = request.headers.get('reason');
  const cancel = buildCancel(invite.request, reason !== undefined ? [{ name: 'Reason', key: 'reason', value: reason }] : []);
  if (invite.early !== undefined) terminatePeerRequests(core, invite.early);
  core.respond(invite, 487);
  core.emitCdr('stop', 'network', request, 'call-canceled');
  const text = serialize(cancel);
  owner?.send(networkSipFrame(text.toString('utf8'), text.length, flow, invite.txnId, ''));
  return true;
}

/**
 * A request other than BYE on an early dialog (an ordinary 1xx's, so not in the dialog table) whose
 * INVITE still waits for the app: answered here as the file's comment says. False when it is for no such dialog.
 */
export function requestOnEarlyDialog(core: CoreBase, request: SipRequest, info: MessageInfo, flow: Flow, key: string): boolean {
  if (info.toTag === undefined || info.fromTag === undefined) return false;
  const invite = core.state.earlyInvites.get(CoreState.tagsKey(info.callId, info.toTag, info.fromTag));
  if (invite === undefined || !invite.awaitingApp) return false;
  const entry = core.createServerEntry(request, info, flow, key);
  const retryAfter = (): HeaderField[] => [{ name: 'Retry-After', key: 'retry-after', value: String(Math.floor(Math.random() * 11)) }];
  const offered = request.body.length > 0;
  switch (request.method) {
    case 'INFO':
      if (request.headers.has('info-package')) core.respond(entry, 469, { headers: [{ name: 'Recv-Info', key: 'recv-info', value: '' }] });
      else core.respond(entry, 200);
      return true;
    case 'UPDATE':
      if (offered) core.respond(entry, 500, { reason: 'Server Internal Error (no offer before the call is answered)', headers: retryAfter() });
      else core.respond(entry, 200);
      return true;
    case 'INVITE':
      core.respond(entry, 500, { reason: 'Server Internal Error (the first INVITE is still pending)', headers: retryAfter() });
      return true;
    case 'OPTIONS':
      core.respond(entry, 200, { headers: [{ name: 'Allow', key: 'allow', value: allowValue(core.uas, core.apps) }] });
      return true;
    default:
      core.respond(entry, 403, { reason: 'Forbidden (not before the call is answered)' });
      return true;
  }
}

/**
 * RFC 3261 §15.1.2: a BYE ends the dialog, and the peer's requests in it the
 * app has not answered yet (a re-INVITE, an UPDATE, an INFO, a PRACK) get
 * 487 at once rather than a 500 when the app timeout runs out. The app's
 * late answer to one of them is refused (its transaction is no longer the app's).
 */
export function terminatePeerRequests(core: CoreBase, d: Dialog): void {
  const ids = d.peerRequests;
  if (ids === undefined) return;
  d.peerRequests = undefined;
  for (const txnId of ids) {
    const pending = core.state.serverByTxnId.get(txnId);
    if (pending?.awaitingApp === true && pending.dialog === d) core.respond(pending, 487);
  }
}
