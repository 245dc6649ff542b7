/**
 * The SipPort over drachtio-srf: the one place that knows drachtio-srf's
 * objects (SrfRequest, SrfResponse, Dialog) and the parts its typings get
 * wrong or omit. Every cast on them is in this file and srf-leg.ts (the
 * established dialog).
 *
 * Legs attach their listeners the moment drachtio-srf hands over a dialog
 * (the callback forms of createUAS/createUAC run in the same turn as the
 * message), so a BYE or re-INVITE arriving in the same read as the answer is
 * never handled by drachtio-srf's defaults; offers that arrive before the
 * owner registered a handler wait for it.
 */
import type Srf from 'drachtio-srf';
import { ChallengeAnswers, NonceCounter } from './digest-auth.js';
import { headerLines, valuesOf, type HeaderLine } from './header-lines.js';
import { ACCEPTED_BODY_TYPES, sdpOfUntypedBody } from './sdp-body.js';
import { sendFinal } from './sendable-status.js';
import { challengeOf, challengeValues, reasonHeaderOf, reasonOf, sipFailureFromServer, sipStatusOf } from './srf-errors.js';
import { bodySdpOf, LEG_METHODS, SrfLeg } from './srf-leg.js';
import {
  DialGivenUp,
  SipFailure,
  type AnsweredWithOffer,
  type DialOptions,
  type DialResult,
  type Headers,
  type InboundInvite,
  type InboundRequest,
  type SignalingSource,
  type SipLeg,
  type SipPort,
} from './sip-port.js';

type SrfRequest = Srf.SrfRequest;
type SrfResponse = Srf.SrfResponse;
type SrfDialog = Srf.Dialog;

/** The message's header lines as the SIP server sent it (drachtio-srf keeps it as `raw`); parsed once, when first asked. */
function linesOf(req: SrfRequest): HeaderLine[] {
  const raw = req.raw as string | undefined;
  return typeof raw === 'string' ? headerLines(raw) : [];
}

/**
 * The verified TLS identities of a request's connection, as the embedded SIP server writes them (it
 * removes any a sender wrote: src/sip-server/core/tls-identity-header.ts). The engine reaches the
 * server only through the drachtio protocol, so the name is the protocol's, written here again;
 * test/engine/trunk-tls-identity.test.ts fails if the two differ.
 */
const TLS_IDENTITY_HEADER = 'X-Switchboard-TLS-Identity';

function sourceOf(req: SrfRequest): SignalingSource {
  const source = { address: req.source_address, port: Number(req.source_port), transport: String(req.protocol ?? 'udp').toLowerCase() };
  if (source.transport !== 'tls') return source;
  // From the header lines as sent, not drachtio-srf's parse (which unescapes names, `X%2dSwitchboard-…`):
  // exactly one line, the one the server wrote.
  const values = valuesOf(linesOf(req), TLS_IDENTITY_HEADER);
  if (values.length !== 1) return source;
  return { ...source, tlsIdentities: values[0]!.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '') };
}

/** A REGISTER (or another request answered with one final response); the base of an INVITE. */
class SrfInboundRequest implements InboundRequest {
  readonly method: string;
  readonly uri: string;
  readonly callId: string;
  readonly source: SignalingSource;
  private lines: HeaderLine[] | undefined;

  constructor(
    protected readonly req: SrfRequest,
    protected readonly res: SrfResponse,
  ) {
    this.method = req.method;
    this.uri = req.uri;
    this.callId = req.get('Call-ID');
    this.source = sourceOf(req);
  }

  headerLines(name: string): readonly string[] {
    this.lines ??= linesOf(this.req);
    return valuesOf(this.lines, name);
  }

  respond(status: number, reason: string, headers: Readonly<Record<string, string | readonly string[]>> = {}): void {
    if (this.res.finalResponseSent) return;
    sendFinal(this.res, status, reason, headers);
  }
}

function optionTags(req: SrfRequest, header: string): string[] {
  return req.has(header) ? req.get(header).split(',').map((t) => t.trim().toLowerCase()) : [];
}

/** A new INVITE from the network. */
export class SrfInboundInvite extends SrfInboundRequest implements InboundInvite {
  readonly offer: string | undefined;
  readonly contentRefusal: SipFailure | undefined;
  readonly maxForwards: number;
  readonly reliableProvisionals: boolean;
  /** The caller requires 100rel: every 18x goes reliably, and drachtio-srf must expect the PRACK. */
  readonly reliableRequired: boolean;
  private ringing = false;
  private readonly cancelController = new AbortController();
  /** Sends the last provisional again while the caller waits unanswered. */
  private refresh: NodeJS.Timeout | undefined;

  constructor(
    private readonly srf: Srf,
    req: SrfRequest,
    res: SrfResponse,
    private readonly refreshMs = 0,
  ) {
    super(req, res);
    // The SDP, or the SDP part of a multipart body (SIP-I/SIP-T from a carrier: sdp-body.ts).
    const body = bodySdpOf(req);
    this.offer = body.kind === 'sdp' ? body.sdp : undefined;
    this.contentRefusal = body.kind === 'unreadable' ? new SipFailure(415, `Unsupported Media Type (${body.reason})`, { Accept: ACCEPTED_BODY_TYPES }) : undefined;
    const mf = req.has('Max-Forwards') ? Number(req.get('Max-Forwards')) : 70;
    this.maxForwards = Number.isFinite(mf) ? mf : 70;
    this.reliableRequired = optionTags(req, 'Require').includes('100rel');
    this.reliableProvisionals = this.reliableRequired || optionTags(req, 'Supported').includes('100rel');
    // Why the caller cancelled (a Reason, RFC 3326) goes on to the agents' CANCELs (DialGivenUp.fromCancel).
    req.on('cancel', (cancel: Srf.SipMessage | undefined) => {
      this.stopRefresh();
      this.cancelController.abort(DialGivenUp.fromCancel(cancel?.has('Reason') === true ? cancel.get('Reason') : undefined));
    });
    // An UPDATE in the caller's early dialog (RFC 3311 §5.1; drachtio-srf emits it on the INVITE, its typings
    // do not say): a refresh gets 200; an offer waits for the answer (RFC 3311 §5.2's 500 + Retry-After).
    (req as unknown as { on(event: 'update', l: (update: SrfRequest, res: SrfResponse) => void): void }).on('update', (update, res) => {
      if (bodySdpOf(update).kind === 'none') res.send(200);
      else sendFinal(res, 500, 'Server Internal Error (media changes are taken once the call is answered)', { 'Retry-After': '5' });
    });
  }

  get cancelled(): AbortSignal {
    return this.cancelController.signal;
  }

  get finalResponseSent(): boolean {
    return this.res.finalResponseSent;
  }

  header(name: string): string | undefined {
    return this.req.has(name) ? this.req.get(name) : undefined;
  }

  reject(status: number, reason: string, headers: Readonly<Record<string, string | readonly string[]>> = {}): void {
    this.stopRefresh();
    this.respond(status, reason, headers);
  }

  progress(status: 180 | 183, options: { sdp?: string; headers?: Headers; reliable?: boolean } = {}): void {
    if (this.res.finalResponseSent || this.cancelled.aborted) return;
    // A second 180 without SDP tells the caller nothing new (and, reliable, would need a PRACK of its own).
    if (status === 180 && options.sdp === undefined && this.ringing) return;
    if (status === 180) this.ringing = true;
    // With Require: 100rel on our 18x the SIP server sends it reliably and drachtio-srf answers the PRACK.
    const reliable = this.reliableRequired || (options.reliable === true && this.reliableProvisionals) ? { Require: '100rel' } : {};
    const send = (): void => this.res.send(status, { ...(options.sdp !== undefined ? { body: options.sdp } : {}), headers: { ...options.headers, ...reliable } });
    send();
    this.keepRinging(send);
  }

  /**
   * RFC 3261 §13.3.1.1: a UAS that takes long to answer sends a provisional
   * every minute, or proxies give up the INVITE (Timer C); the same one again
   * (the same early media, a fresh RSeq when reliable) changes nothing else.
   */
  private keepRinging(send: () => void): void {
    this.stopRefresh();
    if (this.refreshMs <= 0) return;
    const tick = (): void => {
      if (this.res.finalResponseSent || this.cancelled.aborted) return;
      send();
      this.refresh = setTimeout(tick, this.refreshMs).unref();
    };
    this.refresh = setTimeout(tick, this.refreshMs).unref();
  }

  private stopRefresh(): void {
    clearTimeout(this.refresh);
    this.refresh = undefined;
  }

  private createUas(sdp: string, headers: Headers | undefined): Promise<SrfLeg> {
    this.stopRefresh();
    return new Promise((resolve, reject) => {
      this.srf.createUAS(this.req, this.res, { localSdp: sdp, headers: { ...headers } }, (err: unknown, dialog: SrfDialog) => {
        if (err === null || err === undefined) return resolve(new SrfLeg(dialog));
        const failure = sipFailureFromServer(err);
        // A CANCEL crossed our 2xx: the call ends as the caller cancelling it, not as an error of ours.
        if (failure.status === 487) this.cancelController.abort();
        reject(failure);
      });
    });
  }

  answer(sdp: string, headers?: Headers): Promise<SipLeg> {
    return this.createUas(sdp, headers);
  }

  async answerWithOffer(offer: string, headers?: Headers): Promise<AnsweredWithOffer> {
    const leg = await this.createUas(offer, headers);
    return { leg, ...(await leg.waitForAck()) };
  }
}

/** What createUAC resolves with when `noAck` is set and the 200 carries the callee's offer. */
interface UnackedUac {
  readonly sdp: string;
  ack(localSdp: string): Promise<SrfDialog>;
  destroy(): Promise<void>;
}

function isUnackedUac(value: unknown): value is UnackedUac {
  return typeof value === 'object' && value !== null && typeof (value as { ack?: unknown }).ack === 'function' && typeof (value as { sdp?: unknown }).sdp === 'string';
}

/**
 * Attempts per dial: the first, one per challenger (an outbound proxy's 407 and the gateway's 401,
 * RFC 3261 §22.3: credentials for each realm are kept on the requests that follow), and one more
 * for a stale nonce (RFC 7616 §3.3).
 */
const MAX_AUTH_ATTEMPTS = 4;

export interface SrfSipPortOptions {
  /** How often a caller left unanswered gets its last provisional response again (RFC 3261 §13.3.1.1); 0: never. */
  readonly provisionalRefreshMs: number;
}

export class SrfSipPort implements SipPort {
  constructor(
    private readonly srf: Srf,
    private readonly options: SrfSipPortOptions = { provisionalRefreshMs: 0 },
  ) {}

  /** Wraps an inbound INVITE (the engine's srf.invite handler calls this). */
  inbound(req: SrfRequest, res: SrfResponse): InboundInvite {
    return new SrfInboundInvite(this.srf, req, res, this.options.provisionalRefreshMs);
  }

  /** Wraps a REGISTER (the engine's register handler calls this). */
  request(req: SrfRequest, res: SrfResponse): InboundRequest {
    return new SrfInboundRequest(req, res);
  }

  ping(target: string, timeoutMs: number, route?: readonly string[], proxy?: string): Promise<number | undefined> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (status: number | undefined): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(status);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      // drachtio-srf's typings want a whole SrfRequest for the options; it reads method and headers.
      // drachtio-srf's typings misstate srf.request; it takes (uri, { method, headers }, callback).
      const request = this.srf.request.bind(this.srf) as unknown as (uri: string, opts: { method: string; headers: Record<string, string>; proxy?: string }, cb: (err: unknown, req: SrfRequest) => void) => void;
      request(target, { method: 'OPTIONS', headers: { 'Max-Forwards': '70', 'Contact': '<sip:localhost>', ...routeHeader(route) }, ...(proxy !== undefined ? { proxy } : {}) }, (err, req) => {
        if (err !== null && err !== undefined) {
          finish(undefined);
          return;
        }
        req.on('response', (res?: SrfResponse) => {
          // The SIP server's own 408 (Timer F) means nobody answered; so does its 503 for a request it could not
          // send (RFC 3261 §8.1.3.1: a TCP/TLS connection gone and a new one refused). Neither came from the
          // device, which tags the To of its every response (§8.2.6.2): a dead phone is not "alive" for it.
          if (res !== undefined && res.status >= 200) finish(res.status === 408 || (res.status === 503 && toTagOf(res.get('To')) === '') ? undefined : res.status);
        });
      });
    });
  }

  async dial(o: DialOptions): Promise<DialResult> {
    let headers = o.headers;
    let result: DialResult & { challenge?: { res: SrfResponse; req: SrfRequest } } = { kind: 'failed', status: 500, reason: 'not attempted' };
    const nonces = new NonceCounter();
    const answers = o.auth !== undefined ? new ChallengeAnswers(o.auth, nonces) : undefined;
    for (let attempt = 1; attempt <= MAX_AUTH_ATTEMPTS; attempt++) {
      result = await this.dialOnce({ ...o, ...(headers !== undefined ? { headers } : {}) }, nonces);
      const ch = result.kind === 'failed' ? result.challenge : undefined;
      if (ch === undefined || answers === undefined || o.signal.aborted) break;
      // The retry carries the same body (qop=auth-int hashes it).
      const credentials = answers.answer(ch.res.status, challengeValues(ch.res), 'INVITE', ch.req.uri, ch.req.body ?? '');
      if (credentials === undefined) break;
      const cseq = Number(/^\s*(\d+)/.exec(ch.req.get('CSeq'))?.[1] ?? '1');
      // The retry is the same request with credentials: same Call-ID and From tag, CSeq one higher (RFC 3261 §22.2),
      // keeping the credentials already given to another challenger.
      headers = { ...headers, 'From': ch.req.get('From'), 'Call-ID': ch.req.get('Call-ID'), 'CSeq': `${cseq + 1} INVITE`, ...credentials };
    }
    if (result.kind === 'failed' && result.challenge !== undefined) return { kind: 'failed', status: result.status, reason: result.reason, ...reasonHeaderOf(result.challenge.res) };
    return result;
  }

  private async dialOnce(o: DialOptions, nonces: NonceCounter): Promise<DialResult & { challenge?: { res: SrfResponse; req: SrfRequest } }> {
    if (o.signal.aborted) return { kind: 'failed', status: 487, reason: 'Request Terminated' };
    let sent: SrfRequest | undefined;
    const cancel = (): void => {
      const why: unknown = o.signal.reason;
      // drachtio-srf's Request#cancel(opts, callback) puts opts.headers on the CANCEL; its typings know the callback only.
      const request = sent as unknown as { cancel(opts: { headers?: Record<string, string> }, done: () => void): void } | undefined;
      request?.cancel(why instanceof DialGivenUp ? { headers: { Reason: why.reasonHeader } } : {}, () => undefined);
    };
    o.signal.addEventListener('abort', cancel, { once: true });
    // A bare Contact: drachtio-srf would copy the caller's display name into it, which trips simple UAs (SIPp's [next_url]).
    // Allow: what the leg takes in its dialog (RFC 3261 §13.2.1: SHOULD), so the callee knows it may send UPDATE or INFO.
    const headers: Record<string, string> = { Contact: '<sip:localhost>', Allow: LEG_METHODS, ...o.headers, ...routeHeader(o.route) };
    const identity = o.caller !== undefined && !o.caller.withheld && o.caller.number !== undefined ? { callingNumber: o.caller.number, ...(o.caller.name !== undefined ? { callingName: o.caller.name } : {}) } : {};
    // RFC 3323 §4.1.1.3: a withheld caller is the anonymous URI, not our address (the SIP server adds the tag).
    if (o.caller?.withheld === true && !Object.keys(headers).some((h) => h.toLowerCase() === 'from')) headers.From = ANONYMOUS_FROM;
    const options = {
      ...(o.offer === undefined ? { noAck: true } : { localSdp: o.offer }),
      headers,
      ...identity,
      ...(o.proxy !== undefined ? { proxy: o.proxy } : {}),
    };
    // The SDP of each early dialog's last 1xx that had one, by To tag (a forking proxy: one per phone): the answer
    // when a reliable 183 carried it and the 2xx, from that same early dialog, does not (RFC 3262 §5, RFC 3261 §13.2.2.4).
    const earlySdps = new Map<string, string>();
    let earlySdp: string | undefined;
    const progress = {
      cbRequest: (a: unknown, b?: unknown) => {
        // drachtio-srf calls cbRequest(err, req); its typings say cbRequest(req).
        const req = (b ?? a) as SrfRequest | undefined;
        if (req !== undefined && req !== null && typeof (req as { cancel?: unknown }).cancel === 'function') {
          sent = req;
          if (o.signal.aborted) cancel();
        }
      },
      cbProvisional: (p: SrfResponse) => {
        if (o.signal.aborted) return;
        const body = bodySdpOf(p);
        if (body.kind === 'sdp') {
          earlySdp = body.sdp;
          const tag = toTagOf(p.get('To'));
          // As many as the SIP server keeps early dialogs (16): a callee answering from ever new To tags cannot grow it.
          if (!earlySdps.has(tag) && earlySdps.size >= 16) earlySdps.delete(earlySdps.keys().next().value!);
          earlySdps.set(tag, body.sdp);
        }
        o.onProgress?.(p.status, body.kind === 'sdp' ? body.sdp : undefined, p.has('RSeq'));
      },
    };
    try {
      const uac = new Promise<unknown>((resolve, reject) => {
        // drachtio-srf's SipError is an Error carrying the final status (and the challenge response).
        this.srf.createUAC(o.target, options, progress, (err: Error | null | undefined, dialog: SrfDialog) => {
          if (err !== null && err !== undefined) reject(err);
          // In the same turn as the 200: the leg's listeners exist before any of its requests is handled.
          else resolve(isUnackedUac(dialog) ? dialog : new SrfLeg(dialog, o.auth, earlySdpOf(dialog, earlySdps, earlySdp), nonces));
        });
      });
      // A phone that sends nothing cannot be cancelled until it sends a provisional (RFC 3261 §9.1): its
      // INVITE lives until Timer B (64·T1, 32 s). The dial is over at the abort all the same (a ring timeout
      // is a ring timeout), and an answer that still comes is taken and hung up.
      const aborted = new Promise<typeof ABORTED>((resolve) => {
        if (o.signal.aborted) resolve(ABORTED);
        else o.signal.addEventListener('abort', () => resolve(ABORTED), { once: true });
      });
      const result = await Promise.race([uac, aborted]);
      if (result === ABORTED) {
        uac.then(hangUpUnwanted).catch(() => undefined);
        return { kind: 'failed', status: 487, reason: 'Request Terminated' };
      }
      if (o.signal.aborted) {
        // The answer crossed our CANCEL: take the call and hang it up.
        await hangUpUnwanted(result);
        return { kind: 'failed', status: 487, reason: 'Request Terminated' };
      }
      if (isUnackedUac(result)) {
        return {
          kind: 'offered',
          // drachtio-srf gives the 2xx's body without its Content-Type: a multipart one (SIP-I) is recognised by its first line.
          offer: sdpOfUntypedBody(result.sdp),
          complete: async (answer: string) => new SrfLeg(await result.ack(answer), o.auth, undefined, nonces),
          abandon: () => result.destroy(),
        };
      }
      return { kind: 'answered', leg: result as SrfLeg };
    } catch (err) {
      const challenge = challengeOf(err);
      const res = o.signal.aborted ? undefined : (err as { res?: SrfResponse } | null)?.res;
      // No status: the SIP server's own refusal (NOK), before anything was sent (a WebSocket phone whose connection
      // is gone, a name that does not resolve). That is the target failing at the transport, as a TCP phone whose
      // connection is refused (the server's 503): a 503 from it on every transport (RFC 3261 §8.1.3.1), not our 500.
      const status = o.signal.aborted ? 487 : sipStatusOf(err);
      return { kind: 'failed', status: status ?? 503, reason: reasonOf(err), ...(status === undefined ? { notSent: true } : {}), ...reasonHeaderOf(res), ...(challenge !== undefined ? { challenge } : {}) };
    } finally {
      o.signal.removeEventListener('abort', cancel);
    }
  }
}

const ABORTED = Symbol('aborted');

/** The From of a withheld caller (RFC 3323 §4.1.1.3). */
export const ANONYMOUS_FROM = '"Anonymous" <sip:anonymous@anonymous.invalid>';

/** Hangs up a leg we no longer want: an unacknowledged answer is ACKed and ended, an answered leg gets BYE. */
async function hangUpUnwanted(result: unknown): Promise<void> {
  if (isUnackedUac(result)) await result.destroy();
  else await (result as SrfLeg).hangUp();
}

/** A preloaded route set as one Route header field (RFC 3261 §7.3.1: a comma-separated list); the SIP server sends to its first entry. */
function routeHeader(route: readonly string[] | undefined): Record<string, string> {
  return route !== undefined && route.length > 0 ? { Route: route.join(', ') } : {};
}

/** The To tag of a To header value ('' when none). */
function toTagOf(to: string | undefined): string {
  return /;\s*tag\s*=\s*([^;\s>]+)/i.exec(to ?? '')?.[1] ?? '';
}

/** The early SDP of the early dialog the 2xx confirmed (its To tag); the last one only when the tag is unknown. */
function earlySdpOf(dialog: SrfDialog, byTag: ReadonlyMap<string, string>, last: string | undefined): string | undefined {
  const tag = (dialog as unknown as { sip?: { remoteTag?: string } }).sip?.remoteTag;
  return tag !== undefined && tag !== '' ? byTag.get(tag) : last;
}
