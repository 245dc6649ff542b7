/**
 * The four RFC 3261 §17 transaction machines (with RFC 6026) and the shared
 * timer heap, on a fake clock: exact retransmission schedules over UDP, none
 * over TCP, and every timeout at its RFC value.
 */
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import type { MessageInfo } from '../../../src/sip-server/message/parser.js';
import { SipHeaders, type SipResponse } from '../../../src/sip-server/message/sip-message.js';
import type { TransactionContext } from '../../../src/sip-server/transaction/context.js';
import { InviteClientTransaction } from '../../../src/sip-server/transaction/invite-client-transaction.js';
import { InviteServerTransaction } from '../../../src/sip-server/transaction/invite-server-transaction.js';
import { NonInviteClientTransaction } from '../../../src/sip-server/transaction/non-invite-client-transaction.js';
import { NonInviteServerTransaction } from '../../../src/sip-server/transaction/non-invite-server-transaction.js';
import { TimerQueue } from '../../../src/sip-server/transaction/timer-queue.js';
import type { Destination } from '../../../src/sip-server/transport/types.js';
import { FakeClock } from '../../support/fake-clock.js';
import { eventually } from '../../support/harness.js';

const T1 = 500;
const T2 = 4000;
const T4 = 5000;

function setup(): { clock: FakeClock; ctx: TransactionContext; sent: number[] } {
  const clock = new FakeClock();
  const sent: number[] = [];
  const ctx: TransactionContext = { timers: new TimerQueue(clock), t1: T1, t2: T2, t4: T4, send: () => sent.push(clock.t) };
  return { clock, ctx, sent };
}

const udp: Destination = { transport: 'udp', address: '127.0.0.1', port: 5060 };
const tcp: Destination = { transport: 'tcp', address: '127.0.0.1', port: 5060 };
const info = {} as MessageInfo;
const resp = (status: number): SipResponse => ({ kind: 'response', status, reason: 'x', headers: new SipHeaders(), body: Buffer.alloc(0) });

describe('TimerQueue (one heap for every timer)', () => {
  it('fires in due order, skips cancelled timers and reports its live size', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const fired: string[] = [];
    q.schedule(300, () => fired.push('c'));
    const b = q.schedule(200, () => fired.push('b'));
    q.schedule(100, () => fired.push('a'));
    q.schedule(100, () => fired.push('a2'));
    expect(q.size).toBe(4);
    b.cancel();
    b.cancel();
    expect(q.size).toBe(3);
    clock.advanceTo(1000);
    expect(fired).toEqual(['a', 'a2', 'c']);
    expect(q.size).toBe(0);
  });

  it('a throwing callback does not stop the others', () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const q = new TimerQueue(clock, (e) => errors.push(e));
    const fired: number[] = [];
    q.schedule(10, () => {
      throw new Error('boom');
    });
    q.schedule(10, () => fired.push(1));
    clock.advanceTo(20);
    expect(fired).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('compacts many cancelled timers so they do not accumulate', () => {
    const clock = new FakeClock();
    const q = new TimerQueue(clock);
    const handles = Array.from({ length: 5000 }, (_, i) => q.schedule(1000 + i, () => undefined));
    for (const h of handles.slice(0, 4990)) h.cancel();
    expect(q.size).toBe(10);
    clock.advanceTo(10_000);
    expect(q.size).toBe(0);
  });

  it('a timer weeks away (a long RFC 4028 interval) never asks the platform for more than 2^31−1 ms, and fires on time', () => {
    const delays: number[] = [];
    const clock = new FakeClock();
    const recording = { now: () => clock.now(), setTimeout: (fn: () => void, ms: number) => (delays.push(ms), clock.setTimeout(fn, ms)), clearTimeout: (h: unknown) => clock.clearTimeout(h) };
    const q = new TimerQueue(recording);
    const sixtyDays = 60 * 86_400_000;
    let firedAt: number | undefined;
    q.schedule(sixtyDays, () => (firedAt = clock.now()));
    clock.advanceTo(sixtyDays - 1);
    expect(firedAt).toBeUndefined();
    clock.advanceTo(sixtyDays);
    expect(firedAt).toBe(sixtyDays);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe('TimerQueue on the real clock', () => {
  it('after a stall, a datagram that arrived meanwhile is read before a timer that fell due meanwhile (a response beats Timer B/F)', async () => {
    const rx = createSocket('udp4');
    try {
      await new Promise<void>((resolve) => rx.bind(0, '127.0.0.1', resolve));
      const order: string[] = [];
      rx.on('message', () => order.push('datagram'));
      const q = new TimerQueue();
      const scheduledAt = performance.now();
      q.schedule(1, () => order.push('timer'));
      // The stall: this thread is blocked while another process sends the datagram (in rx's kernel
      // buffer once that process has exited) ...
      const sender = spawnSync(process.execPath, ['-e', `const s = require('node:dgram').createSocket('udp4'); s.send('x', ${rx.address().port}, '127.0.0.1', () => s.close());`]);
      expect(sender.status, sender.stderr.toString()).toBe(0);
      // ... and the timer is certainly due when the loop runs again.
      while (performance.now() - scheduledAt < 5);
      await eventually(() => order.length === 2, 10_000, () => `both events, got ${order.join(', ')}`);
      expect(order).toEqual(['datagram', 'timer']);
    } finally {
      rx.close();
    }
  });
});

describe('INVITE client transaction (RFC 3261 §17.1.1)', () => {
  it('Timer A retransmits at T1, 2T1, 4T1 ... (no T2 cap) until Timer B at 64·T1 reports a timeout', () => {
    const { clock, ctx, sent } = setup();
    let timedOut = -1;
    let terminated = false;
    const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, {
      onResponse: () => undefined,
      onTimeout: () => (timedOut = clock.t),
      onTransportError: () => undefined,
      onTerminated: () => (terminated = true),
    }, () => Buffer.from('ack'));
    tx.start();
    clock.advanceTo(64 * T1 + 1);
    expect(sent).toEqual([0, 500, 1500, 3500, 7500, 15500, 31500]);
    expect(timedOut).toBe(64 * T1);
    expect(terminated).toBe(true);
  });

  it('no retransmission over TCP, but Timer B still applies', () => {
    const { clock, ctx, sent } = setup();
    let timedOut = false;
    const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('x'), tcp, { onResponse: () => undefined, onTimeout: () => (timedOut = true), onTransportError: () => undefined, onTerminated: () => undefined }, () => Buffer.from('ack'));
    tx.start();
    clock.advanceTo(64 * T1);
    expect(sent).toEqual([0]);
    expect(timedOut).toBe(true);
  });

  it('a 1xx stops Timer A; a 3xx–6xx is ACKed, and its retransmissions re-ACKed during Timer D (32 s)', () => {
    const { clock, ctx, sent } = setup();
    const seen: number[] = [];
    const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, { onResponse: (_t, r) => seen.push(r.status), onTimeout: () => undefined, onTransportError: () => undefined, onTerminated: () => undefined }, () => Buffer.from('ack'));
    tx.start();
    clock.advanceTo(100);
    tx.onResponse(resp(180), info);
    clock.advanceTo(5000);
    expect(sent).toEqual([0]);
    tx.onResponse(resp(486), info);
    expect(sent).toEqual([0, 5000]); // the ACK
    tx.onResponse(resp(486), info); // retransmitted final: ACK again, not passed up
    expect(sent).toEqual([0, 5000, 5000]);
    expect(seen).toEqual([180, 486]);
    clock.advanceTo(5000 + 32_000);
    expect(tx.state).toBe('terminated');
  });

  it('Timer B times out only Calling: a callee that rang (Proceeding) may ring past 64·T1 and still answer', () => {
    const { clock, ctx } = setup();
    const seen: number[] = [];
    let timedOut = false;
    const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, { onResponse: (_t, r) => seen.push(r.status), onTimeout: () => (timedOut = true), onTransportError: () => undefined, onTerminated: () => undefined }, () => Buffer.from('ack'));
    tx.start();
    tx.onResponse(resp(180), info);
    clock.advanceTo(3 * 64 * T1);
    expect(timedOut).toBe(false);
    expect(tx.state).toBe('proceeding');
    tx.onResponse(resp(200), info);
    expect(seen).toEqual([180, 200]);
  });

  it('RFC 6026: after a 2xx the transaction is Accepted for 64·T1 and passes further 2xx to the TU', () => {
    const { clock, ctx } = setup();
    const seen: number[] = [];
    const tx = new InviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, { onResponse: (_t, r) => seen.push(r.status), onTimeout: () => undefined, onTransportError: () => undefined, onTerminated: () => undefined }, () => Buffer.from('ack'));
    tx.start();
    tx.onResponse(resp(200), info);
    tx.onResponse(resp(200), info);
    tx.onResponse(resp(486), info);
    expect(seen).toEqual([200, 200]);
    expect(tx.state).toBe('accepted');
    clock.advanceTo(64 * T1);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE client transaction (RFC 3261 §17.1.2)', () => {
  it('Timer E doubles from T1 up to T2, Timer F fires at 64·T1', () => {
    const { clock, ctx, sent } = setup();
    let timedOut = -1;
    const tx = new NonInviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, { onResponse: () => undefined, onTimeout: () => (timedOut = clock.t), onTransportError: () => undefined, onTerminated: () => undefined });
    tx.start();
    clock.advanceTo(64 * T1);
    expect(sent.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    expect(sent.slice(5).every((t, i, a) => i === 0 || t - a[i - 1]! === T2)).toBe(true);
    expect(timedOut).toBe(64 * T1);
  });

  it('in Proceeding, Timer E continues at T2; a final response leads to Completed then Terminated after T4', () => {
    const { clock, ctx, sent } = setup();
    const tx = new NonInviteClientTransaction(ctx, 'k', Buffer.from('x'), udp, { onResponse: () => undefined, onTimeout: () => undefined, onTransportError: () => undefined, onTerminated: () => undefined });
    tx.start();
    clock.advanceTo(600);
    tx.onResponse(resp(100), info);
    clock.advanceTo(1500 + T2 + 1);
    expect(sent).toEqual([0, 500, 1500, 1500 + T2]);
    tx.onResponse(resp(200), info);
    expect(tx.state).toBe('completed');
    clock.advanceTo(1500 + T2 + 1 + T4);
    expect(tx.state).toBe('terminated');
  });
});

describe('INVITE server transaction (RFC 3261 §17.2.1, RFC 6026)', () => {
  it('a 3xx–6xx is retransmitted by Timer G (T1 doubling, capped at T2) until Timer H at 64·T1', () => {
    const { clock, ctx, sent } = setup();
    let ackTimeout = false;
    const tx = new InviteServerTransaction(ctx, 'k', udp, { onAckTimeout: () => (ackTimeout = true), onTerminated: () => undefined });
    tx.respond(486, Buffer.from('busy'));
    clock.advanceTo(64 * T1);
    expect(sent.slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    expect(ackTimeout).toBe(true);
    expect(tx.state).toBe('terminated');
  });

  it('the ACK moves it to Confirmed, which absorbs retransmissions for T4, then Terminated', () => {
    const { clock, ctx, sent } = setup();
    const tx = new InviteServerTransaction(ctx, 'k', udp, { onTerminated: () => undefined });
    tx.respond(100, Buffer.from('trying'));
    tx.onRetransmission();
    expect(sent).toEqual([0, 0]); // the provisional is repeated
    tx.respond(603, Buffer.from('decline'));
    clock.advanceTo(600);
    tx.onAck();
    expect(tx.state).toBe('confirmed');
    clock.advanceTo(600 + T4);
    expect(tx.state).toBe('terminated');
    expect(sent).toEqual([0, 0, 0, 500]);
  });

  it('a 2xx moves it to Accepted for 64·T1; further responses are refused', () => {
    const { clock, ctx } = setup();
    const tx = new InviteServerTransaction(ctx, 'k', tcp, { onTerminated: () => undefined });
    expect(tx.respond(200, Buffer.from('ok'))).toBe(true);
    expect(tx.respond(486, Buffer.from('busy'))).toBe(false);
    expect(tx.state).toBe('accepted');
    clock.advanceTo(64 * T1);
    expect(tx.state).toBe('terminated');
  });

  it('over TCP Timer G does not run and Confirmed ends at once', () => {
    const { clock, ctx, sent } = setup();
    const tx = new InviteServerTransaction(ctx, 'k', tcp, { onTerminated: () => undefined });
    tx.respond(404, Buffer.from('nf'));
    clock.advanceTo(5000);
    expect(sent).toEqual([0]);
    tx.onAck();
    clock.advanceTo(5000);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE server transaction (RFC 3261 §17.2.2)', () => {
  it('repeats its last response to retransmissions and ends after Timer J (64·T1 over UDP, 0 over TCP)', () => {
    const { clock, ctx, sent } = setup();
    const tx = new NonInviteServerTransaction(ctx, 'k', udp, () => undefined);
    tx.onRetransmission(); // Trying: nothing to repeat
    expect(sent).toEqual([]);
    tx.respond(200, Buffer.from('ok'));
    tx.onRetransmission();
    expect(sent).toEqual([0, 0]);
    expect(tx.respond(500, Buffer.from('x'))).toBe(false);
    clock.advanceTo(64 * T1 - 1);
    expect(tx.state).toBe('completed');
    clock.advanceTo(64 * T1);
    expect(tx.state).toBe('terminated');
    const t2 = new NonInviteServerTransaction(ctx, 'k2', tcp, () => undefined);
    t2.respond(200, Buffer.from('ok'));
    clock.advanceTo(64 * T1 + 1);
    expect(t2.state).toBe('terminated');
  });
});
