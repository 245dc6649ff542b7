import type { Server, Socket } from 'node:net';

/**
 * The TCP sockets a stream or WebSocket listener accepted, from the moment of `connection`: before a
 * TLS or HTTP handshake has made them connections. `server.close` waits for every accepted socket,
 * so one still in its handshake, or one whose handshake completes after the stop began, would hold
 * the stop until its handshake or idle timeout.
 */
export class AcceptedSockets {
  private readonly sockets = new Set<Socket>();
  private closed = false;

  /** Track every socket `server` accepts from now on (refused at once while closed). */
  watch(server: Server): void {
    this.closed = false;
    server.on('connection', (raw: Socket) => {
      if (this.closed) {
        raw.destroy();
        return;
      }
      this.sockets.add(raw);
      raw.once('close', () => this.sockets.delete(raw));
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
