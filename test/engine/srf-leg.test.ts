/**
 * A call leg over drachtio-srf: how a re-offer the SIP server would not send
 * is answered to the party whose offer was being relayed.
 */
import { EventEmitter } from 'node:events';
import type { Dialog } from 'drachtio-srf';
import { describe, expect, it } from 'vitest';
import { SrfLeg } from '../../src/engine/signaling/srf-leg.js';

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
