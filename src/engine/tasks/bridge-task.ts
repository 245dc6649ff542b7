/**
 * Bridging the caller leg and the agent leg: a BYE on either side ends the
 * call (and so the other leg), and a re-INVITE on one leg (hold/resume, codec
 * change) is passed to the other, whose answer goes back. A re-INVITE without
 * SDP (RFC 3261 §14.2, e.g. an RFC 4028 session refresh) asks for an offer:
 * the other leg's offer goes back in the 200, and the answer, which arrives
 * in the ACK, is sent on in the ACK to the other leg (RFC 3264 §5).
 */
import type { CallSession } from '../call-session.js';
import { sipStatusOf, type SrfDialog, type SrfRequest, type SrfResponse } from '../srf.js';

/** False once the leg has ended (a BYE received or sent); drachtio-srf's typings omit the flag. */
export function isConnected(dialog: SrfDialog): boolean {
  return (dialog as unknown as { connected?: boolean }).connected !== false;
}

/**
 * Holds the leg's incoming requests (BYE, re-INVITE, …) until `release`:
 * called the moment drachtio-srf hands over a new dialog, so that requests
 * arriving before the bridge exists are not answered by drachtio-srf's
 * defaults (a re-INVITE answered with the old SDP, a BYE no one hears).
 */
export function holdRequests(dialog: SrfDialog): void {
  (dialog as unknown as { queueRequests: boolean }).queueRequests = true;
}

/** Lets held requests through (drachtio-srf handles them on the next turn, to the listeners attached by then). */
export function release(dialog: SrfDialog): void {
  (dialog as unknown as { queueRequests: boolean }).queueRequests = false;
}

/** Sends BYE on a leg unless it is already gone; never throws. */
export async function hangUp(dialog: SrfDialog): Promise<void> {
  // A BYE the far end sent meanwhile still gets its 200.
  release(dialog);
  if (!isConnected(dialog)) return;
  await new Promise<void>((resolve) => {
    dialog.destroy(undefined, () => resolve());
  });
}

/** What drachtio-srf's modify({ noAck: true }) resolves with: the other leg's offer and its ACK to send. */
interface OfferToAnswer {
  readonly sdp: string;
  ack(answer: string): void;
}

function passModify(from: SrfDialog, to: SrfDialog, session: CallSession, label: string): void {
  from.on('modify', (req: SrfRequest, res: SrfResponse) => {
    if (session.ended) {
      res.send(481);
      return;
    }
    const refused = (err: unknown): void => {
      const status = sipStatusOf(err) ?? 500;
      session.log.info({ leg: label, status }, 're-INVITE refused by the other leg');
      res.send(status >= 300 && status < 700 ? status : 500);
    };
    if (req.body === undefined || req.body === '') {
      // drachtio-srf resolves modify({ noAck }) of an offer-less re-INVITE with the offer and the ACK to send.
      (to.modify({ noAck: true }) as unknown as Promise<OfferToAnswer>).then((offer) => {
        // drachtio-srf emits the ACK request (its typings say a response; only the body is read).
        from.once('ack', (ack: { body?: string }) => offer.ack(ack.body ?? ''));
        res.send(200, { body: offer.sdp });
      }, refused);
      return;
    }
    to.modify(req.body).then((sdp: string) => res.send(200, { body: sdp }), refused);
  });
}

export function bridge(session: CallSession, caller: SrfDialog, agent: SrfDialog): void {
  session.state = 'connected';
  session.connectedAt = new Date();
  caller.on('destroy', () => void session.end('caller hung up'));
  agent.on('destroy', () => void session.end('agent hung up'));
  // A BYE that reached drachtio-srf in the same read as the answer's confirmation was handled
  // before these listeners existed (RFC 3261 §15.1.2: the leg is over): end the call now.
  if (!isConnected(caller)) void session.end('caller hung up');
  else if (!isConnected(agent)) void session.end('agent hung up');
  // Requests held since each leg was answered now reach the listeners above.
  release(caller);
  release(agent);
  session.own('caller leg', () => hangUp(caller));
  session.own('agent leg', () => hangUp(agent));
  passModify(caller, agent, session, 'caller');
  passModify(agent, caller, session, 'agent');
}
