import type { Server, Socket } from 'node:net';

/** `::ffff:127.0.0.1` → `127.0.0.1`. */
export function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Who may hold how many of a listener's connections. */
export interface AcceptLimits {
  /** Open connections on the listener (in their handshake or not). */
  readonly maxConnections: number;
  /** Open connections from one source address. */
  readonly maxPerSource: number;
  /** Told of each socket refused, with the reason. */
  readonly onRefused: (address: string, reason: string) => void;
}

/**
 * The TCP sockets a stream or WebSocket listener accepted, from the moment of `connection`: before a
 * TLS or HTTP handshake has made them connections. `server.close` waits for every accepted socket,
 * so one still in its handshake, or one whose handshake completes after the stop began, would hold
 * the stop until its handshake or idle timeout.
 *
 * It also admits them: past the listener's limit or one source address's share a new socket is
 * closed at once and counted (Node's own `server.maxConnections` closes them without a word), so
 * one peer holding idle connections cannot shut every carrier out of the listener.
 */
export class AcceptedSockets {
  private readonly sockets = new Set<Socket>();
  private readonly perSource = new Map<string, number>();
  private closed = false;

  /** Track every socket `server` accepts from now on (refused at once while closed or over a limit). */
  watch(server: Server, limits?: AcceptLimits): void {
    this.closed = false;
    server.on('connection', (raw: Socket) => {
      if (this.closed) {
        raw.destroy();
        return;
      }
      const address = normaliseAddress(raw.remoteAddress ?? '');
      const fromSource = this.perSource.get(address) ?? 0;
      if (limits !== undefined && (this.sockets.size >= limits.maxConnections || fromSource >= limits.maxPerSource)) {
        const full = this.sockets.size >= limits.maxConnections;
        limits.onRefused(address, full ? `listener full (${limits.maxConnections} connections)` : `too many connections from this address (${limits.maxPerSource})`);
        raw.destroy();
        return;
      }
      this.sockets.add(raw);
      this.perSource.set(address, fromSource + 1);
      raw.once('close', () => {
        this.sockets.delete(raw);
        const left = (this.perSource.get(address) ?? 1) - 1;
        if (left > 0) this.perSource.set(address, left);
        else this.perSource.delete(address);
      });
    });
  }

  /** True once `endAll` ran: a handshake that completes now must not become a connection. */
  get stopping(): boolean {
    return this.closed;
  }

  /** Refuse sockets from now on and end every one accepted. */
  endAll(): void {
    this.closed = true;
    for (const raw of this.sockets) raw.destroy();
  }
}
