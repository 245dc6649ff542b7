import { Type, type Static } from '@sinclair/typebox';
import type { AgentSchema} from './agents.js';
import { AgentsTopLevel } from './agents.js';
import { boundDurations } from './durations.js';
import { ApiTopLevel } from './api.js';
import { EngineSchema } from './engine.js';
import { MediaTopLevel } from './media.js';
import { NodeSchema } from './node.js';
import { PolicyTopLevel } from './policy.js';
import { QueueSchema } from './queue.js';
import { RecordingsTopLevel } from './recordings.js';
import { ReservedDataTopLevel } from './reserved-data.js';
import { DrachtioSchema, SipServerSchema } from './sip-server.js';
import { TrunksTopLevel } from './trunks.js';

/** The one schema every Switchboard configuration file is validated against (every duration bounded: durations.ts). */
export const ConfigSchema = boundDurations(Type.Object(
  {
    node: NodeSchema,
    sipServer: SipServerSchema,
    drachtio: DrachtioSchema,
    engine: EngineSchema,
    queues: Type.Array(QueueSchema, { default: [], description: 'Queues and menus.' }),
    ...PolicyTopLevel,
    ...MediaTopLevel,
    ...RecordingsTopLevel,
    ...TrunksTopLevel,
    ...ReservedDataTopLevel,
    ...ApiTopLevel,
    ...AgentsTopLevel,
  },
  { additionalProperties: false, description: 'Switchboard configuration.' },
));

export type Config = Static<typeof ConfigSchema>;
export type QueueConfig = Static<typeof QueueSchema>;
export type AgentConfig = Static<typeof AgentSchema>;
export type SipServerConfig = Static<typeof SipServerSchema>;
