/**
 * Checks of the `sipServer` section that the schema cannot express: overload
 * hysteresis needs each leave level below its enter level, or the state
 * would flap on every sample.
 */
import type { ConfigCheck } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';

export const sipServerConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'overload hysteresis',
    sections: ['sipServer'],
    check(config) {
      const o = config.sipServer.overload;
      const problems: ConfigProblem[] = [];
      if (o.eventLoopLagLeaveMs >= o.eventLoopLagEnterMs) {
        problems.push({
          path: 'sipServer.overload.eventLoopLagLeaveMs',
          message: `must be below eventLoopLagEnterMs (${o.eventLoopLagEnterMs}), or the overload state would flap`,
        });
      }
      if (o.cpuEnterPercent > 0 && o.cpuLeavePercent >= o.cpuEnterPercent) {
        problems.push({ path: 'sipServer.overload.cpuLeavePercent', message: `must be below cpuEnterPercent (${o.cpuEnterPercent}), or the overload state would flap` });
      }
      return problems;
    },
  },
];
