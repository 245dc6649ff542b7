/**
 * Who a carrier gateway is told is calling when a call is sent on through an
 * outbound trunk (the phone-number deflection):
 *
 * - From: the trunk's `callerId` when configured, else the caller's number
 *   (E.164 as received); a withheld caller is `"Anonymous"
 *   <sip:anonymous@anonymous.invalid>` (RFC 3323 §4.1.1.3; the SIP port writes
 *   it for any withheld identity).
 * - Privacy: `id` when the caller withheld its identity and the gateway would
 *   otherwise learn it (an anonymous From, or a passed P-Asserted-Identity),
 *   so the next hop keeps it from untrusted ones (RFC 3323 §4.2, RFC 3325 §9.3).
 * - P-Asserted-Identity: passed on only when it came from a trusted inbound
 *   trunk and the outbound trunk is configured as trusted (`trustedIdentity`):
 *   RFC 3325 §5 and §7 give it only to hops inside the trust domain. It is
 *   copied as received when it is one or two well-formed values (at most one
 *   sip/sips and one tel URI, §9.1), printable ASCII, at most 256 bytes; else
 *   none is sent (never a doubtful assertion).
 */
import type { OutboundTrunk } from './outbound-trunks.js';
import type { CallerIdentity } from './signaling/sip-port.js';

export interface OutboundIdentity {
  /** The identity for the From header (withheld: anonymous). */
  readonly caller: CallerIdentity;
  /** Privacy and P-Asserted-Identity, when they go. */
  readonly headers: Readonly<Record<string, string>>;
  /** Why a received P-Asserted-Identity was not passed on (for the log), when one was received. */
  readonly assertionDropped: string | undefined;
}

const MAX_PAI_BYTES = 256;
/** A name-addr with a sip, sips or tel URI: an optional quoted display name without quote or backslash, or a token one. */
const NAME_ADDR = /^(?:"[\x20\x21\x23-\x5b\x5d-\x7e]*"[ \t]*|[A-Za-z0-9\-.!%*_+`'~]+(?:[ \t]+[A-Za-z0-9\-.!%*_+`'~]+)*[ \t]*)?<((?:sips?|tel):[\x21\x23-\x3b\x3d\x3f-\x7e]+)>$/i;
/** An addr-spec without parameters (a comma or semicolon would belong to the header, not the URI). */
const ADDR_SPEC = /^((?:sips?|tel):[\x21\x23-\x2b\x2d-\x3a\x3d\x3f-\x7e]+)$/i;

/** The values of P-Asserted-Identity header lines, split at commas outside quotes and angle brackets. */
function splitValues(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let quoted = false;
    let angle = false;
    let start = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quoted) {
        if (c === '"') quoted = false;
      } else if (c === '"') quoted = true;
      else if (c === '<') angle = true;
      else if (c === '>') angle = false;
      else if (c === ',' && !angle) {
        out.push(line.slice(start, i).trim());
        start = i + 1;
      }
    }
    out.push(line.slice(start).trim());
  }
  return out;
}

/** The received assertion as it may be passed on, or why not. */
export function checkedAssertion(lines: readonly string[]): { readonly value: string } | { readonly refused: string } {
  const joined = lines.join(', ');
  if (Buffer.byteLength(joined) > MAX_PAI_BYTES) return { refused: `longer than ${MAX_PAI_BYTES} bytes` };
  const values = splitValues(lines);
  if (values.length > 2) return { refused: 'more than two identities' };
  const schemes: string[] = [];
  for (const v of values) {
    const uri = NAME_ADDR.exec(v)?.[1] ?? ADDR_SPEC.exec(v)?.[1];
    if (uri === undefined) return { refused: 'not a sip, sips or tel name-addr' };
    schemes.push(/^tel:/i.test(uri) ? 'tel' : 'sip');
  }
  if (schemes.length === 2 && schemes[0] === schemes[1]) return { refused: 'two identities of the same kind (RFC 3325 §9.1)' };
  return { value: values.join(', ') };
}

export function outboundIdentity(
  caller: CallerIdentity,
  trunk: Pick<OutboundTrunk, 'callerId' | 'trustedIdentity'>,
  inbound: { readonly trusted: boolean; readonly assertedIdentity: readonly string[] },
): OutboundIdentity {
  const from: CallerIdentity = trunk.callerId !== undefined ? { number: trunk.callerId, name: undefined, withheld: false } : caller;
  const headers: Record<string, string> = {};
  let assertionDropped: string | undefined;
  if (inbound.assertedIdentity.length > 0) {
    if (!inbound.trusted) assertionDropped = 'the inbound trunk is not trusted';
    else if (!trunk.trustedIdentity) assertionDropped = 'the outbound trunk is not trusted with identities (trustedIdentity)';
    else {
      const checked = checkedAssertion(inbound.assertedIdentity);
      if ('value' in checked) headers['P-Asserted-Identity'] = checked.value;
      else assertionDropped = checked.refused;
    }
  }
  if (caller.withheld && (from.withheld || headers['P-Asserted-Identity'] !== undefined)) headers.Privacy = 'id';
  return { caller: from, headers, assertionDropped };
}
