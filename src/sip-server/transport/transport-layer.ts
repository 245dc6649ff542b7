/**
 * The transport layer (RFC 3261 §18): every listener, the choice of listener
 * for a destination (same transport and IP family), and the loop guard.
 */
import { networkInterfaces } from 'node:os';
import { TcpTransport } from './tcp-transport.js';
import type { Destination, Flow, ListenerInfo, SendErrorHandler, TransportProtocol } from './types.js';
import { UdpTransport } from './udp-transport.js';

export interface ListenerConfig {
  readonly transport: TransportProtocol;
  readonly host: string;
  readonly port: number;
  readonly advertisedHost?: string | undefined;
}

export interface TransportLayerOptions {
  readonly listeners: readonly ListenerConfig[];
  readonly maxMessageBytes: number;
  readonly maxConnections?: number;
  readonly idleTimeoutMs?: number;
  /** How long a TCP peer may take to finish a message it started. */
  readonly messageDeadlineMs?: number;
  readonly onMessage: (data: Buffer, flow: Flow) => void;
  readonly onStreamError: (reason: string, status: number, head: Buffer | undefined, flow: Flow) => void;
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

export class TransportLayer {
  private readonly udp: UdpTransport[] = [];
  private readonly tcp: TcpTransport[] = [];
  private infos: ListenerInfo[] = [];

  constructor(private readonly options: TransportLayerOptions) {
    options.listeners.forEach((l, id) => {
      const advertised = l.advertisedHost ?? reachableAddress(l.host);
      if (l.transport === 'udp') {
        this.udp.push(new UdpTransport(id, l.host, l.port, advertised, options.onMessage));
      } else {
        this.tcp.push(
          new TcpTransport({
            id,
            host: l.host,
            port: l.port,
            advertisedHost: advertised,
            maxMessageBytes: options.maxMessageBytes,
            maxConnections: options.maxConnections ?? 10_000,
            idleTimeoutMs: options.idleTimeoutMs ?? 15 * 60_000,
            ...(options.messageDeadlineMs !== undefined ? { messageDeadlineMs: options.messageDeadlineMs } : {}),
            onMessage: options.onMessage,
            onStreamError: options.onStreamError,
          }),
        );
      }
    });
  }

  async start(): Promise<readonly ListenerInfo[]> {
    const infos: ListenerInfo[] = [];
    try {
      for (const u of this.udp) infos.push(await u.start());
      for (const t of this.tcp) infos.push(await t.start());
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
    return this.tcp.reduce((n, t) => n + t.connectionCount, 0);
  }

  /** The listener to send from: same transport, same IP family when possible. */
  pickListener(transport: TransportProtocol, address?: string): ListenerInfo | undefined {
    const family = address?.includes(':') === true ? 6 : 4;
    const same = this.infos.filter((l) => l.transport === transport);
    return same.find((l) => l.family === family) ?? same[0];
  }

  /** True when (address, port) is one of our own listeners: a request there would loop. */
  isLocal(address: string, port: number): boolean {
    return this.infos.some(
      (l) => l.port === port && (l.host === address || l.advertisedHost === address || ((l.host === '0.0.0.0' || l.host === '::') && isOwnAddress(address))),
    );
  }

  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void {
    if (dest.transport === 'udp') {
      const family = dest.address.includes(':') ? 6 : 4;
      const u = this.udp.find((x) => x.info?.family === family) ?? this.udp[0];
      if (u === undefined) onError?.(new Error('no UDP listener'));
      else u.send(data, dest, onError);
      return;
    }
    const family = dest.address.includes(':') ? 6 : 4;
    const t = this.tcp.find((x) => x.info?.family === family) ?? this.tcp[0];
    if (t === undefined) onError?.(new Error('no TCP listener'));
    else t.send(data, dest, onError);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.udp.map((u) => u.stop()), ...this.tcp.map((t) => t.stop())]);
  }
}

function isOwnAddress(address: string): boolean {
  if (address === '127.0.0.1' || address === '::1') return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === address));
}
