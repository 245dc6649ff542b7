/**
 * drachtio-srf's side of a call: how a re-offer the SIP server would not send
 * is answered to the party whose offer was being relayed, and an answer that
 * came too late for a cancelled INVITE.
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
