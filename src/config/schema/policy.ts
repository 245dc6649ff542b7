import { Type } from '@sinclair/typebox';

/**
 * Hours of operation, exceptions, deflection and transfer settings
 * (owned by src/policy/). Top-level keys are spread into the root schema.
 */
export const PolicyTopLevel = {};

/** Queue fields read by the policy (schedules, deflection overrides, channel). */
export const QueuePolicyFields = Type.Object({});
