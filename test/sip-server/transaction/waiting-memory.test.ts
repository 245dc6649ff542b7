/**
 * What a transaction keeps while it only waits out its RFC 3261 §17 timer
 * (Timer D, I, L, M): the RFC needs no message for absorbing retransmissions
 * there, so the request and the last response must be free for the garbage
 * collector. Checked with WeakRefs after full collections, on a fake clock.
 */
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../../src/observability/memory.js';
import type { MessageInfo } from '../../../src/sip-server/message/parser.js';
import { SipHeaders, type SipResponse } from '../../../src/sip-server/message/sip-message.js';
import type { TransactionContext } from '../../../src/sip-server/transaction/context.js';
import { InviteClientTransaction } from '../../../src/sip-server/transaction/invite-client-transaction.js';
import { InviteServerTransaction } from '../../../src/sip-server/transaction/invite-server-transaction.js';
import { NonInviteServerTransaction } from '../../../src/sip-server/transaction/non-invite-server-transaction.js';
import { TimerQueue } from '../../../src/sip-server/transaction/timer-queue.js';
import type { Destination } from '../../../src/sip-server/transport/types.js';
import { FakeClock } from '../../support/fake-clock.js';

const udp: Destination = { transport: 'udp', address: '127.0.0.1', port: 5060 };
const info = {} as MessageInfo;
const resp = (status: number): SipResponse => ({ kind: 'response', status, reason: 'x', headers: new SipHeaders(), body: Buffer.alloc(0) });

function setup(): { clock: FakeClock; ctx: TransactionContext; sent: string[] } {
  const clock = new FakeClock();
  const sent: string[] = [];
  const ctx: TransactionContext = { timers: new TimerQueue(clock), t1: 500, t2: 4000, t4: 5000, send: (d) => sent.push(d.toString()) };
  return { clock, ctx, sent };
}

/** True once nothing but the WeakRef points at the object (WeakRefs hold their target until the job ends). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r));
    expect(collectGarbage()).toBe(true);
  }
  return ref.deref() === undefined;
}

const noUser = { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined, onTerminated: () => undefined };

/**
 * An INVITE client transaction whose ACK builder holds a request the way the
 * core's does (its closure keeps it; nothing else does), and a WeakRef to that request.
 */
function clientTransaction(ctx: TransactionContext): { tx: InviteClientTransaction; request: WeakRef<object> } {
  const request = { headers: ['Via: x', 'Call-ID: y'] };
  // The user's callbacks are made elsewhere: closures made here would share the builder's context, and keep the request.
  const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('INVITE'), udp, noUser, (r) => Buffer.from(`ACK ${r.status} ${request.headers.length}`));
  return { tx, request: new WeakRef(request) };
}

describe('timer-waiting transactions keep no message', () => {
  it('an INVITE client transaction in Accepted (Timer M) lets go of the request its ACK builder holds', async () => {
    const { ctx } = setup();
    const { tx, request } = clientTransaction(ctx);
    tx.start();
    expect(await collected(request)).toBe(false);
    tx.onResponse(resp(200), info);
    expect(tx.state).toBe('accepted');
    expect(await collected(request)).toBe(true);
  });

  it('an INVITE client transaction in Completed (Timer D) keeps only its ACK, and still re-sends it for a retransmitted final response', async () => {
    const { ctx, sent } = setup();
    const { tx, request } = clientTransaction(ctx);
    tx.start();
    tx.onResponse(resp(486), info);
    expect(tx.state).toBe('completed');
    expect(await collected(request)).toBe(true);
    tx.onResponse(resp(486), info);
    expect(sent.filter((s) => s === 'ACK 486 2')).toHaveLength(2);
  });

  it('an INVITE server transaction lets go of its 2xx in Accepted (Timer L): the TU re-sends 2xx, not the transaction', async () => {
    const { ctx, sent } = setup();
    const tx = new InviteServerTransaction(ctx, 'k', udp, { onTerminated: () => undefined });
    let ok: Buffer | undefined = Buffer.from('SIP/2.0 200 OK');
    const ref = new WeakRef(ok);
    tx.respond(200, ok);
    ok = undefined;
    expect(tx.state).toBe('accepted');
    expect(await collected(ref)).toBe(true);
    tx.onRetransmission();
    expect(sent).toEqual(['SIP/2.0 200 OK']);
  });

  it('an INVITE server transaction re-sends its non-2xx until the ACK, then lets go of it in Confirmed (Timer I)', async () => {
    const { ctx, sent } = setup();
    const tx = new InviteServerTransaction(ctx, 'k', udp, { onTerminated: () => undefined });
    let busy: Buffer | undefined = Buffer.from('SIP/2.0 486 Busy Here');
    const ref = new WeakRef(busy);
    tx.respond(486, busy);
    busy = undefined;
    tx.onRetransmission();
    expect(sent).toHaveLength(2);
    expect(await collected(ref)).toBe(false);
    tx.onAck();
    expect(tx.state).toBe('confirmed');
    expect(await collected(ref)).toBe(true);
    tx.onRetransmission();
    expect(sent).toHaveLength(2);
  });

  it('a non-INVITE server transaction keeps its final response in Completed (Timer J): retransmitted requests get it again', async () => {
    const { ctx, sent } = setup();
    const tx = new NonInviteServerTransaction(ctx, 'k', udp, () => undefined);
    let ok: Buffer | undefined = Buffer.from('SIP/2.0 200 OK');
    const ref = new WeakRef(ok);
    tx.respond(200, ok);
    ok = undefined;
    expect(await collected(ref)).toBe(false);
    tx.onRetransmission();
    expect(sent).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  });
});
