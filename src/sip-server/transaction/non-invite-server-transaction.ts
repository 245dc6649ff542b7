/**
 * Non-INVITE server transaction, RFC 3261 §17.2.2: Trying → Proceeding (1xx)
 * → Completed (final; retransmitted requests get the response again until
 * Timer J, 64·T1 over UDP, 0 over reliable transports) → Terminated.
 */
import type { Destination } from '../transport/types.js';
import type { ServerTransactionState, TransactionContext } from './context.js';
import type { TimerHandle } from './timer-queue.js';

export class NonInviteServerTransaction {
  state: ServerTransactionState = 'trying';
  lastStatus = 0;
  private lastResponse: Buffer | undefined;
  private timerJ: TimerHandle | undefined;

  constructor(
    private readonly ctx: TransactionContext,
    readonly key: string,
    readonly responseDest: Destination,
    private readonly onTerminated: (tx: NonInviteServerTransaction) => void,
  ) {}

  respond(status: number, data: Buffer): boolean {
    if (this.state === 'completed' || this.state === 'terminated') return false;
    this.lastStatus = status;
    this.lastResponse = data;
    this.ctx.send(data, this.responseDest);
    if (status < 200) {
      this.state = 'proceeding';
      return true;
    }
    this.state = 'completed';
    const wait = this.responseDest.transport === 'udp' ? 64 * this.ctx.t1 : 0;
    this.timerJ = this.ctx.timers.schedule(wait, () => this.terminate());
    return true;
  }

  onRetransmission(): void {
    if ((this.state === 'proceeding' || this.state === 'completed') && this.lastResponse !== undefined) {
      this.ctx.send(this.lastResponse, this.responseDest);
    }
  }

  /**
   * Completed over UDP, the transaction only waits out Timer J: it ends here
   * and the TU keeps what the wait needs in a record of its own (the response,
   * returned). Its onTerminated is not called: the record's end is the end.
   */
  handOff(): Buffer | undefined {
    if (this.state !== 'completed') return undefined;
    const response = this.lastResponse;
    this.state = 'terminated';
    this.timerJ?.cancel();
    this.lastResponse = undefined;
    return response;
  }

  terminate(): void {
    if (this.state === 'terminated') return;
    this.state = 'terminated';
    this.timerJ?.cancel();
    this.lastResponse = undefined;
    this.onTerminated(this);
  }
}
