/**
 * The drachtio control port (spec §1): accepts app connections, frames and
 * tokenises their messages, handles authenticate / route / remove_route / ping
 * itself, and hands `sip` and `proxy` messages to the core. Before a
 * successful authenticate nothing else is accepted (stricter than the reference).
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../../observability/logger.js';
import { AppConnection } from './app-connection.js';
import { FrameDecoder } from './framing.js';

export interface ControlHandler {
  /** A `sip` message from an app: tokens of the leader (0-based over the full leader) and the SIP text. */
  onSip(conn: AppConnection, msgId: string, tokens: readonly string[], sip: string | undefined): void;
  /** The connection is gone: clean up what it owned. */
  onConnectionClosed(conn: AppConnection): void;
  /** The reply to a successful authenticate: hostports, version, local hostports. */
  authenticateReply(): string;
}

export interface ControlServerOptions {
  readonly host: string;
  readonly port: number;
  readonly secret: string;
  readonly maxFrameBytes: number;
  readonly logger: Logger;
  readonly handler: ControlHandler;
}

const VERBS = /^(?:[a-z]+|cdr:(?:attempt|start|stop))$/;

export class ControlServer {
  private server: Server | undefined;
  readonly connections = new Set<AppConnection>();
  port = 0;

  constructor(private readonly options: ControlServerOptions) {}

  async start(): Promise<number> {
    const server = createServer({ noDelay: true }, (s) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.options.host, port: this.options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.options.logger.error({ err: e.message }, 'control port error'));
    const addr = server.address();
    this.port = typeof addr === 'object' && addr !== null ? addr.port : this.options.port;
    return this.port;
  }

  /** Connections that routed `verb`, in connection order. */
  routed(verb: string): AppConnection[] {
    const out: AppConnection[] = [];
    for (const c of this.connections) if (!c.closed && c.authenticated && c.routes.has(verb)) out.push(c);
    return out;
  }

  /** Every verb some live connection routed. */
  routedVerbs(): string[] {
    const out = new Set<string>();
    for (const c of this.connections) if (!c.closed && c.authenticated) for (const v of c.routes) out.add(v);
    return [...out];
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.setKeepAlive(true);
    const conn = new AppConnection(socket);
    const decoder = new FrameDecoder(this.options.maxFrameBytes);
    this.connections.add(conn);
    const log = this.options.logger.child({ app: conn.id, remote: conn.remote });
    log.info('app connected');
    socket.on('data', (chunk: Buffer) => {
      for (const ev of decoder.push(chunk)) {
        if (ev.type === 'error') {
          log.warn({ reason: ev.reason }, 'closing app connection: bad frame');
          socket.destroy();
          return;
        }
        this.onFrame(conn, ev.payload, log);
        if (conn.closed) return;
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (conn.closed) return;
      conn.closed = true;
      this.connections.delete(conn);
      log.info('app disconnected');
      this.options.handler.onConnectionClosed(conn);
    });
  }

  private onFrame(conn: AppConnection, payload: string, log: Logger): void {
    const cr = payload.indexOf('\r\n');
    const leader = cr < 0 ? payload : payload.slice(0, cr);
    const sip = cr < 0 ? undefined : payload.slice(cr + 2);
    const tokens = leader.split('|');
    const msgId = tokens[0] ?? '';
    const type = tokens[1] ?? '';
    if (!conn.authenticated && type !== 'authenticate') {
      conn.reply(msgId, 'NOK|not authenticated');
      log.warn({ type }, 'closing app connection: command before authenticate');
      conn.end();
      return;
    }
    switch (type) {
      case 'authenticate':
        if (tokens[2] === this.options.secret) {
          conn.authenticated = true;
          conn.reply(msgId, `OK|${this.options.handler.authenticateReply()}`);
        } else {
          conn.reply(msgId, 'NOK|incorrect secret');
          log.warn('closing app connection: incorrect secret');
          conn.end();
        }
        return;
      case 'route':
      case 'remove_route': {
        const verb = (tokens[2] ?? '').toLowerCase();
        if (!VERBS.test(verb)) {
          conn.reply(msgId, `NOK|invalid verb "${verb}"`);
          return;
        }
        if (type === 'route') conn.routes.add(verb);
        else conn.routes.delete(verb);
        conn.reply(msgId, 'OK');
        return;
      }
      case 'ping':
        conn.reply(msgId, 'OK|pong');
        return;
      case 'sip':
        this.options.handler.onSip(conn, msgId, tokens, sip);
        return;
      case 'proxy':
        conn.reply(msgId, 'NOK|proxyRequest is not supported by this server');
        return;
      default:
        conn.reply(msgId, `NOK|unknown command "${type.slice(0, 40)}"`);
    }
  }

  async stop(): Promise<void> {
    for (const c of this.connections) c.socket.destroy();
    const s = this.server;
    this.server = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
