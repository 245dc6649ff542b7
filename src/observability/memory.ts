/**
 * Heap measurement for leak checks: a full garbage collection first, so that
 * "memory returned to its starting level" compares live objects, not garbage
 * the collector has not reached yet. V8 only exposes `gc` behind a flag; it
 * can be enabled at run time for a fresh context.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
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

/** One thread's memory (its V8 isolate) and the process's resident set. */
export interface HeapReading {
  /** Live JavaScript objects (after a collection, when asked for one). */
  readonly heapUsedBytes: number;
  /** What V8 holds for this thread's heap, used or not. */
  readonly heapTotalBytes: number;
  /** Memory outside the heap that this thread's objects own (Buffers and other ArrayBuffers among it). */
  readonly externalBytes: number;
  readonly arrayBuffersBytes: number;
  /** The whole process (every thread, the allocator's free lists included). */
  readonly rssBytes: number;
  readonly collected: boolean;
}

/**
 * process.memoryUsage(), which reads the process's size from /proc and so throws EMFILE when the
 * process is out of files; the heap figures then come from V8 alone and the size is unknown (NaN).
 */
export function memoryUsage(): NodeJS.MemoryUsage {
  try {
    return process.memoryUsage();
  } catch {
    const h = getHeapStatistics();
    return { rss: Number.NaN, heapTotal: h.total_heap_size, heapUsed: h.used_heap_size, external: h.external_memory, arrayBuffers: Number.NaN };
  }
}

export function readHeap(collect: boolean): HeapReading {
  const collected = collect ? collectGarbage() : false;
  const m = memoryUsage();
  return { heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers, rssBytes: m.rss, collected };
}
