/**
 * SIP over TCP (RFC 3261 §18) and over TLS (§26.2, RFC 5922 for the names a
 * certificate must carry): a listening server plus outgoing connections, one
 * connection table for both so a response goes back on the connection its
 * request arrived on (§18.2.2) and requests to a peer reuse an open one. A
 * TLS connection is a TCP stream with a TLS session on it: the framing,
 * limits and defences are the same code.
 */
import { createConnection, createServer, isIP, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { StreamFramer } from '../message/stream-framer.js';
import { AcceptedSockets, normaliseAddress } from './accepted-sockets.js';
import { tlsPeerOf, sipNameMismatch } from './tls-identity.js';
import type { TlsCredentials } from './tls-credentials.js';
import {
  newConnectionId,
  type ConnectionLimits,
  type Destination,
  type Flow,
  type ListenerInfo,
  type SendErrorHandler,
  type SipConnection,
  type TlsPeer,
  type TransportHooks,
} from './types.js';

export interface StreamTransportOptions {
  readonly id: number;
  readonly transport: 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string | undefined;
  readonly limits: ConnectionLimits;
  /** TLS only: the listener's credentials and verification settings. */
  readonly tls?: TlsCredentials;
  readonly hooks: TransportHooks;
}

class StreamConnection implements SipConnection {
  readonly framer: StreamFramer;
  queued: { data: Buffer; onError: SendErrorHandler | undefined }[] = [];
  closed = false;
  /** Reported open to the hooks (outbound: once connected). */
  announced = false;
  /** Running while part of a message is buffered. */
  deadline: NodeJS.Timeout | undefined;
  /** Accepted and no complete SIP message yet: `deadline` is the first message's. */
  awaitingFirst = false;
  tlsPeer: TlsPeer | undefined;
  /** Further keys it answers to (RFC 5923 aliases). */
  aliases: string[] = [];

  constructor(
    readonly id: number,
    readonly transport: 'tcp' | 'tls',
    readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    readonly listener: ListenerInfo,
    /** The key of the connection table (peer address, port and, for TLS we opened, the name verified). */
    readonly key: string,
    private readonly maxBuffered: number,
    maxBytes: number,
    public connected: boolean,
  ) {
    this.framer = new StreamFramer(maxBytes);
  }

  send(data: Buffer, onError?: SendErrorHandler): void {
    if (this.closed) {
      onError?.(new Error('connection closed'));
      return;
    }
    if (!this.connected) {
      this.queued.push({ data, onError });
      return;
    }
    // A peer that stops reading would make us buffer without bound.
    if (this.socket.writableLength > this.maxBuffered) {
      onError?.(new Error('peer is not reading: connection closed'));
      this.socket.destroy();
      return;
    }
    this.socket.write(data, (err) => {
      if (err !== null && err !== undefined) onError?.(err);
    });
  }
}

export class StreamTransport {
  private server: Server | undefined;
  private readonly connections = new Map<number, StreamConnection>();
  private readonly byKey = new Map<string, StreamConnection>();
  /** Every TCP socket the listener accepted, in its TLS handshake or not (`stop` ends them all). */
  private readonly accepted = new AcceptedSockets();
  info: ListenerInfo | undefined;

  constructor(private readonly options: StreamTransportOptions) {
    if (options.transport === 'tls' && options.tls === undefined) throw new Error('a TLS listener needs a certificate and key');
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<ListenerInfo> {
    const { host, port, limits, tls } = this.options;
    let server: Server;
    if (tls !== undefined) {
      const verify = tls.settings.verifyClient;
      const tlsServer = createTlsServer(
        {
          ...tls.contextOptions,
          requestCert: verify !== 'off',
          rejectUnauthorized: verify === 'required',
          handshakeTimeout: limits.handshakeTimeoutMs,
          noDelay: true,
        },
        (socket) => this.acceptTls(socket),
      );
      // Plain TCP on the TLS port, a bad or missing client certificate, a slow handshake: refused here.
      tlsServer.on('tlsClientError', (err, socket) => {
        this.options.hooks.onRefused('tls', normaliseAddress(socket.remoteAddress ?? ''), err.message);
        socket.destroy();
      });
      tls.onChange(() => tlsServer.setSecureContext(tls.contextOptions));
      server = tlsServer;
    } else {
      server = createServer({ noDelay: true }, (socket) => this.accept(socket, undefined));
    }
    const transport = this.options.transport;
    this.accepted.watch(server, { maxConnections: limits.maxConnections, maxPerSource: limits.maxPerSource, onRefused: (address, reason) => this.options.hooks.onRefused(transport, address, reason) });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    const addr = server.address();
    const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
    this.info = {
      id: this.options.id,
      transport: this.options.transport,
      host,
      port: bound,
      advertisedHost: this.options.advertisedHost ?? host,
      family: host.includes(':') ? 6 : 4,
    };
    return this.info;
  }

  private acceptTls(socket: TLSSocket): void {
    const peer = tlsPeerOf(socket);
    // `optional`: a client may send no certificate, but one it sends must verify.
    if (peer !== undefined && !peer.verified && this.options.tls?.settings.verifyClient !== 'off') {
      this.options.hooks.onRefused('tls', normaliseAddress(socket.remoteAddress ?? ''), `client certificate not accepted (${peer.error ?? 'unverified'})`);
      socket.destroy();
      return;
    }
    this.accept(socket, peer);
  }

  private accept(socket: Socket, peer: TlsPeer | undefined): void {
    if (this.accepted.stopping) {
      socket.destroy();
      return;
    }
    const address = normaliseAddress(socket.remoteAddress ?? '');
    const port = socket.remotePort ?? 0;
    const conn = this.newConnection(socket, address, port, `${address}|${port}|`, true);
    conn.tlsPeer = peer;
    this.register(conn);
    // A peer that connects and sends nothing (or only keep-alives) would hold its slot for the idle timeout:
    // its first SIP message is due as any started message is.
    conn.deadline = setTimeout(() => {
      this.options.hooks.onRefused(this.options.transport, address, 'no SIP message since the connection opened');
      socket.destroy();
    }, this.options.limits.messageDeadlineMs);
    conn.deadline.unref();
    conn.awaitingFirst = true;
  }

  private newConnection(socket: Socket, address: string, port: number, key: string, connected: boolean): StreamConnection {
    const { limits } = this.options;
    return new StreamConnection(newConnectionId(), this.options.transport, socket, address, port, this.info!, key, limits.maxBufferedBytes, limits.maxMessageBytes, connected);
  }

  private register(conn: StreamConnection): void {
    this.connections.set(conn.id, conn);
    this.byKey.set(conn.key, conn);
    const { socket } = conn;
    socket.setNoDelay(true);
    socket.setTimeout(this.options.limits.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => undefined);
    // The peer's FIN: Node ends our side too (no half-open sockets), so nothing more can be written on it. Forgotten at
    // once, not at 'close' a moment later: a request or response sent meanwhile (the ACK of a 2xx whose sender hung
    // up its connection) goes over a new connection instead of into the closing one.
    socket.on('end', () => this.forget(conn, new Error('connection closed by the peer')));
    socket.on('close', () => this.forget(conn, new Error('connection closed')));
    if (conn.connected) this.announce(conn);
  }

  private announce(conn: StreamConnection): void {
    conn.announced = true;
    this.options.hooks.onConnection(conn, true);
  }

  private forget(conn: StreamConnection, why: Error): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.deadline !== undefined) clearTimeout(conn.deadline);
    this.connections.delete(conn.id);
    for (const k of [conn.key, ...conn.aliases]) if (this.byKey.get(k) === conn) this.byKey.delete(k);
    for (const q of conn.queued) q.onError?.(why);
    conn.queued = [];
    if (conn.announced) this.options.hooks.onConnection(conn, false);
  }

  private flow(conn: StreamConnection): Flow {
    return {
      transport: this.options.transport,
      address: conn.address,
      port: conn.port,
      listener: this.info!,
      connectionId: conn.id,
      ...(conn.tlsPeer !== undefined ? { tlsPeer: conn.tlsPeer } : {}),
    };
  }

  private onData(conn: StreamConnection, chunk: Buffer): void {
    for (const ev of conn.framer.push(chunk)) {
      if (ev.type === 'message') {
        if (conn.awaitingFirst) {
          conn.awaitingFirst = false;
          clearTimeout(conn.deadline);
          conn.deadline = undefined;
        }
        this.options.hooks.onMessage(ev.data, this.flow(conn));
      } else if (ev.type === 'ping') conn.socket.write('\r\n');
      else {
        this.options.hooks.onStreamError(ev.reason, ev.status, ev.head, this.flow(conn), ev.partial === true);
        conn.socket.end();
        this.forget(conn, new Error(ev.reason));
        return;
      }
    }
    // A peer that starts a message and trickles the rest (or never sends it) would hold the
    // connection and its buffer forever, idle timeout notwithstanding: give it a deadline.
    if (conn.awaitingFirst) return;
    if (conn.framer.pending === 0) {
      if (conn.deadline !== undefined) clearTimeout(conn.deadline);
      conn.deadline = undefined;
    } else if (conn.deadline === undefined) {
      conn.deadline = setTimeout(() => conn.socket.destroy(), this.options.limits.messageDeadlineMs);
      conn.deadline.unref();
    }
  }

  /**
   * RFC 5923 §5: a TLS client that sent `alias` in its Via, and whose
   * certificate names the Via's host (checked by the caller), may be reached
   * at that host and port over the connection it opened.
   */
  alias(connectionId: number, host: string, port: number): boolean {
    const conn = this.connections.get(connectionId);
    if (conn === undefined || conn.closed || this.options.transport !== 'tls') return false;
    const keys = [`${conn.address}|${port}|${host}`, ...(isIP(host) !== 0 ? [`${host}|${port}|`] : [])];
    for (const k of keys) {
      if (this.byKey.get(k) === conn) continue;
      this.byKey.set(k, conn);
      conn.aliases.push(k);
    }
    return true;
  }

  /** An open connection by id (this transport's only). */
  connection(id: number): SipConnection | undefined {
    return this.connections.get(id);
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    let conn = dest.connectionId !== undefined ? this.connections.get(dest.connectionId) : undefined;
    const name = this.options.transport === 'tls' ? (dest.tlsName ?? '') : '';
    // A response whose request's connection is gone goes to the sent-by port, not the far end's
    // ephemeral one (RFC 3261 §18.2.2).
    const port = conn === undefined || conn.closed ? (dest.sentByPort ?? dest.port) : dest.port;
    conn ??= this.byKey.get(`${dest.address}|${port}|${name}`);
    if (conn === undefined || conn.closed) conn = this.connect(dest.address, port, name);
    if (conn === undefined) {
      onError?.(new Error(`${this.options.transport.toUpperCase()} transport not started`));
      return;
    }
    conn.send(data, onError);
  }

  private connect(address: string, port: number, name: string): StreamConnection | undefined {
    if (this.server === undefined) return undefined;
    const tls = this.options.tls;
    let socket: Socket;
    if (tls !== undefined) {
      const verifyName = name !== '' ? name : address;
      socket = tlsConnect({
        host: address,
        port,
        // SNI carries names only (RFC 6066 §3).
        ...(name !== '' && isIP(name) === 0 ? { servername: name } : {}),
        secureContext: tls.context,
        rejectUnauthorized: tls.settings.verifyServer,
        checkServerIdentity: (_host, cert) => {
          const why = sipNameMismatch(verifyName, cert);
          return why === undefined ? undefined : Object.assign(new Error(why), { code: 'ERR_SIP_NAME_MISMATCH' });
        },
      });
    } else {
      socket = createConnection({ host: address, port, noDelay: true });
    }
    const conn = this.newConnection(socket, address, port, `${address}|${port}|${name}`, false);
    socket.once(tls !== undefined ? 'secureConnect' : 'connect', () => {
      conn.connected = true;
      if (tls !== undefined) conn.tlsPeer = tlsPeerOf(socket as TLSSocket);
      this.announce(conn);
      const queued = conn.queued;
      conn.queued = [];
      for (const q of queued) conn.send(q.data, q.onError);
    });
    socket.once('error', (err) => {
      if (!conn.connected && tls !== undefined) this.options.hooks.onRefused('tls', address, err.message);
      this.forget(conn, err);
    });
    this.register(conn);
    return conn;
  }

  async stop(): Promise<void> {
    this.accepted.endAll();
    for (const c of this.connections.values()) c.socket.destroy();
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
