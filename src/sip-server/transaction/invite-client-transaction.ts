/**
 * INVITE client transaction, RFC 3261 §17.1.1 as updated by RFC 6026 §7.2:
 * Calling (Timer A retransmits over UDP, Timer B gives up) → Proceeding (1xx)
 * → Completed (3xx–6xx: we send the ACK, Timer D absorbs retransmissions) or
 * Accepted (2xx: Timer M; further 2xx go to the TU, which ACKs them) → Terminated.
 */
import type { MessageInfo } from '../message/parser.js';
import type { SipResponse } from '../message/sip-message.js';
import type { Destination } from '../transport/types.js';
import type { ClientTransactionState, TransactionContext } from './context.js';

const EMPTY = Buffer.alloc(0);
import type { TimerHandle } from './timer-queue.js';

export interface InviteClientTransactionUser {
  onResponse(tx: InviteClientTransaction, response: SipResponse, info: MessageInfo): void;
  /** Timer B: no final response. */
  onTimeout(tx: InviteClientTransaction): void;
  onTransportError(tx: InviteClientTransaction, error: Error): void;
  onTerminated(tx: InviteClientTransaction): void;
}

export class InviteClientTransaction {
  state: ClientTransactionState = 'calling';
  /** Highest status seen so far (0 before any response). */
  lastStatus = 0;
  private timerA: TimerHandle | undefined;
  private timerB: TimerHandle | undefined;
  private timerEnd: TimerHandle | undefined;
  private intervalA: number;
  private ack: Buffer | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    readonly key: string,
    /** The request bytes, for retransmission; dropped once a final response arrives. */
    private request: Buffer,
    readonly dest: Destination,
    private readonly user: InviteClientTransactionUser,
    /** Builds the ACK for a non-2xx final response (§17.1.1.3); dropped at the final response (it holds the request). */
    private buildAck: ((response: SipResponse) => Buffer) | undefined,
  ) {
    this.intervalA = ctx.t1;
  }

  start(): void {
    this.send(this.request);
    if (this.dest.transport === 'udp') this.timerA = this.ctx.timers.schedule(this.intervalA, () => this.onTimerA());
    this.timerB = this.ctx.timers.schedule(64 * this.ctx.t1, () => {
      if (this.state !== 'calling') return;
      this.user.onTimeout(this);
      this.terminate();
    });
  }

  private send(data: Buffer): void {
    this.ctx.send(data, this.dest, (err) => {
      if (this.state === 'calling' || this.state === 'proceeding') {
        this.user.onTransportError(this, err);
        this.terminate();
      }
    });
  }

  private onTimerA(): void {
    if (this.state !== 'calling') return;
    this.send(this.request);
    this.intervalA *= 2; // Timer A doubles without the T2 cap (§17.1.1.2)
    this.timerA = this.ctx.timers.schedule(this.intervalA, () => this.onTimerA());
  }

  onResponse(response: SipResponse, info: MessageInfo): void {
    const status = response.status;
    switch (this.state) {
      case 'calling':
      case 'proceeding': {
        if (status < 200) {
          this.state = 'proceeding';
          this.timerA?.cancel();
          // Timer B times out only the Calling state (§17.1.1.2): a callee that rings may ring for as long as it likes.
          this.timerB?.cancel();
          this.lastStatus = Math.max(this.lastStatus, status);
          this.user.onResponse(this, response, info);
          return;
        }
        this.timerA?.cancel();
        this.timerB?.cancel();
        this.lastStatus = status;
        this.request = EMPTY;
        const buildAck = this.buildAck;
        this.buildAck = undefined;
        if (status < 300) {
          this.state = 'accepted';
          this.timerEnd = this.ctx.timers.schedule(64 * this.ctx.t1, () => this.terminate());
        } else {
          this.state = 'completed';
          this.ack = buildAck?.(response);
          if (this.ack !== undefined) this.ctx.send(this.ack, this.dest);
          this.timerEnd = this.ctx.timers.schedule(this.dest.transport === 'udp' ? 32_000 : 0, () => this.terminate());
        }
        this.user.onResponse(this, response, info);
        return;
      }
      case 'accepted':
        // Retransmitted (or forked) 2xx: the TU ACKs those.
        if (status >= 200 && status < 300) this.user.onResponse(this, response, info);
        return;
      case 'completed':
        if (status >= 300 && this.ack !== undefined) this.ctx.send(this.ack, this.dest);
        return;
      default:
        return;
    }
  }

  /**
   * Once the transaction only waits out Timer M (Accepted) or Timer D
   * (Completed over UDP), it ends here and the TU keeps what the wait needs
   * in a record of its own: the ACK to re-send (Completed) and how long to
   * wait. Its onTerminated is not called: the record's end is the end.
   */
  handOff(): { readonly ack: Buffer | undefined; readonly waitMs: number } | undefined {
    let waitMs: number;
    if (this.state === 'accepted') waitMs = 64 * this.ctx.t1;
    else if (this.state === 'completed' && this.dest.transport === 'udp') waitMs = 32_000;
    else return undefined;
    const ack = this.ack;
    this.state = 'terminated';
    this.timerEnd?.cancel();
    this.ack = undefined;
    return { ack, waitMs };
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerA?.cancel();
    this.timerB?.cancel();
    this.timerEnd?.cancel();
    this.ack = undefined;
    this.buildAck = undefined;
    this.user.onTerminated(this);
  }
}
