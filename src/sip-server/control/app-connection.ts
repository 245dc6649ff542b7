/**
 * One drachtio-srf app connected to the control port (spec §1.1): its
 * authentication state, the verbs it routes, and what it owns (pending
 * requests it must answer, client transactions, dialogs), so that all of it
 * can be cleaned up when the connection drops.
 */
import type { Socket } from 'node:net';
import { newTransactionId } from '../core/ids.js';
import { encodeFrame } from './framing.js';

let nextId = 1;

export class AppConnection {
  readonly id = nextId++;
  authenticated = false;
  closed = false;
  readonly routes = new Set<string>();
  /** App transaction ids of requests given to this app and not yet answered. */
  readonly pendingServer = new Set<string>();
  /** App transaction ids of requests this app sent that are still in progress. */
  readonly pendingClient = new Set<string>();
  readonly dialogs = new Set<string>();
  readonly remote: string;
  framesOut = 0;
  /** Frames waiting for the end of this event-loop turn (one socket write per turn, not per frame). */
  private queued: Buffer[] = [];
  private flushScheduled = false;

  constructor(readonly socket: Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  }

  /** Sends `<id>|<rest>` as one frame; returns the message id. Frames to a closed connection are dropped. */
  send(rest: string): string {
    const id = newTransactionId();
    if (this.closed || this.socket.destroyed) return id;
    this.queued.push(encodeFrame(`${id}|${rest}`));
    this.framesOut++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return id;
  }

  /** Sends what is queued, then closes the connection gracefully. */
  end(): void {
    this.flush();
    this.socket.end();
  }

  private flush(): void {
    this.flushScheduled = false;
    const frames = this.queued;
    this.queued = [];
    if (frames.length === 0 || this.closed || this.socket.destroyed) return;
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** `response` to an app message. */
  reply(rid: string, rest: string): void {
    this.send(`response|${rid}|${rest}`);
  }
}
