/** What the transport layer (RFC 3261 §18) tells the layers above about where messages come from and go. */

/** SIP transports (RFC 3261 §18, §26; RFC 7118 for WS and WSS). */
export type TransportProtocol = 'udp' | 'tcp' | 'tls' | 'ws' | 'wss';

/** Transports that run over a TLS session. */
export function isSecureTransport(t: TransportProtocol): boolean {
  return t === 'tls' || t === 'wss';
}

/** The default port of a transport when a URI gives none (RFC 3261 §19.1.2, RFC 7118 §5.2 takes it from the WebSocket URI). */
export function defaultPort(t: TransportProtocol): number {
  return t === 'tls' || t === 'wss' ? 5061 : 5060;
}

/**
 * How the drachtio control protocol names a transport in its meta block
 * (spec §1.7): the reference reports a WebSocket as the stream under it,
 * `tcp` for WS and `tls` for WSS, and drachtio-srf apps only ever see those.
 */
export function wireProtocolName(t: TransportProtocol): 'udp' | 'tcp' | 'tls' {
  if (t === 'ws') return 'tcp';
  if (t === 'wss') return 'tls';
  return t;
}

export interface ListenerInfo {
  readonly id: number;
  readonly transport: TransportProtocol;
  /** Bound address. */
  readonly host: string;
  /** Bound port (the real one when 0 was configured). */
  readonly port: number;
  /** Address written into Via and Contact. */
  readonly advertisedHost: string;
  readonly family: 4 | 6;
}

/**
 * Who is at the other end of a TLS connection, from its certificate (RFC 5922
 * §7.1). `verified` is true only when the certificate chains to a configured
 * CA; the identities are listed either way, for logs, but only verified ones
 * may be trusted (a trunk matching on them must check `verified`).
 */
export interface TlsPeer {
  readonly verified: boolean;
  /** Why verification failed, when it did (OpenSSL's code, e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`). */
  readonly error?: string;
  /** The SIP domain identities of RFC 5922 §7.1: `sip:` URI SANs, else DNS SANs, else the subject CN. */
  readonly identities: readonly string[];
  /** The iPAddress subjectAltNames (for peers known by address rather than domain). */
  readonly addresses: readonly string[];
  /** The subject common name, as written. */
  readonly subjectCN?: string;
  /** SHA-256 fingerprint of the certificate (`AB:CD:…`). */
  readonly fingerprint256?: string;
}

/** The remote end of a message and the local listener it used. */
export interface Flow {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly listener: ListenerInfo;
  /** The connection a message arrived on (responses go back on it, §18.2.2); stream and WebSocket transports. */
  readonly connectionId?: number;
  /** TLS and WSS: the peer's certificate, when it presented one. */
  readonly tlsPeer?: TlsPeer;
}

/** Where to send: a resolved address, and optionally an existing connection to prefer. */
export interface Destination {
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly connectionId?: number;
  /**
   * The listener to send from when no connection is given: the one a request came in on (its
   * responses leave from the address and port it was sent to, RFC 3581 §4), or a dialog's.
   */
  readonly listenerId?: number;
  /**
   * TLS: the name the server's certificate must carry (RFC 5922 §7.2): the
   * host of the URI the request was sent to, not the address it resolved to.
   */
  readonly tlsName?: string;
  /**
   * A response's: the port of its request's Via sent-by, where a new connection goes when the one the
   * request came over has closed (RFC 3261 §18.2.2; `address` is the source, the `received` address).
   */
  readonly sentByPort?: number;
}

export type SendErrorHandler = (error: Error) => void;

/**
 * One connection of a connection-oriented transport (TCP, TLS, WS, WSS), as
 * the transport layer's connection table sees it: responses and later
 * requests find it by id (RFC 3261 §18.2.2, RFC 5626 flows).
 */
export interface SipConnection {
  readonly id: number;
  readonly transport: TransportProtocol;
  readonly address: string;
  readonly port: number;
  readonly listener: ListenerInfo;
  readonly tlsPeer: TlsPeer | undefined;
  readonly closed: boolean;
  send(data: Buffer, onError?: SendErrorHandler): void;
}

let nextConnectionId = 1;

/** Connection ids are unique across every transport of the process. */
export function newConnectionId(): number {
  return nextConnectionId++;
}

/** What every transport reports to the layer above. */
export interface TransportHooks {
  readonly onMessage: (data: Buffer, flow: Flow) => void;
  /**
   * A framing error: the connection closes after this returns (answer 400/513 from `head` if possible;
   * `partial`: only the first lines of a header section too large to end).
   */
  readonly onStreamError: (reason: string, status: number, head: Buffer | undefined, flow: Flow, partial?: boolean) => void;
  /** A connection was opened (inbound or outbound, once usable) or closed. */
  readonly onConnection: (conn: SipConnection, open: boolean) => void;
  /** A connection refused before it carried SIP (failed TLS or WebSocket handshake, bad certificate). */
  readonly onRefused: (transport: TransportProtocol, address: string, reason: string) => void;
}

/** The limits every connection-oriented transport applies alike. */
export interface ConnectionLimits {
  readonly maxMessageBytes: number;
  /** Open connections per listener. */
  readonly maxConnections: number;
  /** Open connections per listener from one source address. */
  readonly maxPerSource: number;
  /** A connection with no traffic at all for this long is closed. */
  readonly idleTimeoutMs: number;
  /** A message started must be complete within this time, or the connection closes (slow senders). */
  readonly messageDeadlineMs: number;
  /** TLS and WebSocket handshakes must finish within this time. */
  readonly handshakeTimeoutMs: number;
  /** WebSocket: ping interval; a client that has not answered the previous ping is dropped (half-open connections). */
  readonly keepAliveMs: number;
  /** Bytes waiting to be written to a peer that does not read; above this the connection is closed. */
  readonly maxBufferedBytes: number;
}
