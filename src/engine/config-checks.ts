/**
 * Configuration checks that belong to call routing (the queue tree and ids are
 * checked by src/policy): a dialed number may select only one queue, a real
 * drachtio-server needs to be named when the embedded one is off, a SIP address
 * in the config must be one a request can reach, outbound
 * trunks must be usable by the deflections that dial through them, and inbound
 * trunks, reserved data and data parameters hold together (trunks/).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigProblem } from '../errors.js';
import { forEachItem, type ConfigCheck } from '../config/load.js';
import { unreachableAddress } from './registrar/contact-list.js';
import { trunkConfigChecks } from './trunks/trunk-config-checks.js';

export const engineConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'dialed numbers',
    sections: ['queues'],
    check(config) {
      const problems: ConfigProblem[] = [];
      const seen = new Map<string, string>();
      forEachItem(config.queues, (q, i) => {
        forEachItem(q.numbers ?? [], (n, j) => {
          // "+15550100" and "15550100" select the same queue (QueueDirectory matches both).
          const key = n.startsWith('+') ? n.slice(1) : n;
          const other = seen.get(key);
          if (other !== undefined) problems.push({ path: `queues[${i}].numbers[${j}]`, message: `number "${n}" already selects queue ${other}; a number may select only one queue` });
          else seen.set(key, `"${q.id}"`);
        });
        // A dialed number is a phone call (IVR): a queue that does not serve ivr would fail every such call (500).
        if ((q.numbers ?? []).length > 0 && q.channels !== undefined && !q.channels.includes('ivr')) {
          problems.push({ path: `queues[${i}].channels`, message: `queue "${q.id}" has phone numbers but does not serve ivr (its channels: ${q.channels.join(', ')}); every call to them would fail` });
        }
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
  {
    name: 'SIP addresses',
    sections: ['queues', 'agents', 'api'],
    check(config) {
      // The schema takes any sip:/sips: text; one no request can reach would only fail at the first call.
      const problems: ConfigProblem[] = [];
      const check = (uri: string, path: string): void => {
        const problem = unreachableAddress(uri);
        if (problem !== undefined) problems.push({ path, message: `${uri}: ${problem}` });
      };
      forEachItem(config.queues, (q, i) => forEachItem(q.agents ?? [], (a, j) => check(a, `queues[${i}].agents[${j}]`)));
      forEachItem(config.agents, (a, i) => (a.device === 'registered' ? undefined : check(a.device, `agents[${i}].device`)));
      forEachItem(config.api.keys, (k, i) => (k.device === undefined ? undefined : check(k.device, `api.keys[${i}].device`)));
      return problems;
    },
  },
  ...trunkConfigChecks,
];

/**
 * Outbound trunks: unique ids, credentials that go together and can be read, a trunk for every
 * phone-number deflection, and a ring time the embedded SIP server lets a deflection finish in.
 */
export const outboundTrunkConfigChecks: readonly ConfigCheck[] = [
  {
    name: 'outbound trunks',
    sections: ['trunks', 'engine', 'deflection', 'queues'],
    check(config, context) {
      const problems: ConfigProblem[] = [];
      const trunks = config.trunks.outbound;
      const ids = new Map<string, number>();
      trunks.forEach((t, i) => {
        const path = `trunks.outbound[${i}]`;
        if (ids.has(t.id)) problems.push({ path: `${path}.id`, message: `trunk id "${t.id}" is also used by trunks.outbound[${ids.get(t.id)!}]` });
        ids.set(t.id, i);
        if (t.password !== undefined && t.passwordFile !== undefined) problems.push({ path, message: 'give password or passwordFile, not both' });
        const hasSecret = t.password !== undefined || t.passwordFile !== undefined;
        if (t.username !== undefined && !hasSecret) problems.push({ path, message: 'username needs password or passwordFile (digest credentials come in pairs)' });
        if (t.username === undefined && hasSecret) problems.push({ path, message: 'a password needs a username' });
        if (t.passwordFile !== undefined) {
          const file = isAbsolute(t.passwordFile) ? t.passwordFile : resolve(context?.baseDir ?? process.cwd(), t.passwordFile);
          try {
            if (readFileSync(file, 'utf8').split(/\r?\n/)[0]!.trim() === '') problems.push({ path: `${path}.passwordFile`, message: `${file} is empty` });
          } catch (e) {
            problems.push({ path: `${path}.passwordFile`, message: `cannot read ${file}: ${(e as Error).message}` });
          }
        }
      });
      const chosen = config.engine.outboundTrunk;
      if (chosen !== undefined && !ids.has(chosen)) problems.push({ path: 'engine.outboundTrunk', message: `no outbound trunk "${chosen}"; configured: ${[...ids.keys()].join(', ') || 'none'}` });
      // Every place a phone-number deflection is configured needs a trunk to dial through.
      const usesNumber: string[] = [];
      if (config.deflection.calls.ivr.option === 'phoneNumber') usesNumber.push('deflection.calls.ivr');
      forEachItem(config.queues, (q, i) => {
        if (q.deflection?.ivr?.option === 'phoneNumber') usesNumber.push(`queues[${i}].deflection.ivr`);
      });
      if (usesNumber.length > 0 && chosen === undefined && trunks.length !== 1) {
        for (const path of usesNumber) {
          problems.push({
            path,
            message: trunks.length === 0 ? 'a phone-number deflection needs an outbound trunk (trunks.outbound) to call through' : 'several outbound trunks: name the one for phone-number deflections in engine.outboundTrunk',
          });
        }
      }
      return problems;
    },
  },
  {
    name: 'outbound trunk ring time',
    sections: ['trunks', 'sipServer'],
    check(config) {
      // The embedded SIP server answers 500 itself when an app leaves a new INVITE without a final
      // response for appResponseTimeoutMs: a deflection must give up its gateway, and answer, before that.
      // A real drachtio-server has no such timer.
      if (!config.sipServer.embedded) return [];
      const limitMs = config.sipServer.timers.appResponseTimeoutMs;
      const problems: ConfigProblem[] = [];
      forEachItem(config.trunks.outbound, (t, i) => {
        if (t.ringTimeoutSeconds * 1000 > limitMs - RING_MARGIN_MS) {
          problems.push({
            path: `trunks.outbound[${i}].ringTimeoutSeconds`,
            message: `${t.ringTimeoutSeconds} s is not at least ${RING_MARGIN_MS / 1000} s below sipServer.timers.appResponseTimeoutMs (${limitMs / 1000} s): the SIP server would answer the caller 500 before the gateway is given up`,
          });
        }
      });
      return problems;
    },
  },
];

/** Time left after an outbound trunk's ring timeout for the CANCEL and the caller's final response. */
const RING_MARGIN_MS = 2000;
