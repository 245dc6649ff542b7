/**
 * A test agent phone that carries real audio: it answers (or refuses, or
 * lets ring, or is dead), answers re-INVITEs (or holds them), INFO and BYE,
 * and can hang up, press keys or re-offer itself.
 */
import { RtpEndpoint } from './rtp/rtp-endpoint.js';
import { contactUri, lineOf, Phone } from './phone.js';
import { SipPeer, uniq, type Received, type respond, type Transport } from './sip-peer.js';

/**
 * `dead`: a phone gone from the network whose address still takes datagrams: it answers nothing at all.
 * `answer-then-bye`: it answers and hangs up at once (its BYE leaves right after its 200).
 * `answer-in-reliable-183`: its answer goes in a 183 with `Require: 100rel` (RFC 3262), and once that is
 * PRACKed its 200 carries no SDP (the offer/answer is complete, RFC 6337 §3.1.1).
 */
export type AgentBehaviour = 'answer' | 'busy' | 'decline' | 'not-acceptable-606' | 'ring' | 'dead' | 'answer-then-bye' | 'answer-in-reliable-183';

/** A call offered to an AgentPhone. */
export interface OfferedCall {
  readonly invite: Received;
  readonly toTag: string;
  readonly requests: string[];
  /** The bodies of the INFOs received in the call. */
  readonly infoBodies: string[];
  answered: boolean;
  ended: boolean;
  /** A reliable 183 with the answer went out and waits for its PRACK. */
  awaitingPrack?: boolean;
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
  /** Set: the next re-INVITE is refused with this status (once), as a phone in glare (491) or one that cannot take the offer (488). */
  refusesNextReinvite: { readonly status: number; readonly reason: string } | undefined;
  /** True: re-INVITEs get 100 Trying and wait for `releaseReinvites()` (a phone slow to answer them). */
  holdsReinvites = false;
  /** Applied to the SDP of the phone's answer (a phone that answers inactive, rejects the stream, names another codec). */
  answerShape: ((sdp: string) => string) | undefined;
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
    if (this.behaviour === 'busy' || this.behaviour === 'decline' || this.behaviour === 'not-acceptable-606') {
      if (this.behaviour === 'busy') this.inviteResponse(call, 486, 'Busy Here', { toTag: call.toTag });
      else if (this.behaviour === 'not-acceptable-606') this.inviteResponse(call, 606, 'Not Acceptable', { toTag: call.toTag });
      else this.inviteResponse(call, 603, 'Decline', { toTag: call.toTag });
      call.ended = true;
      return;
    }
    this.inviteResponse(call, 180, 'Ringing', { toTag: call.toTag, contact: this.contact() });
    if (this.behaviour === 'answer-in-reliable-183') {
      const offer = r.message.body.toString('utf8');
      call.awaitingPrack = true;
      this.inviteResponse(call, 183, 'Session Progress', { toTag: call.toTag, contact: this.contact(), extra: ['Require: 100rel', 'RSeq: 1'], body: this.answerSdp() });
      if (offer !== '') this.mediaTo(offer);
    }
    if (this.behaviour === 'answer' || this.behaviour === 'answer-then-bye') this.answer(call);
    if (this.behaviour === 'answer-then-bye') this.hangUp(this.calls.length - 1);
  }

  private inviteResponse(call: OfferedCall, status: number, reason: string, opts: Parameters<typeof respond>[3]): void {
    call.lastResponse = { status, reason, opts };
    this.reply(call.invite, status, reason, opts);
  }

  answer(call: OfferedCall): void {
    const offer = call.invite.message.body.toString('utf8');
    call.answered = true;
    this.inviteResponse(call, 200, 'OK', { toTag: call.toTag, contact: this.contact(), body: this.answerSdp() });
    if (offer !== '') this.mediaTo(offer);
  }

  private answerSdp(): string {
    const sdp = this.rtp.sdp({ telephoneEvent: true, codecs: this.codecs });
    return this.answerShape !== undefined ? this.answerShape(sdp) : sdp;
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
    if (method === 'PRACK' && call.awaitingPrack === true) {
      call.awaitingPrack = false;
      this.reply(r, 200, 'OK');
      call.answered = true;
      this.inviteResponse(call, 200, 'OK', { toTag: call.toTag, contact: this.contact() });
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
    const refusal = method === 'INVITE' ? this.refusesNextReinvite : undefined;
    if (refusal !== undefined) {
      this.refusesNextReinvite = undefined;
      this.reply(r, refusal.status, refusal.reason);
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

  /** The SDP bodies of the re-INVITEs (INVITEs inside the dialog) the engine sent in call `i`, in order. */
  reoffersIn(i: number): string[] {
    const callId = this.calls[i]!.invite.info.callId;
    return this.peer.received
      .filter((r) => r.message.kind === 'request' && r.message.method === 'INVITE' && r.info.callId === callId && r.info.toTag !== undefined)
      .map((r) => r.message.body.toString('utf8'));
  }

  /** Stops holding re-INVITEs and forgets those held (never answered: the phone hung up meanwhile). */
  forgetReinvites(): void {
    this.holdsReinvites = false;
    this.heldReinvites.length = 0;
  }

  /** The agent hangs up call `i`. */
  hangUp(i = this.calls.length - 1): void {
    const call = this.calls[i]!;
    call.ended = true;
    this.sendInCall(call, 'BYE', ++this.cseq, []);
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
    this.sendInCall(this.calls[i]!, 'INFO', ++this.cseq, ['Content-Type: application/dtmf-relay'], `Signal=${digit}\r\nDuration=160\r\n`);
  }
}
