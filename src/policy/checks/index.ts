/**
 * The policy's configuration checks (registered in src/app/config-checks.ts).
 * Two checks, so that schedule and exception problems are still reported when
 * an unrelated part of a queue fails the schema.
 */
import type { ConfigCheck, SwitchboardConfig } from '../../config/load.js';
import type { ConfigProblem } from '../../errors.js';
import { buildQueueTree } from '../queue-tree.js';
import { checkDeflection } from './deflection-checks.js';
import { checkReferences } from './reference-checks.js';
import { checkSchedules } from './schedule-checks.js';

export const policyScheduleCheck: ConfigCheck = {
  name: 'policy: schedules and exceptions',
  sections: ['schedules', 'exceptions'],
  check: (config) => checkSchedules(config).list,
};

export const policyReferenceCheck: ConfigCheck = {
  name: 'policy: hours scopes, emergency overrides and deflection',
  sections: ['schedules', 'exceptions', 'hours', 'emergency', 'deflection', 'supportCenter', 'queues'],
  check: (config) => {
    const tree = buildQueueTree(config.queues);
    return [...checkReferences(config, tree).list, ...checkDeflection(config, tree).list];
  },
};

export const policyConfigChecks: readonly ConfigCheck[] = [policyScheduleCheck, policyReferenceCheck];

/** Every policy problem of a configuration (what createPolicy refuses). */
export function checkPolicy(config: SwitchboardConfig): ConfigProblem[] {
  return policyConfigChecks.flatMap((c) => c.check(config));
}
