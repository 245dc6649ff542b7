/**
 * What a contact gets when its queue is closed (the seed's after-hours
 * deflection). Order: an emergency closure skips the virtual agent; a virtual
 * agent in 24-hour mode keeps answering; otherwise the queue's own override
 * for the channel, else the global setting of its kind (calls or chat), else
 * no deflection (the contact waits in the queue as usual).
 */
import type { SwitchboardConfig } from '../config/load.js';
import type { Channel, LocalizedPromptConfig } from '../config/schema/policy.js';
import type { DeepReadonly } from '../config/load.js';
import type { Action, MessageRef, OfferOption, ScheduledCallSlot, VoicemailDelivery } from './decision.js';
import type { ActiveEmergency } from './emergency.js';
import { pickByLanguage } from './languages.js';
import type { Queue } from './queue-tree.js';
import { ConfigError } from '../errors.js';

/** A setting the config check guarantees; reaching the throw means createPolicy was bypassed. */
function present<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new ConfigError([{ path, message: 'required by the deflection option but missing' }]);
  return value;
}

export type ChannelKind = 'calls' | 'chat';

export function kindOf(channel: Channel): ChannelKind {
  return channel === 'chat' || channel === 'sms' ? 'chat' : 'calls';
}

/** Deflection is on for a queue and channel: its own override, or the global switch of the channel's kind. */
export function deflectionEnabled(config: SwitchboardConfig, queue: Queue, channel: Channel): boolean {
  const d = config.deflection;
  switch (channel) {
    case 'ivr':
      return queue.deflection?.ivr !== undefined || d.calls.enabled;
    case 'mobile':
      return queue.deflection?.mobile !== undefined || d.calls.enabled;
    case 'web':
      return d.calls.enabled;
    case 'sms':
      return queue.deflection?.sms !== undefined || d.chat.enabled;
    case 'chat':
      return d.chat.enabled;
  }
}

/**
 * Voicemail goes to the queue's agents (its static agent targets, or the
 * agents configured to serve it); a queue with none sends it to the CRM so
 * nothing is lost.
 */
export function voicemailDelivery(queue: Queue, config: SwitchboardConfig): VoicemailDelivery {
  const served = (queue.agents ?? []).length > 0 || config.agents.some((a) => a.queues.some((q) => q.queue === queue.id));
  return served ? 'queue-agents' : 'crm';
}

export function promptRef(
  map: DeepReadonly<LocalizedPromptConfig> | undefined,
  path: string,
  language: string,
  defaultLanguage: string,
): MessageRef | null {
  const hit = pickByLanguage(map, language, defaultLanguage);
  return hit === undefined ? null : { kind: 'prompt', path: `${path}.${hit.key}`, language: hit.key, prompt: hit.value };
}

export interface ClosedContext {
  readonly config: SwitchboardConfig;
  readonly queue: Queue;
  readonly queuePath: string;
  readonly channel: Channel;
  readonly language: string;
  readonly emergency: ActiveEmergency | undefined;
  readonly nextOpen: string | null;
  /** Scheduled-call slots for this queue, computed only when offered. */
  readonly slots: () => readonly ScheduledCallSlot[];
}

export type ClosedOutcome = Action & {
  readonly deflection: 'queue' | 'global' | null;
  readonly message: MessageRef | null;
  readonly note: string | null;
};

export function closedOutcome(ctx: ClosedContext): ClosedOutcome {
  const { config, queue, channel, language, emergency } = ctx;
  const d = config.deflection;
  const lang = d.defaultLanguage;
  const emergencyClosed = emergency?.force === 'closed';
  const emergencyMessage = emergencyClosed ? promptRef(emergency.config.message, `${emergency.path}.message`, language, lang) : null;
  const globalAfterHours = (): MessageRef | null => promptRef(d.messages.afterHours, 'deflection.messages.afterHours', language, lang);
  const enqueue = (note: string): ClosedOutcome => ({
    action: 'enqueue',
    target: { queue: queue.id },
    deflection: null,
    message: emergencyMessage,
    note,
  });

  if (!emergencyClosed && queue.virtualAgent?.availability === '24h') {
    return {
      action: 'virtualAgent',
      target: { queue: queue.id, virtualAgent: queue.virtualAgent.name },
      deflection: null,
      message: null,
      note: 'outside hours, but the virtual agent of this queue answers 24 hours',
    };
  }

  switch (channel) {
    case 'ivr': {
      const own = queue.deflection?.ivr;
      if (own === undefined && !d.calls.enabled) {
        return enqueue('call deflection is off (deflection.calls.enabled: false) and this queue has no override: the call waits in the queue');
      }
      const source = own !== undefined ? 'queue' : 'global';
      const option = own?.option ?? d.calls.ivr.option;
      switch (option) {
        case 'queue':
          return { action: 'queue', target: { queue: present(own !== undefined ? own.queue : d.calls.ivr.queue, `${ctx.queuePath}.deflection.ivr.queue`) }, deflection: source, message: emergencyMessage, note: null };
        case 'phoneNumber':
          return {
            action: 'phoneNumber',
            target: { phoneNumber: present(own !== undefined ? own.phoneNumber : d.calls.ivr.phoneNumber, `${ctx.queuePath}.deflection.ivr.phoneNumber`) },
            deflection: source,
            message: emergencyMessage,
            note: null,
          };
        case 'voicemail': {
          const greeting =
            own?.voicemailGreeting !== undefined
              ? promptRef(own.voicemailGreeting, `${ctx.queuePath}.deflection.ivr.voicemailGreeting`, language, lang)
              : promptRef(d.messages.voicemailGreeting, 'deflection.messages.voicemailGreeting', language, lang);
          const m = d.messages;
          return {
            action: 'voicemail',
            target: {
              queue: queue.id,
              deliverTo: voicemailDelivery(queue, config),
              notifyAt: ctx.nextOpen,
              greeting,
              callbackPrompts: {
                blockedNumber: promptRef(m.voicemailBlockedNumber, 'deflection.messages.voicemailBlockedNumber', language, lang),
                askNumber: promptRef(m.voicemailAskNumber, 'deflection.messages.voicemailAskNumber', language, lang),
                numberEntered: promptRef(m.voicemailNumberEntered, 'deflection.messages.voicemailNumberEntered', language, lang),
              },
            },
            deflection: source,
            message: emergencyMessage,
            note: null,
          };
        }
        case 'message': {
          const own_ = own?.message !== undefined ? promptRef(own.message, `${ctx.queuePath}.deflection.ivr.message`, language, lang) : null;
          return { action: 'message', target: null, deflection: source, message: emergencyMessage ?? own_ ?? globalAfterHours(), note: null };
        }
      }
      // The switch above covers every IVR option.
      return option satisfies never;
    }
    case 'mobile':
    case 'web': {
      const own = channel === 'mobile' ? queue.deflection?.mobile : undefined;
      if (own === undefined && !d.calls.enabled) {
        return enqueue('call deflection is off (deflection.calls.enabled: false): the regular call option stays');
      }
      if (own?.redirectQueue !== undefined) {
        return { action: 'queue', target: { queue: own.redirectQueue }, deflection: 'queue', message: emergencyMessage, note: null };
      }
      const source = own !== undefined ? 'queue' : 'global';
      const wanted = own?.options ?? d.calls.sdk.options;
      const phone = own !== undefined ? own.phoneNumber : d.calls.sdk.phoneNumber;
      const options: OfferOption[] = [];
      for (const o of wanted) {
        // Phone number and voicemail are mobile-SDK only (the seed); web shows the others.
        if (channel === 'web' && (o === 'phoneNumber' || o === 'voicemail')) continue;
        if (o === 'scheduledCall') {
          if (queue.scheduledCalls?.enabled !== true) continue;
          const slots = ctx.slots();
          if (slots.length > 0) options.push({ type: 'scheduledCall', slots });
        } else if (o === 'email') {
          if (config.supportCenter.email !== undefined) options.push({ type: 'email', address: config.supportCenter.email });
        } else if (o === 'phoneNumber') {
          if (phone !== undefined) options.push({ type: 'phoneNumber', number: phone });
        } else {
          options.push({ type: 'voicemail', queue: queue.id, deliverTo: voicemailDelivery(queue, config) });
        }
      }
      if (options.length === 0) {
        return enqueue('no after-hours option applies to this queue on this channel: the regular call option stays');
      }
      return { action: 'offer', target: { options }, deflection: source, message: emergencyMessage ?? globalAfterHours(), note: null };
    }
    case 'sms': {
      const own = queue.deflection?.sms;
      if (own !== undefined) {
        const hit = pickByLanguage(own.afterHoursText, language, lang);
        if (hit !== undefined) {
          return {
            action: 'message',
            target: null,
            deflection: 'queue',
            message: { kind: 'text', path: `${ctx.queuePath}.deflection.sms.afterHoursText.${hit.key}`, language: hit.key, text: hit.value },
            note: null,
          };
        }
      }
      if (d.chat.enabled && config.supportCenter.email !== undefined) {
        return { action: 'email', target: { email: config.supportCenter.email }, deflection: 'global', message: emergencyMessage, note: null };
      }
      return enqueue('chat deflection is off and this queue has no after-hours SMS text: the conversation waits in the queue');
    }
    case 'chat': {
      if (d.chat.enabled && config.supportCenter.email !== undefined) {
        return { action: 'email', target: { email: config.supportCenter.email }, deflection: 'global', message: emergencyMessage, note: null };
      }
      return enqueue('chat deflection is off (deflection.chat.enabled: false): the chat waits in the queue, with the support-center email shown in it');
    }
  }
}
