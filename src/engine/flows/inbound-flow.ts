/**
 * An inbound call from the moment it is admitted: its media is anchored at
 * rtpengine (a caller SDP the relay refuses ends here with 488), then for the
 * queue the dialed number selected the hours policy decides, for the IVR
 * channel and the call's language at this instant, and one exhaustive switch
 * runs what it decided. A deflection to another queue decides again for that
 * queue (config checks guarantee the chain ends), and so does a waiting
 * queue's overflow to another queue. A decision's announcement
 * (an emergency closure's message) is played first.
 */
import type { Decision } from '../../policy/index.js';
import type { Queue } from '../queue-directory.js';
import { failure } from '../sip-errors.js';
import type { DecisionSummary } from '../session/call-session.js';
import { announce, DeflectMessageTask } from '../tasks/deflect-message-task.js';
import { DeflectNumberTask } from '../tasks/deflect-number-task.js';
import { VoicemailTask } from '../voicemail/voicemail-task.js';
import type { CallContext } from './call-context.js';
import { isWaitingQueue } from '../queues/waiting-settings.js';
import { runAgentQueueFlow } from './agent-queue-flow.js';
import { runQueueFlow } from './queue-flow.js';

export function summaryOf(d: Decision): DecisionSummary {
  return {
    queue: d.queue,
    open: d.open,
    action: d.action,
    reason: d.reason,
    deflection: d.deflection,
    schedule: d.schedule?.id ?? null,
    timeZone: d.schedule?.timeZone ?? null,
    exception: d.exception !== null ? `${d.exception.folder}/${d.exception.name}` : null,
    at: d.at,
  };
}

export async function runInboundFlow(ctx: CallContext, first: Queue): Promise<void> {
  const { session, services, invite } = ctx;
  const signal = session.signal;
  if (invite.offer !== undefined) {
    ctx.callerSdp = invite.offer;
    ctx.offerForAgent = await ctx.anchor.callerOffer(invite.offer);
  }
  let queue: Queue | undefined = first;
  for (let hops = 0; queue !== undefined && hops <= services.config.queues.length; hops++) {
    session.enterQueue(queue.id);
    const decision = services.policy.decide({ queue: queue.id, channel: 'ivr', language: session.language, at: services.now() });
    session.decisions.push(summaryOf(decision));
    session.log.info({ queue: queue.id, open: decision.open, action: decision.action, reason: decision.reason }, 'hours decision');
    if (decision.message !== null && decision.action !== 'message') await announce(ctx, decision.message, signal);
    switch (decision.action) {
      case 'enqueue':
      case 'virtualAgent': {
        const desk = services.agents;
        if (desk === undefined || !isWaitingQueue(services.config, queue)) return runQueueFlow(ctx, queue);
        // A waiting queue may overflow to another queue: its hours decide again.
        const next = await runAgentQueueFlow(ctx, queue, desk);
        if (next === undefined) return;
        queue = next;
        continue;
      }
      case 'queue':
        session.deflection = { action: 'queue', target: decision.target.queue };
        queue = services.directory.byQueueId(decision.target.queue);
        continue;
      case 'phoneNumber':
        return new DeflectNumberTask(decision.target.phoneNumber, 'closed').run(ctx, signal);
      case 'voicemail':
        return new VoicemailTask(decision.target).run(ctx, signal);
      case 'message':
        return new DeflectMessageTask(decision.message).run(ctx, signal);
      case 'offer':
      case 'email':
        // SDK and chat outcomes; the policy never gives them for the IVR channel.
        throw failure('NO_AGENT', `closed (${decision.action} is not an IVR option)`);
    }
  }
  throw failure('NO_AGENT', 'the queue deflection chain has no end');
}
