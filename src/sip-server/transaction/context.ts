/** What every transaction needs from its surroundings: timers (RFC 3261 §17.1.1.1, table 4) and a way to send. */
import type { Destination, SendErrorHandler } from '../transport/types.js';
import type { TimerQueue } from './timer-queue.js';

export interface TransactionContext {
  readonly timers: TimerQueue;
  /** RTT estimate. */
  readonly t1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses. */
  readonly t2: number;
  /** Maximum duration a message remains in the network. */
  readonly t4: number;
  send(data: Buffer, dest: Destination, onError?: SendErrorHandler): void;
}

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
