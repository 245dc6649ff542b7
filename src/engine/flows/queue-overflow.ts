/**
 * A waiting queue's overflow, when a caller has waited the queue's maximum:
 * the after-hours actions, reused. Another queue (returned to the inbound
 * flow, which decides that queue's hours again), a phone number through the
 * outbound trunk, voicemail for this queue, or a message then hang-up. A queue
 * without an overflow refuses the call with 480 No Agent Available (a caller
 * we answered gets a BYE with that reason).
 */
import type { DeepReadonly } from '../../config/load.js';
import type { WaitingSchema } from '../../config/schema/agents.js';
import { promptRef, voicemailDelivery } from '../../policy/index.js';
import type { Queue } from '../queue-directory.js';
import { failure } from '../sip-errors.js';
import { DeflectMessageTask } from '../tasks/deflect-message-task.js';
import { DeflectNumberTask } from '../tasks/deflect-number-task.js';
import { VoicemailTask } from '../voicemail/voicemail-task.js';
import type { CallContext } from './call-context.js';
import type { Static } from '@sinclair/typebox';

export type OverflowSettings = DeepReadonly<NonNullable<Static<typeof WaitingSchema>['overflow']>>;

export async function runOverflow(ctx: CallContext, queue: Queue, overflow: OverflowSettings | undefined): Promise<Queue | undefined> {
  const { session, services } = ctx;
  const signal = session.signal;
  const config = services.config;
  session.facts.overflow = overflow?.option ?? 'none';
  if (overflow === undefined) throw failure('NO_AGENT', `no agent within ${queue.id}'s maximum wait`);
  const i = config.queues.findIndex((q) => q.id === queue.id);
  const path = `queues[${i}].waiting.overflow`;
  const lang = config.deflection.defaultLanguage;
  session.log.info({ queue: queue.id, overflow: overflow.option }, 'queue overflow');
  switch (overflow.option) {
    case 'queue': {
      const next = services.directory.byQueueId(overflow.queue ?? '');
      session.deflection = { action: 'queue', target: overflow.queue ?? null };
      if (next === undefined) throw failure('NO_AGENT', `overflow queue ${overflow.queue ?? '(none)'} does not exist`);
      return next;
    }
    case 'phoneNumber':
      await new DeflectNumberTask(overflow.phoneNumber ?? '', 'overflow').run(ctx, signal);
      return undefined;
    case 'voicemail': {
      const m = config.deflection.messages;
      const greeting = overflow.voicemailGreeting !== undefined ? promptRef(overflow.voicemailGreeting, `${path}.voicemailGreeting`, session.language, lang) : promptRef(m.voicemailGreeting, 'deflection.messages.voicemailGreeting', session.language, lang);
      await new VoicemailTask({
        queue: queue.id,
        deliverTo: voicemailDelivery(queue, config),
        // The queue is open: its agents hear of the voicemail at once.
        notifyAt: null,
        greeting,
        callbackPrompts: {
          blockedNumber: promptRef(m.voicemailBlockedNumber, 'deflection.messages.voicemailBlockedNumber', session.language, lang),
          askNumber: promptRef(m.voicemailAskNumber, 'deflection.messages.voicemailAskNumber', session.language, lang),
          numberEntered: promptRef(m.voicemailNumberEntered, 'deflection.messages.voicemailNumberEntered', session.language, lang),
        },
      }).run(ctx, signal);
      return undefined;
    }
    case 'message': {
      const message = overflow.message !== undefined ? promptRef(overflow.message, `${path}.message`, session.language, lang) : promptRef(config.deflection.messages.afterHours, 'deflection.messages.afterHours', session.language, lang);
      await new DeflectMessageTask(message, 'overflow message played (maximum wait reached)').run(ctx, signal);
      return undefined;
    }
  }
}
