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

  constructor(readonly socket: Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
  }

  /** Sends `<id>|<rest>` as one frame; returns the message id. Frames to a closed connection are dropped. */
  send(rest: string): string {
    const id = newTransactionId();
    if (this.closed || this.socket.destroyed) return id;
    this.socket.write(encodeFrame(`${id}|${rest}`));
    this.framesOut++;
    return id;
  }

  /** `response` to an app message. */
  reply(rid: string, rest: string): void {
    this.send(`response|${rid}|${rest}`);
  }
}
