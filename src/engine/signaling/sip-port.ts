/**
 * What the engine needs from SIP signaling, in its own words: an inbound
 * INVITE it can ring, answer or refuse; outbound INVITEs it can dial, cancel
 * and complete; and established legs that report a hang-up, an offer (re-INVITE
 * or UPDATE) or DTMF over SIP INFO, and that can be re-offered or hung up.
 *
 * `srf-port.ts` implements it over drachtio-srf (every cast on drachtio-srf's
 * objects lives there); tests implement it with a fake (test/support/fake-sip-port.ts),
 * so call-flow tasks are unit-tested without sockets.
 */

export interface CallerIdentity {
  /**
   * The caller's number (the user part of a SIP URI, the number of a tel URI; of P-Asserted-Identity
   * from a trusted trunk, else of From: caller-identity.ts); undefined when withheld or absent.
   */
  readonly number: string | undefined;
  readonly name: string | undefined;
  /** RFC 3323: anonymous or `Privacy: id`/`header`; the number is then not passed on. */
  readonly withheld: boolean;
}

export interface SignalingSource {
  readonly address: string;
  readonly port: number;
  /** udp, tcp, tls, ws, wss (lower case). */
  readonly transport: string;
  /**
   * TLS and WSS: the identities (RFC 5922 §7.1 domains, iPAddress names; lower case) of the peer's
   * certificate, when it chains to a configured CA. Only the embedded SIP server tells them.
   */
  readonly tlsIdentities?: readonly string[];
}

/** `transport:address:port` for logs and the API, an IPv6 address in brackets (`tcp:[::1]:5060`). */
export function describeSource(s: Pick<SignalingSource, 'transport' | 'address' | 'port'>): string {
  return `${s.transport}:${s.address.includes(':') ? `[${s.address}]` : s.address}:${s.port}`;
}

export type Headers = Readonly<Record<string, string>>;

/** A SIP failure with the status to send or that was received. */
export class SipFailure extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    /** Header fields for the response (a Warning saying why, RFC 3261 §20.43). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${reason}`);
  }
}

/** An offer from the far end on an established leg (re-INVITE or UPDATE, RFC 3311). */
export interface IncomingOffer {
  readonly method: 'INVITE' | 'UPDATE';
  /** The offer; undefined for an offer-less re-INVITE (RFC 3261 §14.2: the answer then comes in the ACK). */
  readonly sdp: string | undefined;
}

/** What the leg's owner answers an IncomingOffer with. */
export interface OfferResponse {
  /** The SDP for the 200 (an answer; our offer when the request had none). */
  readonly sdp: string;
  /** For an offer-less re-INVITE: receives the far end's answer from its ACK. */
  readonly onAck?: (answer: string) => void;
}

export type OfferHandler = (offer: IncomingOffer) => Promise<OfferResponse>;

/** DTMF over SIP INFO (application/dtmf-relay or application/dtmf). */
export interface InfoDigit {
  readonly digit: string;
  readonly durationMs: number | undefined;
}

/** An established dialog (a caller, agent, gateway or supervisor leg). */
export interface SipLeg {
  /** The dialog id (Call-ID;from-tag=...), for logs. */
  readonly id: string;
  readonly remoteSdp: string;
  /** False once the leg has ended (a BYE received or sent). */
  readonly connected: boolean;
  /**
   * Once, when the far end ends the leg (BYE: `serverReason` undefined) or the
   * SIP server does on its own (`serverReason`: "ACK timeout", "session timer
   * expired", ...).
   */
  onHangUp(listener: (serverReason: string | undefined) => void): void;
  /** Who answers offers from the far end (offers that came while there was none wait for it, in order). */
  onOffer(handler: OfferHandler): void;
  /**
   * Hands the leg's offers over from one owner to the next (the caller's, from
   * the engine that answered it on its own to the bridge): from now on offers
   * wait for the next `onOffer` handler, which takes them in arrival order
   * (481 if the leg ends first; the SIP server's 100 Trying holds a re-INVITE's
   * retransmissions meanwhile). Resolves once any offer the present handler is
   * answering has been answered.
   */
  holdOffers(): Promise<void>;
  onDigit(listener: (digit: InfoDigit) => void): void;
  /**
   * A leg we answered: true once the far end's ACK came (at once if it has), false if the leg ended
   * first (no ACK within 64·T1 ends it). A leg we called: true (we sent the ACK).
   */
  acknowledged(): Promise<boolean>;
  /**
   * Sends a DTMF key in an INFO (application/dtmf-relay), as relayed from the
   * other leg of a bridge; never throws (a far end that refuses INFO just does not get it).
   */
  sendDigit(digit: InfoDigit): Promise<void>;
  /** Sends a re-INVITE with `sdp`; resolves with the far end's answer. */
  reoffer(sdp: string): Promise<string>;
  /** Sends BYE unless the leg is already gone; never throws. With a reason, the BYE says it (RFC 3326 Reason, a Q.850 cause: 16 normal clearing unless given). */
  hangUp(reason?: string, q850Cause?: number): Promise<void>;
  /**
   * An OPTIONS inside the dialog (RFC 3261 §11, §12.2.1.1): is the far end
   * still there? Resolves with the final status (408 when none came, 503 when
   * the SIP server could not send it, e.g. the connection is gone, §8.1.3.1),
   * or undefined when the request could not be sent at all; never throws.
   */
  probe(): Promise<number | undefined>;
}

/** A delayed offer answered (InboundInvite.answerWithOffer): the caller's leg and what its ACK brought. */
export interface AnsweredWithOffer {
  readonly leg: SipLeg;
  /** The caller's answer from its ACK; undefined when there is none. */
  readonly answer: string | undefined;
  /** The ACK came (with or without an answer); false when the caller hung up or never ACKed. */
  readonly acked: boolean;
}

/** A new INVITE from a caller, before our final response. */
export interface InboundInvite {
  readonly callId: string;
  readonly uri: string;
  /** The caller's offer (the SDP part of a multipart body); undefined for a delayed offer (RFC 3261 §13.2.1). */
  readonly offer: string | undefined;
  /** A body the engine cannot read (no SDP in it, or a part it must understand and cannot): refuse with this 415 (RFC 3261 §8.2.3). */
  readonly contentRefusal: SipFailure | undefined;
  readonly source: SignalingSource;
  /** Max-Forwards as received (70 when absent). */
  readonly maxForwards: number;
  /** The caller supports or requires reliable provisional responses (RFC 3262). */
  readonly reliableProvisionals: boolean;
  /** The caller requires them: every 18x goes reliably, and an answer in one completes the offer/answer (§5). */
  readonly reliableRequired: boolean;
  header(name: string): string | undefined;
  /**
   * Every value of a header as received, one per header line, in order
   * (repeated headers kept apart; compact forms and folding handled): what
   * reading untrusted headers needs. Empty when absent.
   */
  headerLines(name: string): readonly string[];
  /** Aborted when the caller CANCELs before our final response. */
  readonly cancelled: AbortSignal;
  readonly finalResponseSent: boolean;
  /**
   * 180/183 (with SDP for early media). Ignored once a final response went out.
   * `reliable` asks for RFC 3262 delivery (the SIP server adds RSeq and waits
   * for the PRACK) when the caller offered 100rel; a caller that requires it
   * gets every 18x reliably anyway.
   */
  progress(status: 180 | 183, options?: { readonly sdp?: string; readonly headers?: Headers; readonly reliable?: boolean }): void;
  /** 200 with our answer; resolves with the caller's leg once the 200 is sent. */
  answer(sdp: string, headers?: Headers): Promise<SipLeg>;
  /**
   * Delayed offer: 200 with our offer; resolves with the leg and the caller's
   * answer from its ACK, or without one when the caller hung up, never ACKed,
   * or ACKed without an answer (RFC 3261 §13.2.2.4, RFC 3264 §4: it must carry one).
   */
  answerWithOffer(offer: string, headers?: Headers): Promise<AnsweredWithOffer>;
  /** Sends a final failure response unless one was sent already (a list header goes out as several fields). */
  reject(status: number, reason: string, headers?: Readonly<Record<string, string | readonly string[]>>): void;
}

/**
 * Why a dial was given up, sent as the RFC 3326 Reason of its CANCEL: abort a
 * dial's signal with one. Any other abort (the caller left, the engine stops)
 * sends the CANCEL without a Reason.
 */
/** RFC 3261 §21.6 reason phrases. */
const GLOBAL_FAILURES: Readonly<Record<number, string>> = { 600: 'Busy Everywhere', 603: 'Decline', 604: 'Does Not Exist Anywhere', 606: 'Not Acceptable' };

export class DialGivenUp extends Error {
  private constructor(
    /** The Reason header's value. */
    readonly reasonHeader: string,
    message: string,
  ) {
    super(message);
    this.name = 'DialGivenUp';
  }

  /** Another device of the agent took the call: phones then show no missed call. */
  static completedElsewhere(): DialGivenUp {
    return new DialGivenUp('SIP;cause=200;text="Call completed elsewhere"', 'answered elsewhere');
  }

  /**
   * Another device of the agent answered with a 6xx, the user's final word (RFC 3261 §21.6; a forking
   * proxy cancels its other branches then, §16.7 step 5): the CANCEL says which (RFC 3326).
   */
  static globalFailure(status: number): DialGivenUp {
    const text = GLOBAL_FAILURES[status] ?? 'Global Failure';
    return new DialGivenUp(`SIP;cause=${status};text="${text}"`, `${status} ${text} at another device`);
  }

  /** The ring time ran out (Q.850 cause 19: no answer from user, user alerted). */
  static noAnswer(): DialGivenUp {
    return new DialGivenUp('Q.850;cause=19;text="No answer"', 'ring timeout');
  }

  /**
   * The caller's CANCEL said why (RFC 3326), e.g. `SIP;cause=200;text="Call completed elsewhere"` from
   * a forking proxy whose other branch answered: the agents' CANCELs say it on, so their phones show
   * no missed call, as a proxy passes it (RFC 3261 §16.10). Only a well-formed SIP or Q.850 reason,
   * printable and short, is passed on; anything else is none.
   */
  static fromCancel(reasonHeader: string | undefined): DialGivenUp | undefined {
    const value = reasonHeader?.split(/,(?=\s*(?:SIP|Q\.850)\s*;)/i)[0]?.trim();
    if (value === undefined || value.length > 160 || !/^(?:SIP|Q\.850)\s*;\s*cause=\d{1,3}(?:\s*;\s*text="[\x20\x21\x23-\x7e]*")?$/i.test(value)) return undefined;
    return new DialGivenUp(value, 'the caller cancelled');
  }
}

/** Where a new request goes: its Request-URI and, for a contact registered through proxies, their Path as a preloaded route set. */
export interface DialTarget {
  readonly target: string;
  /** A preloaded route set (RFC 3261 §8.1.2; a registered contact's Path, RFC 3327): Route values, first hop first. */
  readonly route?: readonly string[];
  /**
   * Send the request to this address instead of the target's host, the Request-URI unchanged: an
   * outbound proxy, or where a UDP phone behind NAT registered from (its Contact's address is private).
   */
  readonly proxy?: string;
}

export interface DialOptions extends DialTarget {
  /** Our offer; undefined sends the INVITE without SDP (delayed offer). */
  readonly offer: string | undefined;
  readonly headers?: Headers;
  /** Shown to the callee as From; a withheld identity is not passed: From is then `"Anonymous" <sip:anonymous@anonymous.invalid>` (RFC 3323 §4.1.1.3). */
  readonly caller?: CallerIdentity;
  /** Digest credentials for a 401/407 challenge (RFC 2617, RFC 8760). */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Aborting cancels the attempt (CANCEL while ringing, with a Reason when the abort's reason is a DialGivenUp; BYE if the answer crossed the abort). */
  readonly signal: AbortSignal;
  /** A 1xx from the callee; `reliable` when it came with RSeq (RFC 3262; drachtio-srf PRACKs it). */
  readonly onProgress?: (status: number, sdp: string | undefined, reliable: boolean) => void;
}

export type DialResult =
  | { readonly kind: 'answered'; readonly leg: SipLeg }
  /** Delayed offer answered with the callee's offer: `complete` ACKs with our answer. */
  | {
      readonly kind: 'offered';
      readonly offer: string;
      readonly complete: (answer: string) => Promise<SipLeg>;
      readonly abandon: () => Promise<void>;
    }
  | {
      readonly kind: 'failed';
      readonly status: number;
      readonly reason: string;
      /**
       * The SIP server refused to send the request (a target it cannot reach from here: a URI it cannot
       * route, a WebSocket address with no open connection): nothing was contacted; `reason` says why,
       * and `status` is 503, as for a transport error on any transport (RFC 3261 §8.1.3.1).
       */
      readonly notSent?: boolean;
      /** The far end's Reason header field on its final response (RFC 3326, RFC 6432: a Q.850 cause), when it gave one. */
      readonly reasonHeader?: string;
    };

/**
 * A request outside a dialog that the engine answers itself with one final
 * response (REGISTER for the registrar).
 */
export interface InboundRequest {
  readonly method: string;
  readonly uri: string;
  readonly callId: string;
  readonly source: SignalingSource;
  /** Every value of a header, one per header field as received (repeated fields kept apart, RFC 3261 §7.3.1), compact forms included. */
  headerLines(name: string): readonly string[];
  /**
   * The final response. A header given as a list goes out as that many header
   * fields (WWW-Authenticate challenges must not be combined, RFC 3261 §7.3.1).
   */
  respond(status: number, reason: string, headers?: Readonly<Record<string, string | readonly string[]>>): void;
}

export interface SipPort {
  dial(options: DialOptions): Promise<DialResult>;
  /**
   * An OPTIONS to `target` outside any dialog (keep-alive towards a registered
   * device): resolves with the final status, or undefined when none came
   * within `timeoutMs` (a 408 of the SIP server's own transaction timeout too).
   */
  ping(target: string, timeoutMs: number, route?: readonly string[], proxy?: string): Promise<number | undefined>;
}

/** Digits a DTMF event code stands for (RFC 4733 §3.2: 0-9, 10 = *, 11 = #, 12-15 = A-D). */
export function digitOfEvent(event: number): string | undefined {
  if (event >= 0 && event <= 9) return String(event);
  return ({ 10: '*', 11: '#', 12: 'A', 13: 'B', 14: 'C', 15: 'D' } as Record<number, string>)[event];
}
