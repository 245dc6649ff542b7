/**
 * INVITE server transaction, RFC 3261 §17.2.1 as updated by RFC 6026 §7.1
 * (the "Accepted" state absorbs retransmitted INVITEs after a 2xx, whose
 * retransmission is the TU's job). States: Proceeding → Completed (3xx–6xx,
 * Timer G retransmits over UDP, Timer H waits for the ACK) → Confirmed (ACK,
 * Timer I) or Accepted (2xx, Timer L) → Terminated.
 */
import type { Destination } from '../transport/types.js';
import type { TransactionContext, ServerTransactionState } from './context.js';
import type { TimerHandle } from './timer-queue.js';

export interface InviteServerTransactionUser {
  /** Timer H fired: the ACK for our non-2xx final response never came. */
  onAckTimeout?(tx: InviteServerTransaction): void;
  onTerminated(tx: InviteServerTransaction): void;
}

export class InviteServerTransaction {
  state: ServerTransactionState = 'proceeding';
  /** The status of the last response sent (0 before any). */
  lastStatus = 0;
  private lastResponse: Buffer | undefined;
  private timerG: TimerHandle | undefined;
  private timerH: TimerHandle | undefined;
  private timerEnd: TimerHandle | undefined;
  private intervalG: number;

  constructor(
    private readonly ctx: TransactionContext,
    readonly key: string,
    /** Where responses go (RFC 3261 §18.2.2). */
    readonly responseDest: Destination,
    private readonly user: InviteServerTransactionUser,
  ) {
    this.intervalG = ctx.t1;
  }

  get reliable(): boolean {
    return this.responseDest.transport !== 'udp';
  }

  /** Sends a response the TU built. Responses after the final one are refused (returns false). */
  respond(status: number, data: Buffer): boolean {
    if (this.state !== 'proceeding') return false;
    this.lastStatus = status;
    this.lastResponse = data;
    this.ctx.send(data, this.responseDest);
    if (status < 200) return true;
    if (status < 300) {
      // RFC 6026 §7.1: Accepted absorbs retransmitted INVITEs and never re-sends the 2xx itself (the TU does).
      this.lastResponse = undefined;
      this.state = 'accepted';
      this.timerEnd = this.ctx.timers.schedule(64 * this.ctx.t1, () => this.terminate());
      return true;
    }
    this.state = 'completed';
    if (!this.reliable) this.timerG = this.ctx.timers.schedule(this.intervalG, () => this.onTimerG());
    this.timerH = this.ctx.timers.schedule(64 * this.ctx.t1, () => {
      this.user.onAckTimeout?.(this);
      this.terminate();
    });
    return true;
  }

  private onTimerG(): void {
    if (this.state !== 'completed' || this.lastResponse === undefined) return;
    this.ctx.send(this.lastResponse, this.responseDest);
    this.intervalG = Math.min(2 * this.intervalG, this.ctx.t2);
    this.timerG = this.ctx.timers.schedule(this.intervalG, () => this.onTimerG());
  }

  /** A retransmission of the INVITE: re-send the last provisional or final response. */
  onRetransmission(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse !== undefined) {
      this.ctx.send(this.lastResponse, this.responseDest);
    }
  }

  /** An ACK matching this transaction (i.e. for a non-2xx final response). */
  onAck(): void {
    if (this.state !== 'completed') return;
    this.state = 'confirmed';
    // Confirmed only absorbs further ACKs (§17.2.1): the response is not sent again.
    this.lastResponse = undefined;
    this.timerG?.cancel();
    this.timerH?.cancel();
    this.timerEnd = this.ctx.timers.schedule(this.reliable ? 0 : this.ctx.t4, () => this.terminate());
  }

  /**
   * Accepted, the transaction only waits out Timer L (it re-sends nothing):
   * it ends here and the TU keeps what the wait needs in a record of its own.
   * Its onTerminated is not called: the record's end is the end.
   */
  handOff(): boolean {
    if (this.state !== 'accepted') return false;
    this.state = 'terminated';
    this.timerEnd?.cancel();
    return true;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerG?.cancel();
    this.timerH?.cancel();
    this.timerEnd?.cancel();
    this.lastResponse = undefined;
    this.user.onTerminated(this);
  }
}
