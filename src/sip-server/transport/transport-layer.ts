/**
 * The transport layer (RFC 3261 §18): every listener (UDP, TCP, TLS, WS,
 * WSS), one table of open connections across them, the choice of listener
 * for a destination (same transport and IP family), the loop guard, and the
 * reload of TLS credentials.
 */
import { networkInterfaces } from 'node:os';
import { formatHostPort } from '../message/uri.js';
import { StreamTransport } from './stream-transport.js';
import { TlsCredentials, type ReloadResult, type TlsSettings } from './tls-credentials.js';
import type {
  ConnectionLimits,
  Destination,
  Flow,
  ListenerInfo,
  SendErrorHandler,
  SipConnection,
  TransportHooks,
  TransportProtocol,
} from './types.js';
import { UdpTransport } from './udp-transport.js';
import { WsTransport } from './ws-transport.js';

export interface ListenerConfig {
  readonly transport: TransportProtocol;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost?: string | undefined;
  /** TLS and WSS listeners: certificate, key and verification. */
  readonly tls?: TlsSettings | undefined;
}

export interface TransportLayerOptions {
  readonly listeners: readonly ListenerConfig[];
  readonly limits: Partial<ConnectionLimits> & { readonly maxMessageBytes: number };
  readonly onMessage: (data: Buffer, flow: Flow) => void;
  readonly onStreamError: (reason: string, status: number, head: Buffer | undefined, flow: Flow, partial?: boolean) => void;
  readonly onConnection?: (conn: SipConnection, open: boolean) => void;
  readonly onRefused?: (transport: TransportProtocol, address: string, reason: string) => void;
}

export interface TlsReload {
  readonly listener: string;
  readonly result: ReloadResult;
}

/** For a wildcard bind, the address others can reach us at: the first non-internal one of that family. */
function reachableAddress(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  const family = host === '::' ? 'IPv6' : 'IPv4';
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal && a.family === family) return a.address;
  }
  return host === '::' ? '::1' : '127.0.0.1';
}

export function connectionLimits(l: TransportLayerOptions['limits']): ConnectionLimits {
  return {
    maxMessageBytes: l.maxMessageBytes,
    maxConnections: l.maxConnections ?? 10_000,
    maxPerSource: l.maxPerSource ?? 1000,
    idleTimeoutMs: l.idleTimeoutMs ?? 15 * 60_000,
    messageDeadlineMs: l.messageDeadlineMs ?? 32_000,
    handshakeTimeoutMs: l.handshakeTimeoutMs ?? 10_000,
    keepAliveMs: l.keepAliveMs ?? 30_000,
    // Enough for a burst of messages to a slow but live peer; far below what a stuck one could pin.
    maxBufferedBytes: l.maxBufferedBytes ?? Math.max(1 << 20, 16 * l.maxMessageBytes),
  };
}

type Connected = StreamTransport | WsTransport;

export class TransportLayer {
  private readonly udp: UdpTransport[] = [];
  private readonly connected: { transport: TransportProtocol; t: Connected; creds?: TlsCredentials; name: string }[] = [];
  private readonly open = new Map<number, SipConnection>();
  private infos: ListenerInfo[] = [];

  constructor(private readonly options: TransportLayerOptions) {
    const limits = connectionLimits(options.limits);
    const hooks: TransportHooks = {
      onMessage: options.onMessage,
      onStreamError: options.onStreamError,
      onConnection: (conn, isOpen) => {
        if (isOpen) this.open.set(conn.id, conn);
        else this.open.delete(conn.id);
        options.onConnection?.(conn, isOpen);
      },
      onRefused: (transport, address, reason) => options.onRefused?.(transport, address, reason),
    };
    options.listeners.forEach((l, id) => {
      const advertised = l.advertisedHost ?? reachableAddress(l.host);
      const name = `${l.transport}/${l.host}:${l.port}`;
      if (l.transport === 'udp') {
        this.udp.push(new UdpTransport(id, l.host, l.port, advertised, options.onMessage));
        return;
      }
      const creds = l.transport === 'tls' || l.transport === 'wss' ? new TlsCredentials(requireTls(l)) : undefined;
      const common = { id, host: l.host, port: l.port, advertisedHost: advertised, limits, hooks, ...(creds !== undefined ? { tls: creds } : {}) };
      const t = l.transport === 'tcp' || l.transport === 'tls' ? new StreamTransport({ ...common, transport: l.transport }) : new WsTransport({ ...common, transport: l.transport });
      this.connected.push({ transport: l.transport, t, ...(creds !== undefined ? { creds } : {}), name });
    });
  }

  async start(): Promise<readonly ListenerInfo[]> {
    const infos: ListenerInfo[] = [];
    try {
      for (const u of this.udp) infos.push(await u.start());
      for (const c of this.connected) infos.push(await c.t.start());
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.infos = infos.sort((a, b) => a.id - b.id);
    return this.infos;
  }

  get listeners(): readonly ListenerInfo[] {
    return this.infos;
  }

  get connectionCount(): number {
    return this.connected.reduce((n, c) => n + c.t.connectionCount, 0);
  }

  /** An open connection of any transport, by id. */
  connection(id: number): SipConnection | undefined {
    return this.open.get(id);
  }

  /** The listener to send from: same transport, same IP family when possible. */
  pickListener(transport: TransportProtocol, address?: string): ListenerInfo | undefined {
    const family = address?.includes(':') === true ? 6 : 4;
    const same = this.infos.filter((l) => l.transport === transport);
    return same.find((l) => l.family === family) ?? same[0];
  }

  /** The listener a message to `dest` goes out from: its connection's, else the one `pickListener` chooses. */
  listenerFor(dest: Destination): ListenerInfo | undefined {
    const conn = dest.connectionId !== undefined ? this.open.get(dest.connectionId) : undefined;
    return conn?.listener ?? this.named(dest) ?? this.pickListener(dest.transport, dest.address);
  }

  /** The listener `dest` names, when it is of the destination's transport and IP family. */
  private named(dest: Destination): ListenerInfo | undefined {
    if (dest.listenerId === undefined) return undefined;
    const family = dest.address.includes(':') ? 6 : 4;
    return this.infos.find((l) => l.id === dest.listenerId && l.transport === dest.transport && l.family === family);
  }

  /**
   * True when `dest` is one of our own listeners: a request there would loop. UDP and the stream
   * transports (TCP, TLS, WS, WSS) have separate port spaces: a UDP peer on the port number of our
   * TCP listener is someone else.
   */
  isLocal(dest: Destination): boolean {
    const udp = dest.transport === 'udp';
    const { address, port } = dest;
    return this.infos.some(
      (l) =>
        l.port === port &&
        (l.transport === 'udp') === udp &&
        (l.host === address || l.advertisedHost === address || ((l.host === '0.0.0.0' || l.host === '::') && isOwnAddress(address))),
    );
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    // A destination no socket can send to (port 0 from a URI such as sip:x@host:0) fails this message only:
    // Node throws for it synchronously, which would escape into the transaction that sends and end the worker.
    if (!Number.isInteger(dest.port) || dest.port < 1 || dest.port > 65535) {
      onError?.(new Error(`port ${dest.port} is not a destination (1-65535)`));
      return;
    }
    try {
      this.sendTo(data, dest, onError);
    } catch (e) {
      onError?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private sendTo(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    const family = dest.address.includes(':') ? 6 : 4;
    const named = this.named(dest)?.id;
    if (dest.transport === 'udp') {
      // From the address and port the peer knows us by, else the first listener of its IP family.
      const u = this.udp.find((x) => named !== undefined && x.info?.id === named) ?? this.udp.find((x) => x.info?.family === family) ?? this.udp[0];
      if (u === undefined) onError?.(new Error('no UDP listener'));
      else u.send(data, dest, onError);
      return;
    }
    // An open connection is used whichever listener accepted it.
    const conn = dest.connectionId !== undefined ? this.open.get(dest.connectionId) : undefined;
    if (conn !== undefined && !conn.closed) {
      conn.send(data, onError);
      return;
    }
    const same = this.connected.filter((c) => c.transport === dest.transport);
    const c = same.find((x) => named !== undefined && x.t.info?.id === named) ?? same.find((x) => x.t.info?.family === family) ?? same[0];
    if (c === undefined) onError?.(new Error(`no ${dest.transport.toUpperCase()} listener`));
    else c.t.send(data, dest, onError);
  }

  /** RFC 5923: requests to (host, port) may use this TLS connection (see StreamTransport.alias). */
  alias(connectionId: number, host: string, port: number): boolean {
    return this.connected.some((c) => c.transport === 'tls' && c.t instanceof StreamTransport && c.t.alias(connectionId, host, port));
  }

  /** Re-reads every TLS and WSS listener's certificate, key and CA (SIGHUP); a failure keeps the old ones. */
  reloadTls(): TlsReload[] {
    return this.connected
      .filter((c) => c.creds !== undefined)
      .map((c) => ({ listener: c.t.info !== undefined ? `${c.transport}/${formatHostPort(c.t.info.host, c.t.info.port)}` : c.name, result: c.creds!.reload() }));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.stop()), ...this.connected.map((c) => c.t.stop())]);
  }
}

function requireTls(l: ListenerConfig): TlsSettings {
  if (l.tls === undefined) throw new Error(`the ${l.transport} listener on ${l.host}:${l.port} needs tls.certFile and tls.keyFile`);
  return l.tls;
}

function isOwnAddress(address: string): boolean {
  if (address === '127.0.0.1' || address === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === address));
}
