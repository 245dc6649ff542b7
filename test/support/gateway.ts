/**
 * A carrier gateway for tests of the phone-number deflection: a raw SIP peer
 * (UDP) that plays the far end of an outbound trunk the way real gateways
 * misbehave. Per INVITE it sends nothing, only `100 Trying`, 100 then
 * `180 Ringing` and nothing more, refuses, or answers; it may leave a CANCEL
 * unanswered, and may challenge our BYE with 401/407 before taking it. It
 * keeps every request of every call (retransmissions too), so a test can check
 * exactly what reached it.
 */
import { RtpEndpoint } from './rtp/rtp-endpoint.js';
import { respond, SipPeer, uniq, type Received } from './sip-peer.js';

/** What the gateway does with a new INVITE: `refuse` sends 100 Trying, then that final response (with `extra` header lines). */
export type GatewayBehaviour = 'silent' | 'trying' | 'ringing' | 'answer' | { readonly refuse: number; readonly reason: string; readonly extra?: readonly string[] };

/** A digest challenge the gateway puts on its first answer to a BYE. */
export interface ByeChallenge {
  readonly status: 401 | 407;
  readonly realm: string;
  readonly nonce: string;
  readonly qop?: 'auth';
}

/** One INVITE the gateway received, and what followed in its call. */
export interface GatewayCall {
  readonly invite: Received;
  readonly toTag: string;
  /** Every request of the call after the INVITE (retransmissions included), in arrival order. */
  readonly requests: Received[];
  /** The last response to the INVITE, sent again for a retransmission (RFC 3261 §17.2.1). */
  last: { readonly status: number; readonly reason: string; readonly opts: Parameters<typeof respond>[3] } | undefined;
}

export class TestGateway {
  behaviour: GatewayBehaviour = 'answer';
  /** false: a CANCEL is never answered (neither 200 nor 487), as a gateway that lost it. */
  answersCancel = true;
  /** Set: the first BYE of each call gets this challenge; a BYE with credentials gets 200. */
  byeChallenge: ByeChallenge | undefined;
  readonly calls: GatewayCall[] = [];

  private constructor(
    readonly peer: SipPeer,
    readonly rtp: RtpEndpoint,
  ) {
    peer.onMessage = (r) => this.onMessage(r);
  }

  static async create(): Promise<TestGateway> {
    return new TestGateway(await SipPeer.create('udp'), await RtpEndpoint.open());
  }

  get port(): number {
    return this.peer.port;
  }

  /** The call whose INVITE had this Call-ID. */
  call(callId: string): GatewayCall | undefined {
    return this.calls.find((c) => c.invite.info.callId === callId);
  }

  /** The requests of `call` with this method. */
  static requestsOf(call: GatewayCall, method: string): Received[] {
    return call.requests.filter((r) => r.message.kind === 'request' && r.message.method === method);
  }

  private reply(r: Received, status: number, reason: string, opts: Parameters<typeof respond>[3] = {}): void {
    void this.peer.send(respond(r, status, reason, opts), { host: r.from.address, port: r.from.port });
  }

  private inviteResponse(call: GatewayCall, status: number, reason: string, opts: Parameters<typeof respond>[3] = {}): void {
    call.last = { status, reason, opts };
    this.reply(call.invite, status, reason, opts);
  }

  private contact(): string {
    return `<sip:gateway@127.0.0.1:${this.peer.port}>`;
  }

  private onMessage(r: Received): void {
    if (r.message.kind !== 'request') return;
    const method = r.message.method;
    const call = this.calls.find((c) => c.invite.info.callId === r.info.callId);
    if (call === undefined) {
      if (method === 'INVITE' && r.info.toTag === undefined) this.newCall(r);
      else if (method !== 'ACK') this.reply(r, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    call.requests.push(r);
    if (method === 'INVITE' && r.info.toTag === undefined) {
      // A retransmission of the INVITE: the last response again, or still nothing.
      if (call.last !== undefined) this.reply(r, call.last.status, call.last.reason, call.last.opts);
      return;
    }
    if (method === 'ACK') return;
    if (method === 'CANCEL') {
      if (!this.answersCancel) return;
      this.reply(r, 200, 'OK', { toTag: call.toTag });
      if (call.last === undefined || call.last.status < 200) this.inviteResponse(call, 487, 'Request Terminated', { toTag: call.toTag });
      return;
    }
    if (method === 'BYE' && this.byeChallenge !== undefined) {
      const c = this.byeChallenge;
      const credentials = r.message.headers.get(c.status === 407 ? 'proxy-authorization' : 'authorization');
      if (credentials === undefined) {
        const header = c.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
        const qop = c.qop !== undefined ? `, qop="${c.qop}"` : '';
        this.reply(r, c.status, c.status === 407 ? 'Proxy Authentication Required' : 'Unauthorized', {
          extra: [`${header}: Digest realm="${c.realm}", nonce="${c.nonce}"${qop}, algorithm=MD5`],
        });
        return;
      }
    }
    this.reply(r, 200, 'OK');
  }

  private newCall(r: Received): void {
    const call: GatewayCall = { invite: r, toTag: uniq('gw'), requests: [], last: undefined };
    this.calls.push(call);
    if (this.behaviour === 'silent') return;
    // 100 Trying carries no To tag (RFC 3261 §8.2.6.2: a UAS may omit it; it creates no dialog).
    this.inviteResponse(call, 100, 'Trying');
    if (this.behaviour === 'trying') return;
    if (typeof this.behaviour === 'object') {
      this.inviteResponse(call, this.behaviour.refuse, this.behaviour.reason, { toTag: call.toTag, extra: this.behaviour.extra ?? [] });
      return;
    }
    this.inviteResponse(call, 180, 'Ringing', { toTag: call.toTag, contact: this.contact() });
    if (this.behaviour === 'ringing') return;
    this.inviteResponse(call, 200, 'OK', { toTag: call.toTag, contact: this.contact(), body: this.rtp.sdp() });
  }

  close(): void {
    this.rtp.close();
    void this.peer.close();
  }
}
