/**
 * How a carrier gateway is told that a call we send it was forwarded: the
 * phone-number deflection presents the caller's number (not ours) on our
 * trunk, and carriers check such a call against the number it was forwarded
 * from (caller-ID policy, STIR/SHAKEN attestation of diverted calls, RFC 8946,
 * builds on these headers). Per outbound trunk, one of:
 *
 * - `history-info` (RFC 7044, standards track): the number the caller dialed
 *   (the Request-URI we received) as entry 1, with why it was retargeted as
 *   an escaped Reason, then the gateway's target as entry 1.1, `mp=1` (the
 *   target was mapped from entry 1: another user) and the RFC 4458 `cause`
 *   (302 unconditional for closed hours, 408 no reply for a queue's overflow);
 * - `diversion` (RFC 5806): the dialed number with `reason=time-of-day` or
 *   `no-answer` and `counter=1`, for carriers that still read only this one;
 * - `none`.
 *
 * Entries name only our number and the target, never the caller, so a
 * withheld caller's privacy is not at stake here (outbound-identity.ts keeps
 * it). CHOICE: History-Info that came with the caller's INVITE is not carried
 * on: the forwarding starts here, and a header from an untrusted source would
 * be ours to vouch for.
 */

export type RetargetingHeader = 'history-info' | 'diversion' | 'none';
/** Why the call is forwarded: the queue is closed (after hours) or its caller waited its maximum (overflow). */
export type RetargetCause = 'closed' | 'overflow';

const CAUSES: Record<RetargetCause, { readonly sip: number; readonly text: string; readonly diversion: string }> = {
  closed: { sip: 302, text: 'Closed', diversion: 'time-of-day' },
  overflow: { sip: 408, text: 'No Answer', diversion: 'no-answer' },
};

/** The URI without URI headers (`?...`), which a header's name-addr must not repeat. */
function withoutHeaders(uri: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? uri : uri.slice(0, q);
}

/** A header value escaped for a URI's header part (RFC 3261 §25.1 hvalue: unreserved and a few marks stay). */
function escapeHvalue(value: string): string {
  return value.replace(/[^A-Za-z0-9\-_.!~*'()[\]/?:+$]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/**
 * The header(s) telling the gateway the call to `target` was forwarded from `dialedUri` (the
 * Request-URI the caller's INVITE came with), for `cause`; empty for `none`.
 */
export function retargetingHeaders(kind: RetargetingHeader, dialedUri: string, target: string, cause: RetargetCause): Record<string, string> {
  const from = withoutHeaders(dialedUri);
  const c = CAUSES[cause];
  switch (kind) {
    case 'history-info': {
      const reason = escapeHvalue(`SIP;cause=${c.sip};text="${c.text}"`);
      return { 'History-Info': `<${from}?Reason=${reason}>;index=1, <${withoutHeaders(target)};cause=${c.sip}>;index=1.1;mp=1` };
    }
    case 'diversion':
      return { Diversion: `<${from}>;reason=${c.diversion};counter=1` };
    case 'none':
      return {};
  }
}
