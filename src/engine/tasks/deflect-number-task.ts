/**
 * After-hours deflection to a phone number: a new outbound leg through the
 * configured outbound trunk (a carrier gateway; digest challenges answered),
 * with rtpengine between caller and gateway. The leg rings for at most the
 * trunk's ringTimeoutSeconds: then it is CANCELled and the caller gets 480
 * (the gateway rang) or 408 (nothing past 100 Trying). Who is calling goes
 * out as outbound-identity.ts says (a withheld caller anonymous, an asserted
 * identity only to a trusted gateway). The gateway's ringing and early
 * media (183 with SDP: ringback tones, announcements) reach the caller; its
 * answer is bridged to the caller; its refusal is passed on (401/407 that our
 * credentials could not answer become 503: the trunk, not the caller, failed).
 * The INVITE carries the configured data parameters (redirection.sip), says
 * the call was forwarded from the number the caller dialed (History-Info or
 * Diversion, as the trunk is configured: retargeting.ts), and carries none of
 * the agent leg's reserved-data headers: a carrier gets exactly what the
 * configuration sends it. The bridged call is recorded when the queue's
 * calls are (from the bridge on, the gateway in the agent's place).
 */
import type { CallContext } from '../flows/call-context.js';
import { dataParameters, keepDataParameters } from '../reserved/outward-headers.js';
import { outboundIdentity } from '../outbound-identity.js';
import { retargetingHeaders, type RetargetCause } from '../retargeting.js';
import { failure, gatewayRefusal } from '../sip-errors.js';
import { CALLER } from '../media/call-anchor.js';
import { DialGivenUp, SipFailure } from '../signaling/sip-port.js';
import { answerAtBridge } from './answer-caller-task.js';
import { BridgeTask, catchUpCallee } from './bridge-task.js';
import { connectCallee } from './connect-callee.js';
import { recordsCalls, RecordTask } from './record-task.js';
import { ensureEarlyMedia } from './ring-caller-task.js';
import { checkpoint, type Task } from './task.js';

export class DeflectNumberTask implements Task<void> {
  readonly name = 'deflect-number';

  constructor(
    private readonly number: string,
    private readonly cause: RetargetCause,
  ) {}

  async run(ctx: CallContext, signal: AbortSignal): Promise<void> {
    const { session, services, anchor, invite } = ctx;
    session.transition('forwarding');
    session.deflection = { action: 'phoneNumber', target: this.number };
    session.timeline.mark('deflectedAt');
    const trunk = services.trunks.forDeflection();
    if (trunk === undefined) throw failure('NO_AGENT', 'no outbound trunk is configured');
    const target = trunk.uriFor(this.number);
    const attempt = session.attempt(target);
    session.facts.trunk = trunk.name;
    // Early media from the gateway, in order: each 18x with SDP goes through rtpengine before the next step.
    let early: Promise<void> = Promise.resolve();
    const identity = outboundIdentity(session.caller, trunk, { trusted: session.trunk.trusted, assertedIdentity: invite.headerLines('P-Asserted-Identity') });
    if (identity.assertionDropped !== undefined) session.log.info({ reason: identity.assertionDropped }, 'P-Asserted-Identity not passed to the gateway');
    const redirection = services.config.redirection.sip;
    const params = dataParameters(session, redirection, (id) => services.directory.byQueueId(id)?.name);
    for (const s of params.skipped) session.log.info({ field: s.field, reason: s.reason }, 'data parameter not sent');
    keepDataParameters(session, redirection, params.headers);
    // The trunk's no-answer timer: at it the INVITE is CANCELled (RFC 3261 §9.1) and the caller told.
    const noAnswer = new AbortController();
    const timer = setTimeout(() => noAnswer.abort(DialGivenUp.noAnswer()), trunk.ringTimeoutMs);
    let ringing = false;
    const result = await services.sip
      .dial({
        target,
        // An answered caller that offered keeps being the offerer (as for a waiting queue's agents): the gateway is offered SDP.
        offer: anchor.calleeOffer(ctx.callerLeg === undefined || anchor.callerOffered ? ctx.offerForAgent : undefined),
        headers: {
          ...params.headers,
          ...identity.headers,
          ...retargetingHeaders(trunk.redirectionHeader, invite.uri, target, this.cause),
          'X-Switchboard-Call': session.id,
          'X-Switchboard-Queue': session.queue ?? '',
          // drachtio-srf PRACKs a reliable 18x (RFC 3262): a gateway that requires 100rel would otherwise refuse with 421.
          'Supported': '100rel',
          'Max-Forwards': String(Math.min(70, invite.maxForwards - 1)),
        },
        caller: identity.caller,
        ...(trunk.auth !== undefined ? { auth: trunk.auth } : {}),
        signal: AbortSignal.any([signal, noAnswer.signal]),
        onProgress: (status, sdp) => {
          // 100 Trying is hop-by-hop: it says nothing of the called party (RFC 3261 §21.1.1).
          if (status === 100) return;
          ringing = true;
          early = early.then(async () => {
            if (sdp !== undefined && anchor.anchored && ctx.callerLeg === undefined) {
              await anchor.agentEarlyAnswer(sdp);
              if (ensureEarlyMedia(ctx)) await anchor.unblock();
            } else if (sdp !== undefined && !anchor.anchored) invite.progress(183, { sdp });
            else if (!ctx.earlyMedia) invite.progress(180);
          }).catch((e: unknown) => session.log.info({ err: (e as Error).message }, 'gateway early media not relayed'));
        },
      })
      .finally(() => clearTimeout(timer));
    await early;
    if (result.kind === 'failed' && signal.aborted) {
      // The call ended meanwhile (the caller's CANCEL, a supervisor, the drain): the gateway got our CANCEL,
      // and the caller, if still waiting, hears why from the engine (480, or 503 when draining), not our 487.
      session.settle(attempt, 'cancelled', result.status);
      checkpoint(signal);
    }
    if (result.kind === 'failed' && noAnswer.signal.aborted) {
      // CHOICE: RFC 3398 §8.2.6.1's mapping of the PSTN's causes: it rang and nobody answered (Q.850 19) is
      // 480; nothing past 100 Trying (18, no user responding) is 408.
      session.settle(attempt, 'no-answer', result.status);
      session.log.info({ target, ringing, seconds: trunk.ringTimeoutMs / 1000 }, 'phone-number deflection not answered: cancelled');
      throw failure(ringing ? 'GATEWAY_NO_ANSWER' : 'GATEWAY_TIMEOUT', `no answer from ${this.number}`);
    }
    if (result.kind === 'failed') {
      const outcome = result.status === 486 || result.status === 600 ? 'busy' : result.status === 603 ? 'declined' : 'failed';
      session.settle(attempt, outcome, result.status);
      session.log.info({ target, status: result.status, reason: result.reasonHeader ?? null }, 'phone-number deflection refused');
      throw gatewayRefusal(result.status, result.reason, result.reasonHeader);
    }
    session.settle(attempt, 'answered', 200);
    const callerOffersBefore = ctx.callerOffers;
    const connected = await connectCallee(ctx, result.kind === 'answered' ? { ...result, attempt } : { ...result, attempt }, 'gateway');
    // The caller's offer was fine (its 183 carried our answer): the gateway's answer was not, so 502, not 488 (RFC 3261 §21.4.26, §21.5.3).
    if (connected === undefined) throw new SipFailure(502, 'Bad Gateway (the gateway\'s answer cannot carry the call)');
    // An answered caller's offers from here wait for the bridge (one answered on the gateway side's behalf finishes first).
    await ctx.callerLeg?.holdOffers();
    await anchor.stopPlayback(CALLER);
    // Recorded as the queue's calls are (its setting, else the global one), from just before the parties hear
    // each other (as queue-flow.ts bridgeAndRecord, which says why).
    const queue = session.queue !== undefined ? services.directory.byQueueId(session.queue) : undefined;
    if (queue !== undefined && recordsCalls(queue, ctx)) {
      await new RecordTask({ queue: { id: queue.id, name: queue.name }, callerSdp: ctx.callerSentSdp, agentSdp: connected.sentSdp }).run(ctx);
    }
    await anchor.unblock();
    if (ctx.callerLeg === undefined && !(await answerAtBridge(ctx))) return;
    session.transition('connected');
    const gateway = await catchUpCallee(ctx, { ...connected, party: 'gateway' }, callerOffersBefore);
    await new BridgeTask(
      { leg: ctx.callerLeg!, sentSdp: ctx.callerSentSdp ?? '', receivedSdp: ctx.callerSdp ?? '', party: 'caller' },
      { leg: gateway.leg, sentSdp: gateway.sentSdp, receivedSdp: gateway.receivedSdp, party: 'gateway' },
    ).run(ctx, signal);
  }
}
