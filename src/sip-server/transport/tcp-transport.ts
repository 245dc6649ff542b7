/**
 * SIP over TCP (RFC 3261 §18): a listening server plus outgoing connections,
 * one connection table for both so a response goes back on the connection its
 * request arrived on (§18.2.2) and requests to a peer reuse an open one.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { StreamFramer } from '../message/stream-framer.js';
import type { Destination, Flow, ListenerInfo, SendErrorHandler } from './types.js';

export interface TcpTransportOptions {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost: string | undefined;
  readonly maxMessageBytes: number;
  readonly maxConnections: number;
  readonly idleTimeoutMs: number;
  /** A message started must be complete within this time, or the connection closes (slow senders). */
  readonly messageDeadlineMs?: number;
  readonly onMessage: (data: Buffer, flow: Flow) => void;
  /** A framing error: the connection closes after this returns (answer 400 from `head` if possible). */
  readonly onStreamError: (reason: string, status: number, head: Buffer | undefined, flow: Flow) => void;
}

class Connection {
  readonly framer: StreamFramer;
  connected: boolean;
  queued: { data: Buffer; onError: SendErrorHandler | undefined }[] = [];
  closed = false;
  /** Running while part of a message is buffered. */
  deadline: NodeJS.Timeout | undefined;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly address: string,
    readonly port: number,
    maxBytes: number,
    connected: boolean,
  ) {
    this.framer = new StreamFramer(maxBytes);
    this.connected = connected;
  }
}

let nextConnectionId = 1;

export class TcpTransport {
  private server: Server | undefined;
  private readonly connections = new Map<number, Connection>();
  private readonly byRemote = new Map<string, Connection>();
  info: ListenerInfo | undefined;

  constructor(private readonly options: TcpTransportOptions) {}

  get connectionCount(): number {
    return this.connections.size;
  }

  async start(): Promise<ListenerInfo> {
    const { host, port } = this.options;
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.options.maxConnections;
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
      transport: 'tcp',
      host,
      port: bound,
      advertisedHost: this.options.advertisedHost ?? host,
      family: host.includes(':') ? 6 : 4,
    };
    return this.info;
  }

  private key(address: string, port: number): string {
    return `${address}|${port}`;
  }

  private accept(socket: Socket): void {
    const address = normaliseAddress(socket.remoteAddress ?? '');
    const conn = new Connection(nextConnectionId++, socket, address, socket.remotePort ?? 0, this.options.maxMessageBytes, true);
    this.register(conn);
  }

  private register(conn: Connection): void {
    this.connections.set(conn.id, conn);
    this.byRemote.set(this.key(conn.address, conn.port), conn);
    const { socket } = conn;
    socket.setNoDelay(true);
    socket.setTimeout(this.options.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.forget(conn, new Error('connection closed')));
  }

  private forget(conn: Connection, why: Error): void {
    if (conn.closed) return;
    conn.closed = true;
    if (conn.deadline !== undefined) clearTimeout(conn.deadline);
    this.connections.delete(conn.id);
    const k = this.key(conn.address, conn.port);
    if (this.byRemote.get(k) === conn) this.byRemote.delete(k);
    for (const q of conn.queued) q.onError?.(why);
    conn.queued = [];
  }

  private flow(conn: Connection): Flow {
    return { transport: 'tcp', address: conn.address, port: conn.port, listener: this.info!, connectionId: conn.id };
  }

  private onData(conn: Connection, chunk: Buffer): void {
    for (const ev of conn.framer.push(chunk)) {
      if (ev.type === 'message') this.options.onMessage(ev.data, this.flow(conn));
      else if (ev.type === 'ping') conn.socket.write('\r\n');
      else {
        this.options.onStreamError(ev.reason, ev.status, ev.head, this.flow(conn));
        conn.socket.end();
        this.forget(conn, new Error(ev.reason));
        return;
      }
    }
    // A peer that starts a message and trickles the rest (or never sends it) would hold the
    // connection and its buffer forever, idle timeout notwithstanding: give it a deadline.
    if (conn.framer.pending === 0) {
      if (conn.deadline !== undefined) clearTimeout(conn.deadline);
      conn.deadline = undefined;
    } else if (conn.deadline === undefined) {
      conn.deadline = setTimeout(() => conn.socket.destroy(), this.options.messageDeadlineMs ?? 32_000);
      conn.deadline.unref();
    }
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    let conn = dest.connectionId !== undefined ? this.connections.get(dest.connectionId) : undefined;
    conn ??= this.byRemote.get(this.key(dest.address, dest.port));
    if (conn === undefined || conn.closed) conn = this.connect(dest.address, dest.port);
    if (conn === undefined) {
      onError?.(new Error('TCP transport not started'));
      return;
    }
    if (!conn.connected) {
      conn.queued.push({ data, onError });
      return;
    }
    conn.socket.write(data, (err) => {
      if (err !== null && err !== undefined) onError?.(err);
    });
  }

  private connect(address: string, port: number): Connection | undefined {
    if (this.server === undefined) return undefined;
    const socket = createConnection({ host: address, port, noDelay: true });
    const conn = new Connection(nextConnectionId++, socket, address, port, this.options.maxMessageBytes, false);
    socket.once('connect', () => {
      conn.connected = true;
      const queued = conn.queued;
      conn.queued = [];
      for (const q of queued) {
        socket.write(q.data, (err) => {
          if (err !== null && err !== undefined) q.onError?.(err);
        });
      }
    });
    this.register(conn);
    return conn;
  }

  async stop(): Promise<void> {
    for (const c of this.connections.values()) c.socket.destroy();
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
