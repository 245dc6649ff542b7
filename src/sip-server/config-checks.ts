/**
 * Configuration rules the schema cannot express for the embedded SIP server;
 * registered in src/app/config-checks.ts so that one error lists every problem.
 */
import type { ConfigCheck } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';

export const sipServerConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'sip-server: session timers',
    sections: ['sipServer'],
    check(config) {
      const problems: ConfigProblem[] = [];
      const st = config.sipServer.sessionTimers;
      if (st.defaultSeconds < st.minSeconds) {
        problems.push({ path: 'sipServer.sessionTimers.defaultSeconds', message: `must be at least minSeconds (${st.minSeconds}): we would ask for less than we accept` });
      }
      // The refresher needs T1-scale time to get its refresh answered before the peer's expiry margin (RFC 4028 §10).
      const roundTripMs = 64 * config.sipServer.timers.t1Ms;
      if (st.enabled && st.minSeconds * 1000 < roundTripMs) {
        problems.push({ path: 'sipServer.sessionTimers.minSeconds', message: `must be at least 64·T1 (${roundTripMs / 1000} s) so a refresh transaction can finish within an interval` });
      }
      return problems;
    },
  },
];
