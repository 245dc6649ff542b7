/**
 * Answering the caller ourselves, for flows with nobody to bridge to (the
 * after-hours message, voicemail): our 200 carries rtpengine's SDP (the one a
 * 183 already showed, or our own offer for a delayed-offer caller, whose
 * answer comes in its ACK). Later offers from the caller (hold, codec change)
 * are answered by rtpengine the same way.
 */
import { sameMedia } from '../../media/index.js';
import type { CallContext } from '../flows/call-context.js';
import { hangUpFor, legEnd } from '../session/end-reasons.js';
import { failure } from '../sip-errors.js';
import type { IncomingOffer, OfferResponse, SipLeg } from '../signaling/sip-port.js';
import { checkpoint, type Task } from './task.js';

/** Registers a new caller leg with the call: owned, its hang-up ends the call. */
export function adoptCallerLeg(ctx: CallContext, leg: SipLeg, sentSdp: string): void {
  const { session } = ctx;
  ctx.callerLeg = leg;
  ctx.callerSentSdp = sentSdp;
  session.timeline.mark('answeredAt');
  session.own('caller leg', () => hangUpFor(leg, session.endReason, ctx.services.hangUps));
  leg.onHangUp((serverReason) => {
    const end = legEnd('caller', serverReason);
    void session.end(end.reason, end.by);
  });
}

/**
 * The caller, not answered yet, is answered at the bridge (its callee is up): true once its ACK came
 * and the call goes on, connected. Our 200 is not a call until its ACK (RFC 3261 §13.3.1.4): without
 * one the SIP server ends the leg at 64·T1, and with it the call ('caller did not acknowledge'), no
 * talk time counted. A BYE read with the ACK (the leg ends before the ACK is seen, srf-leg.ts) says
 * the caller had the call: connected for the moment it lasted.
 */
export async function answerAtBridge(ctx: CallContext): Promise<boolean> {
  const { session, invite } = ctx;
  const sdp = ctx.callerSentSdp ?? '';
  const leg = await invite.answer(sdp);
  // Registered before adoptCallerLeg's, so it runs before the hang-up ends the call.
  leg.onHangUp((serverReason) => {
    if (serverReason === undefined) session.transition('connected');
  });
  adoptCallerLeg(ctx, leg, sdp);
  return (await leg.acknowledged()) && !session.ended;
}

/**
 * Our 200 carried an offer and no answer came: the caller never ACKed, or its
 * ACK had no answer (RFC 3261 §13.2.2.4 and RFC 3264 §4 require one; the
 * session cannot be set up). The call ends; the caller's leg gets its BYE
 * with the reason (RFC 3326).
 */
export async function callerGaveNoAnswer(ctx: CallContext, acked: boolean): Promise<void> {
  await ctx.session.end(acked ? 'caller sent no answer' : 'caller did not acknowledge', 'engine');
}

export class AnswerCallerTask implements Task<SipLeg> {
  readonly name = 'answer-caller';

  async run(ctx: CallContext, signal: AbortSignal): Promise<SipLeg> {
    if (ctx.callerLeg !== undefined) return ctx.callerLeg;
    const { anchor, invite } = ctx;
    if (!anchor.anchored) throw failure('NO_MEDIA_PLANE', 'answering needs the media plane');
    const early = anchor.callerSdp;
    let leg: SipLeg;
    if (early !== undefined) {
      leg = await invite.answer(early);
      adoptCallerLeg(ctx, leg, early);
    } else {
      const offer = await anchor.localOffer();
      const answered = await invite.answerWithOffer(offer);
      leg = answered.leg;
      adoptCallerLeg(ctx, leg, offer);
      if (answered.answer === undefined) {
        await callerGaveNoAnswer(ctx, answered.acked);
        checkpoint(signal);
        return leg;
      }
      ctx.callerSdp = answered.answer;
      await anchor.callerAnswer(answered.answer);
    }
    leg.onOffer((offer) => answerCallerOffer(ctx, offer));
    checkpoint(signal);
    return leg;
  }
}

/**
 * An answered caller's offer (hold, resume) while no callee is bridged: rtpengine answers it on the
 * callee side's behalf; what it generates for that side is what the next callee is offered, and the
 * offer is counted (`ctx.callerOffers`) so a callee already offered the call is caught up at the bridge.
 * An offer of the media the caller already offered (a session refresh, RFC 4028, whose SDP keeps its
 * version: no change, RFC 3264 §8) gets the answer it has, the same version, and is not counted: a
 * callee ringing or hearing the whisper meanwhile is not re-offered what it has (as in the bridge).
 */
export async function answerCallerOffer(ctx: CallContext, offer: IncomingOffer): Promise<OfferResponse> {
  if (offer.sdp === undefined) return { sdp: ctx.callerSentSdp ?? '' };
  // Only when our last SDP answered the caller's last: a delayed-offer caller's last is its answer to our offer.
  const answered = ctx.anchor.callerOffered || ctx.callerOffers > 0;
  if (answered && ctx.callerSentSdp !== undefined && sameMedia(offer.sdp, ctx.callerSdp ?? '')) return { sdp: ctx.callerSentSdp };
  const { answer, forAgent } = await ctx.anchor.reanswerLocally(offer.sdp);
  ctx.callerOffers++;
  ctx.offerForAgent = forAgent;
  ctx.callerSdp = offer.sdp;
  ctx.callerSentSdp = answer;
  return { sdp: answer };
}
