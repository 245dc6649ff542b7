/**
 * The bridge between the caller leg and the agent (or gateway) leg: a BYE on
 * either side ends the call (and so the other leg), and an offer on one leg
 * (re-INVITE or UPDATE: hold, resume, codec change) goes through rtpengine to
 * the other leg, whose answer comes back the same way (RFC 3264 §8). An
 * offer-less re-INVITE (RFC 3261 §14.2, e.g. a session refresh) is answered
 * with the SDP that leg already has; the answer in its ACK reaches rtpengine
 * only when the leg's media changed, and the other leg is not disturbed. A
 * re-offer of unchanged media (a session refresh, RFC 4028) is answered the
 * same way, without the other leg.
 * Offers from both sides at once: the second gets 491 (RFC 3261 §14.2).
 *
 * Resolves when the call has ended.
 */
import { parseSdp, sameMedia } from '../../media/index.js';
import type { CallContext } from '../flows/call-context.js';
import { AGENT, CALLER } from '../media/call-anchor.js';
import type { EndedBy } from '../session/call-session.js';
import { legEnd } from '../session/end-reasons.js';
import { SipFailure, type OfferHandler, type SipLeg } from '../signaling/sip-port.js';
import type { Task } from './task.js';

export interface BridgedLeg {
  readonly leg: SipLeg;
  /** The SDP we last sent this leg (our answer or offer). */
  readonly sentSdp: string;
  /** The SDP this leg last sent us. */
  readonly receivedSdp: string;
  /** Who this leg is, in the call record's words. */
  readonly party: EndedBy;
  /** Its keys in INFO are for the engine (the agent's recording codes), not relayed to the other leg. */
  readonly keepsDigits?: boolean;
}

/**
 * Whether the party that sent `sdp` holds the call (RFC 3264 §8.4): its offer or answer stops its sending
 * (sendonly, inactive) or points at 0.0.0.0 (RFC 2543 style). An answer recvonly to the other's hold is no hold of its own.
 */
export function holdsIn(sdp: string): boolean {
  try {
    const audio = parseSdp(sdp).media.find((m) => m.type === 'audio');
    if (audio === undefined) return false;
    return audio.direction === 'sendonly' || audio.direction === 'inactive' || audio.address === '0.0.0.0';
  } catch {
    return false;
  }
}

/**
 * RFC 3261 §12.2.1.2: a request in a dialog answered 481, or never answered (408, Timer B), ends that
 * dialog: a re-offer to a phone gone from the network (no BYE) or that forgot the call ends the call
 * rather than leaving it "connected" to nobody. The call's end reason, or undefined for any other failure.
 */
export function lostLegReason(party: EndedBy, e: unknown): string | undefined {
  const status = e instanceof SipFailure ? e.status : undefined;
  if (status === 408) return `${party} leg lost (re-INVITE timed out)`;
  if (status === 481) return `${party} leg lost (re-INVITE answered 481)`;
  return undefined;
}

/** A callee (agent, gateway) as the bridge takes it: its leg and the SDPs exchanged with it. */
export type BridgedCallee = Pick<BridgedLeg, 'leg' | 'sentSdp' | 'receivedSdp'>;

/**
 * A callee offered the call before the caller's latest offers (hold, resume:
 * answered by rtpengine on its behalf since the count `offersBefore`, see
 * `CallContext.callerOffers`) is re-offered what the caller sends now,
 * through rtpengine (the caller's own answer stands). The callee's SDPs after
 * it: as they were when nothing changed, the call ended, or the re-offer was refused (a callee
 * whose re-offer times out or gets 481 is gone: the call ends, `lostLegReason`).
 */
export async function catchUpCallee(ctx: CallContext, callee: BridgedCallee & { readonly party: EndedBy }, offersBefore: number | undefined): Promise<BridgedCallee> {
  const { session, anchor } = ctx;
  const callerSdp = ctx.callerSdp;
  if (offersBefore === undefined || ctx.callerOffers === offersBefore || callerSdp === undefined || session.ended) return callee;
  try {
    const forCallee = await anchor.relayOffer(CALLER, callerSdp);
    const answer = await callee.leg.reoffer(forCallee);
    await anchor.relayAnswer(AGENT, answer, CALLER);
    session.timeline.partyHolds(CALLER, holdsIn(callerSdp));
    session.timeline.partyHolds(AGENT, holdsIn(answer));
    session.log.info({ from: CALLER, hold: session.timeline.held }, 'offer relayed');
    return { leg: callee.leg, sentSdp: forCallee, receivedSdp: answer };
  } catch (e) {
    session.log.info({ from: CALLER, err: e instanceof Error ? e.message : String(e) }, 'offer refused');
    const lost = lostLegReason(callee.party, e);
    if (lost !== undefined) void session.end(lost, 'engine');
    return callee;
  }
}

interface Sdps {
  readonly sent: Map<SipLeg, string>;
  readonly received: Map<SipLeg, string>;
}

export class BridgeTask implements Task<void> {
  readonly name = 'bridge';
  private negotiating = false;

  constructor(
    private readonly caller: BridgedLeg,
    private readonly agent: BridgedLeg,
  ) {}

  async run(ctx: CallContext, signal: AbortSignal): Promise<void> {
    const { session } = ctx;
    session.transition('connected');
    // A party that holds as the bridge starts (a waiting caller who held before its agent was offered it) holds the call.
    session.timeline.partyHolds(CALLER, holdsIn(this.caller.receivedSdp));
    session.timeline.partyHolds(AGENT, holdsIn(this.agent.receivedSdp));
    const sdps: Sdps = {
      sent: new Map([
        [this.caller.leg, this.caller.sentSdp],
        [this.agent.leg, this.agent.sentSdp],
      ]),
      received: new Map([
        [this.caller.leg, this.caller.receivedSdp],
        [this.agent.leg, this.agent.receivedSdp],
      ]),
    };
    this.caller.leg.onOffer(this.relay(ctx, sdps, this.caller.leg, CALLER, this.agent, AGENT));
    this.agent.leg.onOffer(this.relay(ctx, sdps, this.agent.leg, AGENT, this.caller, CALLER));
    // DTMF in INFO goes on to the other party, as RFC 4733 events do through rtpengine (a trunk that signals keys by INFO).
    if (this.caller.keepsDigits !== true) this.caller.leg.onDigit((d) => void (session.ended ? undefined : this.agent.leg.sendDigit(d)));
    if (this.agent.keepsDigits !== true) this.agent.leg.onDigit((d) => void (session.ended ? undefined : this.caller.leg.sendDigit(d)));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      for (const side of [this.caller, this.agent]) {
        side.leg.onHangUp((serverReason) => {
          const end = legEnd(side.party, serverReason);
          void session.end(end.reason, end.by);
        });
      }
    });
  }

  /**
   * The answer in the ACK of an offer-less re-INVITE: rtpengine learns it when
   * the leg's media moved (without a media plane, the other leg is re-offered).
   */
  private async ackAnswer(ctx: CallContext, sdps: Sdps, answer: string, from: SipLeg, fromLabel: string, to: SipLeg, toLabel: string): Promise<void> {
    const before = sdps.received.get(from) ?? '';
    sdps.received.set(from, answer);
    if (sameMedia(before, answer) || ctx.session.ended) return;
    try {
      if (ctx.anchor.anchored) await ctx.anchor.relayAnswer(fromLabel, answer, toLabel);
      else sdps.received.set(to, await to.reoffer(answer));
    } catch (e) {
      ctx.session.log.info({ from: fromLabel, err: (e as Error).message }, 'new media in an ACK not taken');
    }
  }

  private relay(ctx: CallContext, sdps: Sdps, from: SipLeg, fromLabel: string, other: BridgedLeg, toLabel: string): OfferHandler {
    const to = other.leg;
    return async (offer) => {
      const { session, anchor } = ctx;
      if (session.ended) throw new SipFailure(481, 'Call/Transaction Does Not Exist');
      if (offer.sdp === undefined) return { sdp: sdps.sent.get(from)!, onAck: (answer) => void this.ackAnswer(ctx, sdps, answer, from, fromLabel, to, toLabel) };
      // A session refresh (RFC 4028) or any re-offer of the same media: answered with what the leg has; the other leg has its own timer.
      if (sameMedia(offer.sdp, sdps.received.get(from) ?? '')) return { sdp: sdps.sent.get(from)! };
      if (this.negotiating) throw new SipFailure(491, 'Request Pending');
      this.negotiating = true;
      try {
        const forOther = await anchor.relayOffer(fromLabel, offer.sdp);
        const answer = await to.reoffer(forOther);
        sdps.sent.set(to, forOther);
        sdps.received.set(to, answer);
        sdps.received.set(from, offer.sdp);
        const forOfferer = await anchor.relayAnswer(toLabel, answer, fromLabel);
        sdps.sent.set(from, forOfferer);
        // Each side's own SDP says whether it holds: the offerer's offer, the other's answer (RFC 3264 §8.4).
        session.timeline.partyHolds(fromLabel, holdsIn(offer.sdp));
        session.timeline.partyHolds(toLabel, holdsIn(answer));
        session.log.info({ from: fromLabel, method: offer.method, hold: session.timeline.held }, 'offer relayed');
        return { sdp: forOfferer };
      } catch (e) {
        session.log.info({ from: fromLabel, err: e instanceof Error ? e.message : String(e) }, 'offer refused');
        const lost = lostLegReason(other.party, e);
        if (lost !== undefined) void session.end(lost, 'engine');
        // A BYE crossed this offer: it ends with the call (RFC 3261 §15.1.2, RFC 5407 §3.1), not as a media failure.
        if (lost === undefined && (session.ended || !to.connected)) throw new SipFailure(487, 'Request Terminated');
        throw e;
      } finally {
        this.negotiating = false;
      }
    };
  }
}
