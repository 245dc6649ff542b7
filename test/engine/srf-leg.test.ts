/**
 * drachtio-srf's side of a call: how a re-offer the SIP server would not send
 * is answered to the party whose offer was being relayed, and an answer that
 * came too late for a cancelled INVITE; offers handed over from one owner of
 * the leg to the next.
 */
import { EventEmitter } from 'node:events';
import type Srf from 'drachtio-srf';
import type { Dialog, SrfRequest, SrfResponse } from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { SrfLeg } from '../../src/engine/signaling/srf-leg.js';
import { SrfInboundInvite } from '../../src/engine/signaling/srf-port.js';

function legWhoseModifyFails(err: Error): SrfLeg {
  const dialog = Object.assign(new EventEmitter(), { local: { sdp: '' }, remote: { sdp: '' }, modify: () => Promise.reject(err) });
  return new SrfLeg(dialog as unknown as Dialog);
}

describe('SrfLeg.reoffer', () => {
  it('an INVITE already pending in the dialog (the embedded SIP server refuses to send a second) is glare: 491', async () => {
    await expect(legWhoseModifyFails(new Error('an INVITE transaction is already in progress in this dialog (RFC 3261 14.1)')).reoffer('v=0\r\n')).rejects.toMatchObject({ status: 491, reason: 'Request Pending' });
  });

  it('a final response of the far end keeps its status; anything else is 500 with its reason', async () => {
    await expect(legWhoseModifyFails(Object.assign(new Error('x'), { status: 488, reason: 'Not Acceptable Here' })).reoffer('v=0\r\n')).rejects.toMatchObject({ status: 488 });
    await expect(legWhoseModifyFails(new Error('socket closed')).reoffer('v=0\r\n')).rejects.toMatchObject({ status: 500, reason: 'socket closed' });
  });
});

describe('SrfLeg.holdOffers', () => {
  function reinvite(dialog: EventEmitter, sdp: string): { sent: { status: number; body?: string }[] } {
    const sent: { status: number; body?: string }[] = [];
    const req = { method: 'INVITE', body: sdp, has: (h: string) => h === 'Content-Type', get: () => 'application/sdp' };
    const res = { send: (status: number, opts?: unknown) => sent.push({ status, ...(typeof opts === 'object' && opts !== null && 'body' in opts ? { body: String(opts.body) } : {}) }) };
    dialog.emit('modify', req, res);
    return { sent };
  }

  it('waits for the offer being answered; later offers wait for the next handler, which takes them in order; 481 to those left when the leg ends', async () => {
    const dialog = Object.assign(new EventEmitter(), { local: { sdp: '' }, remote: { sdp: '' } });
    const leg = new SrfLeg(dialog as unknown as Dialog);
    let answerFirst: (() => void) | undefined;
    leg.onOffer(({ sdp }) => new Promise((resolve) => (answerFirst = () => resolve({ sdp: `first handler: ${sdp}` }))));
    const one = reinvite(dialog, 'v=0 one');
    let handedOver = false;
    const handOver = leg.holdOffers().then(() => (handedOver = true));
    const two = reinvite(dialog, 'v=0 two');
    const three = reinvite(dialog, 'v=0 three');
    await new Promise((r) => setImmediate(r));
    expect(handedOver).toBe(false);
    answerFirst!();
    await handOver;
    expect(one.sent).toEqual([{ status: 200, body: 'first handler: v=0 one' }]);
    expect([two.sent, three.sent]).toEqual([[], []]);
    const seen: string[] = [];
    leg.onOffer(async ({ sdp }) => {
      seen.push(sdp ?? '');
      return { sdp: `next handler: ${sdp}` };
    });
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['v=0 two', 'v=0 three']);
    expect(two.sent).toEqual([{ status: 200, body: 'next handler: v=0 two' }]);
    await leg.holdOffers();
    const four = reinvite(dialog, 'v=0 four');
    dialog.emit('destroy', {});
    expect(four.sent).toEqual([{ status: 481 }]);
  });
});

describe('SrfInboundInvite.answer', () => {
  it('a CANCEL that crossed our 2xx (the SIP server no longer knows the INVITE): the invite is cancelled and the answer fails with 487', async () => {
    const req = Object.assign(new EventEmitter(), {
      method: 'INVITE',
      uri: 'sip:1000@127.0.0.1',
      body: '',
      source_address: '127.0.0.1',
      source_port: 5060,
      protocol: 'udp',
      msg: { headers: {} },
      has: () => false,
      get: (name: string) => (name === 'Call-ID' ? 'crossed@127.0.0.1' : ''),
    });
    const res = { finalResponseSent: false, send: () => undefined };
    const srf = { createUAS: (_req: unknown, _res: unknown, _opts: unknown, cb: (err: Error) => void) => cb(new Error('500 Response not sent due to unknown transaction')) };
    const invite = new SrfInboundInvite(srf as unknown as Srf, req as unknown as SrfRequest, res as unknown as SrfResponse);
    await expect(invite.answer('v=0\r\n')).rejects.toMatchObject({ status: 487 });
    expect(invite.cancelled.aborted).toBe(true);
  });
});

describe('SrfLeg.waitForAck', () => {
  it('our own hang-up before the caller\'s ACK (the call ended from outside) settles it: not acknowledged', async () => {
    const dialog = Object.assign(new EventEmitter(), { local: { sdp: '' }, remote: { sdp: '' }, destroy: (_o: unknown, done: () => void) => done() });
    const leg = new SrfLeg(dialog as unknown as Dialog);
    const waiting = leg.waitForAck();
    await leg.hangUp('ended by supervisor');
    await expect(waiting).resolves.toEqual({ acked: false, answer: undefined });
  });

  it('the ACK settles it with the answer it carries; the far end\'s BYE first, as not acknowledged', async () => {
    const acked = Object.assign(new EventEmitter(), { local: { sdp: '' }, remote: { sdp: '' } });
    const first = new SrfLeg(acked as unknown as Dialog).waitForAck();
    acked.emit('ack', { body: 'v=0\r\n', has: (h: string) => h === 'Content-Type', get: () => 'application/sdp' });
    await expect(first).resolves.toEqual({ acked: true, answer: 'v=0\r\n' });
    const byed = Object.assign(new EventEmitter(), { local: { sdp: '' }, remote: { sdp: '' } });
    const second = new SrfLeg(byed as unknown as Dialog).waitForAck();
    byed.emit('destroy', {});
    await expect(second).resolves.toEqual({ acked: false, answer: undefined });
  });
});
