/**
 * Reading what drachtio-srf reports when a request fails: the final status
 * and Reason of the far end's response (its SipError), the SIP server's own
 * refusals (NOK text), and the challenges of a 401/407.
 */
import type Srf from 'drachtio-srf';
import { splitChallenges } from './digest-auth.js';
import { SipFailure } from './sip-port.js';

type SrfResponse = Srf.SrfResponse;
type SrfRequest = Srf.SrfRequest;

/** drachtio-srf rejects createUAC/createUAS with a SipError carrying the final status. */
export function sipStatusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'status' in err) {
    const s = (err).status;
    if (typeof s === 'number') return s;
  }
  return undefined;
}

/** The Reason header field of a final response from the far end (drachtio-srf's SipError carries the response). */
export function reasonHeaderOf(res: SrfResponse | undefined): { reasonHeader?: string } {
  if (res === undefined || typeof res.has !== 'function' || !res.has('Reason')) return {};
  const value = res.get('Reason').trim();
  return value !== '' ? { reasonHeader: value } : {};
}

export function reasonOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'reason' in err && typeof (err).reason === 'string') return (err as { reason: string }).reason;
  return err instanceof Error ? err.message : String(err);
}

/**
 * What a request the SIP server refused or the far end answered means for
 * the call. The SIP server's own refusals (NOK) carry text only; three are
 * the far end's doing, not ours: no PRACK to our reliable 18x (RFC 3262 §3;
 * the server answered 500 itself: the caller did not acknowledge, like a
 * missing ACK), an INVITE it no longer knows (a CANCEL crossed our 2xx, RFC
 * 3261 §9.2; the server answered 487), and a re-INVITE it would not send
 * while another is pending in the dialog (glare, RFC 3261 §14.1: 491).
 */
export function sipFailureFromServer(err: unknown): SipFailure {
  const status = sipStatusOf(err);
  const reason = reasonOf(err);
  if (status !== undefined) return new SipFailure(status, reason);
  if (/waited for a PRACK/i.test(reason)) return new SipFailure(408, 'caller did not acknowledge');
  if (/unknown transaction/i.test(reason)) return new SipFailure(487, 'Request Terminated');
  if (/INVITE transaction is already in progress/i.test(reason)) return new SipFailure(491, 'Request Pending');
  return new SipFailure(500, reason);
}

/** The challenge response a failed createUAC carries (drachtio-srf puts it on the SipError as `res`). */
export function challengeOf(err: unknown): { res: SrfResponse; req: SrfRequest } | undefined {
  const res = (err as { res?: SrfResponse & { req?: SrfRequest } } | null)?.res;
  if (res === undefined || res.req === undefined || (res.status !== 401 && res.status !== 407)) return undefined;
  return { res, req: res.req };
}

/** Every challenge of a 401/407: drachtio-srf joins repeated headers with commas, challenges contain commas too. */
export function challengeValues(res: SrfResponse): string[] {
  const header = res.status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
  return res.has(header) ? splitChallenges(res.get(header)) : [];
}

/** Challenged BYEs sent again with credentials, at most (one per challenger and a stale nonce, as for the INVITE). */
