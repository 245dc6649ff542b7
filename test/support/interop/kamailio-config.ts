/**
 * A minimal kamailio.cfg for the scale-out shape of ARCHITECTURE.md D11:
 * Kamailio in front of N engine nodes, record-routing (RFC 3261 §16.6 item 4)
 * and spreading new INVITEs over the nodes with the dispatcher module, which
 * probes every node with OPTIONS and takes nodes that stop answering out of
 * rotation. Loopback only; everything it writes lives in the given directory.
 *
 * The script logs one `INTEROP|kind|method|ip|port|proto|uri|call-id|cseq`
 * line per routing decision so tests can see which requests really went
 * through the proxy, from where, and (retransmissions aside) which ones.
 */

export interface KamailioConfigOptions {
  /** Directory for the control socket and the dispatcher list. */
  readonly dir: string;
  /** Address Kamailio listens on (UDP and TCP), `127.0.0.1` or `::1`. */
  readonly host: string;
  readonly port: number;
  /** The engine nodes, as SIP URIs (`sip:127.0.0.1:5070`, `…;transport=tcp`). */
  readonly engines: readonly string[];
  /** Seconds between OPTIONS probes of each node. */
  readonly pingIntervalSec: number;
  /** Milliseconds Kamailio waits for a final response to a non-INVITE (and a probe). */
  readonly nonInviteTimeoutMs: number;
  /** Nodes start in rotation before any probe (default: only once they answer one). */
  readonly initiallyActive: boolean;
}

export interface KamailioFiles {
  readonly cfg: string;
  readonly dispatcherList: string;
  readonly ctlSocket: string;
}

/**
 * The start of a request_route shared by the test scripts that are plain
 * proxies (dispatcher, TLS, path): Max-Forwards (483), in-dialog requests along the recorded route
 * (logged `INTEROP|in-dialog|…`; 404 off it, logged `INTEROP|not-routed|…`), CANCEL and retransmissions
 * matched to their transaction.
 */
export const PROXY_ROUTE_START = `  if (!mf_process_maxfwd_header("10")) {
    sl_send_reply("483", "Too Many Hops");
    exit;
  }
  if (has_totag()) {
    if (loose_route()) {
      xlog("L_NOTICE", "INTEROP|in-dialog|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
      if (!t_relay()) sl_reply_error();
      exit;
    }
    if (is_method("ACK")) {
      if (t_check_trans()) t_relay();
      exit;
    }
    xlog("L_NOTICE", "INTEROP|not-routed|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) t_relay();
    exit;
  }
  if (t_precheck_trans()) {
    t_check_trans();
    exit;
  }
  t_check_trans();`;

/** Dispatcher set id used for the engine nodes. */
export const ENGINE_SET = 1;
/** Dispatcher list flags: 1 inactive, 8 probing (send OPTIONS keep-alives). */
const INACTIVE = 1;
const PROBING = 8;

export function kamailioFiles(o: KamailioConfigOptions): KamailioFiles {
  const ctlSocket = `${o.dir}/ctl.sock`;
  const listFile = `${o.dir}/dispatcher.list`;
  const addr = o.host.includes(':') ? `[${o.host}]` : o.host;
  // By default every node starts down: it gets calls only once it has answered an OPTIONS probe.
  const flags = o.initiallyActive ? PROBING : INACTIVE | PROBING;
  const dispatcherList = `${o.engines.map((uri) => `${ENGINE_SET} ${uri} ${flags}`).join('\n')}\n`;
  const cfg = `#!KAMAILIO
# Generated for Switchboard's interoperability tests (test/interop).
debug=2
log_stderror=yes
fork=yes
# One worker per transport: with several, two responses sent back to back (a
# 180 then a 200) can be relayed out of order, which SIPp's scripted callers
# treat as a failed call. Real UAs cope; the tests want exact counts.
children=1
tcp_children=1
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
listen=udp:${addr}:${o.port}
listen=tcp:${addr}:${o.port}

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
loadmodule "dispatcher.so"

modparam("ctl", "binrpc", "unix:${ctlSocket}")
modparam("tm", "fr_timer", ${o.nonInviteTimeoutMs})
modparam("tm", "fr_inv_timer", 30000)
modparam("dispatcher", "list_file", "${listFile}")
# bit 2: keep the other nodes as fail-over candidates for ds_next_dst()
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "ds_ping_interval", ${o.pingIntervalSec})
# probe every node, up or down, so a stopped node is noticed without a call failing first
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_from", "sip:dispatcher@${addr}:${o.port}")

request_route {
${PROXY_ROUTE_START}
  remove_hf("Route");
  if (is_method("INVITE|SUBSCRIBE")) record_route();
  if (!ds_select_dst("${ENGINE_SET}", "4")) {
    xlog("L_NOTICE", "INTEROP|no-engine|$rm|$si|$sp|$pr|$ru|$ci|$cs\\n");
    sl_send_reply("503", "No Engine Available");
    exit;
  }
  xlog("L_NOTICE", "INTEROP|initial|$rm|$si|$sp|$pr|$du|$ci|$cs\\n");
  t_on_failure("NEXT_ENGINE");
  if (!t_relay()) sl_reply_error();
}

# A node that fails or does not answer is marked down (and probed); the call tries the next one.
failure_route[NEXT_ENGINE] {
  if (t_is_canceled()) exit;
  if (t_check_status("503") || (t_branch_timeout() && !t_branch_replied())) {
    ds_mark_dst("ip");
    if (ds_next_dst()) {
      xlog("L_NOTICE", "INTEROP|failover|$rm|$si|$sp|$pr|$du|$ci|$cs\\n");
      t_on_failure("NEXT_ENGINE");
      t_relay();
      exit;
    }
  }
}

event_route[dispatcher:dst-down] {
  xlog("L_NOTICE", "INTEROP|dst-down|$ru\\n");
}

event_route[dispatcher:dst-up] {
  xlog("L_NOTICE", "INTEROP|dst-up|$ru\\n");
}
`;
  return { cfg, dispatcherList, ctlSocket };
}
