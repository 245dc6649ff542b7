/**
 * The policy's public API: hours of operation, after-hours deflection,
 * transfer targets and scheduled-call slots, as pure functions of (config,
 * instant, state). See docs/policy.md.
 *
 *   const policy = createPolicy(config);
 *   const d = policy.decide({ queue: 'billing', channel: 'ivr', language: 'es', at: new Date() });
 *   if (!d.open && d.action === 'voicemail') { ... d.target.greeting ... }
 */
export { createPolicy, type Policy } from './policy.js';
export { policyConfigChecks, checkPolicy } from './checks/index.js';
export { parseInstant } from './instant.js';
export { promptRef, voicemailDelivery } from './deflection.js';
export type {
  Action,
  ActionName,
  Decision,
  DecisionReason,
  DecisionRequest,
  MessageRef,
  OfferOption,
  ScheduledCallSlot,
  SlotsRequest,
  TransferRequest,
  TransferRule,
  TransferTarget,
  TransferTargets,
  VoicemailDelivery,
} from './decision.js';
export { CHANNELS, type Channel } from '../config/schema/policy.js';
