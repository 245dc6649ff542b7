/**
 * Configuration checks of agents, their registrar and the waiting queues,
 * beyond what the schema says: unique agent ids, the queues they serve exist
 * and are not static target lists, a static target list names each URI once,
 * a registered device has credentials,
 * overflow targets exist and never loop, feature codes select no queue, the
 * expiry limits are in order, and Redis is named when registrations go there.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { forEachItem, type ConfigCheck, type SwitchboardConfig } from '../../config/load.js';
import type { ConfigProblem } from '../../errors.js';
import { contactKey } from '../registrar/contact-list.js';
import { ENGINE_REASONS } from './reasons.js';

const LANGUAGE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

function agentChecks(config: SwitchboardConfig, baseDir: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const queues = new Map(config.queues.map((q) => [q.id, q]));
  const seen = new Set<string>();
  const served = new Set<string>();
  const credentialsFile = config.registrar.credentialsFile;
  forEachItem(config.agents, (a, i) => {
    const at = `agents[${i}]`;
    if (seen.has(a.id)) problems.push({ path: `${at}.id`, message: `agent id "${a.id}" is used twice` });
    seen.add(a.id);
    const mine = new Set<string>();
    forEachItem(a.queues, (q, j) => {
      if (!queues.has(q.queue)) problems.push({ path: `${at}.queues[${j}].queue`, message: `no queue "${q.queue}"; queues: ${[...queues.keys()].join(', ') || '(none)'}` });
      if (mine.has(q.queue)) problems.push({ path: `${at}.queues[${j}].queue`, message: `queue "${q.queue}" is listed twice` });
      mine.add(q.queue);
      served.add(q.queue);
    });
    if (a.password !== undefined && a.passwordFile !== undefined) problems.push({ path: `${at}.passwordFile`, message: 'give password or passwordFile, not both' });
    if (a.passwordFile !== undefined && !existsSync(resolve(baseDir, a.passwordFile))) problems.push({ path: `${at}.passwordFile`, message: `cannot read ${resolve(baseDir, a.passwordFile)}` });
    if (a.device === 'registered' && a.password === undefined && a.passwordFile === undefined && credentialsFile === undefined) {
      problems.push({ path: `${at}.password`, message: `agent ${a.id} registers its device and needs digest credentials: password, passwordFile or registrar.credentialsFile` });
    }
    if (a.device === 'registered' && !config.registrar.enabled) problems.push({ path: `${at}.device`, message: 'a registered device needs registrar.enabled' });
  });
  if (credentialsFile !== undefined && !existsSync(resolve(baseDir, credentialsFile))) problems.push({ path: 'registrar.credentialsFile', message: `cannot read ${resolve(baseDir, credentialsFile)}` });
  // An agent's static phone is that agent's: offered a plain hunt's call too, it would be offered a queue call while on it.
  const devices = new Map<string, string>();
  forEachItem(config.agents, (a) => {
    if (a.device !== 'registered') devices.set(contactKey(a.device), a.id);
  });
  forEachItem(config.queues, (q, i) => {
    forEachItem(q.agents ?? [], (uri, j) => {
      const owner = devices.get(contactKey(uri));
      if (owner !== undefined) problems.push({ path: `queues[${i}].agents[${j}]`, message: `${uri} is agent ${owner}'s device: an agent takes one call at a time, so its phone is rung through its queues only, not as a target here too` });
    });
  });
  forEachItem(config.queues, (q, i) => {
    const listed = new Map<string, number>();
    forEachItem(q.agents ?? [], (uri, j) => {
      const first = listed.get(uri);
      if (first !== undefined) problems.push({ path: `queues[${i}].agents[${j}]`, message: `${uri} is listed twice (also agents[${first}]); a target is rung once` });
      else listed.set(uri, j);
    });
    if ((q.agents ?? []).length > 0 && (served.has(q.id) || q.waiting !== undefined)) {
      problems.push({ path: `queues[${i}].agents`, message: `queue ${q.id} is a waiting queue (served by agents or with waiting settings): its agents are configured under agents[] (a static phone is device: sip:...), not as target URIs here` });
    }
  });
  return problems;
}

function waitingChecks(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const ids = new Set(config.queues.map((q) => q.id));
  const lang = config.deflection.defaultLanguage;
  const next = new Map<string, string>();
  // One queue at a time: a value the schema refused ends that queue's examination only (it can hide a loop, never invent one).
  forEachItem(config.queues, (q, i) => {
    const o = q.waiting?.overflow;
    if (o === undefined) return;
    const at = `queues[${i}].waiting.overflow`;
    if (o.option === 'queue') {
      if (o.queue === undefined) problems.push({ path: `${at}.queue`, message: 'required when option is queue' });
      else if (!ids.has(o.queue)) problems.push({ path: `${at}.queue`, message: `no queue "${o.queue}"` });
      else if (o.queue === q.id) problems.push({ path: `${at}.queue`, message: 'a queue cannot overflow to itself' });
      else next.set(q.id, o.queue);
    }
    if (o.option === 'phoneNumber') {
      if (o.phoneNumber === undefined) problems.push({ path: `${at}.phoneNumber`, message: 'required when option is phoneNumber' });
      if (config.trunks.outbound.length === 0) problems.push({ path: `${at}.option`, message: 'a phone-number overflow needs an outbound trunk (trunks.outbound)' });
    }
    for (const key of ['message', 'voicemailGreeting'] as const) {
      const map = o[key];
      if (map === undefined) continue;
      for (const k of Object.keys(map)) if (!LANGUAGE.test(k)) problems.push({ path: `${at}.${key}.${k}`, message: `"${k}" is not a language tag (such as en or en-US)` });
      if (!(lang in map)) problems.push({ path: `${at}.${key}`, message: `must include the default language ${lang} (deflection.defaultLanguage)` });
    }
    if (o.option === 'message' && o.message === undefined && config.deflection.messages.afterHours === undefined) {
      problems.push({ path: `${at}.message`, message: 'a message overflow needs a message here or deflection.messages.afterHours' });
    }
  });
  const reported = new Set<string>();
  for (const start of next.keys()) {
    const path = [start];
    for (let q = next.get(start); q !== undefined; q = next.get(q)) {
      if (q === start) {
        // One problem per loop, not one per queue on it.
        const key = [...path].sort().join(',');
        if (reported.has(key)) break;
        reported.add(key);
        problems.push({ path: `queues[${config.queues.findIndex((x) => x.id === start)}].waiting.overflow.queue`, message: `overflow loops: ${[...path, q].join(' → ')}` });
        break;
      }
      if (path.includes(q)) break;
      path.push(q);
    }
  }
  return problems;
}

function registrarChecks(config: SwitchboardConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const r = config.registrar;
  if (r.minExpiresSeconds > r.maxExpiresSeconds) problems.push({ path: 'registrar.minExpiresSeconds', message: `must not exceed maxExpiresSeconds (${r.maxExpiresSeconds})` });
  if (r.defaultExpiresSeconds < r.minExpiresSeconds || r.defaultExpiresSeconds > r.maxExpiresSeconds) {
    problems.push({ path: 'registrar.defaultExpiresSeconds', message: `must be between minExpiresSeconds (${r.minExpiresSeconds}) and maxExpiresSeconds (${r.maxExpiresSeconds})` });
  }
  if (r.store === 'redis' && config.redis.url === undefined) problems.push({ path: 'registrar.store', message: 'store redis needs redis.url' });
  const f = r.featureCodes;
  const codes = [f.ready, f.notReady, f.logout];
  if (new Set(codes).size !== codes.length) problems.push({ path: 'registrar.featureCodes', message: `feature codes must differ (${codes.join(', ')})` });
  if (ENGINE_REASONS.includes(f.notReadyReason)) problems.push({ path: 'registrar.featureCodes.notReadyReason', message: `"${f.notReadyReason}" is a reason only the engine sets (${ENGINE_REASONS.join(', ')})` });
  forEachItem(config.queues, (q, i) => {
    forEachItem(q.numbers ?? [], (n, j) => {
      if (codes.includes(n)) problems.push({ path: `queues[${i}].numbers[${j}]`, message: `"${n}" is a feature code (registrar.featureCodes)` });
    });
  });
  return problems;
}

export const agentConfigChecks: readonly ConfigCheck[] = [
  { name: 'agents', sections: ['agents', 'queues', 'registrar'], check: (config, context) => agentChecks(config, context?.baseDir ?? process.cwd()) },
  { name: 'waiting queues', sections: ['queues', 'deflection', 'trunks'], check: (config) => waitingChecks(config) },
  { name: 'registrar', sections: ['registrar', 'queues', 'redis'], check: (config) => registrarChecks(config) },
];
