/**
 * A kamailio.cfg with the TLS module (Debian's kamailio-tls-modules) for the
 * TLS interoperability tests: Kamailio listens on UDP for callers and on TLS
 * for the engine, and
 * - relays new requests arriving over UDP to the engine over TLS (Kamailio is
 *   then the TLS client, presenting its certificate),
 * - relays new requests arriving over TLS to their Request-URI (the engine
 *   uses it as outbound proxy, `sips:` Route),
 * - answers an OPTIONS for the user `kamailio` itself,
 * - record-routes INVITEs (twice where the transport changes) and follows the
 *   recorded route for in-dialog requests.
 * Both its TLS server and client profiles verify the peer's certificate
 * against the test CA and require one. The script logs one
 * `INTEROP|kind|method|ip|port|proto|target|call-id|cseq` line per decision.
 */
import { PROXY_ROUTE_START } from './kamailio-config.js';
import type { KamailioScript } from './kamailio.js';

export interface KamailioTlsOptions {
  /** Kamailio's own TLS port (its UDP port is the one the runner picks). */
  readonly tlsPort: number;
  /** Where requests arriving over UDP go: the engine's TLS listener (`sip:127.0.0.1:5061;transport=tls`). */
  readonly engine: string;
  /** PEM file paths: Kamailio's certificate and key (server and client side), and the CA it trusts. */
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export function kamailioTlsScript(o: KamailioTlsOptions): KamailioScript {
  return ({ dir, host, port }) => {
    const ctlSocket = `${dir}/ctl.sock`;
    const profile = (side: 'server' | 'client'): string =>
      [
        `[${side}:default]`,
        'method = TLSv1.2+',
        'verify_certificate = yes',
        'require_certificate = yes',
        `private_key = ${o.key}`,
        `certificate = ${o.cert}`,
        `ca_list = ${o.ca}`,
        '',
      ].join('\n');
    const cfg = `#!KAMAILIO
# Generated for Switchboard's TLS interoperability tests (test/interop).
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
enable_tls=yes
listen=udp:${host}:${port}
listen=tls:${host}:${o.tlsPort}

loadmodule "tls.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "ctl.so"

modparam("tls", "config", "${dir}/tls.cfg")
modparam("ctl", "binrpc", "unix:${ctlSocket}")
modparam("tm", "fr_timer", 3000)
modparam("tm", "fr_inv_timer", 30000)

request_route {
${PROXY_ROUTE_START}
  if (is_method("OPTIONS") && $rU == "kamailio") {
    xlog("L_NOTICE", "INTEROP|options|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
    sl_send_reply("200", "OK");
    exit;
  }
  # An initial request with our Route (we are its outbound proxy): drop it, go to the R-URI.
  loose_route();
  if (is_method("INVITE")) record_route();
  if ($pr == "udp") $du = "${o.engine}";
  xlog("L_NOTICE", "INTEROP|initial|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
  if (!t_relay()) sl_reply_error();
}
`;
    return { cfg, ctlSocket, files: { 'tls.cfg': `${profile('server')}\n${profile('client')}` } };
  };
}
