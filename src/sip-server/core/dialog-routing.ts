/**
 * Where the server's own messages go, and the requests it builds inside a
 * dialog: responses by RFC 3261 §18.2.2 (with RFC 3581 rport); in-dialog
 * requests by §12.2.1.1 and §8.1.2 (the route set, a strict first hop, the
 * remote target), over a registered client's flow where it has one
 * (RFC 5626 §5.3).
 */
import type { MessageInfo } from '../message/parser.js';
import { parseNameAddr } from '../message/name-addr.js';
import { SipHeaders, type HeaderField, type SipRequest } from '../message/sip-message.js';
import { parseSipUri } from '../message/uri.js';
import { literalDestination, resolveUri } from '../transport/resolver.js';
import type { TransportLayer } from '../transport/transport-layer.js';
import type { Destination, Flow } from '../transport/types.js';
import type { Dialog } from './core-state.js';
import type { FlowRegistry } from './flows.js';
import { newBranch } from './ids.js';
import { contactFor, isSips, viaFor } from './message-builder.js';
import { leavingFrom } from './nat-destination.js';

/** RFC 3261 §18.2.2 (with RFC 3581): where responses to a request go. */
export function responseDestination(flow: Flow, info: MessageInfo): Destination {
  if (flow.transport !== 'udp') {
    // Over the request's connection; should it close, a new one to the received address and the
    // sent-by port (TCP and TLS; the server never opens a WebSocket).
    const sentBy = flow.transport === 'tcp' || flow.transport === 'tls' ? { sentByPort: info.via.port ?? (flow.transport === 'tls' ? 5061 : 5060) } : {};
    return { transport: flow.transport, address: flow.address, port: flow.port, listenerId: flow.listener.id, ...(flow.connectionId !== undefined ? { connectionId: flow.connectionId } : {}), ...sentBy };
  }
  // From the address and port the request was sent to (RFC 3581 §4): a peer behind NAT, or one that
  // uses a connected socket, takes nothing from another.
  const rport = info.via.params.has('rport');
  return { transport: 'udp', address: flow.address, port: rport ? flow.port : (info.via.port ?? 5060), listenerId: flow.listener.id };
}

/** Destinations and requests of the dialogs the server holds. */
export class DialogRouting {
  constructor(
    private readonly transport: TransportLayer,
    private readonly flows: FlowRegistry,
  ) {}

  /** Where an in-dialog request goes: the first route, else the remote target (RFC 3261 §12.2.1.1, §8.1.2). */
  async destination(d: Dialog): Promise<Destination | string> {
    if (d.dest !== undefined) {
      const id = d.dest.connectionId;
      if (id === undefined || this.transport.connection(id) !== undefined) return d.dest;
      // Its connection is gone: a client that registered again is reached over its new one (RFC 5626 §5.3);
      // else the route set or remote target below, over a new connection (§18.1.1). The closed
      // connection's far port was the peer's ephemeral one: nothing listens there.
      const target = parseSipUri(d.remoteTarget);
      const again = target !== undefined ? this.flows.lookup(target) : undefined;
      if (again !== undefined) return (d.dest = again);
      // A WebSocket client is reached over its own connection only (the server never opens one): the
      // send fails at once and the app hears so (503).
      if (d.dest.transport === 'ws' || d.dest.transport === 'wss') return d.dest;
      d.dest = undefined;
    }
    const first = d.routeSet[0];
    const na = first !== undefined ? parseNameAddr(first) : undefined;
    const target = parseSipUri(na?.uri ?? d.remoteTarget);
    if (target === undefined) return `cannot route to ${na?.uri ?? d.remoteTarget}`;
    const known = this.flows.lookup(target) ?? literalDestination(target);
    if (known !== undefined) return leavingFrom(d.listener, known);
    const r = await resolveUri(target);
    if (!r.ok) return r.reason;
    return leavingFrom(d.listener, r.targets[0]!);
  }

  /**
   * A request inside a dialog (RFC 3261 §12.2.1.1): Route from the route set
   * (rewritten for a strict first hop); `cseq` defaults to the next local number.
   */
  build(d: Dialog, method: string, opts: { uri?: string; cseq?: number; headers?: readonly HeaderField[]; body?: Buffer }): SipRequest {
    const h = new SipHeaders();
    h.append('Via', viaFor(d.dest !== undefined ? (this.transport.listenerFor(d.dest) ?? d.listener) : d.listener, newBranch()));
    h.append('Max-Forwards', '70');
    const target = opts.uri ?? d.remoteTarget;
    let uri = target;
    const strict = strictRouteUri(d.routeSet[0]);
    if (strict !== undefined) {
      // A strict router (no lr, RFC 2543) expects itself in the Request-URI and the target as the last Route.
      uri = strict;
      for (const r of d.routeSet.slice(1)) h.append('Route', r);
      h.append('Route', `<${target}>`);
    } else {
      for (const r of d.routeSet) h.append('Route', r);
    }
    h.append('From', d.localHeader);
    h.append('To', d.remoteHeader);
    h.append('Call-ID', d.callId);
    let cseq: number;
    if (method === 'ACK' || method === 'CANCEL') cseq = opts.cseq ?? d.localCSeq;
    else {
      cseq = opts.cseq ?? d.localCSeq + 1;
      d.localCSeq = Math.max(d.localCSeq, cseq);
    }
    h.append('CSeq', `${cseq} ${method}`);
    const given = opts.headers ?? [];
    if ((method === 'INVITE' || method === 'SUBSCRIBE' || method === 'REFER' || method === 'UPDATE') && !given.some((f) => f.key === 'contact')) {
      h.append('Contact', contactFor(d.listener, isSips(d.remoteTarget) || isSips(d.routeSet[0])));
    }
    for (const f of given) h.fields.push(f);
    return { kind: 'request', method, uri, headers: h, body: opts.body ?? Buffer.alloc(0) };
  }

  /**
   * Our Via names the listener the request really leaves from (RFC 3261
   * §18.1.1, §18.2.2), which for an in-dialog request is known only once its
   * destination is (a target on another transport than the dialog began on).
   */
  setVia(request: SipRequest, dest: Destination): void {
    const listener = this.transport.listenerFor(dest);
    const field = request.headers.fields.find((f) => f.key === 'via');
    if (listener === undefined || field === undefined) return;
    field.value = viaFor(listener, parseBranch(field.value));
  }
}

/**
 * The Request-URI for a route set whose first entry is a strict router (its
 * URI has no `lr`, RFC 3261 §12.2.1.1): that URI without the parts a
 * Request-URI may not carry (header fields, `method`); undefined when the
 * first entry is a loose router or there is none.
 */
export function strictRouteUri(first: string | undefined): string | undefined {
  if (first === undefined) return undefined;
  const uri = parseNameAddr(first)?.uri;
  if (uri === undefined) return undefined;
  const parsed = parseSipUri(uri);
  if (parsed === undefined || parsed.params.has('lr')) return undefined;
  return uri.replace(/\?.*$/, '').replace(/;method=[^;]*/i, '');
}

export function parseBranch(via: string): string {
  const m = /;\s*branch\s*=\s*([^;,\s]+)/i.exec(via);
  return m?.[1] ?? '';
}

