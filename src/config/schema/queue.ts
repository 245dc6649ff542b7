import { Type } from '@sinclair/typebox';
import { QueueWaitingFields } from './agents.js';
import { QueueApiFields } from './api.js';
import { Id } from './common.js';
import { QueueRoutingFields } from './engine.js';
import { QueueMediaFields } from './media.js';
import { QueuePolicyFields } from './policy.js';
import { QueueRecordingFields } from './recordings.js';

/** The fields every queue has, whatever reads it. */
const QueueCoreFields = Type.Object({
  id: Id('Unique queue id, used as the key everywhere else in the config.'),
  name: Type.String({ minLength: 1, description: 'Display and spoken name ("{Queue Name}" in the whisper).' }),
  parent: Type.Optional(Id('Id of the parent menu queue; queues form a tree and leaves take calls.')),
});

/**
 * A queue (or a menu node of the queue tree). Each module contributes its own
 * fields; they are flattened into one object so unknown keys are still caught.
 */
export const QueueSchema = Type.Composite([QueueCoreFields, QueueRoutingFields, QueuePolicyFields, QueueMediaFields, QueueRecordingFields, QueueApiFields, QueueWaitingFields], {
  additionalProperties: false,
});
