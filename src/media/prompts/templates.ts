/**
 * Prompt texts with placeholders in braces, as the product writes them:
 * "{Call Type} from {Queue Name}". A placeholder is any text in braces; which
 * names a prompt may use is decided by the prompt (whisper: Call Type and
 * Queue Name), and a config check reports any other.
 */
import { MediaStateError } from '../media-errors.js';

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** The placeholder names used in `text`, in order, without duplicates. */
export function placeholdersOf(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]!.trim()))];
}

/** Replaces every placeholder; throws MediaStateError naming any without a value. */
export function fillTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text.replace(PLACEHOLDER, (_, raw: string) => {
    const name = raw.trim();
    const value = values[name];
    if (value === undefined) throw new MediaStateError(`prompt text "${text}" uses {${name}}, which has no value here`);
    return value;
  });
}

/** The placeholders the whisper texts may use. */
export const WHISPER_PLACEHOLDERS = ['Call Type', 'Queue Name'] as const;
