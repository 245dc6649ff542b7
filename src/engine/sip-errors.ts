/**
 * The one place where the engine's reasons for refusing a call become SIP
 * responses (RFC 3261 §21): code names a reason or throws; this file picks the
 * status and phrase. 500 is only for our own bugs.
 */
import { ErrorCodes, SwitchboardError } from '../errors.js';
import { MediaOfferRefusedError } from '../media/index.js';
import { SipFailure } from './signaling/sip-port.js';

export const RejectReasons = {
  /** The dialed number selects no queue. */
  UNKNOWN_NUMBER: { status: 404, phrase: 'Not Found' },
  /** Max-Forwards reached zero: a routing loop through us (RFC 3261 §16.3, applied by this B2BUA). */
  TOO_MANY_HOPS: { status: 483, phrase: 'Too Many Hops' },
  /** Every agent was tried (or the queue has none). */
  NO_AGENT: { status: 480, phrase: 'No Agent Available' },
  /** The media relay refused the caller's SDP (no common codec, unparsable). */
  MEDIA_REFUSED: { status: 488, phrase: 'Not Acceptable Here' },
  /** No media relay can take the call right now. */
  MEDIA_UNAVAILABLE: { status: 503, phrase: 'Media Relay Unavailable' },
  /**
   * The gateway of a phone-number deflection rang (180/183) and did not answer within its trunk's
   * ringTimeoutSeconds: Q.850 cause 19 "no answer from the user", 480 (RFC 3398 §8.2.6.1).
   */
  GATEWAY_NO_ANSWER: { status: 480, phrase: 'Temporarily Unavailable' },
  /** The gateway sent nothing past 100 Trying within ringTimeoutSeconds: cause 18 "no user responding", 408 (RFC 3398 §8.2.6.1). */
  GATEWAY_TIMEOUT: { status: 408, phrase: 'Request Timeout' },
  /** A deflection needs audio and the engine runs without a media plane. */
  NO_MEDIA_PLANE: { status: 480, phrase: 'Temporarily Unavailable' },
  /** A bug or an unexpected failure inside the engine. */
  INTERNAL: { status: 500, phrase: 'Server Internal Error' },
  /**
   * A prompt the call needs was not found among the configured ones: our fault, logged as an error.
   * CHOICE: 500, not 488 (RFC 3261 §21.4.26: the offer's session description) nor 503 (§21.5.4: a
   * temporary state, which another try or another node would not cure either).
   */
  PROMPT_MISSING: { status: 500, phrase: 'Server Internal Error' },
  /** The engine is stopping or draining. */
  SHUTTING_DOWN: { status: 503, phrase: 'Service Unavailable' },
  /** No inbound trunk claims the source, and unknown sources are refused (trunks.unknownSources). */
  UNKNOWN_SOURCE: { status: 403, phrase: 'Forbidden' },
  /** The trunk may not call the dialed number (trunks.inbound[].numbers). */
  NUMBER_NOT_ALLOWED: { status: 403, phrase: 'Forbidden (number not allowed on this trunk)' },
  /** The trunk is over its call rate. */
  TRUNK_RATE_LIMIT: { status: 503, phrase: 'Service Unavailable (trunk call rate exceeded)' },
  /** The trunk has as many live calls as it may. */
  TRUNK_CALL_LIMIT: { status: 503, phrase: 'Service Unavailable (trunk concurrent calls exceeded)' },
  /** Sources no trunk claims are over their shared call rate (trunks.unknownSourceLimits). */
  UNKNOWN_SOURCES_RATE_LIMIT: { status: 503, phrase: 'Service Unavailable (call rate for unknown sources exceeded)' },
  /** Sources no trunk claims have as many live calls as they may. */
  UNKNOWN_SOURCES_CALL_LIMIT: { status: 503, phrase: 'Service Unavailable (concurrent calls for unknown sources exceeded)' },
} as const;

export type RejectReason = keyof typeof RejectReasons;

export function failure(reason: RejectReason, detail?: string): SipFailure {
  const r = RejectReasons[reason];
  return new SipFailure(r.status, detail !== undefined ? `${r.phrase} (${safePhrase(detail).slice(0, 80)})` : r.phrase);
}

/** The SIP failure an error stands for when a call cannot go on. */
export function sipFailureOf(err: unknown): SipFailure {
  if (err instanceof SipFailure) return err;
  if (err instanceof MediaOfferRefusedError) {
    // RFC 3261 §21.4.26, §20.43: 488 with a Warning saying what in the offer could not be served.
    const text = safePhrase(err.reason).replace(/["\\]/g, '');
    return new SipFailure(RejectReasons.MEDIA_REFUSED.status, `${RejectReasons.MEDIA_REFUSED.phrase} (${text.slice(0, 80)})`, { Warning: `${err.warning} switchboard "${text}"` });
  }
  if (err instanceof SwitchboardError) {
    switch (err.code) {
      case ErrorCodes.PROMPT_MISSING:
        return failure('PROMPT_MISSING', err.message);
      case ErrorCodes.RTPENGINE_ERROR: {
        // The media relay refused the SDP (it could not parse it, an address or port out of range):
        // 399, a miscellaneous warning, with what it said (RFC 3261 §20.43).
        const reason = (err as { reason?: unknown }).reason;
        const text = safePhrase(typeof reason === 'string' ? reason : err.message).replace(/["\\]/g, '');
        // Not the offer's fault: the relay has no ports left. A 488 would make the carrier drop the call
        // as unservable; a 503 with Retry-After sends it to another node or back later (§21.5.4).
        if (RELAY_FULL.test(text)) return relayUnavailable(text);
        const f = failure('MEDIA_REFUSED', text);
        return new SipFailure(f.status, f.reason, { Warning: `399 switchboard "${text}"` });
      }
      case ErrorCodes.MEDIA_STATE: {
        const reason = (err as { reason?: unknown }).reason;
        return failure('MEDIA_REFUSED', typeof reason === 'string' ? reason : err.message);
      }
      case ErrorCodes.RTPENGINE_TIMEOUT:
      case ErrorCodes.RTPENGINE_CLOSED:
      case ErrorCodes.RTPENGINE_UNAVAILABLE:
      case ErrorCodes.RTPENGINE_PROTOCOL:
        return relayUnavailable();
    }
  }
  return failure('INTERNAL');
}

/**
 * Statuses a gateway gives about our request to it, not about the callee: passed on, they would tell
 * the caller's carrier that its own INVITE was malformed, too large, lacked an extension or came too
 * fast (RFC 3261 §21.4; RFC 4028 §6 for 422, RFC 6585 §6 for 429, RFC 3261 §21.4.20 for 423).
 */
const ABOUT_OUR_REQUEST = new Set([400, 405, 413, 414, 415, 416, 420, 421, 422, 423, 428, 429, 494]);

/**
 * What the caller gets when the gateway of a phone-number deflection refuses the call. A B2BUA passes
 * on what the callee's side said (busy, not found, declined, unavailable), except:
 * - 503: it would tell the caller's carrier that Switchboard itself is out of service, so the carrier
 *   fails over or stops routing to us; a proxy turns it into 500 (RFC 3261 §16.7 step 6, §21.5.4);
 * - 401/407 left after our credentials were sent: our trunk's configuration, 500, never a challenge
 *   the caller could answer;
 * - a status about our request to the gateway ({@link ABOUT_OUR_REQUEST}): 500.
 * A 3xx (we follow no redirection) or a status outside 400–699 is 502 (RFC 3261 §21.5.3).
 */
export function gatewayRefusal(status: number, reason: string, reasonHeader?: string): SipFailure {
  const said = `${status} ${safePhrase(reason).slice(0, 40)}`.trim();
  if (status === 401 || status === 407) return new SipFailure(500, `Server Internal Error (outbound trunk authentication failed: ${said})`);
  if (status === 503) return new SipFailure(500, `Server Internal Error (the gateway is unavailable: ${said})`);
  if (ABOUT_OUR_REQUEST.has(status)) return new SipFailure(500, `Server Internal Error (the gateway refused our request: ${said})`);
  if (status < 400 || status > 699) return new SipFailure(502, `Bad Gateway (the gateway answered ${said})`);
  // The refusal is the called party's: its Reason (a Q.850 cause, RFC 6432) goes with it, for the carrier's mapping to the PSTN.
  const relayed = reasonHeader !== undefined ? relayableReason(reasonHeader) : undefined;
  return new SipFailure(status, status === 408 ? 'Request Timeout' : safePhrase(reason).slice(0, 80) || 'Declined', relayed !== undefined ? { Reason: relayed } : undefined);
}

/** A Reason header value safe to put on our response: one line of printable ASCII, protocol Q.850 or SIP (RFC 3326 §2), bounded. */
function relayableReason(value: string): string | undefined {
  const v = value.trim();
  if (v.length > 200 || /[^\x20-\x7e\t]/.test(v) || !/^(Q\.850|SIP)\s*;/i.test(v)) return undefined;
  return v;
}

/** rtpengine's words when it has no free port pair for a new stream (daemon/media_socket.c). */
const RELAY_FULL = /ran out of ports/i;
/** Seconds a carrier is asked to wait before it tries this node again when the relay cannot take a call. */
const RELAY_RETRY_AFTER_SECONDS = 5;

function relayUnavailable(detail?: string): SipFailure {
  const f = failure('MEDIA_UNAVAILABLE', detail);
  return new SipFailure(f.status, f.reason, { 'Retry-After': String(RELAY_RETRY_AFTER_SECONDS) });
}

/** Phrases go into a status line: keep them to printable ASCII without CR/LF. */
export function safePhrase(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, ' ').slice(0, 120);
}
