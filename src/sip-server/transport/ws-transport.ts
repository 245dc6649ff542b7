/**
 * SIP over WebSocket, RFC 7118 (WS, and WSS over TLS): an HTTP(S) listener
 * that accepts only WebSocket upgrades offering the `sip` subprotocol (§4),
 * one SIP message per WebSocket message (§5.1, see ws-message.ts), and the
 * same limits as TCP: message size (the frame limit), a deadline for a
 * message once started, idle connections, peers that stop reading. Pings
 * find half-open connections. The server never opens WebSocket connections:
 * a WebSocket client (a browser) is reached over the connection it opened,
 * found by id (RFC 5626-style flows; the core keeps which URI maps to which).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isUtf8 } from 'node:buffer';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer, type RawData, type ServerOptions, type WebSocket } from 'ws';
import { AcceptedSockets, normaliseAddress } from './accepted-sockets.js';
import type { TlsCredentials } from './tls-credentials.js';
import { tlsPeerOf } from './tls-identity.js';
import { WsFrameTracker } from './ws-frame-tracker.js';
import { checkWsMessage } from './ws-message.js';
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

export interface WsTransportOptions {
  readonly id: number;
  readonly transport: 'ws' | 'wss';
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string | undefined;
  readonly limits: ConnectionLimits;
  /** WSS only. */
  readonly tls?: TlsCredentials;
  readonly hooks: TransportHooks;
}

const NO_SIP = 'Sec-WebSocket-Protocol must offer sip (RFC 7118)\n';

/** RFC 6455 §7.4.1 close codes used here. */
const CLOSE = { goingAway: 1001, protocolError: 1002, unsupportedData: 1003 } as const;

class WsConnection implements SipConnection {
  closed = false;
  /** Closing: further messages are ignored. */
  closing = false;
  /** Answered the last ping (or has just connected). */
  alive = true;
  deadline: NodeJS.Timeout | undefined;
  readonly tracker = new WsFrameTracker();

  constructor(
    readonly id: number,
    readonly transport: 'ws' | 'wss',
    readonly ws: WebSocket,
    readonly address: string,
    readonly port: number,
    readonly listener: ListenerInfo,
    readonly tlsPeer: TlsPeer | undefined,
    private readonly maxBuffered: number,
  ) {}

  send(data: Buffer, onError?: SendErrorHandler): void {
    if (this.closed || this.closing) {
      onError?.(new Error('connection closed'));
      return;
    }
    if (this.ws.bufferedAmount > this.maxBuffered) {
      onError?.(new Error('peer is not reading: connection closed'));
      this.ws.terminate();
      return;
    }
    // §5.1: text frames carry UTF-8; anything else goes as a binary frame.
    this.ws.send(data, { binary: !isUtf8(data) }, (err) => {
      if (err !== null && err !== undefined) onError?.(err);
    });
  }
}

export class WsTransport {
  private server: Server | undefined;
  private wss: WebSocketServer | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly connections = new Map<number, WsConnection>();
  /** Every TCP socket the listener accepted, before or after its TLS and HTTP handshakes (`stop` ends them all). */
  private readonly accepted = new AcceptedSockets();
  info: ListenerInfo | undefined;

  constructor(private readonly options: WsTransportOptions) {
    if (options.transport === 'wss' && options.tls === undefined) throw new Error('a WSS listener needs a certificate and key');
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<ListenerInfo> {
    const { host, port, limits, tls } = this.options;
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      maxPayload: limits.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
      closeTimeout: limits.handshakeTimeoutMs,
      handleProtocols: (offered) => (offered.has('sip') ? 'sip' : false),
    };
    this.wss = new WebSocketServer(wsOptions);
    let server: Server;
    if (tls !== undefined) {
      const verify = tls.settings.verifyClient;
      server = createHttpsServer({
        ...tls.contextOptions,
        connectionsCheckingInterval: checkingIntervalMs(limits.handshakeTimeoutMs),
        requestCert: verify !== 'off',
        rejectUnauthorized: verify === 'required',
        handshakeTimeout: limits.handshakeTimeoutMs,
      });
      const secure = server as Server & { setSecureContext(o: object): void };
      tls.onChange(() => secure.setSecureContext(tls.contextOptions));
      server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
        this.options.hooks.onRefused('wss', normaliseAddress(socket.remoteAddress ?? ''), err.message);
        socket.destroy();
      });
    } else {
      server = createHttpServer({ connectionsCheckingInterval: checkingIntervalMs(limits.handshakeTimeoutMs) });
    }
    // The HTTP handshake is bounded like a TLS one (slow-loris clients).
    server.headersTimeout = limits.handshakeTimeoutMs;
    server.requestTimeout = limits.handshakeTimeoutMs;
    server.on('request', (_req, res) => {
      res.writeHead(426, { Connection: 'close', Upgrade: 'websocket', 'Content-Type': 'text/plain' });
      res.end('SIP over WebSocket only (RFC 7118): upgrade with Sec-WebSocket-Protocol: sip\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.on('clientError', (_err, socket: Duplex) => socket.destroy());
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
    this.info = {
      id: this.options.id,
      transport: this.options.transport,
      host,
      port: typeof addr === 'object' && addr !== null ? addr.port : port,
      advertisedHost: this.options.advertisedHost ?? host,
      family: host.includes(':') ? 6 : 4,
    };
    this.heartbeat = setInterval(() => this.ping(), limits.keepAliveMs);
    this.heartbeat.unref();
    return this.info;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const raw = socket as TLSSocket;
    const address = normaliseAddress(raw.remoteAddress ?? '');
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    // RFC 7118 §4: the client MUST offer `sip`; a server that agrees to nothing would leave the peer guessing.
    if (!offered.includes('sip')) {
      this.options.hooks.onRefused(this.options.transport, address, 'WebSocket handshake without the sip subprotocol');
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${NO_SIP.length}\r\n\r\n${NO_SIP}`);
      return;
    }
    let peer: TlsPeer | undefined;
    if (this.options.tls !== undefined) {
      peer = tlsPeerOf(raw);
      if (peer !== undefined && !peer.verified && this.options.tls.settings.verifyClient !== 'off') {
        this.options.hooks.onRefused('wss', address, `client certificate not accepted (${peer.error ?? 'unverified'})`);
        socket.destroy();
        return;
      }
    }
    this.wss!.handleUpgrade(req, socket, head, (ws) => this.accept(ws, raw, address, peer));
  }

  private accept(ws: WebSocket, socket: TLSSocket, address: string, peer: TlsPeer | undefined): void {
    if (this.accepted.stopping) {
      ws.terminate();
      return;
    }
    const { limits } = this.options;
    const conn = new WsConnection(newConnectionId(), this.options.transport, ws, address, socket.remotePort ?? 0, this.info!, peer, limits.maxBufferedBytes);
    this.connections.set(conn.id, conn);
    socket.setTimeout(limits.idleTimeoutMs, () => ws.terminate());
    // Runs before the library's own reader, on the same bytes: only frame boundaries are read.
    socket.prependListener('data', (chunk: Buffer) => this.track(conn, chunk));
    ws.on('message', (data: RawData) => this.onMessage(conn, toBuffer(data)));
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // Too large (1009), invalid UTF-8 in a text frame (1007), broken framing (1002): the library closes.
      const status = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? 513 : 400;
      this.options.hooks.onStreamError(`WebSocket: ${err.message}`, status, undefined, this.flow(conn));
    });
    ws.on('close', () => this.forget(conn));
    this.options.hooks.onConnection(conn, true);
  }

  private track(conn: WsConnection, chunk: Buffer): void {
    conn.tracker.push(chunk);
    if (!conn.tracker.inMessage) {
      if (conn.deadline !== undefined) clearTimeout(conn.deadline);
      conn.deadline = undefined;
    } else if (conn.deadline === undefined) {
      conn.deadline = setTimeout(() => conn.ws.terminate(), this.options.limits.messageDeadlineMs);
      conn.deadline.unref();
    }
  }

  private flow(conn: WsConnection): Flow {
    return {
      transport: this.options.transport,
      address: conn.address,
      port: conn.port,
      listener: this.info!,
      connectionId: conn.id,
      ...(conn.tlsPeer !== undefined ? { tlsPeer: conn.tlsPeer } : {}),
    };
  }

  private onMessage(conn: WsConnection, data: Buffer): void {
    if (conn.closing) return;
    const verdict = checkWsMessage(data);
    if (verdict.kind === 'sip') this.options.hooks.onMessage(data, this.flow(conn));
    else if (verdict.kind === 'keepalive') {
      if (verdict.pong) conn.ws.send('\r\n');
    } else {
      this.options.hooks.onStreamError(verdict.reason, 400, verdict.head, this.flow(conn));
      this.close(conn, verdict.notSip ? CLOSE.unsupportedData : CLOSE.protocolError, verdict.reason);
    }
  }

  /** A clean close (RFC 6455 §7.1.2) after anything already queued, such as a 400. */
  private close(conn: WsConnection, code: number, reason: string): void {
    conn.closing = true;
    conn.ws.close(code, reason.slice(0, 120));
  }

  private ping(): void {
    for (const conn of this.connections.values()) {
      if (!conn.alive) {
        conn.ws.terminate();
        continue;
      }
      conn.alive = false;
      conn.ws.ping();
    }
  }

  private forget(conn: WsConnection): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.deadline !== undefined) clearTimeout(conn.deadline);
    this.connections.delete(conn.id);
    this.options.hooks.onConnection(conn, false);
  }

  connection(id: number): SipConnection | undefined {
    return this.connections.get(id);
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    const conn = dest.connectionId !== undefined ? this.connections.get(dest.connectionId) : undefined;
    if (conn === undefined) {
      onError?.(new Error(`no ${this.options.transport.toUpperCase()} connection from ${dest.address}:${dest.port} (a WebSocket client is reached only over its own connection)`));
      return;
    }
    conn.send(data, onError);
  }

  async stop(): Promise<void> {
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    for (const c of this.connections.values()) {
      c.closing = true;
      c.ws.close(CLOSE.goingAway, 'server stopping');
      c.ws.terminate();
    }
    this.accepted.endAll();
    this.wss?.close();
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/**
 * How often Node's HTTP server checks its sockets' header and request timeouts: by default every
 * 30 s, so a client that never sent its upgrade lived 30–40 s, not `handshakeTimeoutSeconds`.
 */
function checkingIntervalMs(handshakeTimeoutMs: number): number {
  return Math.max(250, Math.min(1000, Math.floor(handshakeTimeoutMs / 4)));
}
