/**
 * Language fallback for messages and language-specific hours: the contact's
 * tag, then ever shorter prefixes of it (es-MX → es), then the default
 * language. Tags compare case-insensitively (BCP 47).
 */
import type { SwitchboardConfig } from '../config/load.js';
import { LANGUAGE_PATTERN } from '../config/schema/policy.js';

const languageRe = new RegExp(LANGUAGE_PATTERN);

export function isLanguageTag(tag: string): boolean {
  return languageRe.test(tag);
}

/** `es-MX` → [`es-mx`, `es`] (lower case). */
export function languageCandidates(tag: string): string[] {
  const parts = tag.toLowerCase().split('-');
  const out: string[] = [];
  for (let n = parts.length; n >= 1; n--) out.push(parts.slice(0, n).join('-'));
  return out;
}

/** The map key that best matches `tag` (without the default-language fallback). */
export function matchLanguageKey(keys: readonly string[], tag: string): string | undefined {
  for (const candidate of languageCandidates(tag)) {
    const key = keys.find((k) => k.toLowerCase() === candidate);
    if (key !== undefined) return key;
  }
  return undefined;
}

/** The entry for `tag`, else for `fallback`; with the key that matched. */
export function pickByLanguage<T>(
  map: Readonly<Record<string, T>> | undefined,
  tag: string,
  fallback: string,
): { readonly key: string; readonly value: T } | undefined {
  if (map === undefined) return undefined;
  const keys = Object.keys(map);
  const key = matchLanguageKey(keys, tag) ?? matchLanguageKey(keys, fallback);
  if (key === undefined) return undefined;
  const value = map[key];
  return value === undefined ? undefined : { key, value };
}

/**
 * The languages a configuration serves calls in: the default language and
 * every key of its language-keyed hours and spoken messages (global, per
 * queue, emergency, deflection and overflow), as written.
 */
export function servedLanguages(config: SwitchboardConfig): string[] {
  const maps: (Readonly<Record<string, unknown>> | undefined)[] = [config.hours?.languages, config.emergency?.message, ...Object.values(config.deflection.messages)];
  for (const q of config.queues) {
    maps.push(q.hours?.languages, q.emergency?.message, q.deflection?.ivr?.message, q.deflection?.ivr?.voicemailGreeting, q.waiting?.overflow?.message, q.waiting?.overflow?.voicemailGreeting);
  }
  const out = new Set<string>([config.deflection.defaultLanguage]);
  for (const m of maps) for (const k of Object.keys(m ?? {})) out.add(k);
  return [...out];
}
