/**
 * Connecting the media of a callee who answered (an agent, a gateway) through
 * rtpengine. It answered our offer: its answer gives the SDP for the caller's
 * 200. It offered (the caller sent no SDP, so neither did we): the caller gets
 * our 200 now with rtpengine's version of that offer, and the caller's answer
 * from its ACK goes back to the callee in our ACK. A caller already answered
 * keeps its ports: rtpengine takes the new callee's offer and the caller's
 * last SDP answers it.
 */
import { unusableAnswer } from '../../media/index.js';
import type { CallContext } from '../flows/call-context.js';
import type { AgentAttempt } from '../session/call-session.js';
import { hangUpFor } from '../session/end-reasons.js';
import { SipFailure, type SipLeg } from '../signaling/sip-port.js';
import { adoptCallerLeg, callerGaveNoAnswer } from './answer-caller-task.js';

export type CalleeAnswer =
  | { readonly kind: 'answered'; readonly attempt: AgentAttempt; readonly leg: SipLeg }
  /** Delayed offer: the callee offered in its 200 and waits for our ACK with an answer. */
  | {
      readonly kind: 'offered';
      readonly attempt: AgentAttempt;
      readonly offer: string;
      readonly complete: (answer: string) => Promise<SipLeg>;
      readonly abandon: () => Promise<void>;
    };

export interface ConnectedCallee {
  readonly leg: SipLeg;
  /** The SDP the agent got from us (our offer, or our answer to its offer). */
  readonly sentSdp: string;
  /**
   * The SDP the callee gave when it connected (its answer, or its offer). Not the leg's remoteSdp
   * later: drachtio-srf puts a re-offer there as it arrives, before anyone answers it (a hold pressed
   * during the whisper would then look like the media the bridge already has, a session refresh).
   */
  readonly receivedSdp: string;
  release(): Promise<void>;
}

export async function connectCallee(ctx: CallContext, answer: CalleeAnswer, party = 'agent'): Promise<ConnectedCallee | undefined> {
  const { session, anchor, invite } = ctx;
  if (answer.kind === 'answered') {
    const leg = answer.leg;
    const receivedSdp = leg.remoteSdp;
    const release = session.own(`${party} leg`, () => hangUpFor(leg, session.endReason, ctx.services.hangUps));
    try {
      // An answer that keeps no audio of our offer would connect a call nobody can hear: like an answer the relay refuses.
      const unusable = ctx.offerForAgent !== undefined ? unusableAnswer(ctx.offerForAgent, receivedSdp) : undefined;
      if (unusable !== undefined) throw new Error(`the ${party}'s answer cannot carry the call: ${unusable}`);
      // The caller keeps the SDP it has when it was answered already, or when our answer went to it in a reliable
      // 183 (a caller that requires 100rel: its PRACK completed the offer/answer, RFC 3262 §5, and the 200 may only
      // repeat it, RFC 6337 §3.1.1): the relay transcodes to whatever the callee chose.
      const callerHas = ctx.callerLeg !== undefined ? ctx.callerSentSdp : ctx.earlyMedia && invite.reliableRequired ? anchor.callerSdp : undefined;
      ctx.callerSentSdp = await anchor.agentAnswer(receivedSdp, callerHas);
    } catch (e) {
      // The call ended as the callee answered (the caller hung up; its media is released): not the callee's failure.
      if (session.ended) {
        session.log.info({ callee: answer.attempt.agent, reason: session.endReason }, 'callee answered as the call ended');
        session.settle(answer.attempt, 'cancelled', 487);
      } else {
        session.log.info({ callee: answer.attempt.agent, err: (e as Error).message }, 'callee SDP refused');
        session.settle(answer.attempt, 'failed', 488);
      }
      await release();
      return undefined;
    }
    return { leg, sentSdp: anchor.offeredCallee ?? '', receivedSdp, release };
  }
  let forAgent: string;
  // Whether the relay took the callee's offer: until it has, a refusal (488) is the callee's failure.
  let offerTaken = false;
  try {
    if (ctx.callerLeg === undefined) {
      const forCaller = await anchor.agentOffer(answer.offer);
      offerTaken = true;
      const { leg, answer: callerAnswer, acked } = await invite.answerWithOffer(forCaller);
      adoptCallerLeg(ctx, leg, forCaller);
      if (callerAnswer === undefined) {
        await answer.abandon();
        await callerGaveNoAnswer(ctx, acked);
        return undefined;
      }
      ctx.callerSdp = callerAnswer;
      forAgent = await anchor.callerAnswer(callerAnswer);
      // No ringback over this leg during the whisper: on Debian's rtpengine 10.5, a prompt played to the
      // party that answered (here the caller) left the call forwarding nothing after the bridge in most
      // runs (docs/media.md, "Delayed offer"). The caller hears silence for the whisper's few seconds.
    } else {
      forAgent = await anchor.reconnectAgent(answer.offer, ctx.callerSdp ?? '');
    }
  } catch (e) {
    // The relay refused an offer or answer (out of ports, a timeout), or the caller's leg failed: the
    // callee's 2xx still gets its ACK, then BYE (RFC 3261 §13.2.2.4), or its phone stays answered into
    // nothing and the SIP server keeps the dialog for ever.
    await answer.abandon().catch((err: unknown) => session.log.warn({ err: (err as Error).message }, `${party}'s answered leg not ended`));
    // The callee's own offer refused (unparsable, an address or crypto the relay cannot use): that callee failed,
    // as one whose answer cannot carry the call, and the hunt goes on. A relay that is full or gone (503) ends the call.
    if (!offerTaken && !session.ended && e instanceof SipFailure && e.status === 488) {
      session.log.info({ callee: answer.attempt.agent, err: e.message }, 'callee SDP refused');
      session.settle(answer.attempt, 'failed', 488);
      return undefined;
    }
    throw e;
  }
  const leg = await answer.complete(forAgent);
  const release = session.own(`${party} leg`, () => hangUpFor(leg, session.endReason, ctx.services.hangUps));
  return { leg, sentSdp: forAgent, receivedSdp: answer.offer, release };
}

