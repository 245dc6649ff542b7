/**
 * An established drachtio-srf dialog as the engine's SipLeg, and what
 * srf-port.ts and it share: DTMF in INFO bodies, the dialed number of a
 * Request-URI (drachtio-srf's errors are read in srf-errors.ts).
 * Split from srf-port.ts, which keeps the inbound requests and the port.
 */
import Srf from 'drachtio-srf';
import { ChallengeAnswers, NonceCounter } from './digest-auth.js';
import { challengeValues, sipFailureFromServer, sipStatusOf } from './srf-errors.js';
import { ACCEPTED_BODY_TYPES, sdpOfBody, sdpOfUntypedBody, type BodySdp } from './sdp-body.js';
import { sendFinal } from './sendable-status.js';
import { SipFailure, type InfoDigit, type OfferHandler, type SipLeg } from './sip-port.js';

type SrfRequest = Srf.SrfRequest;
type SrfResponse = Srf.SrfResponse;
type SrfDialog = Srf.Dialog;

const MAX_BYE_RETRIES = 3;

/** The user part of a Request-URI (the dialed number). */
export function dialedNumber(uri: string): string | undefined {
  const m = /^(?:sips?|tel):([^@;?]+)/i.exec(uri);
  if (m === null) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return m[1];
  }
}

/** DTMF carried in an INFO body: application/dtmf-relay ("Signal=5\r\nDuration=160") or application/dtmf ("5"). */
export function infoDigit(contentType: string, body: string): InfoDigit | undefined {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/dtmf-relay') {
    const signal = /^\s*signal\s*=\s*([0-9*#A-Da-d]|1[0-5])\s*$/im.exec(body);
    if (signal === null) return undefined;
    const duration = /^\s*duration\s*=\s*([0-9]{1,6})\s*$/im.exec(body);
    const raw = signal[1]!.toUpperCase();
    const digit = raw === '10' ? '*' : raw === '11' ? '#' : /^1[2-5]$/.test(raw) ? 'ABCD'[Number(raw) - 12]! : raw;
    return { digit, durationMs: duration !== null ? Number(duration[1]) : undefined };
  }
  if (type === 'application/dtmf') {
    const d = body.trim().toUpperCase();
    return /^[0-9*#A-D]$/.test(d) ? { digit: d, durationMs: undefined } : undefined;
  }
  return undefined;
}

/** What a call leg of the engine takes inside its dialog (the Allow of a 405 there, RFC 3261 §21.4.6). */
export const LEG_METHODS = 'ACK, BYE, CANCEL, INFO, INVITE, OPTIONS, PRACK, UPDATE';

/** The SDP in a message's body (its SDP part when multipart: sdp-body.ts). */
export function bodySdpOf(msg: { readonly body?: string; has(name: string): boolean; get(name: string): string }): BodySdp {
  return sdpOfBody(msg.has('Content-Type') ? msg.get('Content-Type') : undefined, msg.body);
}

/** drachtio-srf's SipError (not in its typings): the far end's final response to a request it sent. */
const SrfSipError = (Srf as unknown as { readonly SipError: abstract new (...args: never[]) => Error }).SipError;

/**
 * drachtio-srf 5.0.x lets one re-INVITE at a time through a dialog and frees
 * that slot only on a 200: after any other final response (491, 488, 408…)
 * every later `modify()` of the dialog waited forever, and with it the call's
 * hold, resume and codec changes, on both legs of the bridge. The slot is
 * freed here as drachtio-srf does on a 200 (the one cast into its internals).
 */
function freeReinviteSlot(dialog: SrfDialog): void {
  const slot = (dialog as unknown as { _reinvitesInProgress?: { count: number; admitOne: (() => void)[] } })._reinvitesInProgress;
  if (slot === undefined || slot.count <= 0) return;
  slot.count--;
  const next = slot.admitOne.shift();
  if (next !== undefined) setImmediate(next);
}

/** An established dialog, wrapped. */
export class SrfLeg implements SipLeg {
  private hangUpListeners: ((serverReason: string | undefined) => void)[] = [];
  private digitListeners: ((d: InfoDigit) => void)[] = [];
  private offerHandler: OfferHandler | undefined;
  private readonly waitingOffers: { req: SrfRequest; res: SrfResponse }[] = [];
  /** Offers a handler is answering now. */
  private readonly answering = new Set<Promise<void>>();
  /** Set once the leg ended: how (a BYE from the far end, from the SIP server, or ours). */
  private endedHow: { readonly serverReason: string | undefined; readonly byFarEnd?: boolean } | undefined;
  /** Waits for the ACK that must carry an answer: with it, or undefined when the ACK has none. */
  private pendingAck: ((answer: string | undefined) => void) | undefined;
  /** The far end's ACK came (a leg we answered), or we sent it (a leg we called). */
  private acked: boolean;
  private ackWaiters: ((acked: boolean) => void)[] = [];

  constructor(
    private readonly dialog: SrfDialog,
    /** Digest credentials for a far end that challenges our requests in the dialog (a carrier gateway's BYE). */
    private readonly auth?: { readonly username: string; readonly password: string },
    /**
     * The SDP of the callee's last 1xx, for a 2xx without one: after an answer in a reliable 183 (RFC 3262 §5)
     * the offer/answer is complete and the 2xx need not carry it again (RFC 6337 §3.1.1).
     */
    private readonly earlySdp?: string,
    /** Nonce counts of the requests of this dialog so far (the INVITE's included): RFC 7616 §3.4. */
    private readonly nonces: NonceCounter = new NonceCounter(),
  ) {
    // drachtio-srf: a BYE the SIP server sent on its own (ACK timeout, session expiry) has meta.source 'application', and its Reason text is the reason.
    dialog.on('destroy', (msg: unknown, reason?: string) => this.ended(sourceOf(msg) === 'application' ? (reason ?? 'ended by the SIP server') : undefined));
    dialog.on('modify', (req: SrfRequest, res: SrfResponse) => this.offered(req, res));
    dialog.on('update', (req: SrfRequest, res: SrfResponse) => this.offered(req, res));
    dialog.on('info', (req: SrfRequest, res: SrfResponse) => this.info(req, res));
    // drachtio-srf answers these 200 when nobody listens, which tells a phone its transfer was accepted (RFC 3515 §2.4.2)
    // while nothing happens: the engine has no transfer and relays no messages, so they are not allowed in its calls.
    // drachtio-srf's typings list only some of the events its Dialog emits (it emits one per method).
    const on = (dialog as unknown as { on(event: string, l: (req: SrfRequest, res: SrfResponse) => void): void }).on.bind(dialog);
    for (const method of ['refer', 'message', 'publish'] as const) on(method, (_req, res) => res.send(405, 'Method Not Allowed', { headers: { Allow: LEG_METHODS } }));
    // A call leg has no subscription (REFER is refused, nothing is subscribed): a NOTIFY in it matches none (RFC 6665 §4.1.3).
    on('notify', (_req, res) => res.send(481, 'Subscription Does Not Exist', {}));
    // drachtio-srf emits the ACK request (its typings say a response); it carries the answer to our offer in a 2xx.
    this.acked = (dialog as unknown as { type?: string }).type === 'uac';
    dialog.on('ack', (ack: SrfRequest) => {
      this.acked = true;
      for (const w of this.ackWaiters.splice(0)) w(true);
      const waiting = this.pendingAck;
      this.pendingAck = undefined;
      const body = bodySdpOf(ack);
      waiting?.(body.kind === 'sdp' ? body.sdp : undefined);
    });
  }

  get id(): string {
    return (this.dialog as unknown as { id: string }).id;
  }

  get remoteSdp(): string {
    // The SDP part of a multipart body (SIP-I from a gateway), by the Content-Type of the message that set up the dialog.
    const raw = this.dialog.remote.sdp;
    const d = this.dialog as unknown as { type?: string; req?: SrfRequest; res?: SrfResponse };
    const carrier = d.type === 'uac' ? d.res : d.req;
    const body = carrier !== undefined && typeof carrier.has === 'function' ? sdpOfBody(carrier.has('Content-Type') ? carrier.get('Content-Type') : undefined, raw) : undefined;
    const sdp = body?.kind === 'sdp' ? body.sdp : raw;
    return (sdp ?? '').trim() === '' && this.earlySdp !== undefined ? this.earlySdp : sdp;
  }

  get connected(): boolean {
    // drachtio-srf's typings omit the flag.
    return (this.dialog as unknown as { connected?: boolean }).connected !== false && this.endedHow === undefined;
  }

  /**
   * For createUAS with an offer: the caller's ACK, which must carry its answer
   * (RFC 3261 §13.2.2.4, RFC 3264 §4). `acked` false: the leg ended first (a
   * BYE, no ACK within 64·T1, or our own hang-up).
   */
  waitForAck(): Promise<{ readonly acked: boolean; readonly answer: string | undefined }> {
    return new Promise((resolve) => {
      this.pendingAck = (answer) => resolve({ acked: true, answer });
      this.onHangUp(() => resolve({ acked: false, answer: undefined }));
      // Our own hang-up first (the call ended from outside before the ACK) tells no hang-up listener: it settles this too.
      this.ackWaiters.push((acked) => {
        if (!acked) resolve({ acked: false, answer: undefined });
      });
    });
  }

  acknowledged(): Promise<boolean> {
    if (this.acked || this.endedHow?.byFarEnd === true) return Promise.resolve(true);
    if (this.endedHow !== undefined) return Promise.resolve(false);
    return new Promise((resolve) => this.ackWaiters.push(resolve));
  }

  private ended(serverReason: string | undefined): void {
    if (this.endedHow !== undefined) return;
    // The far end's BYE says its phone had the call (drachtio-srf emits an ACK a turn after it reads it, so an
    // ACK and a BYE read together end the leg before the ACK is seen); the SIP server's end (ACK timeout) does not.
    const byFarEnd = serverReason === undefined;
    this.endedHow = { serverReason, byFarEnd };
    for (const w of this.ackWaiters.splice(0)) w(byFarEnd);
    for (const w of this.waitingOffers.splice(0)) w.res.send(481);
    const listeners = this.hangUpListeners.splice(0);
    for (const l of listeners) l(serverReason);
  }

  onHangUp(listener: (serverReason: string | undefined) => void): void {
    if (this.endedHow !== undefined || !this.connected) {
      const serverReason = this.endedHow?.serverReason;
      queueMicrotask(() => listener(serverReason));
      return;
    }
    this.hangUpListeners.push(listener);
  }

  onDigit(listener: (digit: InfoDigit) => void): void {
    this.digitListeners.push(listener);
  }

  onOffer(handler: OfferHandler): void {
    this.offerHandler = handler;
    for (const w of this.waitingOffers.splice(0)) this.offered(w.req, w.res);
  }

  async holdOffers(): Promise<void> {
    this.offerHandler = undefined;
    await Promise.all([...this.answering]);
  }

  private offered(req: SrfRequest, res: SrfResponse): void {
    const handler = this.offerHandler;
    if (handler === undefined) {
      this.waitingOffers.push({ req, res });
      return;
    }
    const method = req.method === 'UPDATE' ? 'UPDATE' : 'INVITE';
    const body = bodySdpOf(req);
    if (body.kind === 'unreadable') {
      // RFC 3261 §8.2.3, §21.4.13: a body we cannot read is refused with what we can.
      res.send(415, { headers: { Accept: ACCEPTED_BODY_TYPES } });
      return;
    }
    const sdp = body.kind === 'sdp' ? body.sdp : undefined;
    if (method === 'UPDATE' && sdp === undefined) {
      // A session refresh by UPDATE (RFC 4028 §10): nothing to negotiate.
      res.send(200);
      return;
    }
    const answered = handler({ method, sdp }).then(
      (answer) => {
        const onAck = answer.onAck;
        if (sdp === undefined && onAck !== undefined) {
          this.pendingAck = (a) => {
            if (a !== undefined) onAck(a);
          };
        }
        // drachtio-srf answers later refreshes with local.sdp: keep it what we last sent.
        this.dialog.local.sdp = answer.sdp;
        res.send(200, { body: answer.sdp, headers: { 'Content-Type': 'application/sdp' } });
      },
      (err: unknown) => {
        const status = err instanceof SipFailure ? err.status : (sipStatusOf(err) ?? 500);
        const code = status >= 400 && status < 700 ? status : 500;
        // A status that cannot be passed on (the other party's 3xx) becomes a 500 that says so, not a 500 with its phrase.
        const reason = !(err instanceof SipFailure) ? undefined : code === status ? err.reason : `Server Internal Error (the other party answered ${status} ${err.reason})`;
        sendFinal(res, code, reason, err instanceof SipFailure ? err.headers : {});
      },
    );
    const settled: Promise<void> = answered.then(
      () => void this.answering.delete(settled),
      () => void this.answering.delete(settled),
    );
    this.answering.add(settled);
  }

  private info(req: SrfRequest, res: SrfResponse): void {
    const type = req.has('Content-Type') ? req.get('Content-Type') : '';
    const digit = infoDigit(type, req.body ?? '');
    if (digit === undefined && req.has('Info-Package')) {
      res.send(469, 'Bad Info Package', {});
      return;
    }
    res.send(200);
    if (digit !== undefined) for (const l of this.digitListeners) l(digit);
  }

  /**
   * Offers `sdp` to the far end (re-INVITE). drachtio-srf's `modify()` never settles once the dialog
   * is gone (a BYE crossed it, even when the far end then answers 481): the wait ends with the leg,
   * as a 487, so that a bridge re-offering to a party that hung up goes on to end the call.
   */
  async reoffer(sdp: string): Promise<string> {
    if (this.endedHow !== undefined) throw legGone();
    let onEnd: (() => void) | undefined;
    const gone = new Promise<never>((_resolve, reject) => {
      onEnd = () => reject(legGone());
      this.hangUpListeners.push(onEnd);
    });
    const modifying = this.dialog.modify(sdp);
    // Whatever it does after the leg ended, nobody waits for it any more.
    modifying.catch(() => undefined);
    try {
      // drachtio-srf gives the answer's body without its Content-Type: a multipart one (SIP-I) is recognised by its first line.
      const answer = sdpOfUntypedBody(await Promise.race([modifying, gone]));
      this.dialog.local.sdp = sdp;
      return answer;
    } catch (err) {
      if (err instanceof SipFailure) throw err;
      if (err instanceof SrfSipError) freeReinviteSlot(this.dialog);
      throw sipFailureFromServer(err);
    } finally {
      const i = this.hangUpListeners.indexOf(onEnd!);
      if (i >= 0) this.hangUpListeners.splice(i, 1);
    }
  }

  async sendDigit(d: InfoDigit): Promise<void> {
    if (!this.connected) return;
    const body = `Signal=${d.digit}\r\nDuration=${d.durationMs ?? 160}\r\n`;
    try {
      // drachtio-srf's typings want a whole SrfRequest for the options; it reads method, headers and body.
      await this.dialog.request({ method: 'INFO', headers: { 'Content-Type': 'application/dtmf-relay' }, body } as unknown as SrfRequest);
    } catch {
      // refused or unanswered: the key is lost, the call goes on
    }
  }

  async probe(): Promise<number | undefined> {
    if (!this.connected) return undefined;
    try {
      // drachtio-srf's typings want a whole SrfRequest for the options; it reads method and headers.
      const res = await this.dialog.request({ method: 'OPTIONS', headers: {} } as unknown as SrfRequest);
      return res.status;
    } catch (err) {
      return sipStatusOf(err);
    }
  }

  async hangUp(reason?: string, q850Cause = 16): Promise<void> {
    if (!this.connected) return;
    this.endedHow ??= { serverReason: undefined };
    for (const w of this.ackWaiters.splice(0)) w(false);
    const headers = reason !== undefined ? { Reason: `Q.850;cause=${q850Cause};text="${reason.replace(/["\\\r\n]/g, '')}"` } : undefined;
    if (this.auth === undefined) {
      await new Promise<void>((resolve) => {
        this.dialog.destroy(headers !== undefined ? { headers } : undefined, () => resolve());
      });
    } else await this.byeAnsweringChallenges(headers ?? {}, this.auth);
    for (const w of this.waitingOffers.splice(0)) w.res.send(481);
    this.hangUpListeners = [];
  }

  /**
   * BYE, sent again with digest credentials when the far end challenges it (RFC 3261 §22.2; the
   * SIP server keeps the dialog after a 401/407 to a BYE for that). drachtio-srf's destroy() hides
   * the response, and its own digest client knows MD5 only: the BYE goes as an in-dialog request
   * here, and the dialog is then let go as destroy() would.
   */
  private async byeAnsweringChallenges(headers: Readonly<Record<string, string>>, auth: { readonly username: string; readonly password: string }): Promise<void> {
    const answers = new ChallengeAnswers(auth, this.nonces);
    let credentials: Readonly<Record<string, string>> = {};
    try {
      for (let attempt = 0; attempt <= MAX_BYE_RETRIES; attempt++) {
        // drachtio-srf's typings want a whole SrfRequest for the options; it reads method and headers.
        const res = await this.dialog.request({ method: 'BYE', headers: { ...headers, ...credentials } } as unknown as SrfRequest);
        const uri = (res as SrfResponse & { req?: SrfRequest }).req?.uri;
        const next = uri !== undefined ? answers.answer(res.status, challengeValues(res), 'BYE', uri) : undefined;
        if (next === undefined) break;
        credentials = next;
      }
    } catch {
      // The dialog is gone at the SIP server (ended meanwhile): nothing more to send.
    } finally {
      // What destroy() does once its BYE is answered (the BYE's response already took it out of drachtio-srf's table).
      (this.dialog as unknown as { connected: boolean }).connected = false;
      this.dialog.removeAllListeners();
    }
  }
}

/** drachtio-srf's `meta.source` of a received message ('network' or 'application'); its typings omit meta. */
function sourceOf(msg: unknown): string | undefined {
  const meta = typeof msg === 'object' && msg !== null ? (msg as { meta?: { source?: unknown } }).meta : undefined;
  return typeof meta?.source === 'string' ? meta.source : undefined;
}

/** A re-offer whose leg ended before it was answered (RFC 3261 §15.1.2: what is pending ends with the dialog). */
function legGone(): SipFailure {
  return new SipFailure(487, 'Request Terminated (the leg ended)');
}
