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
 * certificate chains to a configured CA (`verifyClient: optional` or
 * `required`), listing the certificate's SIP domain identities (RFC 5922
 * §7.1) and iPAddress subjectAltNames, lower case. Any header of that name a
 * sender wrote is removed first, from every request of every transport, so
 * an app never sees one the server did not write. A real drachtio-server
 * does neither: the engine refuses TLS identity rules unless it runs this
 * server (src/engine/trunks/trunk-config-checks.ts).
 */
import type { SipRequest } from '../message/sip-message.js';
import type { Flow } from '../transport/types.js';

export const TLS_IDENTITY_HEADER = 'X-Switchboard-TLS-Identity';

/** Removes any sender-written identity header from `request`, then writes the flow's verified one, if any. */
export function stampTlsIdentity(request: SipRequest, flow: Flow): void {
  request.headers.remove(TLS_IDENTITY_HEADER);
  const peer = flow.tlsPeer;
  if (peer === undefined || !peer.verified) return;
  const names = [...new Set([...peer.identities, ...peer.addresses])];
  if (names.length > 0) request.headers.append(TLS_IDENTITY_HEADER, names.join(', '));
}
