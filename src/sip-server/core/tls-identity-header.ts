/**
 * The verified TLS identity of a request's connection, told to the app.
 *
 * The drachtio protocol gives an app a request's source address, port and
 * transport, but nothing of the certificate the peer presented, and
 * drachtio-srf reads no leader token past the session token. So the embedded
 * server tells it in a header of the request it hands over:
 *
 *   X-Switchboard-TLS-Identity: sbc.carrier.example, 192.0.2.10
 *
 * present only when the request came over a TLS (or WSS) connection whose
 * certificate verified (`verifyClient: optional` or `required`), listing the
 * certificate's SIP domain identities (RFC 5922 §7.1) and iPAddress
 * subjectAltNames, lower case. Any header a sender wrote under that name is
 * removed first, from every request of every transport, before anything
 * (an app, a CDR) sees the request: spelled in any case, and also
 * percent-escaped, since drachtio-srf unescapes header names
 * (`X%2dSwitchboard-...` would otherwise reach an app as this header). A real
 * drachtio-server does neither: the engine refuses TLS identity rules unless
 * it runs this server (src/engine/trunks/trunk-config-checks.ts).
 */
import type { SipRequest } from '../message/sip-message.js';
import type { Flow } from '../transport/types.js';

export const TLS_IDENTITY_HEADER = 'X-Switchboard-TLS-Identity';
const KEY = TLS_IDENTITY_HEADER.toLowerCase();

/**
 * Whether drachtio-srf would file a header under our name: it decodes percent escapes (`%2d`,
 * `%u0058`) with the global `unescape`, used here too so that the two can never disagree, then
 * compares without case. Most names are neither escaped nor of our length: no string is made.
 */
function isOurs(name: string): boolean {
  if (name.includes('%')) return unescape(name).toLowerCase() === KEY;
  return name.length === KEY.length && name.toLowerCase() === KEY;
}

/** Names a verified certificate may be told by: host names and IP addresses (nothing that could split the list). */
const PLAIN_NAME = /^[a-z0-9.:-]+$/;

/** Removes any sender-written identity header from `request`, then writes the flow's verified one, if any. */
export function stampTlsIdentity(request: SipRequest, flow: Flow): void {
  const fields = request.headers.fields;
  for (let i = fields.length - 1; i >= 0; i--) if (isOurs(fields[i]!.name)) fields.splice(i, 1);
  const peer = flow.tlsPeer;
  if (peer === undefined || !peer.verified) return;
  const names = [...new Set([...peer.identities, ...peer.addresses].map((n) => n.toLowerCase()))].filter((n) => PLAIN_NAME.test(n));
  if (names.length > 0) request.headers.append(TLS_IDENTITY_HEADER, names.join(', '));
}
