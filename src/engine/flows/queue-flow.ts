/**
 * The queue flow of a queue of static agent targets (an open queue, or a
 * closed one without deflection; a queue served by agents is a waiting queue,
 * agent-queue-flow.ts): the caller hears ringback from us while the targets
 * are tried one after another; when one answers, the agent hears the whisper
 * and countdown (the caller never does), then the caller is answered and both
 * are bridged and recorded. An agent who hangs up during the whisper sends the
 * call back to the hunt; a caller who hangs up ends the call, agent leg
 * included. No target left: 480.
 */
import type { Queue } from '../queue-directory.js';
import { AGENT, CALLER } from '../media/call-anchor.js';
import { reservedAgentHeaders } from '../reserved/outward-headers.js';
import { failure } from '../sip-errors.js';
import { answerAtBridge } from '../tasks/answer-caller-task.js';
import { BridgeTask, catchUpCallee, type BridgedCallee } from '../tasks/bridge-task.js';
import { connectCallee } from '../tasks/connect-callee.js';
import { HuntAgentsTask } from '../tasks/hunt-agents-task.js';
import { recordsCalls, RecordTask } from '../tasks/record-task.js';
import { keepAgentKeys, watchRecordingCodes } from '../tasks/recording-codes.js';
import { RingCallerTask } from '../tasks/ring-caller-task.js';
import { WhisperTask } from '../tasks/whisper-task.js';
import type { CallContext } from './call-context.js';

/**
 * Headers every agent leg carries: the caller's reserved data as configured (reservedData.agentLeg:
 * the profile flags for the agent's adapter), our call id and queue, Max-Forwards one less.
 */
export function agentLegHeaders(ctx: CallContext, queueId: string): Record<string, string> {
  return {
    ...reservedAgentHeaders(ctx.session, ctx.services.config.reservedData.agentLeg),
    'X-Switchboard-Call': ctx.session.id,
    'X-Switchboard-Queue': queueId,
    'Max-Forwards': String(Math.min(70, ctx.invite.maxForwards - 1)),
  };
}

export async function runQueueFlow(ctx: CallContext, queue: Queue): Promise<void> {
  const { session, services } = ctx;
  const signal = session.signal;
  session.transition('in-queue');
  await new RingCallerTask().run(ctx);
  const hunt = new HuntAgentsTask({
    queue: queue.id,
    agents: queue.agents ?? [],
    ringTimeoutMs: (queue.ringTimeoutSeconds ?? services.config.engine.ringTimeoutSeconds) * 1000,
    headers: agentLegHeaders(ctx, queue.id),
    ...(services.targetBusy !== undefined ? { busy: services.targetBusy } : {}),
  });
  for (;;) {
    const callerOffersBefore = ctx.callerOffers;
    const answer = await hunt.run(ctx, signal);
    if (answer === undefined) throw failure('NO_AGENT');
    session.timeline.mark('agentAnsweredAt');
    const agent = await connectCallee(ctx, answer);
    if (agent === undefined) continue;
    session.transition('whisper');
    const stayed = await new WhisperTask(queue.id, agent.leg).run(ctx, signal);
    if (!stayed) {
      session.settle(answer.attempt, 'left-during-whisper');
      await agent.release();
      session.transition('in-queue');
      continue;
    }
    await bridgeAndRecord(ctx, queue, { ...agent, callerOffersBefore });
    return;
  }
}

/**
 * Caller and agent are bridged (the caller answered now if it was not), the call recorded; resolves when it ends.
 * `callerOffersBefore`: the caller's offer count (`ctx.callerOffers`) when the agent was offered the call; if the caller
 * re-offered since (hold, resume), the agent is re-offered what the caller sends now before the bridge (and a caller
 * still on hold counts as held from here).
 */
export async function bridgeAndRecord(ctx: CallContext, queue: Queue, agent: BridgedCallee & { readonly callerOffersBefore?: number }): Promise<void> {
  const { leg: agentLeg } = agent;
  const { session, anchor } = ctx;
  // The caller's offers from here wait for the bridge; one answered on the agent side's behalf now finishes first.
  await ctx.callerLeg?.holdOffers();
  // Recorded with codes: the agent's keys are blocked towards the caller before anything crosses.
  const records = recordsCalls(queue, ctx) && ctx.services.recordings !== undefined && anchor.anchored;
  const agentKeepsDigits = records && (await keepAgentKeys(ctx));
  await anchor.stopPlayback(CALLER);
  // Recording starts before the parties hear each other: their first words are in it (under load the start's
  // round trip took up to 3 s, and half the short calls recorded nothing), and a call shown connected is
  // recorded already (a supervisor's pause then finds the recording). rtpengine never records the whisper.
  if (records) await new RecordTask({ queue: { id: queue.id, name: queue.name }, callerSdp: ctx.callerSentSdp, agentSdp: agent.sentSdp }).run(ctx);
  await anchor.unblock();
  if (ctx.callerLeg === undefined && !(await answerAtBridge(ctx))) return;
  // Both legs are up: the call is connected from here, whatever happens next (a BYE may already be on its way).
  session.transition('connected');
  const { sentSdp: agentSdp, receivedSdp: agentReceived } = await catchUpCallee(ctx, { ...agent, party: 'agent' }, agent.callerOffersBefore);
  if (agentKeepsDigits) watchRecordingCodes(ctx, agentLeg);
  session.log.info({ agent: session.agent, labels: [CALLER, AGENT] }, 'call connected');
  await new BridgeTask(
    { leg: ctx.callerLeg!, sentSdp: ctx.callerSentSdp ?? '', receivedSdp: ctx.callerSdp ?? '', party: 'caller' },
    { leg: agentLeg, sentSdp: agentSdp, receivedSdp: agentReceived, party: 'agent', keepsDigits: agentKeepsDigits },
  ).run(ctx, session.signal);
}
