/**
 * A kamailio.cfg for an edge proxy in front of the engine's registrar (RFC
 * 3327), the place a carrier or an SBC takes for phones behind NAT:
 * - a REGISTER gets a Path naming Kamailio, with the address it really came
 *   from (`add_path_received`), and goes to the engine over the transport it
 *   came on;
 * - a request from the engine that Routes through that Path is sent by the
 *   path module to that received address, whatever the Request-URI (the
 *   phone's Contact) says, and INVITEs are record-routed;
 * - in-dialog requests follow the recorded route.
 * Loopback only; one `INTEROP|kind|method|ip|port|proto|target|call-id|cseq`
 * line per routing decision.
 */
import { PROXY_ROUTE_START } from './kamailio-config.js';
import type { KamailioScript } from './kamailio.js';

export interface KamailioPathOptions {
  /** Where REGISTERs that came over UDP go: the engine (`sip:127.0.0.1:5070`). */
  readonly engine: string;
  /** Where REGISTERs that came over TCP go (`sip:127.0.0.1:5070;transport=tcp`). */
  readonly engineTcp: string;
}

export function kamailioPathScript(o: KamailioPathOptions): KamailioScript {
  return ({ dir, host, port }) => {
    const ctlSocket = `${dir}/ctl.sock`;
    const cfg = `#!KAMAILIO
# Generated for Switchboard's interoperability tests (test/interop/kamailio-path.test.ts).
debug=2
log_stderror=yes
fork=yes
children=1
tcp_children=1
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
listen=udp:${host}:${port}
listen=tcp:${host}:${port}

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "path.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "ctl.so"

modparam("ctl", "binrpc", "unix:${ctlSocket}")
modparam("tm", "fr_timer", 2000)
modparam("tm", "fr_inv_timer", 30000)
# A Route carrying the Path's received parameter sends the request there.
modparam("path", "use_received", 1)

request_route {
${PROXY_ROUTE_START}
  if (is_method("REGISTER")) {
    if (!add_path_received()) {
      sl_send_reply("500", "Path not added");
      exit;
    }
    if (proto == TCP) $du = "${o.engineTcp}";
    else $du = "${o.engine}";
    xlog("L_NOTICE", "INTEROP|register|$rm|$si|$sp|$pr|$du|$ci|$cs\\n");
    if (!t_relay()) sl_reply_error();
    exit;
  }
  # A request from the engine, routed through the Path a phone registered with: loose_route()
  # takes our own Route off (the only one, so it reports no next hop), and the path module
  # sets the destination from its received parameter.
  if (is_present_hf("Route")) {
    loose_route();
    if ($du != $null) {
      if (is_method("INVITE")) record_route();
      xlog("L_NOTICE", "INTEROP|path|$rm|$si|$sp|$pr|$du|$ci|$cs\\n");
      if (!t_relay()) sl_reply_error();
      exit;
    }
  }
  xlog("L_NOTICE", "INTEROP|not-routed|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
  sl_send_reply("403", "Not an edge for this");
}
`;
    return { cfg, ctlSocket };
  };
}
