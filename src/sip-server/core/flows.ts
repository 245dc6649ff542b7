/**
 * Reaching a registered client over the connection it registered on
 * (drachtio spec §2.9; the idea of RFC 5626 flows, keyed by the Contact
 * rather than by a flow token). When an app answers 2xx to a REGISTER or
 * SUBSCRIBE that came over TCP, TLS, WS or WSS, each Contact of the request
 * is remembered with that connection until it expires, is unregistered
 * (expires 0) or the connection closes; not when the request came through a
 * proxy (two Vias, or a Path). A later request whose Request-URI is
 * such a Contact goes over that connection: the only way to reach a browser
 * (its Contact host is `*.invalid`, RFC 7118 §5.2) and the right one for a
 * phone behind NAT.
 */
import { parseNameAddr } from '../message/name-addr.js';
import type { SipHeaders } from '../message/sip-message.js';
import { parseSipUri, type SipUri } from '../message/uri.js';
import type { Destination, Flow } from '../transport/types.js';

/** Contacts kept per connection: a client registers a handful; more is an abuse. */
const MAX_PER_CONNECTION = 32;
const DEFAULT_EXPIRES = 3600;

interface Entry {
  readonly dest: Destination;
  readonly expiresAt: number;
}

/** `user@host:port` as written in the URI (port empty when absent); parameters do not matter. */
export function flowKey(uri: SipUri): string {
  return `${uri.user ?? ''}@${uri.host}:${uri.port ?? ''}`;
}

/** RFC 6761 §6.4: `.invalid` names never resolve; only a known flow reaches them. */
export function isInvalidHost(host: string): boolean {
  return host === 'invalid' || host.endsWith('.invalid');
}

export class FlowRegistry {
  private readonly byKey = new Map<string, Entry>();
  private readonly byConnection = new Map<number, Set<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.byKey.size;
  }

  /**
   * After a 2xx to REGISTER/SUBSCRIBE received over `flow`: remember (or, at
   * expires 0, forget) each Contact of `request`; `response` may shorten an
   * expiry (a registrar's Contact carries the granted `expires`).
   */
  record(request: SipHeaders, response: SipHeaders, flow: Flow): void {
    if (flow.transport === 'udp' || flow.connectionId === undefined) return;
    // Through a proxy (a second Via), the connection is the proxy's, not the client's: the contact is
    // reached through the proxy (its Path, RFC 3327), and a flow it had before is forgotten.
    const direct = request.entries('via').length <= 1 && !request.has('path');
    const headerExpires = parseExpires(request.get('expires') ?? undefined);
    const granted = new Map<string, number>();
    for (const c of response.entries('contact')) {
      const na = parseNameAddr(c);
      const uri = na !== undefined ? parseSipUri(na.uri) : undefined;
      const e = parseExpires(na?.params.get('expires') ?? undefined);
      if (uri !== undefined && e !== undefined) granted.set(flowKey(uri), e);
    }
    for (const c of request.entries('contact')) {
      if (c.trim() === '*') {
        this.forgetConnection(flow.connectionId);
        continue;
      }
      const na = parseNameAddr(c);
      const uri = na !== undefined ? parseSipUri(na.uri) : undefined;
      if (uri === undefined) continue;
      const key = flowKey(uri);
      const expires = granted.get(key) ?? parseExpires(na?.params.get('expires') ?? undefined) ?? headerExpires ?? DEFAULT_EXPIRES;
      if (expires === 0 || !direct) this.forget(key);
      else this.remember(key, flow, expires);
    }
  }

  private remember(key: string, flow: Flow, expires: number): void {
    const id = flow.connectionId!;
    if (!(this.byConnection.get(id)?.has(key) ?? false) && (this.byConnection.get(id)?.size ?? 0) >= MAX_PER_CONNECTION) return;
    // Forgotten first (a refresh, or the contact moving from another connection): forgetting may drop this
    // connection's set when the key was its only one, so the set is looked up after.
    this.forget(key);
    let keys = this.byConnection.get(id);
    if (keys === undefined) {
      keys = new Set();
      this.byConnection.set(id, keys);
    }
    keys.add(key);
    const dest: Destination = { transport: flow.transport, address: flow.address, port: flow.port, connectionId: id };
    this.byKey.set(key, { dest, expiresAt: this.now() + expires * 1000 });
  }

  private forget(key: string): void {
    const old = this.byKey.get(key);
    if (old === undefined) return;
    this.byKey.delete(key);
    const keys = this.byConnection.get(old.dest.connectionId!);
    keys?.delete(key);
    if (keys?.size === 0) this.byConnection.delete(old.dest.connectionId!);
  }

  /** The connection closed: nothing can reach its clients any more. */
  forgetConnection(connectionId: number): void {
    const keys = this.byConnection.get(connectionId);
    if (keys === undefined) return;
    this.byConnection.delete(connectionId);
    for (const k of keys) this.byKey.delete(k);
  }

  /** Where a request to `uri` goes when it belongs to a known flow. */
  lookup(uri: SipUri): Destination | undefined {
    const key = flowKey(uri);
    const e = this.byKey.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.now()) {
      this.forget(key);
      return undefined;
    }
    return e.dest;
  }
}

function parseExpires(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*\d{1,10}\s*$/.test(text)) return undefined;
  return Number(text.trim());
}
