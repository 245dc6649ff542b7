import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SLOW_FILES, slowRank } from './slow-first-sequencer.js';

const root = resolve(import.meta.dirname, '../..');

describe('slow-first test order', () => {
  it('names only test files that exist (a renamed file would silently lose its place)', () => {
    expect(SLOW_FILES.filter((f) => !existsSync(resolve(root, f)))).toEqual([]);
  });

  it('ranks the slow files in their listed order and every other file after them', () => {
    expect(SLOW_FILES.map((f) => slowRank(resolve(root, f)))).toEqual(SLOW_FILES.map((_, i) => i));
    expect(slowRank(resolve(root, 'test/engine/trunks.test.ts'))).toBe(Number.POSITIVE_INFINITY);
    // A whole path segment must match: a file whose name merely ends the same way is not slow.
    expect(slowRank('/x/other-test/integration/leak-anchored.test.ts')).toBe(Number.POSITIVE_INFINITY);
  });
});
