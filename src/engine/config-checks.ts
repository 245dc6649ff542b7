/**
 * Configuration checks that belong to call routing (the queue tree and ids are
 * checked by src/policy): a dialed number may select only one queue, a
 * real drachtio-server needs to be named when the embedded one is off, and
 * trunks, reserved data and data parameters hold together (trunks/).
 */
import type { ConfigProblem } from '../errors.js';
import type { ConfigCheck } from '../config/load.js';
import { trunkConfigChecks } from './trunks/trunk-config-checks.js';

export const engineConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'dialed numbers',
    sections: ['queues'],
    check(config) {
      const problems: ConfigProblem[] = [];
      const seen = new Map<string, string>();
      config.queues.forEach((q, i) => {
        (q.numbers ?? []).forEach((n, j) => {
          // "+15550100" and "15550100" select the same queue (QueueDirectory matches both).
          const key = n.startsWith('+') ? n.slice(1) : n;
          const other = seen.get(key);
          if (other !== undefined) problems.push({ path: `queues[${i}].numbers[${j}]`, message: `number "${n}" already selects queue ${other}; a number may select only one queue` });
          else seen.set(key, `"${q.id}"`);
        });
      });
      return problems;
    },
  },
  {
    name: 'drachtio connection',
    sections: ['sipServer', 'drachtio'],
    check(config) {
      if (config.sipServer.embedded) return [];
      const missing = (['host', 'port', 'secret'] as const).filter((k) => config.drachtio[k] === undefined);
      return missing.map((k) => ({
        path: `drachtio.${k}`,
        message: `required when sipServer.embedded is false: the engine needs the ${k} of the drachtio-server to connect to`,
      }));
    },
  },
  ...trunkConfigChecks,
];
