/**
 * Bridging the caller leg and the agent leg: a BYE on either side ends the
 * call (and so the other leg), and a re-INVITE on one leg (hold/resume, codec
 * change) is passed to the other, whose answer goes back.
 */
import type { CallSession } from '../call-session.js';
import { sipStatusOf, type SrfDialog, type SrfRequest, type SrfResponse } from '../srf.js';

/** Sends BYE on a leg unless it is already gone; never throws. */
export async function hangUp(dialog: SrfDialog): Promise<void> {
  if ((dialog as unknown as { connected?: boolean }).connected === false) return;
  await new Promise<void>((resolve) => {
    dialog.destroy(undefined, () => resolve());
  });
}

function passModify(from: SrfDialog, to: SrfDialog, session: CallSession, label: string): void {
  from.on('modify', (req: SrfRequest, res: SrfResponse) => {
    if (session.ended) {
      res.send(481);
      return;
    }
    to.modify(req.body).then(
      (sdp: string) => res.send(200, { body: sdp }),
      (err: unknown) => {
        const status = sipStatusOf(err) ?? 500;
        session.log.info({ leg: label, status }, 're-INVITE refused by the other leg');
        res.send(status >= 300 && status < 700 ? status : 500);
      },
    );
  });
}

export function bridge(session: CallSession, caller: SrfDialog, agent: SrfDialog): void {
  session.state = 'connected';
  session.connectedAt = new Date();
  caller.on('destroy', () => void session.end('caller hung up'));
  agent.on('destroy', () => void session.end('agent hung up'));
  session.own('caller leg', () => hangUp(caller));
  session.own('agent leg', () => hangUp(agent));
  passModify(caller, agent, session, 'caller');
  passModify(agent, caller, session, 'agent');
}
