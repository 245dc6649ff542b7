/**
 * Transactions that only wait out an RFC 3261 §17 timer, kept as small
 * records instead of whole transactions. After its final response a
 * transaction lingers (64·T1 = 32 s over UDP for most) only to absorb
 * retransmissions; a call through the B2BUA leaves three 32 s waits and one
 * 5 s wait behind, about a hundred records for each call per second of a
 * steady rate, so what each keeps is what the RFC needs and no more:
 *
 * - non-INVITE server, Completed (§17.2.2, Timer J): the final response, re-sent
 *   for a retransmitted request, and where it goes;
 * - INVITE server, Accepted (RFC 6026 §7.1, Timer L): nothing is re-sent by the
 *   transaction; the To tag (a CANCEL's 200 carries it, §9.2) and the dialog
 *   whose unacknowledged 2xx the TU re-sends;
 * - non-INVITE client, Completed (§17.1.2.2, Timer K): nothing, responses are absorbed;
 * - INVITE client, Completed (§17.1.1.2, Timer D): the ACK, re-sent for a
 *   retransmitted final response;
 * - INVITE client, Accepted (RFC 6026 §7.2, Timer M): what the TU needs to ACK
 *   a retransmitted 2xx, or ACK and end a 2xx from another fork (an initial
 *   INVITE's only: a re-INVITE's 2xx after its dialog ended is only ACKed).
 *
 * Records of one wait time expire in the order they were made, so each wait
 * time is a queue served by a single timer: no timer, closure or transaction
 * object per record.
 */
import type { TimerHandle, TimerQueue } from '../transaction/timer-queue.js';
import type { Destination, ListenerInfo } from '../transport/types.js';
import type { SentAck } from './core-state.js';

export interface LingeringServer {
  readonly method: string;
  /** Non-INVITE: the final response a retransmitted request gets again. */
  readonly response: Buffer | undefined;
  readonly dest: Destination;
  /** INVITE: the To tag of our responses. */
  readonly localTag: string | undefined;
  /** INVITE: the dialog its 2xx created (looked up by id: a dialog that ended has no 2xx to re-send). */
  readonly dialogId: string | undefined;
  /** Its entry in CoreState.merged (requests outside a dialog), removed with it. */
  readonly mergedKey: string | undefined;
}

export interface LingeringClient {
  readonly dest: Destination;
  /** INVITE, Completed: the ACK of the non-2xx final response. */
  readonly ack: Buffer | undefined;
  /** INVITE, Accepted: how a further 2xx is answered. */
  readonly accepted: AcceptedInvite | undefined;
}

export interface AcceptedInvite {
  readonly dialogId: string | undefined;
  readonly createsDialog: boolean;
  /** Nobody wanted the call when the 2xx came (a further 2xx is ACKed and ended). */
  readonly silent: boolean;
  readonly uri: string;
  readonly listener: ListenerInfo | undefined;
  /** A re-INVITE whose 2xx came after its dialog ended: the ACK sent for it (re-sent, never followed by a BYE). */
  readonly lateAck: SentAck | undefined;
  /** The To tag of the 2xx that confirmed the app's dialog: once that dialog is gone (the app's BYE ended it), its 2xx gets an ACK only. */
  readonly confirmedTag: string | undefined;
  /** 2xx no dialog wanted, ACKed and ended with a BYE, by To tag (ClientEntry.ended; made here if none came before). */
  ended: Map<string, SentAck> | undefined;
}

/** Records by transaction key, each dropped when its wait ends. */
export class LingerTable<R> {
  private readonly byKey = new Map<string, R>();
  private readonly queues = new Map<number, ExpiryQueue<R>>();

  constructor(
    private readonly timers: TimerQueue,
    /** Called for each record whose wait ended (not for one replaced or removed before). */
    private readonly onExpire: (key: string, record: R) => void = () => undefined,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): R | undefined {
    return this.byKey.get(key);
  }

  add(key: string, record: R, waitMs: number): void {
    this.byKey.set(key, record);
    let q = this.queues.get(waitMs);
    if (q === undefined) {
      q = new ExpiryQueue<R>(this.timers, waitMs, (k, r) => {
        if (this.byKey.get(k) !== r) return;
        this.byKey.delete(k);
        this.onExpire(k, r);
      });
      this.queues.set(waitMs, q);
    }
    q.push(key, record);
  }

  clear(): void {
    this.byKey.clear();
    for (const q of this.queues.values()) q.clear();
  }
}

/** One wait time: entries in the order they were made, which is the order they expire. */
class ExpiryQueue<R> {
  private keys: string[] = [];
  private records: R[] = [];
  private due: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly timers: TimerQueue,
    private readonly waitMs: number,
    private readonly expire: (key: string, record: R) => void,
  ) {}

  push(key: string, record: R): void {
    this.keys.push(key);
    this.records.push(record);
    this.due.push(this.timers.now() + this.waitMs);
    if (this.timer === undefined) this.arm();
  }

  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.keys = [];
    this.records = [];
    this.due = [];
    this.head = 0;
  }

  private arm(): void {
    if (this.head >= this.keys.length) {
      this.timer = undefined;
      return;
    }
    this.timer = this.timers.schedule(this.due[this.head]! - this.timers.now(), () => this.fire());
  }

  private fire(): void {
    // The timer queue fires up to 1 ms early (granularity): the same slack here.
    const now = this.timers.now() + 1;
    while (this.head < this.keys.length && this.due[this.head]! <= now) {
      const key = this.keys[this.head]!;
      const record = this.records[this.head]!;
      this.keys[this.head] = '';
      this.records[this.head] = undefined as R;
      this.head++;
      this.expire(key, record);
    }
    // Drop the served part once it is most of the arrays, so they do not grow for ever.
    if (this.head === this.keys.length) {
      this.keys = [];
      this.records = [];
      this.due = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.records = this.records.slice(this.head);
      this.due = this.due.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }
}
