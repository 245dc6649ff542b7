/**
 * Test phones that carry real audio: a raw SIP socket (SipPeer) plus an RTP
 * endpoint that sends a known tone and records everything it receives. A
 * CallerPhone places calls (with an offer, or a delayed offer answered in the
 * ACK), follows 18x early media and the 200, ACKs, hangs up or cancels; an
 * AgentPhone answers, refuses or lets ring, and can hang up. Both answer BYE,
 * re-INVITE and INFO as a phone would.
 */
import { RtpEndpoint, type ToneStream } from './rtp/rtp-endpoint.js';
import type { TestCodec } from './rtp/test-sdp.js';
import { respond, request, SipPeer, uniq, type PeerTls, type Received, type Transport } from './sip-peer.js';

interface Target {
  readonly host: string;
  readonly port: number;
}

function lineOf(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(text);
  return m?.[1]?.trim();
}

function contactUri(r: Received): string | undefined {
  const c = r.message.headers.get('contact');
  const m = c === undefined ? null : /<([^>]+)>/.exec(c) ?? /^\s*([^;\s]+)/.exec(c);
  return m?.[1];
}

abstract class Phone {
  protected readonly handlers = new Map<string, (r: Received) => void>();
  tone: ToneStream | undefined;
  /** false: follow the peer's SDP but send nothing (the caller sends its own packets). */
  autoTone = true;
  /** The codecs this phone's SDP lists (its offers and answers), its tone in the first; default PCMU then PCMA. */
  codecs: readonly TestCodec[] = ['pcmu', 'pcma'];

  protected constructor(
    readonly peer: SipPeer,
    readonly rtp: RtpEndpoint,
    readonly frequency: number,
  ) {
    peer.onMessage = (r) => this.dispatch(r);
  }

  protected abstract unknownCall(r: Received): void;

  private dispatch(r: Received): void {
    const h = this.handlers.get(r.info.callId);
    if (h !== undefined) h(r);
    else this.unknownCall(r);
  }

  /** Sends to where this SDP points, and starts the tone the first time. */
  mediaTo(sdp: string | undefined): void {
    if (sdp === undefined || !/^m=audio/m.test(sdp)) return;
    this.rtp.setRemoteFromSdp(sdp);
    if (this.autoTone) this.tone ??= this.rtp.startTone({ frequency: this.frequency, codec: this.codecs[0] });
  }

  protected reply(r: Received, status: number, reason: string, opts: Parameters<typeof respond>[3] = {}): void {
    void this.peer.send(respond(r, status, reason, opts), { host: r.from.address, port: r.from.port });
  }

  get transportParam(): string {
    return this.peer.transport === 'udp' ? '' : `;transport=${this.peer.transport}`;
  }

  close(): void {
    this.tone?.stop();
    this.rtp.close();
    void this.peer.close();
  }
}

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
  private cseq = 1;
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

  cancel(): void {
    this.send(request({ ...this.base('CANCEL', this.uri, 1, this.inviteBranch) }));
  }

  /** A re-INVITE with our SDP in `direction` (hold: sendonly; resume: sendrecv). */
  reinvite(direction: 'sendonly' | 'sendrecv' | 'inactive'): void {
    this.inDialog('INVITE', [], this.phone.rtp.sdp({ direction, telephoneEvent: true, sessionId: 7, codecs: this.phone.codecs }));
  }

  /** A DTMF key over SIP INFO (application/dtmf-relay). */
  info(digit: string): void {
    this.inDialog('INFO', [], `Signal=${digit}\r\nDuration=160\r\n`, 'application/dtmf-relay');
  }
}

export class CallerPhone extends Phone {
  readonly calls: PlacedCall[] = [];

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
    this.reply(r, 200, 'OK', { body: this.rtp.sdp({ telephoneEvent: true }), contact: `<sip:caller@${this.peer.uriHost}:${this.peer.port}${this.transportParam}>` });
  }
}

/** `dead`: a phone gone from the network whose address still takes datagrams: it answers nothing at all. */
export type AgentBehaviour = 'answer' | 'busy' | 'ring' | 'dead';

/** A call offered to an AgentPhone. */
export interface OfferedCall {
  readonly invite: Received;
  readonly toTag: string;
  readonly requests: string[];
  /** The bodies of the INFOs received in the call. */
  readonly infoBodies: string[];
  answered: boolean;
  ended: boolean;
  /** The CANCEL of the INVITE, when one came. */
  cancel?: Received;
  /** The last response to the INVITE, sent again when the INVITE is retransmitted (RFC 3261 §17.2.1). */
  lastResponse?: { status: number; reason: string; opts: Parameters<typeof respond>[3] };
}

export class AgentPhone extends Phone {
  behaviour: AgentBehaviour = 'answer';
  readonly calls: OfferedCall[] = [];
  /** INVITEs (retransmissions included) a `dead` phone let fall. */
  readonly ignored: Received[] = [];
  /** False: BYEs to the phone go unanswered (its network went away mid-call); they are still counted in the call's requests. */
  answersBye = true;
  /** True: re-INVITEs get 100 Trying and wait for `releaseReinvites()` (a phone slow to answer them). */
  holdsReinvites = false;
  private readonly heldReinvites: (() => void)[] = [];
  private cseq = 100;

  static async create(frequency: number, transport: Transport = 'udp'): Promise<AgentPhone> {
    return new AgentPhone(await SipPeer.create(transport), await RtpEndpoint.open(), frequency);
  }

  uri(user = 'agent'): string {
    return `sip:${user}@${this.peer.uriHost}:${this.peer.port}${this.transportParam}`;
  }

  private contact(): string {
    return `<${this.uri()}>`;
  }

  protected unknownCall(r: Received): void {
    if (r.message.kind !== 'request') return;
    if (r.message.method === 'OPTIONS' && r.info.toTag === undefined) {
      // A keep-alive (RFC 3261 §11): a phone answers what it supports.
      this.reply(r, 200, 'OK', { extra: ['Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO'] });
      return;
    }
    if (this.behaviour === 'dead') {
      this.ignored.push(r);
      return;
    }
    if (r.message.method !== 'INVITE' || r.info.toTag !== undefined) {
      this.reply(r, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    const call: OfferedCall = { invite: r, toTag: uniq('at'), requests: [], infoBodies: [], answered: false, ended: false };
    this.calls.push(call);
    this.handlers.set(r.info.callId, (x) => this.inCall(call, x));
    if (this.behaviour === 'busy') {
      this.inviteResponse(call, 486, 'Busy Here', { toTag: call.toTag });
      call.ended = true;
      return;
    }
    this.inviteResponse(call, 180, 'Ringing', { toTag: call.toTag, contact: this.contact() });
    if (this.behaviour === 'answer') this.answer(call);
  }

  private inviteResponse(call: OfferedCall, status: number, reason: string, opts: Parameters<typeof respond>[3]): void {
    call.lastResponse = { status, reason, opts };
    this.reply(call.invite, status, reason, opts);
  }

  answer(call: OfferedCall): void {
    const offer = call.invite.message.body.toString('utf8');
    call.answered = true;
    this.inviteResponse(call, 200, 'OK', { toTag: call.toTag, contact: this.contact(), body: this.rtp.sdp({ telephoneEvent: true, codecs: this.codecs }) });
    if (offer !== '') this.mediaTo(offer);
  }

  private inCall(call: OfferedCall, r: Received): void {
    if (r.message.kind !== 'request') {
      // The final response to our re-INVITE: a 2xx is ACKed (RFC 3261 §13.2.2.4), with the INVITE's CSeq number.
      const key = `${r.info.callId} ${r.info.cseq}`;
      if (r.info.cseqMethod === 'INVITE' && r.message.status >= 200 && this.reinvites.has(key)) {
        this.reinvites.delete(key);
        if (r.message.status < 300) this.sendInCall(call, 'ACK', r.info.cseq, []);
      }
      return;
    }
    const method = r.message.method;
    call.requests.push(method);
    if (method === 'INFO') call.infoBodies.push(r.message.body.toString('utf8'));
    if (method === 'ACK') {
      const body = r.message.body.toString('utf8');
      if (body !== '') this.mediaTo(body);
      return;
    }
    if (method === 'CANCEL') {
      call.cancel = r;
      this.reply(r, 200, 'OK');
      this.inviteResponse(call, 487, 'Request Terminated', { toTag: call.toTag });
      call.ended = true;
      return;
    }
    if (method === 'INVITE' && r.info.toTag === undefined) {
      // A retransmission of the initial INVITE: the last response again.
      const last = call.lastResponse;
      if (last !== undefined) this.reply(r, last.status, last.reason, last.opts);
      return;
    }
    if (method === 'INVITE' && this.holdsReinvites) {
      this.reply(r, 100, 'Trying');
      this.heldReinvites.push(() => this.inCall(call, r));
      call.requests.pop();
      return;
    }
    if (method === 'INVITE') {
      const body = r.message.body.toString('utf8');
      this.reply(r, 200, 'OK', { contact: this.contact(), body: this.rtp.sdp({ telephoneEvent: true, direction: /a=sendonly/.test(body) ? 'recvonly' : 'sendrecv' }) });
      if (body !== '') this.mediaTo(body);
      return;
    }
    if (method === 'BYE') {
      call.ended = true;
      if (!this.answersBye) return;
    }
    this.reply(r, 200, 'OK');
  }

  /** Answers the re-INVITEs held so far (and those to come). */
  releaseReinvites(): void {
    this.holdsReinvites = false;
    for (const answer of this.heldReinvites.splice(0)) answer();
  }

  /** The agent hangs up call `i`. */
  hangUp(i = this.calls.length - 1): void {
    const call = this.calls[i]!;
    const inv = call.invite;
    const from = lineOf(inv.raw, 'From') ?? '';
    const to = lineOf(inv.raw, 'To') ?? '';
    const target = contactUri(inv) ?? '';
    call.ended = true;
    const text = [
      `BYE ${target} SIP/2.0`,
      `Via: SIP/2.0/${this.peer.transport.toUpperCase()} ${this.peer.uriHost}:${this.peer.port};branch=z9hG4bK${uniq('bye')};rport`,
      'Max-Forwards: 70',
      `From: ${to};tag=${call.toTag}`,
      `To: ${from}`,
      `Call-ID: ${inv.info.callId}`,
      `CSeq: ${++this.cseq} BYE`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    void this.peer.send(text, { host: inv.from.address, port: inv.from.port });
  }

  /** The agent re-offers `sdp` in call `i` (a re-INVITE); the 2xx is ACKed. The responses: `peer.received`. */
  reinvite(sdp: string, i = this.calls.length - 1): number {
    const call = this.calls[i]!;
    const cseq = ++this.cseq;
    this.sendInCall(call, 'INVITE', cseq, [`Contact: ${this.contact()}`, 'Content-Type: application/sdp'], sdp);
    this.reinvites.set(`${call.invite.info.callId} ${cseq}`, call);
    return cseq;
  }

  private readonly reinvites = new Map<string, OfferedCall>();

  private sendInCall(call: OfferedCall, method: string, cseq: number, extra: readonly string[], body = ''): void {
    const inv = call.invite;
    const text = [
      `${method} ${contactUri(inv) ?? ''} SIP/2.0`,
      `Via: SIP/2.0/${this.peer.transport.toUpperCase()} ${this.peer.uriHost}:${this.peer.port};branch=z9hG4bK${uniq(method.toLowerCase())};rport`,
      'Max-Forwards: 70',
      `From: ${lineOf(inv.raw, 'To') ?? ''};tag=${call.toTag}`,
      `To: ${lineOf(inv.raw, 'From') ?? ''}`,
      `Call-ID: ${inv.info.callId}`,
      `CSeq: ${cseq} ${method}`,
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    void this.peer.send(text, { host: inv.from.address, port: inv.from.port });
  }

  /** The agent presses a key over SIP INFO in call `i`. */
  info(digit: string, i = this.calls.length - 1): void {
    const call = this.calls[i]!;
    const inv = call.invite;
    const body = `Signal=${digit}\r\nDuration=160\r\n`;
    const text = [
      `INFO ${contactUri(inv) ?? ''} SIP/2.0`,
      `Via: SIP/2.0/${this.peer.transport.toUpperCase()} ${this.peer.uriHost}:${this.peer.port};branch=z9hG4bK${uniq('info')};rport`,
      'Max-Forwards: 70',
      `From: ${lineOf(inv.raw, 'To') ?? ''};tag=${call.toTag}`,
      `To: ${lineOf(inv.raw, 'From') ?? ''}`,
      `Call-ID: ${inv.info.callId}`,
      `CSeq: ${++this.cseq} INFO`,
      'Content-Type: application/dtmf-relay',
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');
    void this.peer.send(text, { host: inv.from.address, port: inv.from.port });
  }
}
