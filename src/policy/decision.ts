/**
 * What the policy answers. Everything is plain data (JSON-printable); instants
 * are ISO-8601 strings with the offset of the schedule's zone at that instant.
 */
import type { Static } from '@sinclair/typebox';
import type { Channel } from '../config/schema/policy.js';
import type { PromptSpec } from '../config/schema/common.js';
import type { DeepReadonly } from '../config/load.js';

export type Prompt = DeepReadonly<Static<typeof PromptSpec>>;

/** A configured message: where it is in the config, in which language, and what it says. */
export type MessageRef =
  | { readonly kind: 'prompt'; readonly path: string; readonly language: string; readonly prompt: Prompt }
  | { readonly kind: 'text'; readonly path: string; readonly language: string; readonly text: string };

export interface ScheduledCallSlot {
  readonly start: string;
  readonly end: string;
}

/** Where a voicemail goes: the queue's agents (notified when it opens again) or, with none assigned, the CRM. */
export type VoicemailDelivery = 'queue-agents' | 'crm';

export type OfferOption =
  | { readonly type: 'scheduledCall'; readonly slots: readonly ScheduledCallSlot[] }
  | { readonly type: 'email'; readonly address: string }
  | { readonly type: 'phoneNumber'; readonly number: string }
  | { readonly type: 'voicemail'; readonly queue: string; readonly deliverTo: VoicemailDelivery };

/** The action and its target. `target` is null only for message-then-hang-up. */
export type Action =
  /** Open, or closed with no deflection: the contact waits in the queue as usual. */
  | { readonly action: 'enqueue'; readonly target: { readonly queue: string } }
  /** Closed, but a virtual agent in 24-hour mode keeps answering. */
  | { readonly action: 'virtualAgent'; readonly target: { readonly queue: string; readonly virtualAgent: string } }
  /** Deflect to another queue; the caller of decide() decides again for that queue. */
  | { readonly action: 'queue'; readonly target: { readonly queue: string } }
  | { readonly action: 'phoneNumber'; readonly target: { readonly phoneNumber: string } }
  | {
      readonly action: 'voicemail';
      readonly target: {
        readonly queue: string;
        readonly deliverTo: VoicemailDelivery;
        /** When the queue's agents are notified (its next opening); null when unknown. */
        readonly notifyAt: string | null;
        readonly greeting: MessageRef | null;
        /** Custom callback prompts, for a caller whose number is withheld. */
        readonly callbackPrompts: {
          readonly blockedNumber: MessageRef | null;
          readonly askNumber: MessageRef | null;
          readonly numberEntered: MessageRef | null;
        };
      };
    }
  /** Play (or send) `message`, then end the contact. */
  | { readonly action: 'message'; readonly target: null }
  /** SDK: show these options instead of the regular call button. */
  | { readonly action: 'offer'; readonly target: { readonly options: readonly OfferOption[] } }
  /** Chat: point the consumer to the support-center email address. */
  | { readonly action: 'email'; readonly target: { readonly email: string } };

export type ActionName = Action['action'];

/** Why the queue is open or closed at that instant. */
export type DecisionReason = 'weekly-hours' | 'exception' | 'emergency' | 'no-schedule';

export type Decision = Action & {
  readonly queue: string;
  readonly menuPath: readonly string[];
  readonly channel: Channel;
  readonly language: string;
  /** The instant decided for, in the schedule's zone. */
  readonly at: string;
  readonly open: boolean;
  readonly reason: DecisionReason;
  /** The schedule that applied and the config scope that chose it; null = no schedule (always open). */
  readonly schedule: { readonly id: string; readonly timeZone: string; readonly scope: string } | null;
  /** The exception governing this local date, if any. */
  readonly exception: { readonly folder: string; readonly name: string } | null;
  readonly emergency: { readonly force: 'closed' | 'open'; readonly scope: string; readonly reason: string | null; readonly until: string | null } | null;
  /** Where the deflection came from: this queue's override, the global settings, or none. */
  readonly deflection: 'queue' | 'global' | null;
  /** Announcement to play or send before (or as) the action. */
  readonly message: MessageRef | null;
  /** When closed: the next opening (null = not within two years, or an emergency closure without an end). */
  readonly nextOpen: string | null;
  /** When open: the next closing (null = not within two years, or an emergency opening without an end). */
  readonly closesAt: string | null;
  /** A sentence for operators when the outcome needs explaining. */
  readonly note: string | null;
};

export interface DecisionRequest {
  readonly queue: string;
  readonly channel: Channel;
  /** The contact's language (BCP 47); default: deflection.defaultLanguage. */
  readonly language?: string;
  readonly at: Date | number;
}

export interface TransferRequest {
  /** The queue the contact is in now (not listed as a target). */
  readonly queue: string;
  readonly channel: Channel;
  readonly language?: string;
  readonly at: Date | number;
  /** Queues with at least one agent logged in right now (state, not config). */
  readonly loggedIn?: Iterable<string>;
}

/** Rules of the seed's transfer lists, by name (docs/policy.md quotes each). */
export type TransferRule =
  | 'inside-hours'
  | 'outside-hours-deflection-enabled'
  | 'outside-hours-agents-logged-in'
  | 'outside-hours-virtual-agent-24h'
  | 'outside-hours-virtual-agent-queue-hours'
  | 'outside-hours-not-allowed'
  | 'outside-hours-no-deflection-no-agents';

export interface TransferTarget {
  readonly queue: string;
  readonly name: string;
  readonly menuPath: readonly string[];
  readonly open: boolean;
  readonly rule: TransferRule;
}

export interface TransferTargets {
  /** calls (ivr, mobile, web) or chat (chat, sms): which settings applied. */
  readonly kind: 'calls' | 'chat';
  readonly allowOutsideHours: boolean;
  readonly at: string;
  readonly visible: readonly TransferTarget[];
  readonly hidden: readonly TransferTarget[];
}

export interface SlotsRequest {
  readonly queue: string;
  readonly channel: Channel;
  readonly language?: string;
  readonly at: Date | number;
  /** Default: deflection.scheduledCalls.offerCount. */
  readonly count?: number;
}
