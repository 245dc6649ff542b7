import { apiConfigChecks } from '../api/config-checks.js';
import type { ConfigCheck } from '../config/load.js';
import { agentConfigChecks } from '../engine/agents/agent-config-checks.js';
import { engineConfigChecks, outboundTrunkConfigChecks } from '../engine/config-checks.js';
import { listenerConfigChecks } from './listener-config-checks.js';
import { mediaConfigChecks } from '../media/media-config-checks.js';
import { policyConfigChecks } from '../policy/index.js';
import { recordingsConfigChecks } from '../recordings/config-checks.js';
import { sipServerConfigChecks } from '../sip-server/config-checks.js';

/**
 * Every module's semantic configuration checks, run after the schema so that
 * one error message lists every problem. Modules export their checks; this is
 * the composition root that gathers them.
 */
export const configChecks: readonly ConfigCheck[] = [
  ...sipServerConfigChecks,
  ...engineConfigChecks,
  ...outboundTrunkConfigChecks,
  ...agentConfigChecks,
  ...policyConfigChecks,
  ...mediaConfigChecks,
  ...recordingsConfigChecks,
  ...apiConfigChecks,
  ...listenerConfigChecks,
];
