/**
 * RFC 4028 session timers, per dialog, on both UAS and UAC dialogs (a
 * B2BUA's two legs are two dialogs; when one expires, its BYE and the
 * unsolicited notification reach the app, which hangs up the other leg).
 *
 * - Incoming INVITE/UPDATE with a Session-Expires below our minimum: 422 with
 *   Min-SE (§8.1, §9), before any app sees it.
 * - Our 2xx to an INVITE/UPDATE gets Session-Expires (and Require: timer when
 *   the UAC refreshes) unless the app wrote its own (§9).
 * - The app's INVITE/UPDATE gets Supported: timer, Session-Expires and Min-SE
 *   unless it wrote its own (§7.1); a 422 to its initial INVITE is retried
 *   here with the larger interval (§7.4), invisibly to the app.
 * - The 2xx decides (§7.2, §9): the refresher sends a refresh at half the
 *   interval (§7.4, §10); the other side sends BYE min(32 s, interval/3)
 *   before expiry (§10). Any 2xx to a re-INVITE or UPDATE, from either side,
 *   restarts the interval.
 * - Our refresh is an UPDATE without a body when the peer allows UPDATE
 *   (RFC 3311: nothing to renegotiate, no ACK, no glare with an app's
 *   re-INVITE), else a re-INVITE with the last session description we sent.
 *   408, 481 or no answer ends the dialog (§10); 422 is retried larger; 491
 *   is retried after a random pause (RFC 3261 §14.1).
 */
import { headerKey } from '../message/header-names.js';
import { parseCSeq, serialize, SipHeaders, type HeaderField, type SipRequest, type SipResponse } from '../message/sip-message.js';
import type { CoreBase, SessionTimerConfig } from './core-base.js';
import { slimRequest, type ClientEntry, type Dialog, type SessionTimerState } from './core-state.js';
import { newBranch } from './ids.js';
import { decideAsUas, expiryMarginMs, parseMinSE, parseSessionExpires, uasResponseFields, withSupportedTimer } from './session-expires.js';

/** The timer a 2xx starts: its interval, who refreshes (from our side's view) and the peer's minimum. */
export interface TimerPlan {
  readonly seconds: number;
  readonly refresher: 'local' | 'remote';
  readonly peerMinSE: number;
}

export type TimerRefusal = { readonly status: 422; readonly minSE: number } | { readonly status: 400; readonly reason: string };

const field = (name: string, value: string): HeaderField => ({ name, key: headerKey(name), value });

export class SessionTimers {
  constructor(private readonly core: CoreBase) {}

  private get cfg(): SessionTimerConfig | undefined {
    return this.core.config.sessionTimers;
  }

  get enabled(): boolean {
    return this.cfg !== undefined;
  }

  /** §8.1/§9: a request whose Session-Expires is below our minimum gets 422; an unreadable one 400. */
  check(request: SipRequest): TimerRefusal | undefined {
    const cfg = this.cfg;
    if (cfg === undefined || (request.method !== 'INVITE' && request.method !== 'UPDATE')) return undefined;
    const se = parseSessionExpires(request.headers);
    if (se === 'malformed') return { status: 400, reason: 'Bad Request (malformed Session-Expires)' };
    if (parseMinSE(request.headers) === 'malformed') return { status: 400, reason: 'Bad Request (malformed Min-SE)' };
    if (se !== undefined && se.seconds < cfg.minSeconds) return { status: 422, minSE: cfg.minSeconds };
    return undefined;
  }

  /** UAS: the fields for the app's 2xx to an INVITE or UPDATE, and the timer it starts. */
  answer(request: SipRequest, appFields: readonly HeaderField[], d: Dialog | undefined): { fields: HeaderField[]; plan: TimerPlan | undefined } {
    const cfg = this.cfg;
    if (cfg === undefined) return { fields: [], plan: undefined };
    const own = parseSessionExpires(new SipHeaders(appFields.filter((f) => f.key === 'session-expires')));
    const min = parseMinSE(request.headers);
    const peerMinSE = typeof min === 'number' ? min : (d?.sessionTimer?.minSE ?? 0);
    if (own === 'malformed') return { fields: [], plan: undefined };
    if (own !== undefined) {
      // The app chose: follow it (refresher=uac means the peer refreshes).
      return { fields: [], plan: { seconds: own.seconds, refresher: own.refresher === 'uac' ? 'remote' : 'local', peerMinSE } };
    }
    const current = d?.sessionTimer === undefined ? undefined : d.sessionTimer.refresher === 'remote' ? 'uac' : 'uas';
    const decision = decideAsUas(request.headers, cfg.defaultSeconds, current);
    return { fields: uasResponseFields(decision), plan: { seconds: decision.seconds, refresher: decision.refresher === 'uac' ? 'remote' : 'local', peerMinSE } };
  }

  /** UAC: adds Session-Expires, Min-SE and Supported: timer to the app's INVITE/UPDATE; true when it did. */
  offer(fields: HeaderField[], d: Dialog | undefined): boolean {
    const cfg = this.cfg;
    if (cfg === undefined || fields.some((f) => f.key === 'session-expires')) return false;
    const st = d?.sessionTimer;
    const seconds = st?.interval ?? cfg.defaultSeconds;
    const refresher = st === undefined ? '' : `;refresher=${st.refresher === 'local' ? 'uac' : 'uas'}`;
    fields.push(field('Session-Expires', `${seconds}${refresher}`));
    if (!fields.some((f) => f.key === 'min-se')) fields.push(field('Min-SE', String(Math.max(cfg.minSeconds, st?.minSE ?? 0))));
    withSupportedTimer(fields);
    return true;
  }

  /** UAC: a 2xx to an INVITE or UPDATE we sent (§7.2): its Session-Expires starts the timer; none means no expiry. */
  answered(d: Dialog, response: SipResponse): void {
    if (this.cfg === undefined) return;
    const se = parseSessionExpires(response.headers);
    if (se === undefined || se === 'malformed') {
      this.apply(d, undefined);
      return;
    }
    // §7.2: refresher=uac names us (the UAC of this transaction); a missing one is read the same way.
    this.apply(d, { seconds: se.seconds, refresher: se.refresher === 'uas' ? 'remote' : 'local', peerMinSE: d.sessionTimer?.minSE ?? 0 });
  }

  /** §7.4: the app's INVITE again after a 422, with the interval the 422's Min-SE asks for; undefined when that is no progress. */
  private retryAfter422(request: SipRequest, response: SipResponse): SipRequest | undefined {
    const min = parseMinSE(response.headers);
    const se = parseSessionExpires(request.headers);
    if (typeof min !== 'number' || se === undefined || se === 'malformed' || min <= se.seconds) return undefined;
    const fields: HeaderField[] = [];
    let viaDone = false;
    for (const f of request.headers.fields) {
      if (f.key === 'via' && !viaDone) {
        viaDone = true;
        fields.push({ ...f, value: f.value.replace(/;\s*branch\s*=\s*[^;,\s]+/i, `;branch=${newBranch()}`) });
      } else if (f.key === 'cseq') {
        const n = Number((f.value.trim().split(/\s+/)[0] ?? '0')) + 1;
        fields.push({ ...f, value: `${n} ${request.method}` });
      } else if (f.key === 'session-expires') {
        fields.push({ ...f, value: `${min}${se.refresher !== undefined ? `;refresher=${se.refresher}` : ''}` });
      } else if (f.key === 'min-se') {
        fields.push({ ...f, value: String(min) });
      } else {
        fields.push({ ...f });
      }
    }
    if (!fields.some((f) => f.key === 'min-se')) fields.push(field('Min-SE', String(min)));
    return { kind: 'request', method: request.method, uri: request.uri, headers: new SipHeaders(fields), body: request.body };
  }

  /**
   * §7.4: a 422 to an app's initial INVITE whose Session-Expires we added is
   * sent again (new branch, CSeq+1, same txn id for the app) with the
   * interval asked for; true when it was (the 422 then stays here).
   */
  retryInvite(entry: ClientEntry, response: SipResponse): boolean {
    const core = this.core;
    const d = entry.dialog;
    if (!entry.timerAdded || !entry.createsDialog || entry.cancelRequested || entry.silent || entry.retries422 >= 2) return false;
    if (d === undefined || core.state.dialogs.get(d.id) !== d) return false;
    const next = this.retryAfter422(entry.request, response);
    if (next === undefined) return false;
    entry.silent = true;
    entry.gotFinal = true;
    entry.request = slimRequest(entry.request);
    d.localCSeq = parseCSeq(next.headers.get('cseq') ?? '')?.seq ?? d.localCSeq + 1;
    const retry = core.startClientTransaction(next, entry.dest, { owner: entry.owner, dialog: d, createsDialog: true, silent: false, txnId: entry.txnId });
    retry.timerAdded = true;
    retry.retries422 = entry.retries422 + 1;
    return true;
  }

  /** Starts (or restarts, or with no plan stops) a dialog's timer from now. */
  apply(d: Dialog, plan: TimerPlan | undefined): void {
    d.sessionTimer?.timer?.cancel();
    if (plan === undefined || this.cfg === undefined || this.core.state.dialogs.get(d.id) !== d) {
      d.sessionTimer = undefined;
      return;
    }
    // Never below our minimum, whatever a peer (or an app) wrote: a 2xx with Session-Expires: 0
    // would otherwise make us refresh in a loop (RFC 4028 §7.2 forbids it to the peer anyway).
    const seconds = Math.max(plan.seconds, this.cfg.minSeconds);
    const ms = seconds * 1000;
    const st: SessionTimerState = {
      interval: seconds,
      refresher: plan.refresher,
      minSE: Math.max(plan.peerMinSE, d.sessionTimer?.minSE ?? 0),
      expiresAt: this.core.ctx.timers.now() + ms,
      timer: undefined,
      refreshing: undefined,
    };
    d.sessionTimer = st;
    if (plan.refresher === 'local') st.timer = this.core.ctx.timers.schedule(ms / 2, () => void this.refresh(d, st));
    else this.armExpiry(d, st);
  }

  private armExpiry(d: Dialog, st: SessionTimerState): void {
    st.timer?.cancel();
    const due = st.expiresAt - expiryMarginMs(st.interval) - this.core.ctx.timers.now();
    st.timer = this.core.ctx.timers.schedule(Math.max(0, due), () => {
      if (d.sessionTimer !== st) return;
      this.core.logger.info({ dialog: d.id, interval: st.interval }, 'session not refreshed: ending the dialog');
      this.core.serverBye(d, 'session timer expired', true, 'session-expired');
    });
  }

  /** Sends our refresh (UPDATE without a body where allowed, else re-INVITE with our last SDP). */
  private async refresh(d: Dialog, st: SessionTimerState): Promise<void> {
    const core = this.core;
    if (d.sessionTimer !== st || d.byeSent || d.state !== 'confirmed') return;
    const useInvite = !d.peerAllowsUpdate && d.localBody !== undefined;
    if (useInvite && (d.pendingOutgoingInvite !== undefined || d.pendingIncomingInvite !== undefined)) {
      // An INVITE transaction is in progress (RFC 3261 §14.1): try again shortly, before expiry.
      this.retryLater(d, st, Math.max(core.ctx.t1, (st.expiresAt - core.ctx.timers.now()) / 4));
      return;
    }
    const headers = [
      field('Session-Expires', `${st.interval};refresher=uac`),
      field('Min-SE', String(Math.max(this.cfg?.minSeconds ?? 0, st.minSE))),
      field('Supported', 'timer'),
    ];
    if (useInvite) headers.push(field('Content-Type', d.localBody!.type));
    const method = useInvite ? 'INVITE' : 'UPDATE';
    const request = core.routing.build(d, method, { headers, ...(useInvite ? { body: d.localBody!.body } : {}) });
    const dest = await core.routing.destination(d);
    if (d.sessionTimer !== st || core.state.dialogs.get(d.id) !== d) return;
    if (typeof dest === 'string') {
      core.logger.warn({ dialog: d.id, reason: dest }, 'cannot send session refresh');
      this.armExpiry(d, st);
      return;
    }
    let ack: Buffer | undefined;
    const entry = core.startClientTransaction(request, dest, {
      owner: undefined,
      dialog: d,
      createsDialog: false,
      silent: true,
      internal: (status, response, info) => {
        if (method === 'INVITE' && status >= 200 && status < 300 && info !== undefined) {
          // Our own 2xx: ACK it here, and again for each retransmission (RFC 3261 §13.2.2.4).
          const again = ack !== undefined;
          ack ??= serialize(core.routing.build(d, 'ACK', { cseq: info.cseq }));
          core.send(ack, dest);
          if (again) return;
        }
        if (method === 'INVITE' && d.pendingOutgoingInvite === entry.txnId) d.pendingOutgoingInvite = undefined;
        this.refreshDone(d, st, status, response);
      },
    });
    st.refreshing = entry.txnId;
    if (method === 'INVITE') d.pendingOutgoingInvite = entry.txnId;
  }

  private refreshDone(d: Dialog, st: SessionTimerState, status: number, response: SipResponse | undefined): void {
    const core = this.core;
    if (d.sessionTimer !== st || core.state.dialogs.get(d.id) !== d) return;
    st.refreshing = undefined;
    if (status >= 200 && status < 300 && response !== undefined) {
      this.answered(d, response);
      return;
    }
    if (status === 422 && response !== undefined) {
      const min = parseMinSE(response.headers);
      if (typeof min === 'number' && min > st.interval) {
        st.minSE = Math.max(st.minSE, min);
        st.interval = min;
        void this.refresh(d, st);
        return;
      }
    }
    if (status === 408 || status === 481 || status === 0) {
      // §10: the session is gone at the far end (or unreachable).
      core.logger.info({ dialog: d.id, status }, 'session refresh failed: ending the dialog');
      core.serverBye(d, 'session refresh failed', true, 'session-expired');
      return;
    }
    if (status === 491) {
      this.retryLater(d, st, Math.random() * Math.min(2000, (st.expiresAt - core.ctx.timers.now()) / 4));
      return;
    }
    // Any other refusal: the session still lasts until it expires, and then ends.
    this.armExpiry(d, st);
  }

  private retryLater(d: Dialog, st: SessionTimerState, delayMs: number): void {
    const now = this.core.ctx.timers.now();
    if (now + delayMs >= st.expiresAt - expiryMarginMs(st.interval)) {
      this.armExpiry(d, st);
      return;
    }
    st.timer?.cancel();
    st.timer = this.core.ctx.timers.schedule(Math.max(0, delayMs), () => void this.refresh(d, st));
  }
}

