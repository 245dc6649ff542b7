import { Type } from '@sinclair/typebox';
import { SipUri } from './common.js';

/** Engine-wide call routing settings. */
export const EngineSchema = Type.Object(
  {
    ringTimeoutSeconds: Type.Number({
      exclusiveMinimum: 0,
      maximum: 600,
      default: 20,
      description: 'How long an agent leg may ring before the next agent is tried (queues may override).',
    }),
    maxCallSeconds: Type.Number({
      exclusiveMinimum: 0,
      default: 14400,
      description: 'Calls older than this are ended by the engine as stuck (the seed suggests 5 hours as a practice).',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Call routing.' },
);

/** The queue fields that the engine's routing reads. */
export const QueueRoutingFields = Type.Object({
  numbers: Type.Optional(
    Type.Array(Type.String({ pattern: '^[A-Za-z0-9+*#._-]+$' }), {
      description: 'Dialed numbers (Request-URI user part) that select this queue.',
    }),
  ),
  agents: Type.Optional(
    Type.Array(SipUri('Agent target.'), {
      description: 'Agent targets (SIP URIs), tried one after another in this order.',
    }),
  ),
  ringTimeoutSeconds: Type.Optional(
    Type.Number({ exclusiveMinimum: 0, maximum: 600, description: 'Ring timeout per agent for this queue.' }),
  ),
});
