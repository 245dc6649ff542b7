/**
 * Test order for a two-worker run: the slowest files start first. Vitest
 * orders files by the durations it cached in earlier runs, and without that
 * cache (a fresh clone, as in CI) by file size, which put the longest file of
 * the suite (the anchored leak test, a short file that runs for minutes) last,
 * alone on one worker after everything else had finished. The files below
 * (measured on a busy two-core machine, test/README.md) go first in this
 * order; every other file keeps Vitest's own order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const SLOW_FILES: readonly string[] = [
  'test/integration/leak-anchored.test.ts',
  'test/api/cli.test.ts',
  'test/engine/live-reserved-data.test.ts',
  'test/engine/live-hangups.test.ts',
  'test/engine/live-deflections.test.ts',
  'test/agents/waiting-queue.test.ts',
];

/** Where `file` (a path ending in one of SLOW_FILES) stands among the slow files; Infinity for the rest. */
export function slowRank(file: string): number {
  const normalized = file.replaceAll('\\', '/');
  const i = SLOW_FILES.findIndex((f) => normalized.endsWith(`/${f}`));
  return i === -1 ? Number.POSITIVE_INFINITY : i;
}

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    // A stable sort: the rest keep Vitest's order.
    return ordered
      .map((spec, index) => ({ spec, index, rank: slowRank(spec.moduleId) }))
      .sort((a, b) => (a.rank === b.rank ? a.index - b.index : a.rank - b.rank))
      .map((x) => x.spec);
  }
}
