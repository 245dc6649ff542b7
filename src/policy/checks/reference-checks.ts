/**
 * Checks of how the policy's pieces refer to each other: the queue tree,
 * hours scopes (schedules and folders they name), emergency overrides,
 * language-keyed maps, and exceptions that collide once folders are combined.
 */
import { forEachItem, skippingWithheld, type DeepReadonly, type SwitchboardConfig } from '../../config/load.js';
import { CHANNELS, type Channel, type HoursScopeConfig } from '../../config/schema/policy.js';
import { analyseSpan, firstSharedDate } from '../exception-calendar.js';
import { parseInstant } from '../instant.js';
import { isLanguageTag } from '../languages.js';
import type { QueueTree } from '../queue-tree.js';
import { chooseSchedule } from '../schedule-scope.js';
import { didYouMean } from '../suggest.js';
import { Problems } from './problems.js';

export function checkQueueTree(p: Problems, config: SwitchboardConfig, tree: QueueTree): void {
  const ids = config.queues.map((q) => q.id);
  const loops = new Set<string>();
  // Findings per queue, against the complete list of ids read above.
  forEachItem(config.queues, (q, i) => {
    const first = tree.indexOf(q.id);
    if (first !== i) p.add(`queues[${i}].id`, `duplicate queue id "${q.id}" (also queues[${first}])`);
    if (q.parent === undefined) return;
    if (q.parent === q.id) {
      p.add(`queues[${i}].parent`, `queue "${q.id}" is its own parent`);
      return;
    }
    if (tree.get(q.parent) === undefined) {
      p.add(`queues[${i}].parent`, `unknown parent queue "${q.parent}"${didYouMean(q.parent, ids)}`);
      return;
    }
    // Walk up; meeting a queue twice means the parents go round in a loop.
    const chain = [q.id];
    let parent: string | undefined = q.parent;
    while (parent !== undefined && tree.get(parent) !== undefined) {
      const at = chain.indexOf(parent);
      if (at >= 0) {
        const loop = chain.slice(at);
        const key = [...loop].sort().join(',');
        if (!loops.has(key) && loop.length > 1) {
          loops.add(key);
          const firstIndex = Math.min(...loop.map((id) => tree.indexOf(id)));
          const startId = config.queues[firstIndex]!.id;
          const from = loop.indexOf(startId);
          const ordered = [...loop.slice(from), ...loop.slice(0, from), startId];
          p.add(`queues[${firstIndex}].parent`, `the parent chain loops: ${ordered.join(' → ')}; a queue tree needs a root menu`);
        }
        break;
      }
      chain.push(parent);
      parent = tree.get(parent)?.parent;
    }
  });
}

/** Keys of a language-keyed map that are not language tags, and a missing default language. */
export function checkLanguageMap(p: Problems, path: string, map: Readonly<Record<string, unknown>> | undefined, defaultLanguage: string): void {
  if (map === undefined) return;
  const keys = Object.keys(map);
  for (const k of keys) {
    if (!isLanguageTag(k)) p.add(`${path}.${k}`, `"${k}" is not a language tag such as en, en-US or id (lower-case language first)`);
  }
  if (keys.length === 0) p.add(path, 'is empty; give at least the default language');
  else if (!keys.some((k) => k.toLowerCase() === defaultLanguage.toLowerCase())) {
    p.add(path, `has no entry for the default language "${defaultLanguage}" (deflection.defaultLanguage), which other languages fall back to`);
  }
}

function checkHoursScope(
  p: Problems,
  config: SwitchboardConfig,
  path: string,
  hours: DeepReadonly<HoursScopeConfig> | undefined,
  served: readonly Channel[],
  queueId: string | undefined,
): void {
  if (hours === undefined) return;
  const scheduleIds = config.schedules.map((s) => s.id);
  const folderIds = config.exceptions.map((f) => f.id);
  const ref = (where: string, id: string): void => {
    if (!scheduleIds.includes(id)) p.add(where, `unknown schedule "${id}"${didYouMean(id, scheduleIds)}; schedules: ${scheduleIds.join(', ') || '(none)'}`);
  };
  if (hours.schedule !== undefined) ref(`${path}.schedule`, hours.schedule);
  for (const c of CHANNELS) {
    const id = hours.channels?.[c];
    if (id === undefined) continue;
    ref(`${path}.channels.${c}`, id);
    if (!served.includes(c)) p.add(`${path}.channels.${c}`, `queue "${queueId ?? ''}" does not serve ${c} (its channels: ${served.join(', ')})`);
  }
  for (const [lang, id] of Object.entries(hours.languages ?? {})) {
    if (!isLanguageTag(lang)) p.add(`${path}.languages.${lang}`, `"${lang}" is not a language tag such as en, en-US or id`);
    ref(`${path}.languages.${lang}`, id);
  }
  const listed = new Set<string>();
  (hours.exceptions ?? []).forEach((f, j) => {
    if (listed.has(f)) p.add(`${path}.exceptions[${j}]`, `exception folder "${f}" is listed twice`);
    listed.add(f);
    if (!folderIds.includes(f)) {
      p.add(`${path}.exceptions[${j}]`, `unknown exception folder "${f}"${didYouMean(f, folderIds)}; folders: ${folderIds.join(', ') || '(none)'}`);
    }
  });
}

function checkEmergency(p: Problems, config: SwitchboardConfig, path: string, e: SwitchboardConfig['emergency']): void {
  if (e === undefined) return;
  if (e.until !== undefined) {
    const t = parseInstant(e.until);
    if (typeof t === 'string') p.add(`${path}.until`, t);
  }
  if (e.message !== undefined) {
    if (e.force === 'open') p.add(`${path}.message`, 'a message is only played while forced closed; remove it or use force: closed');
    checkLanguageMap(p, `${path}.message`, e.message, config.deflection.defaultLanguage);
  }
}

/** Every language the hours of this config distinguish, plus "none". */
function languagesInUse(config: SwitchboardConfig): (string | undefined)[] {
  const langs = new Set<string>();
  for (const h of [config.hours, ...config.queues.map((q) => q.hours)]) for (const k of Object.keys(h?.languages ?? {})) langs.add(k);
  return [undefined, ...langs];
}

export function checkReferences(config: SwitchboardConfig, tree: QueueTree): Problems {
  const p = new Problems();
  // Each part on its own: a value that failed the schema ends only the part that reads it.
  skippingWithheld(() => checkQueueTree(p, config, tree));
  skippingWithheld(() => checkHoursScope(p, config, 'hours', config.hours, CHANNELS, undefined));
  skippingWithheld(() => checkEmergency(p, config, 'emergency', config.emergency));
  forEachItem(config.queues, (q, i) => {
    skippingWithheld(() => checkHoursScope(p, config, `queues[${i}].hours`, q.hours, tree.channels(q), q.id));
    skippingWithheld(() => checkEmergency(p, config, `queues[${i}].emergency`, q.emergency));
  });
  skippingWithheld(() => {
    const lang = config.deflection.defaultLanguage;
    for (const key of Object.keys(config.deflection.messages)) skippingWithheld(() => checkLanguageMap(p, `deflection.messages.${key}`, config.deflection.messages[key as keyof typeof config.deflection.messages], lang));
  });
  skippingWithheld(() => checkCombinations(p, config, tree));
  return p;
}

/**
 * Every combination of queue, channel and language the hours distinguish: the
 * folders that end up together, and folders with no schedule to give them a zone.
 */
function checkCombinations(p: Problems, config: SwitchboardConfig, tree: QueueTree): void {  const combos = new Map<string, { scheduleId: string | undefined; folders: readonly string[]; where: string }>();
  const noZone = new Map<string, { where: string; channels: Channel[]; folders: readonly string[] }>();
  const noSlots = new Map<string, Channel[]>();
  const targets = config.queues.length > 0 ? config.queues.map((q) => q.id) : [''];
  for (const qid of targets) {
    const q = tree.get(qid);
    for (const channel of q === undefined ? CHANNELS : tree.channels(q)) {
      for (const language of languagesInUse(config)) {
        const choice = chooseSchedule(config, tree, qid, channel, language);
        const where = qid === '' ? `${channel}` : `queue "${qid}" on ${channel}${language === undefined ? '' : ` in ${language}`}`;
        const key = `${choice.scheduleId ?? ''}|${choice.folders.join(',')}`;
        if (!combos.has(key)) combos.set(key, { ...choice, where });
        if (choice.scheduleId === undefined && choice.folders.length > 0) {
          const owner = tree.lineage(qid).find((x) => x.hours?.exceptions !== undefined);
          const path = owner !== undefined ? `queues[${tree.indexOf(owner.id)}].hours.exceptions` : 'hours.exceptions';
          const entry = noZone.get(path) ?? { where: qid === '' ? 'contacts' : `queue "${qid}"`, channels: [], folders: choice.folders };
          if (!entry.channels.includes(channel)) entry.channels.push(channel);
          noZone.set(path, entry);
        }
        if (q !== undefined && q.scheduledCalls?.enabled === true && (channel === 'mobile' || channel === 'web') && choice.scheduleId === undefined) {
          const path = `queues[${tree.indexOf(qid)}].scheduledCalls`;
          const list = noSlots.get(path) ?? [];
          if (!list.includes(channel)) list.push(channel);
          noSlots.set(path, list);
        }
      }
    }
  }
  for (const [path, e] of noZone) {
    p.add(
      path,
      `${e.where} gets exception folders (${e.folders.join(', ')}) but no schedule applies to it (on ${e.channels.join(', ')}), so their dates have no time zone; ` +
        'give it a schedule (00:00-24:00 every day for a 24-hour queue)',
    );
  }
  for (const [path, channels] of noSlots) p.add(path, `scheduled calls need hours, but no schedule applies to this queue on ${channels.join(', ')}`);
  const reported = new Set<string>();
  for (const combo of combos.values()) {
    if (combo.scheduleId === undefined) continue;
    const entries = combo.folders.flatMap((fid) => {
      const fi = config.exceptions.findIndex((f) => f.id === fid);
      const folder = config.exceptions[fi];
      return (folder?.entries ?? []).map((e, j) => ({ e, fid, path: `exceptions[${fi}].entries[${j}]`, span: analyseSpan(e).span }));
    });
    for (let b = 0; b < entries.length; b++) {
      for (let a = 0; a < b; a++) {
        const x = entries[a]!;
        const y = entries[b]!;
        // Collisions inside one folder are reported by the schedule check.
        if (x.fid === y.fid || x.span === undefined || y.span === undefined) continue;
        const closed = (e: typeof x.e): boolean => e.closed === true || (e.hours !== undefined && e.hours.length === 0);
        if (closed(x.e) && closed(y.e)) continue;
        const shared = firstSharedDate(x.span, y.span);
        const key = `${x.path}|${y.path}`;
        if (shared === undefined || reported.has(key)) continue;
        reported.add(key);
        p.add(
          y.path,
          `"${y.e.name}" (folder ${y.fid}) and "${x.e.name}" (folder ${x.fid}) both cover ${shared} with different hours, ` +
            `and both apply to schedule "${combo.scheduleId}" (e.g. for ${combo.where}); a date may have one exception`,
        );
      }
    }
  }
}
