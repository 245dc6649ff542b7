import type { ConfigProblem } from '../../errors.js';

/** Collects problems in the order found; the config loader prints them together. */
export class Problems {
  readonly list: ConfigProblem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

/** `a, b and c` */
export function listWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]!}`;
}
