import { loadConfigObject, type SwitchboardConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { createPolicy, policyConfigChecks, type Channel, type Decision, type Policy } from '../../src/policy/index.js';

/** A validated, frozen config from a plain object, with the policy's checks. */
export function config(value: unknown): SwitchboardConfig {
  return loadConfigObject(value, { checks: policyConfigChecks });
}

export function policyOf(value: unknown): Policy {
  return createPolicy(config(value));
}

/** `path: message` of every problem the loader reports (empty when the config is valid). */
export function problemsOf(value: unknown): string[] {
  try {
    loadConfigObject(value, { checks: policyConfigChecks });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

export function decideAt(policy: Policy, queue: string, at: string, channel: Channel = 'ivr', language?: string): Decision {
  return policy.decide({ queue, channel, at: new Date(at), ...(language === undefined ? {} : { language }) });
}

/** A one-schedule config: `weekly` hours in `zone` for queue `q`, with optional exception entries. */
export function oneSchedule(
  zone: string,
  weekly: Record<string, string[]>,
  entries: Record<string, unknown>[] = [],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    schedules: [{ id: 's', timeZone: zone, weekly, ...(entries.length > 0 ? { exceptions: ['f'] } : {}) }],
    exceptions: entries.length > 0 ? [{ id: 'f', entries }] : [],
    hours: { schedule: 's' },
    queues: [{ id: 'q', name: 'Q' }],
    ...extra,
  };
}

export const EVERY_DAY = (...intervals: string[]): Record<string, string[]> => ({
  monday: intervals,
  tuesday: intervals,
  wednesday: intervals,
  thursday: intervals,
  friday: intervals,
  saturday: intervals,
  sunday: intervals,
});
