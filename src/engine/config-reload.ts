/**
 * What a running engine takes from an edited configuration file without a
 * restart (SIGHUP): the hours policy and its deflection. That is every
 * top-level setting of the policy (schedules, exception folders such as
 * holidays and closures, hours scopes, the emergency override, deflection
 * settings and messages, support-center details) and each queue's policy
 * fields (its channels, hours, emergency override, virtual agent,
 * deflection), which is what administrators change while calls go on.
 *
 * Everything else is wired into running parts at start (listeners, the media
 * relay, recordings, trunks, agents and their waiting queues, the queues
 * themselves): a file that changes any of it is refused as a whole, each such
 * setting named, and the running configuration stays as it was. Applying part
 * of a file would leave the engine running a configuration no file describes.
 */
import type { SwitchboardConfig } from '../config/load.js';
import { PolicyTopLevel, QueuePolicyFields } from '../config/schema/policy.js';
import type { PromptLibrary } from '../media/index.js';
import { voicemailFallbackTexts } from './voicemail/voicemail-task.js';

/** Top-level settings a reload applies. */
export const RELOADABLE_SETTINGS: ReadonlySet<string> = new Set(Object.keys(PolicyTopLevel));
/** A queue's settings a reload applies (the queue itself, by id and place, must stay). */
export const RELOADABLE_QUEUE_SETTINGS: ReadonlySet<string> = new Set(Object.keys(QueuePolicyFields.properties));

/** Enough to say what is wrong; a file that changes more is refused all the same. */
const MAX_LISTED = 20;

/** What changed between the running configuration and `next`, split by whether a reload may apply it. */
export interface ConfigChanges {
  /** Settings a reload applies (paths such as `exceptions` or `queues[1].hours`). */
  readonly reloadable: readonly string[];
  /** Settings that need a restart (paths down to the changed value, at most 20). */
  readonly needRestart: readonly string[];
}

type Json = unknown;

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keysOf(a: Record<string, Json>, b: Record<string, Json>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

/** Paths under `path` where `a` and `b` differ (objects key by key, arrays of one length item by item). */
function differences(a: Json, b: Json, path: string, out: string[]): void {
  if (out.length >= MAX_LISTED) return;
  if (isRecord(a) && isRecord(b)) {
    for (const k of keysOf(a, b)) differences(a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((item: Json, i) => differences(item, b[i], `${path}[${i}]`, out));
    return;
  }
  if (JSON.stringify(a) !== JSON.stringify(b)) out.push(path);
}

function changed(a: Json, b: Json): boolean {
  return JSON.stringify(a) !== JSON.stringify(b);
}

export function configChanges(running: SwitchboardConfig, next: SwitchboardConfig): ConfigChanges {
  const reloadable: string[] = [];
  const needRestart: string[] = [];
  const a = running as unknown as Record<string, Json>;
  const b = next as unknown as Record<string, Json>;
  for (const key of keysOf(a, b)) {
    if (RELOADABLE_SETTINGS.has(key)) {
      if (changed(a[key], b[key])) reloadable.push(key);
    } else if (key === 'queues') {
      const qa = running.queues;
      const qb = next.queues;
      if (qa.map((q) => q.id).join('\n') !== qb.map((q) => q.id).join('\n')) {
        needRestart.push('queues (a queue added, removed or moved)');
        continue;
      }
      qa.forEach((q, i) => {
        const x = q as unknown as Record<string, Json>;
        const y = qb[i] as unknown as Record<string, Json>;
        for (const k of keysOf(x, y)) {
          if (!RELOADABLE_QUEUE_SETTINGS.has(k)) differences(x[k], y[k], `queues[${i}].${k}`, needRestart);
          else if (changed(x[k], y[k])) reloadable.push(`queues[${i}].${k}`);
        }
      });
    } else {
      differences(a[key], b[key], key, needRestart);
    }
  }
  return { reloadable, needRestart: needRestart.slice(0, MAX_LISTED) };
}

/** The outcome of a reload, as the log and the caller of reloadConfig() see it. */
export type ConfigReload =
  | { readonly applied: true; readonly changed: readonly string[] }
  | { readonly applied: false; readonly reasons: readonly string[] };

/**
 * The prompt library for `next`, every prompt of it rendered before any call can ask for one
 * (unchanged prompts come from the renderer's cache). Throws, listing every prompt that failed.
 */
export async function renderedPromptsFor(prompts: PromptLibrary | undefined, next: SwitchboardConfig): Promise<PromptLibrary | undefined> {
  const library = prompts?.withConfig(next);
  if (library === undefined) return undefined;
  await library.prerenderAll();
  for (const text of voicemailFallbackTexts(next)) await library.fromSpec({ text }, { language: 'en' });
  return library;
}
