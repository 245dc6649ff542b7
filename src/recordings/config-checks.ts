/**
 * Configuration rules the schema cannot express for recordings, Redis and the
 * CRM; registered in src/app/config-checks.ts so that one error lists every problem.
 */
import type { ConfigCheck } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';
import { isValidTimeZone } from './crm/contact.js';

export const recordingsConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'recordings: CRM adapter settings',
    sections: ['crm'],
    check(config) {
      const problems: ConfigProblem[] = [];
      if (config.crm.adapter === 'http' && config.crm.http === undefined) {
        problems.push({ path: 'crm', message: 'adapter is "http" but crm.http (url, credentials) is missing' });
      }
      if (!isValidTimeZone(config.crm.timeZone)) {
        problems.push({ path: 'crm.timeZone', message: `"${config.crm.timeZone}" is not an IANA time zone (e.g. Asia/Jakarta, UTC)` });
      }
      return problems;
    },
  },
  {
    name: 'recordings: keys and back-off',
    sections: ['recordings'],
    check(config) {
      const problems: ConfigProblem[] = [];
      const enc = config.recordings.encryption;
      if (enc.key !== undefined && enc.keyFile !== undefined) {
        problems.push({ path: 'recordings.encryption', message: 'set either key or keyFile, not both' });
      }
      const seen = new Set([enc.keyId]);
      enc.previousKeys.forEach((k, i) => {
        if (seen.has(k.id)) problems.push({ path: `recordings.encryption.previousKeys[${i}].id`, message: `key id "${k.id}" is used twice` });
        seen.add(k.id);
      });
      const up = config.recordings.upload;
      if (up.maxBackoffMs < up.initialBackoffMs) {
        problems.push({ path: 'recordings.upload.maxBackoffMs', message: `must be at least initialBackoffMs (${up.initialBackoffMs})` });
      }
      const ho = config.recordings.handover;
      if (ho.maxBackoffMs < ho.initialBackoffMs) {
        problems.push({ path: 'recordings.handover.maxBackoffMs', message: `must be at least initialBackoffMs (${ho.initialBackoffMs})` });
      }
      return problems;
    },
  },
];
