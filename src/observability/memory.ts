/**
 * Heap measurement for leak checks: a full garbage collection first, so that
 * "memory returned to its starting level" compares live objects, not garbage
 * the collector has not reached yet. V8 only exposes `gc` behind a flag; it
 * can be enabled at run time for a fresh context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

/** Runs a full GC on this thread; false when the runtime does not allow it. */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  if (gcFn === null) return false;
  gcFn();
  return true;
}

export interface HeapReading {
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  readonly collected: boolean;
}

export function readHeap(collect: boolean): HeapReading {
  const collected = collect ? collectGarbage() : false;
  const m = process.memoryUsage();
  return { heapUsedBytes: m.heapUsed, rssBytes: m.rss, collected };
}
