/**
 * Non-INVITE client transaction, RFC 3261 §17.1.2: Trying (Timer E
 * retransmits over UDP at T1 doubling up to T2, Timer F gives up) →
 * Proceeding (1xx; Timer E continues at T2) → Completed (final; Timer K
 * absorbs retransmitted responses) → Terminated.
 */
import type { MessageInfo } from '../message/parser.js';
import type { SipResponse } from '../message/sip-message.js';
import type { Destination } from '../transport/types.js';
import type { ClientTransactionState, TransactionContext } from './context.js';

const EMPTY = Buffer.alloc(0);
import type { TimerHandle } from './timer-queue.js';

export interface NonInviteClientTransactionUser {
  onResponse(tx: NonInviteClientTransaction, response: SipResponse, info: MessageInfo): void;
  /** Timer F: no final response. */
  onTimeout(tx: NonInviteClientTransaction): void;
  onTransportError(tx: NonInviteClientTransaction, error: Error): void;
  onTerminated(tx: NonInviteClientTransaction): void;
}

export class NonInviteClientTransaction {
  state: ClientTransactionState = 'trying';
  lastStatus = 0;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private intervalE: number;

  constructor(
    private readonly ctx: TransactionContext,
    readonly key: string,
    /** The request bytes, for retransmission; dropped once a final response arrives. */
    private request: Buffer,
    readonly dest: Destination,
    private readonly user: NonInviteClientTransactionUser,
  ) {
    this.intervalE = ctx.t1;
  }

  start(): void {
    this.send();
    if (this.dest.transport === 'udp') this.timerE = this.ctx.timers.schedule(this.intervalE, () => this.onTimerE());
    this.timerF = this.ctx.timers.schedule(64 * this.ctx.t1, () => {
      if (this.state !== 'trying' && this.state !== 'proceeding') return;
      this.user.onTimeout(this);
      this.terminate();
    });
  }

  private send(): void {
    this.ctx.send(this.request, this.dest, (err) => {
      if (this.state === 'trying' || this.state === 'proceeding') {
        this.user.onTransportError(this, err);
        this.terminate();
      }
    });
  }

  private onTimerE(): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    this.send();
    this.intervalE = this.state === 'proceeding' ? this.ctx.t2 : Math.min(2 * this.intervalE, this.ctx.t2);
    this.timerE = this.ctx.timers.schedule(this.intervalE, () => this.onTimerE());
  }

  onResponse(response: SipResponse, info: MessageInfo): void {
    if (this.state !== 'trying' && this.state !== 'proceeding') return;
    const status = response.status;
    this.lastStatus = Math.max(this.lastStatus, status);
    if (status < 200) {
      this.state = 'proceeding';
      this.user.onResponse(this, response, info);
      return;
    }
    this.state = 'completed';
    this.timerE?.cancel();
    this.timerF?.cancel();
    this.request = EMPTY;
    this.timerK = this.ctx.timers.schedule(this.dest.transport === 'udp' ? this.ctx.t4 : 0, () => this.terminate());
    this.user.onResponse(this, response, info);
  }

  /**
   * Completed over UDP, the transaction only waits out Timer K, absorbing
   * responses: it ends here and the TU keeps a record of that wait instead.
   * Its onTerminated is not called: the record's end is the end.
   */
  handOff(): { readonly ack: undefined; readonly waitMs: number } | undefined {
    if (this.state !== 'completed' || this.dest.transport !== 'udp') return undefined;
    this.state = 'terminated';
    this.timerK?.cancel();
    return { ack: undefined, waitMs: this.ctx.t4 };
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerE?.cancel();
    this.timerF?.cancel();
    this.timerK?.cancel();
    this.user.onTerminated(this);
  }
}
