/**
 * Test phones that carry real audio: a raw SIP socket (SipPeer) plus an RTP
 * endpoint that sends a known tone and records everything it receives. A
 * CallerPhone places calls (with an offer, or a delayed offer answered in the
 * ACK), follows 18x early media and the 200, ACKs, hangs up or cancels; an
 * AgentPhone (agent-phone.ts, exported here too) answers, refuses or lets ring,
 * and can hang up. Both answer BYE,
 * re-INVITE and INFO as a phone would.
 */
import { contactUri, lineOf, Phone, type Target } from './phone.js';
import { RtpEndpoint } from './rtp/rtp-endpoint.js';
import { request, SipPeer, uniq, type PeerTls, type Received, type Transport } from './sip-peer.js';

export { AgentPhone, type AgentBehaviour, type OfferedCall } from './agent-phone.js';

export interface DialOptions {
  readonly delayedOffer?: boolean;
  readonly extra?: readonly string[];
  readonly fromUser?: string;
  /** The whole From URI (e.g. `tel:+15551112222`), in place of `sip:<fromUser>@<the phone's address>`. */
  readonly fromUri?: string;
  readonly displayName?: string;
  /** Never ACK a 2xx (the ACKs are lost on the way): the SIP server ends the dialog at 64·T1. */
  readonly noAck?: boolean;
  /** With delayedOffer: the ACK carries no answer to the 200's offer (a broken phone; RFC 3264 §4). */
  readonly ackWithoutAnswer?: boolean;
  /** The INVITE's body made from this phone's SDP offer (more m-lines, another direction, a multipart body), of `contentType`. */
  readonly body?: { readonly of: (sdp: string) => string; readonly contentType?: string };
}

/** One call placed by a CallerPhone. */
export class PlacedCall {
  readonly callId = uniq('call');
  readonly fromTag = uniq('ft');
  readonly responses: number[] = [];
  /** When each response to the INVITE arrived (performance.now()). */
  readonly responseTimes: { readonly status: number; readonly atMs: number }[] = [];
  readonly requests: string[] = [];
  /** The bodies of the INFOs received in the call. */
  readonly infoBodies: string[] = [];
  /** Responses to our requests other than the INVITE: method, status and the raw message. */
  readonly replies: { readonly method: string; readonly status: number; readonly raw: string }[] = [];
  toTag: string | undefined;
  remoteTarget: string | undefined;
  finalStatus: number | undefined;
  /** The final response to the INVITE, as received. */
  final: Received | undefined;
  private cseq = 1;
  /** The SDP this call's INVITE offered ('' for a delayed offer). */
  private offerSdp = '';
  private readonly inviteBranch = `z9hG4bK${uniq('inv')}`;
  private readonly waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(
    private readonly phone: CallerPhone,
    private readonly target: Target,
    readonly uri: string,
    private readonly options: DialOptions,
  ) {}

  private changed(): void {
    for (const w of [...this.waiters]) {
      if (w.pred()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  /** Resolves when `pred` holds (bounded). */
  until(pred: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; responses ${this.responses.join(',')}, requests ${this.requests.join(',')}`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  waitStatus(status: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.responses.includes(status), `${status}`, timeoutMs);
  }

  waitFinal(timeoutMs?: number): Promise<number> {
    return this.until(() => this.finalStatus !== undefined, 'a final response', timeoutMs).then(() => this.finalStatus!);
  }

  /** The final response to this call's INVITE transaction `cseq` (1: the call's own; its re-INVITEs after), once it came. */
  finalResponseTo(cseq: number): { readonly status: number; readonly raw: string } | undefined {
    for (const r of this.phone.peer.received) {
      if (r.message.kind === 'response' && r.info.callId === this.callId && r.info.cseqMethod === 'INVITE' && r.info.cseq === cseq && r.message.status >= 200) return { status: r.message.status, raw: r.raw };
    }
    return undefined;
  }

  waitRequest(method: string, timeoutMs?: number): Promise<void> {
    return this.until(() => this.requests.includes(method), `${method} from the engine`, timeoutMs);
  }

  get from(): string {
    const p = this.phone.peer;
    const user = this.options.fromUser ?? 'caller';
    const uri = this.options.fromUri ?? `sip:${user}@${p.uriHost}:${p.port}`;
    return `${this.options.displayName !== undefined ? `"${this.options.displayName}" ` : ''}<${uri}>;tag=${this.fromTag}`;
  }

  private base(method: string, uri: string, cseq: number, branch?: string): Parameters<typeof request>[0] {
    return { method, uri, peer: this.phone.peer, callId: this.callId, fromTag: this.fromTag, cseq, ...(branch !== undefined ? { branch } : {}) };
  }

  private send(text: string): void {
    const withFrom = text.replace(/^From: .*$/m, `From: ${this.from}`);
    void this.phone.peer.send(withFrom, this.target);
  }

  invite(): void {
    const sdp = this.options.delayedOffer === true ? '' : this.phone.rtp.sdp({ telephoneEvent: true, codecs: this.phone.codecs });
    this.offerSdp = sdp;
    const custom = this.options.body;
    const body = custom !== undefined ? custom.of(sdp) : sdp;
    const contentType = custom?.contentType !== undefined ? { contentType: custom.contentType } : {};
    this.send(request({ ...this.base('INVITE', this.uri, 1, this.inviteBranch), body, ...contentType, extra: this.options.extra ?? [] }));
  }

  /** @internal */
  handle(r: Received): void {
    const m = r.message;
    if (m.kind === 'request') {
      this.requests.push(m.method);
      if (m.method === 'INFO') this.infoBodies.push(m.body.toString('utf8'));
      if (m.method === 'INVITE') this.phone.answerReinvite(r);
      else this.phone.ok(r);
      this.changed();
      return;
    }
    if (r.info.cseqMethod !== 'INVITE') {
      this.responses.push(m.status);
      this.replies.push({ method: r.info.cseqMethod, status: m.status, raw: r.raw });
      this.changed();
      return;
    }
    const body = m.body.length > 0 ? m.body.toString('utf8') : undefined;
    this.responses.push(m.status);
    this.responseTimes.push({ status: m.status, atMs: performance.now() });
    if (m.status >= 200) {
      this.finalStatus ??= m.status;
      this.final ??= r;
      this.toTag = r.info.toTag;
      if (m.status < 300 && this.options.noAck === true) {
        this.remoteTarget ??= contactUri(r);
      } else if (m.status < 300) {
        this.remoteTarget ??= contactUri(r);
        // The ACK of a 2xx has the INVITE's CSeq number (RFC 3261 §13.2.2.4): a re-INVITE's is not 1.
        const initial = r.info.cseq === 1;
        const answer = initial && this.options.delayedOffer === true && this.options.ackWithoutAnswer !== true ? this.phone.rtp.sdp({ telephoneEvent: true, codecs: this.phone.codecs }) : '';
        const to = lineOf(r.raw, 'To') ?? '';
        this.send(request({ ...this.base('ACK', this.remoteTarget ?? this.uri, r.info.cseq), body: answer, to: to.replace(/;tag=.*$/, ''), toTag: this.toTag }));
      } else {
        // ACK for a non-2xx final response: same branch as the INVITE (RFC 3261 §17.1.1.3).
        const to = lineOf(r.raw, 'To') ?? '';
        this.send(request({ ...this.base('ACK', this.uri, 1, this.inviteBranch), to: to.replace(/;tag=.*$/, ''), toTag: this.toTag }));
      }
    }
    if (body !== undefined && m.status < 300) this.phoneMedia(body);
    this.changed();
  }

  private phoneMedia(sdp: string): void {
    this.phone.mediaTo(sdp);
  }

  /** Any request inside the dialog (REFER, MESSAGE, ...). */
  inDialog(method: string, extra: readonly string[] = [], body = '', contentType?: string): void {
    this.cseq++;
    this.send(request({ ...this.base(method, this.remoteTarget ?? this.uri, this.cseq), toTag: this.toTag, extra, body, ...(contentType !== undefined ? { contentType } : {}) }));
  }

  hangUp(): void {
    this.inDialog('BYE');
  }

  /** CANCEL of the INVITE; `extra` header lines (a Reason, RFC 3326) go with it. */
  cancel(extra: readonly string[] = []): void {
    this.send(request({ ...this.base('CANCEL', this.uri, 1, this.inviteBranch), extra }));
  }

  /** A re-INVITE with our SDP in `direction` (hold: sendonly; resume: sendrecv). */
  reinvite(direction: 'sendonly' | 'sendrecv' | 'inactive'): void {
    this.inDialog('INVITE', [], this.phone.rtp.sdp({ direction, telephoneEvent: true, sessionId: 7, codecs: this.phone.codecs }));
  }

  /** A session refresh (RFC 4028) by re-INVITE or UPDATE that offers the INVITE's SDP again, origin version and all: no change (RFC 3264 §8). */
  refresh(method: 'INVITE' | 'UPDATE'): void {
    this.inDialog(method, [], this.offerSdp);
  }

  /** A DTMF key over SIP INFO (application/dtmf-relay). */
  info(digit: string): void {
    this.inDialog('INFO', [], `Signal=${digit}\r\nDuration=160\r\n`, 'application/dtmf-relay');
  }
}

export class CallerPhone extends Phone {
  readonly calls: PlacedCall[] = [];
  /** The direction this phone answers re-offers in (a phone holding the call answers inactive, RFC 3264 §8.4); sendrecv by default. */
  reofferAnswerDirection: 'inactive' | 'sendonly' | undefined;

  /** `host`: the loopback address to call from (any of 127/8 on Linux), so calls come from a given trunk; `tls`: its certificate and CA for transport tls. */
  static async create(frequency: number, transport: Transport = 'udp', host = '127.0.0.1', tls?: PeerTls): Promise<CallerPhone> {
    return new CallerPhone(await SipPeer.create(transport, host, tls), await RtpEndpoint.open(), frequency);
  }

  dial(target: Target, number: string, options: DialOptions = {}): PlacedCall {
    const uri = `sip:${number}@${target.host}:${target.port}${this.transportParam}`;
    const call = new PlacedCall(this, target, uri, options);
    this.calls.push(call);
    this.handlers.set(call.callId, (r) => call.handle(r));
    call.invite();
    return call;
  }

  protected unknownCall(r: Received): void {
    if (r.message.kind === 'request') this.reply(r, 481, 'Call/Transaction Does Not Exist');
  }

  /** @internal */
  ok(r: Received): void {
    this.reply(r, 200, 'OK');
  }

  /** @internal */
  answerReinvite(r: Received): void {
    const direction = this.reofferAnswerDirection;
    this.reply(r, 200, 'OK', { body: this.rtp.sdp({ telephoneEvent: true, ...(direction !== undefined ? { direction } : {}) }), contact: `<sip:caller@${this.peer.uriHost}:${this.peer.port}${this.transportParam}>` });
  }
}
