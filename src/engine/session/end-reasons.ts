/**
 * How a call's end is told: the reason and who ended it for the call record
 * when a leg ends, and the Q.850 cause of the BYEs we send then (RFC 3326
 * Reason), so that a carrier's records tell a failure of ours from a normal
 * hang-up.
 */
import type { EndedBy } from './call-session.js';

/**
 * The call record's reason and author when a party's leg ends: a BYE from the
 * party is its hang-up; a BYE the SIP server sent on its own (no ACK to our
 * 2xx, a session timer that expired) ended the call on our side.
 */
export function legEnd(party: EndedBy, serverReason: string | undefined): { reason: string; by: EndedBy } {
  if (serverReason === undefined) return { reason: `${party} hung up`, by: party };
  if (serverReason === 'ACK timeout') return { reason: `${party} did not acknowledge`, by: 'engine' };
  return { reason: `${party} leg ended by the SIP server (${serverReason})`, by: 'engine' };
}

/**
 * The Q.850 cause for a call ended with `reason` (ITU-T Q.850 §2.2.7): 41
 * temporary failure when the media relay was lost, 102 recovery on timer
 * expiry when a timer ended it (media timeout, maximum duration, a missing
 * ACK, a session timer, a re-INVITE never answered), 111 protocol error when the caller broke offer/answer
 * (an ACK without the answer to our offer), 18 no user responding when no agent
 * took a caller who was answered while waiting (what 480 No Agent Available is,
 * RFC 3398 §7.2.4.1), else 16 normal call clearing.
 */
export function q850CauseOf(reason: string | undefined): number {
  if (reason === undefined) return 16;
  if (reason === 'media relay lost') return 41;
  if (reason === 'caller sent no answer') return 111;
  if (reason.startsWith('No Agent Available')) return 18;
  if (reason === 'media timeout' || reason.startsWith('media timeout (') || reason === 'maximum call duration reached' || reason.endsWith(' did not acknowledge') || reason.includes('ended by the SIP server') || reason.endsWith('(re-INVITE timed out)')) return 102;
  return 16;
}

/**
 * BYEs sent and not answered yet. The engine's stop waits for them, bounded,
 * so that they leave (and are retransmitted a few times) before the SIP server
 * closes.
 */
export class PendingHangUps {
  private readonly pending = new Set<Promise<void>>();

  get size(): number {
    return this.pending.size;
  }

  add(bye: Promise<void>): void {
    const p = bye.catch(() => undefined);
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }

  /** Resolves once every BYE is answered (or failed), or after `ms`. */
  async settled(ms: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    });
    await Promise.race([Promise.all([...this.pending]), limit]);
    clearTimeout(timer);
  }
}

/**
 * The BYE that releases a leg when the call ends: it carries the call's end
 * reason, when there is one. It is sent, not awaited: a phone that never
 * answers it (gone from the network) would otherwise hold the call, and the
 * agent's state, until the BYE's Timer F (64·T1, 32 s). The SIP layer keeps
 * the transaction (and retransmits) for as long as RFC 3261 says; `pending`
 * lets the engine's stop wait for it.
 */
export function hangUpFor(leg: { hangUp(reason?: string, q850Cause?: number): Promise<void> }, endReason: string | undefined, pending?: PendingHangUps): void {
  const bye = endReason === undefined ? leg.hangUp() : leg.hangUp(endReason, q850CauseOf(endReason));
  if (pending !== undefined) pending.add(bye);
  else void bye.catch(() => undefined);
}
