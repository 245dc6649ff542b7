/**
 * Checks of after-hours deflection: each option has what it needs and
 * nothing it ignores, per-queue overrides sit on leaf queues of the right
 * channel (never web), deflection targets exist, and queue-to-queue
 * deflection cannot go round in a circle.
 */
import { forEachItem, skippingWithheld, type SwitchboardConfig } from '../../config/load.js';
import type { Channel } from '../../config/schema/policy.js';
import type { Queue, QueueTree } from '../queue-tree.js';
import { didYouMean } from '../suggest.js';
import { checkLanguageMap } from './reference-checks.js';
import { listWords, Problems } from './problems.js';

function checkTarget(p: Problems, tree: QueueTree, path: string, target: string, channel: Channel, from: Queue | undefined): void {
  const q = tree.get(target);
  if (q === undefined) {
    p.add(path, `unknown queue "${target}"${didYouMean(target, tree.queues.map((x) => x.id))}`);
    return;
  }
  if (from !== undefined && target === from.id) {
    p.add(path, `queue "${from.id}" deflects to itself; choose another queue or another option`);
    return;
  }
  if (!tree.isLeaf(target)) {
    p.add(path, `"${target}" is a menu (${listWords(tree.children(target).map((c) => c.id))} under it), not a leaf queue that takes contacts`);
  }
  if (!tree.serves(q, channel)) p.add(path, `queue "${target}" does not serve ${channel} (its channels: ${tree.channels(q).join(', ')})`);
}

/** IVR option fields: the one the option needs is present, the others are absent. */
function checkIvrFields(p: Problems, path: string, ivr: { option: string; queue?: string; phoneNumber?: string }): void {
  if (ivr.option === 'queue' && ivr.queue === undefined) p.add(`${path}.queue`, 'option queue needs the queue to send calls to (queue: <id>)');
  if (ivr.option === 'phoneNumber' && ivr.phoneNumber === undefined) {
    p.add(`${path}.phoneNumber`, 'option phoneNumber needs the number to send calls to (phoneNumber: +15551234567)');
  }
  if (ivr.option !== 'queue' && ivr.queue !== undefined) p.add(`${path}.queue`, `queue is set but option is ${ivr.option}; remove it or set option: queue`);
  if (ivr.option !== 'phoneNumber' && ivr.phoneNumber !== undefined) {
    p.add(`${path}.phoneNumber`, `phoneNumber is set but option is ${ivr.option}; remove it or set option: phoneNumber`);
  }
}

function checkSdkOptions(p: Problems, config: SwitchboardConfig, path: string, options: readonly string[], phoneNumber: string | undefined): void {
  if (options.includes('phoneNumber') && phoneNumber === undefined) {
    p.add(`${path}.phoneNumber`, 'options include phoneNumber, but no phoneNumber is set to show as "Call now"');
  }
  if (!options.includes('phoneNumber') && phoneNumber !== undefined) {
    p.add(`${path}.phoneNumber`, 'phoneNumber is set but options do not include phoneNumber; remove it or add the option');
  }
  if (options.includes('email') && config.supportCenter.email === undefined) {
    p.add(`${path}.options`, 'the email option shows the support-center address, but supportCenter.email is not set');
  }
}

/** Closed-queue edges "queue → queue it deflects to" for one channel, per the effective settings. */
function deflectionEdges(config: SwitchboardConfig, tree: QueueTree, channel: 'ivr' | 'mobile'): Map<string, { to: string; path: string }> {
  const edges = new Map<string, { to: string; path: string }>();
  const g = config.deflection.calls;
  // A queue whose settings failed the schema adds no edge: that can hide a circle, never invent one.
  forEachItem(config.queues, (q, i) => {
    // Only leaf queues take contacts; a menu as a target is reported on its own.
    if (tree.indexOf(q.id) !== i || !tree.isLeaf(q.id) || !tree.serves(q, channel)) return;
    if (channel === 'ivr') {
      const own = q.deflection?.ivr;
      if (own !== undefined) {
        if (own.option === 'queue' && own.queue !== undefined) edges.set(q.id, { to: own.queue, path: `queues[${i}].deflection.ivr.queue` });
      } else if (g.enabled && g.ivr.option === 'queue' && g.ivr.queue !== undefined) {
        edges.set(q.id, { to: g.ivr.queue, path: 'deflection.calls.ivr.queue' });
      }
    } else {
      const own = q.deflection?.mobile;
      if (own?.redirectQueue !== undefined) edges.set(q.id, { to: own.redirectQueue, path: `queues[${i}].deflection.mobile.redirectQueue` });
    }
  });
  return edges;
}

function checkCycles(p: Problems, config: SwitchboardConfig, tree: QueueTree, channel: 'ivr' | 'mobile'): void {
  const edges = deflectionEdges(config, tree, channel);
  const reported = new Set<string>();
  for (const start of edges.keys()) {
    const chain: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && !chain.includes(cur)) {
      chain.push(cur);
      cur = edges.get(cur)?.to;
    }
    if (cur === undefined) continue;
    const loop = chain.slice(chain.indexOf(cur));
    const key = [...loop].sort().join(',');
    if (reported.has(key)) continue;
    reported.add(key);
    const edge = edges.get(loop[0]!)!;
    if (loop.length === 1) {
      // Only the global setting can make a queue point at itself (own overrides are checked directly).
      if (edge.path === 'deflection.calls.ivr.queue') {
        p.add(
          edge.path,
          `queue "${loop[0]!}" takes the closed calls of every queue, but when it is closed itself the same setting would send its calls to itself; ` +
            'give it its own deflection.ivr override (e.g. voicemail or message)',
        );
      }
      continue;
    }
    const smallest = [...loop].sort()[0]!;
    const from = loop.indexOf(smallest);
    const ordered = [...loop.slice(from), ...loop.slice(0, from), smallest];
    p.add(edges.get(smallest)!.path, `closed ${channel} contacts would be deflected round in a circle: ${ordered.join(' → ')}`);
  }
}

export function checkDeflection(config: SwitchboardConfig, tree: QueueTree): Problems {
  const p = new Problems();
  // Each part on its own: a value that failed the schema ends only the part that reads it.
  skippingWithheld(() => checkGlobalDeflection(p, config, tree));
  forEachItem(config.queues, (q, i) => checkQueueDeflection(p, config, tree, q, i));
  skippingWithheld(() => checkCycles(p, config, tree, 'ivr'));
  skippingWithheld(() => checkCycles(p, config, tree, 'mobile'));
  return p;
}

function checkGlobalDeflection(p: Problems, config: SwitchboardConfig, tree: QueueTree): void {
  const d = config.deflection;
  checkIvrFields(p, 'deflection.calls.ivr', d.calls.ivr);
  if (d.calls.ivr.queue !== undefined) checkTarget(p, tree, 'deflection.calls.ivr.queue', d.calls.ivr.queue, 'ivr', undefined);
  if (d.calls.enabled && d.calls.ivr.option === 'message' && d.messages.afterHours === undefined) {
    p.add('deflection.calls.ivr.option', 'option message plays the after-hours message, but deflection.messages.afterHours is not set');
  }
  if (d.calls.enabled && d.calls.ivr.option === 'voicemail' && d.messages.voicemailGreeting === undefined) {
    p.add('deflection.calls.ivr.option', 'option voicemail needs a greeting, but deflection.messages.voicemailGreeting is not set');
  }
  checkSdkOptions(p, config, 'deflection.calls.sdk', d.calls.sdk.options, d.calls.sdk.phoneNumber);
  if (d.chat.enabled && d.chat.option === 'email' && config.supportCenter.email === undefined) {
    p.add('deflection.chat.option', 'chat deflection to email shows the support-center address, but supportCenter.email is not set');
  }
  if (d.chat.enabled && d.chat.allowTransferOutsideHours) {
    p.add(
      'deflection.chat.allowTransferOutsideHours',
      'applies only while chat deflection is disabled (the seed offers it then); set deflection.chat.enabled: false or remove this',
    );
  }
}

function checkQueueDeflection(p: Problems, config: SwitchboardConfig, tree: QueueTree, q: Queue, i: number): void {
  const d = config.deflection;
  const lang = d.defaultLanguage;
  const path = `queues[${i}]`;
  const over = q.deflection;
  if (over === undefined) return;
  const channels = tree.channels(q);
  if (!tree.isLeaf(q.id)) {
    p.add(`${path}.deflection`, `"${q.id}" is a menu (${listWords(tree.children(q.id).map((c) => c.id))} under it); per-queue deflection is for leaf queues`);
  }
  if (channels.length === 1 && channels[0] === 'web') {
    p.add(`${path}.deflection`, `queue "${q.id}" is a web queue; web has no per-queue deflection (the global deflection.calls.sdk settings apply)`);
  } else {
    for (const c of ['ivr', 'mobile', 'sms'] as const) {
      if (over[c] !== undefined && !channels.includes(c)) {
        p.add(`${path}.deflection.${c}`, `queue "${q.id}" does not serve ${c} (its channels: ${channels.join(', ')}), so this override never applies`);
      }
    }
  }
  const ivr = over.ivr;
  if (ivr !== undefined) {
    const ipath = `${path}.deflection.ivr`;
    checkIvrFields(p, ipath, ivr);
    if (ivr.queue !== undefined) checkTarget(p, tree, `${ipath}.queue`, ivr.queue, 'ivr', q);
    if (ivr.option !== 'message' && ivr.message !== undefined) p.add(`${ipath}.message`, `message is only played with option message (option is ${ivr.option})`);
    if (ivr.option !== 'voicemail' && ivr.voicemailGreeting !== undefined) {
      p.add(`${ipath}.voicemailGreeting`, `voicemailGreeting is only played with option voicemail (option is ${ivr.option})`);
    }
    if (ivr.option === 'message' && ivr.message === undefined && d.messages.afterHours === undefined) {
      p.add(`${ipath}.option`, 'option message needs an after-hours message: set message here or deflection.messages.afterHours');
    }
    if (ivr.option === 'voicemail' && ivr.voicemailGreeting === undefined && d.messages.voicemailGreeting === undefined) {
      p.add(`${ipath}.option`, 'option voicemail needs a greeting: set voicemailGreeting here or deflection.messages.voicemailGreeting');
    }
    checkLanguageMap(p, `${ipath}.message`, ivr.message, lang);
    checkLanguageMap(p, `${ipath}.voicemailGreeting`, ivr.voicemailGreeting, lang);
  }
  const mobile = over.mobile;
  if (mobile !== undefined) {
    const mpath = `${path}.deflection.mobile`;
    const options = mobile.options ?? [];
    if (mobile.redirectQueue !== undefined && options.length > 0) {
      p.add(mpath, `give either redirectQueue or options, not both: a consumer redirected to a queue cannot also get ${listWords([...options])}`);
    } else if (mobile.redirectQueue === undefined && options.length === 0) {
      p.add(mpath, 'give redirectQueue, or options with at least one of scheduledCall, email, phoneNumber, voicemail');
    }
    if (mobile.redirectQueue !== undefined) checkTarget(p, tree, `${mpath}.redirectQueue`, mobile.redirectQueue, 'mobile', q);
    checkSdkOptions(p, config, mpath, options, mobile.phoneNumber);
    if (options.includes('scheduledCall') && q.scheduledCalls?.enabled !== true) {
      p.add(`${mpath}.options`, `scheduledCall needs scheduled calls enabled for queue "${q.id}" (scheduledCalls: { enabled: true })`);
    }
  }
  if (over.sms !== undefined) checkLanguageMap(p, `${path}.deflection.sms.afterHoursText`, over.sms.afterHoursText, lang);
}
