/**
 * A call for a queue served by agents (the waiting queue). The call joins the
 * queue (first come, first served, with the queue's call priority). When an
 * agent is free at once, the caller hears ringback as early media while the
 * agent rings, as in the plain hunt. Otherwise the caller is answered and
 * waits, hearing the hold audio and its position (hold-caller-task.ts), until
 * the queues offer it an agent (longest idle, levels respected: call-queues.ts)
 * or the maximum wait passes, where the queue's overflow applies
 * (queue-overflow.ts), or the caller hangs up.
 *
 * An offered agent rings for the ring timeout on every contact of its device
 * (RingAgentTask). One who does not take the call goes to not ready "missed"
 * and the call is back at its place for the next agent. One who answers hears
 * the whisper (the caller keeps hearing the hold audio), then both are bridged
 * and recorded; when the call ends the agent is in wrap-up. The agent's part
 * is owned by the call, so every exit path (caller hangs up while it rings,
 * supervisor ends the call, engine stops) gives the agent back.
 */
import type { AgentAssignment } from '../agents/agent-registry.js';
import type { Queue } from '../queue-directory.js';
import type { AgentServices } from '../agents/agent-services.js';
import { sipPriorityBonus, waitingOf } from '../queues/waiting-settings.js';
import { connectCallee, type ConnectedCallee } from '../tasks/connect-callee.js';
import { HoldCaller } from '../tasks/hold-caller-task.js';
import { RingAgentTask } from '../tasks/hunt-agents-task.js';
import { RingCallerTask } from '../tasks/ring-caller-task.js';
import { checkpoint } from '../tasks/task.js';
import { WhisperTask } from '../tasks/whisper-task.js';
import type { CallContext } from './call-context.js';
import { runOverflow } from './queue-overflow.js';
import { agentLegHeaders, bridgeAndRecord } from './queue-flow.js';

export async function runAgentQueueFlow(ctx: CallContext, queue: Queue, desk: AgentServices): Promise<Queue | undefined> {
  const { session, services } = ctx;
  const signal = session.signal;
  const settings = waitingOf(queue);
  const priority = settings.priority + (settings.sipPriority ? sipPriorityBonus(ctx.invite.header('Priority')) : 0);
  session.transition('in-queue');
  const place = desk.queues.join(session.id, queue.id, priority);
  // For the call record: when the call joined the queue and when and how it left (answered, overflowed, abandoned).
  session.facts.queuedAt = place.enqueuedAt;
  delete session.facts.leftQueueAt;
  delete session.facts.leftQueueAs;
  const leave = (why: 'answered' | 'overflowed' | 'abandoned'): void => {
    if (!place.hasLeft) {
      session.facts.leftQueueAt = services.now();
      session.facts.leftQueueAs = why;
    }
    place.leave(why);
  };
  session.own('queue place', () => leave('abandoned'));
  const deadline = place.enqueuedAt + settings.maxWaitSeconds * 1000;
  const hold = new HoldCaller(ctx, queue, settings, { position: () => place.position(), estimatedWaitMs: (p) => desk.queues.estimatedWaitMs(queue.id, p) });
  session.own('hold audio', () => hold.stop());
  session.log.info({ queue: queue.id, priority, position: place.position() ?? null, maxWaitSeconds: settings.maxWaitSeconds }, 'joined the queue');
  const ringTimeoutMs = (queue.ringTimeoutSeconds ?? services.config.engine.ringTimeoutSeconds) * 1000;
  const overflow = async (): Promise<Queue | undefined> => {
    leave('overflowed');
    await hold.stop();
    session.log.info({ queue: queue.id, waitedMs: services.now() - place.enqueuedAt }, 'maximum wait reached');
    return runOverflow(ctx, queue, settings.overflow);
  };
  for (;;) {
    if (services.now() >= deadline) return overflow();
    let assignment = place.takeNow();
    if (assignment === undefined) {
      // Answered for the hold audio: no agent is offered a caller whose phone has not acknowledged the
      // answer (it may never: a lost or broken phone). Its ACK usually comes at once; without one the
      // leg ends at 64·T1, and so does the call.
      await place.holdUntil(hold.start(signal).then(() => ctx.callerLeg?.acknowledged()));
      checkpoint(signal);
      assignment = await place.next(deadline, signal);
      if (assignment === undefined) return overflow();
    } else if (!hold.started) {
      await new RingCallerTask().run(ctx);
    }
    const a = assignment;
    session.own(`agent ${a.agent}`, () => a.release(settings.wrapUpSeconds));
    // The maximum wait also bounds an offer in progress: the ring stops there, and the agent, not given
    // the whole ring time, is not counted as having missed the call.
    const untilDeadline = Math.max(0, deadline - services.now());
    const agent = await offer(ctx, queue, desk, a, hold, Math.min(ringTimeoutMs, untilDeadline), untilDeadline < ringTimeoutMs);
    if (agent !== undefined) {
      // From here the caller's offers wait for the bridge, which relays them to the agent (one being answered finishes first).
      const handedOver = ctx.callerLeg?.holdOffers();
      leave('answered');
      await hold.stop();
      await handedOver;
      a.connected();
      const bridged = services.now();
      try {
        await bridgeAndRecord(ctx, queue, agent);
      } finally {
        desk.queues.handled(queue.id, services.now() - bridged + settings.wrapUpSeconds * 1000);
      }
      return undefined;
    }
    checkpoint(signal);
    place.back();
  }
}

/** Offers the call to one agent: its leg once it answered and heard the whisper; undefined when it did not take the call. */
async function offer(
  ctx: CallContext,
  queue: Queue,
  desk: AgentServices,
  a: AgentAssignment,
  hold: HoldCaller,
  ringTimeoutMs: number,
  cutByMaxWait: boolean,
): Promise<(ConnectedCallee & { readonly callerOffersBefore: number }) | undefined> {
  const { session } = ctx;
  const signal = session.signal;
  const targets = desk.targetsOf(a.agent);
  const ring = new RingAgentTask({ agent: a.agent, targets, ringTimeoutMs, headers: agentLegHeaders(ctx, queue.id), offer: { at: a.reservedAt, idleSince: a.idleSince } });
  const callerOffersBefore = ctx.callerOffers;
  const answer = await ring.run(ctx, signal);
  checkpoint(signal);
  if (answer === undefined) {
    if (cutByMaxWait && ring.ringTimedOut) a.release(0);
    else a.missed();
    return undefined;
  }
  a.answered();
  session.timeline.mark('agentAnsweredAt');
  const agent = await connectCallee(ctx, answer);
  if (agent === undefined) {
    checkpoint(signal);
    a.missed();
    return undefined;
  }
  hold.quiet();
  session.transition('whisper');
  const stayed = await new WhisperTask(queue.id, agent.leg).run(ctx, signal);
  if (!stayed) {
    session.settle(answer.attempt, 'left-during-whisper');
    await agent.release();
    a.missed();
    session.transition('in-queue');
    // Waiting again: its position and estimated wait are announced again.
    hold.announceEvery();
    return undefined;
  }
  // The caller may hold or resume while this agent rings or hears the whisper: the bridge re-offers it what the caller then sends.
  return { ...agent, callerOffersBefore };
}
