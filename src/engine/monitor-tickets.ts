/**
 * One-time tickets that let a supervisor's browser call in to listen to a
 * call: the supervisors' API (authenticated by the user's key) asks for one,
 * the page sends an INVITE to the ticket's SIP URI over its WebSocket, and
 * the engine answers that INVITE with the call's monitor mix.
 *
 * Why a call-in rather than registering the browser and calling it: a
 * browser cannot be called before it registers, and a registration binds an
 * address, not a call: whoever can register that address hears whatever is
 * sent to it. A ticket authorises one listener for one call, once, for a few
 * seconds, by a secret the page got over the user's authenticated API
 * session; nothing can be heard by guessing a URI (256 random bits). It needs
 * no registrar, no auto-answer in the page, and the browser opens the media
 * path itself (its own ICE checks), as WebRTC expects.
 *
 * The token is the Request-URI's user part (`sip:monitor-<token>@host`, RFC
 * 3261 §19.1.1: any unreserved characters; base64url is). Tickets are found
 * by the SHA-256 of the token, never by comparing secrets; a used one is kept
 * (marked) until it expires, so that its replay is told apart from a guess,
 * and forgotten then.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TICKET_PREFIX = 'monitor-';
const TICKET_URI = /^sips?:monitor-([A-Za-z0-9_-]{43})@/i;
/** Upper bound on tickets waiting to be used, so a user scripting the API cannot grow the table without end. */
const MAX_WAITING = 10_000;

/** What a ticket needs; the rest (who, what to check again, whom to tell) is the issuer's (CallControl). */
export interface TicketBase {
  readonly callId: string;
  readonly ttlMs: number;
}

export interface IssuedTicket {
  /** The secret part of the URI (43 base64url characters). */
  readonly token: string;
  readonly expiresAt: number;
}


function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export type TicketClaim<T> =
  | { readonly kind: 'not-a-ticket' }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'valid'; readonly ticket: T }
  /** A ticket used once already (its URI replayed) or expired: refused, and its owner can be named. */
  | { readonly kind: 'spent'; readonly ticket: T; readonly why: 'used' | 'expired' };

export class MonitorTickets<T extends TicketBase> {
  /** Tickets by token digest; a used one stays (marked) until it would have expired, so a replay is recognised. */
  private readonly waiting = new Map<string, { readonly ticket: T; readonly expiresAt: number; used: boolean }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Tickets issued and not used yet. */
  get size(): number {
    let n = 0;
    for (const w of this.waiting.values()) if (!w.used) n++;
    return n;
  }

  issue(ticket: T): IssuedTicket {
    this.sweep();
    if (this.waiting.size >= MAX_WAITING) throw new Error(`${MAX_WAITING} monitor tickets are waiting to be used`);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + ticket.ttlMs;
    this.waiting.set(digest(token), { ticket, expiresAt, used: false });
    return { token, expiresAt };
  }

  /** Takes the ticket a Request-URI names (once: a second INVITE with it is `spent`). */
  claim(requestUri: string): TicketClaim<T> {
    const m = TICKET_URI.exec(requestUri);
    if (m === null) return requestUri.toLowerCase().includes(`:${TICKET_PREFIX}`) ? { kind: 'unknown' } : { kind: 'not-a-ticket' };
    const key = digest(m[1]!);
    const found = this.waiting.get(key);
    if (found === undefined) return { kind: 'unknown' };
    if (found.expiresAt <= this.now()) {
      this.waiting.delete(key);
      return { kind: 'spent', ticket: found.ticket, why: found.used ? 'used' : 'expired' };
    }
    if (found.used) return { kind: 'spent', ticket: found.ticket, why: 'used' };
    found.used = true;
    return { kind: 'valid', ticket: found.ticket };
  }

  /** Forgets expired tickets, and all of a call once it ended. */
  sweep(endedCall?: string): void {
    const t = this.now();
    for (const [key, w] of this.waiting) if (w.expiresAt <= t || w.ticket.callId === endedCall) this.waiting.delete(key);
  }
}
