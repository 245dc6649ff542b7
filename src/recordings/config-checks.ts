/**
 * Configuration rules the schema cannot express for recordings, Redis and the
 * CRM; registered in src/app/config-checks.ts so that one error lists every problem.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ConfigCheck } from '../config/load.js';
import type { ConfigProblem } from '../errors.js';
import { isValidTimeZone } from './crm/contact.js';
import { decodeKey } from './crypto/key-ring.js';

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
    check(config, context) {
      const problems: ConfigProblem[] = [];
      const enc = config.recordings.encryption;
      if (enc.key !== undefined && enc.keyFile !== undefined) {
        problems.push({ path: 'recordings.encryption', message: 'set either key or keyFile, not both' });
      }
      if (enc.keyFile !== undefined) {
        // Read as start reads it (relative to the configuration's folder): a missing or malformed key is a configuration problem.
        const file = resolve(context?.baseDir ?? process.cwd(), enc.keyFile);
        let text: string | undefined;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          problems.push({ path: 'recordings.encryption.keyFile', message: `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
        }
        if (text !== undefined) {
          try {
            decodeKey(text, file);
          } catch (e) {
            problems.push({ path: 'recordings.encryption.keyFile', message: (e as Error).message });
          }
        }
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
