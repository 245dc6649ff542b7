/**
 * RFC 3262 §3, the UAS side of reliable provisional responses, for the
 * app's 1xx to an INVITE:
 * - reliable when the app's 1xx says `Require: 100rel` and the INVITE allows
 *   it (Supported or Require 100rel), and always when the INVITE requires it;
 *   an app asking for reliability the caller did not offer gets an ordinary
 *   1xx (its `Require: 100rel` removed) rather than a request the caller
 *   cannot honour;
 * - RSeq starts at a random value and goes up by one per reliable 1xx;
 * - over UDP it is re-sent at T1, doubling up to T2, until the PRACK; after
 *   64·T1 without one the INVITE is rejected with 500 and the app told as if
 *   the caller had cancelled (drachtio-srf emits `cancel`);
 * - one reliable 1xx at a time: the next waits for the PRACK (§3), and so
 *   does a 2xx. §3 requires that only after a 1xx with SDP and allows it
 *   always; we always wait because drachtio-srf turns the call into a Dialog
 *   at the 2xx, and a Dialog answers a PRACK arriving after it with 501;
 * - a PRACK whose RAck matches nothing unacknowledged gets 481; a matching
 *   one is passed to the app (drachtio-srf answers it 200), or answered 200
 *   here when the INVITE has its final response already.
 */
import { headerKey } from '../message/header-names.js';
import type { MessageInfo } from '../message/parser.js';
import { serialize, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import type { Destination } from '../transport/types.js';
import type { CoreBase } from './core-base.js';
import type { Dialog, ServerEntry, UnackedProvisional } from './core-state.js';
import { networkSipFrame } from './frames.js';
import { buildCancel } from './message-builder.js';
import { hasOptionTag } from './session-expires.js';

/** The option tag of RFC 3262. */
const TAG = '100rel';

export class ReliableProvisionals {
  constructor(private readonly core: CoreBase) {}

  /**
   * Whether the app's 1xx goes reliably. Removes `100rel` from the app's
   * Require when the caller did not offer it (the 1xx then goes unreliably).
   */
  classify(request: SipRequest, fields: HeaderField[]): boolean {
    const callerRequires = hasOptionTag(request.headers, 'require', TAG);
    const callerSupports = callerRequires || hasOptionTag(request.headers, 'supported', TAG);
    const appAsks = fields.some((f) => f.key === 'require' && f.value.split(',').some((t) => t.trim().toLowerCase() === TAG));
    if (appAsks && !callerSupports) {
      for (let i = fields.length - 1; i >= 0; i--) {
        const f = fields[i]!;
        if (f.key !== 'require') continue;
        const rest = f.value.split(',').map((t) => t.trim()).filter((t) => t !== '' && t.toLowerCase() !== TAG);
        if (rest.length === 0) fields.splice(i, 1);
        else fields[i] = { name: f.name, key: f.key, value: rest.join(', ') };
      }
      this.core.logger.info({ callId: request.headers.get('call-id') }, 'app asked for a reliable 1xx the caller does not support: sent unreliably');
    }
    return callerRequires || (appAsks && callerSupports);
  }

  /** The RSeq and Require fields of the next reliable 1xx of a dialog. */
  nextFields(d: Dialog, fields: readonly HeaderField[]): { rseq: number; add: HeaderField[] } {
    // §3: the first RSeq is random in 1..2^31−1; leave room so it never wraps within a call.
    d.reliable ??= { nextRSeq: 1 + Math.floor(Math.random() * 2 ** 30), unacked: undefined, queue: [] };
    const rseq = d.reliable.nextRSeq++;
    const add: HeaderField[] = [{ name: 'RSeq', key: headerKey('rseq'), value: String(rseq) }];
    if (!fields.some((f) => f.key === 'require' && f.value.split(',').some((t) => t.trim().toLowerCase() === TAG))) {
      add.push({ name: 'Require', key: 'require', value: TAG });
    }
    return { rseq, add };
  }

  /** A response must wait for the PRACK: another reliable 1xx, or a 2xx. */
  mustWait(d: Dialog | undefined, reliable: boolean, status: number): boolean {
    if (d?.reliable?.unacked === undefined) return false;
    return reliable || (status >= 200 && status < 300);
  }

  enqueue(d: Dialog, item: { send(): void; abandon(): void }): void {
    d.reliable?.queue.push(item);
  }

  /** A reliable 1xx went out: re-send it until the PRACK, give up at 64·T1. */
  sent(d: Dialog, entry: ServerEntry, rseq: number, bytes: Buffer): void {
    const core = this.core;
    const dest: Destination = entry.tx.responseDest;
    const u: UnackedProvisional = { rseq, cseq: entry.info.cseq, bytes, dest, txnId: entry.txnId, interval: core.ctx.t1, retransmit: undefined, giveUp: undefined };
    d.reliable!.unacked = u;
    const tick = (): void => {
      if (d.reliable?.unacked !== u) return;
      core.send(u.bytes, u.dest);
      u.interval = Math.min(2 * u.interval, core.ctx.t2);
      u.retransmit = core.ctx.timers.schedule(u.interval, tick);
    };
    if (dest.transport === 'udp') u.retransmit = core.ctx.timers.schedule(u.interval, tick);
    u.giveUp = core.ctx.timers.schedule(64 * core.ctx.t1, () => {
      if (d.reliable?.unacked !== u) return;
      this.giveUp(u);
    });
  }

  /** §3: no PRACK within 64·T1: 500 to the INVITE; the app hears a CANCEL so it drops what it set up. */
  private giveUp(u: UnackedProvisional): void {
    const core = this.core;
    const entry = core.state.serverByTxnId.get(u.txnId);
    if (entry === undefined || !entry.awaitingApp) return;
    core.logger.info({ callId: entry.info.callId }, 'no PRACK for a reliable provisional response: 500');
    const owner = entry.owner;
    const cancel = buildCancel(entry.request, [{ name: 'Reason', key: 'reason', value: 'SIP;cause=500;text="no PRACK"' }]);
    const response = core.respond(entry, 500, { reason: 'Server Internal Error (no PRACK)' });
    core.emitCdr('stop', 'application', response, 'call-rejected');
    const text = serialize(cancel);
    owner?.send(networkSipFrame(text.toString('utf8'), text.length, entry.flow, entry.txnId, ''));
  }

  /** A final response went out: its reliable 1xx needs no more retransmissions (the transaction left Proceeding). */
  finalSent(d: Dialog | undefined): void {
    const u = d?.reliable?.unacked;
    if (u === undefined) return;
    u.retransmit?.cancel();
    u.giveUp?.cancel();
  }

  /**
   * A PRACK: when its RAck names the unacknowledged reliable 1xx, that is
   * acknowledged and the txn id of its INVITE returned; undefined otherwise.
   */
  onPrack(d: Dialog, request: SipRequest): string | undefined {
    const r = d.reliable;
    const u = r?.unacked;
    const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(request.headers.get('rack') ?? '');
    if (r === undefined || u === undefined || m === null) return undefined;
    if (Number(m[1]) !== u.rseq || Number(m[2]) !== u.cseq || m[3] !== 'INVITE') return undefined;
    u.retransmit?.cancel();
    u.giveUp?.cancel();
    r.unacked = undefined;
    return u.txnId;
  }

  /** What waited for the PRACK goes now, in order, until the next reliable 1xx waits again. */
  flush(d: Dialog): void {
    const r = d.reliable;
    while (r !== undefined && r.unacked === undefined && r.queue.length > 0) r.queue.shift()!.send();
  }
}

/**
 * RFC 3262 §4, the UAC side: a callee's reliable 1xx is passed to the app
 * once, in RSeq order; a retransmission (RSeq not above the last from that
 * To tag) or one out of order is not passed on again. False: drop it.
 */
export function acceptReliable(d: Dialog, response: SipResponse, info: MessageInfo): boolean {
  const text = response.headers.get('rseq')?.trim();
  if (text === undefined || !hasOptionTag(response.headers, 'require', TAG) || info.toTag === undefined) return true;
  if (!/^\d{1,10}$/.test(text)) return false;
  const rseq = Number(text);
  // Per early dialog (To tag): forks number their reliable 1xx independently.
  const peer = d.early?.get(info.toTag);
  const last = peer !== undefined ? peer.rseq : d.rseqIn?.tag === info.toTag ? d.rseqIn : undefined;
  if (last !== undefined && rseq !== last.rseq + 1) return false;
  d.rseqIn = { rseq, cseq: info.cseq, tag: info.toTag };
  if (peer !== undefined) {
    peer.rseq = { rseq, cseq: info.cseq };
    d.awaitingPrack ??= [];
    d.awaitingPrack.push({ tag: info.toTag, rseq, cseq: info.cseq });
    // Bounded: a peer sending reliable 1xx from ever new To tags cannot grow it (the oldest are PRACKed in their own dialog no more).
    if (d.awaitingPrack.length > MAX_AWAITING_PRACK) d.awaitingPrack.shift();
  }
  return true;
}

const MAX_AWAITING_PRACK = 32;
