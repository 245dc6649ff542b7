/**
 * Waiting for recordings to reach their end (`uploaded`, `failed` or
 * `expired`) from another process than the one delivering them: the engine,
 * draining, waits for the recordings of its drained calls while its worker
 * child delivers them. The events file is what every process appends to, so
 * the watch reads what is appended to it from the moment it was opened (a
 * file truncated by copytruncate is read again from its start), plus the
 * events of this process (which reach the file too, unless it cannot be
 * written).
 */
import { EventsFileTail } from './events-file-tail.js';
import type { RecordingEvent, RecordingEventType } from './recording-events.js';

const FINAL: ReadonlySet<RecordingEventType> = new Set(['uploaded', 'failed', 'expired']);

/** What the watch subscribes to in this process (RecordingEvents). */
export interface RecordingEventSource {
  subscribe(listener: (e: RecordingEvent) => void): () => void;
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** How often the file is read (default 200 ms). */
  readonly pollMs?: number;
}

export class FinalEventWatch {
  private readonly ended = new Map<string, RecordingEventType>();
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly tail: EventsFileTail,
    source: RecordingEventSource | undefined,
  ) {
    this.unsubscribe = source?.subscribe((e) => this.note(e.recordingId, e.type)) ?? (() => undefined);
  }

  /** Starts watching: events appended to `file` from now on count. */
  static async open(file: string, source?: RecordingEventSource): Promise<FinalEventWatch> {
    return new FinalEventWatch(await EventsFileTail.fromEnd(file), source);
  }

  /** The final state seen for `id` since the watch was opened, if any. */
  finalState(id: string): RecordingEventType | undefined {
    return this.ended.get(id);
  }

  /**
   * Resolves once every one of `ids` has ended, or at the time limit, or when
   * `signal` aborts; with the ids that had not ended by then.
   */
  async until(ids: readonly string[], o: WaitOptions): Promise<string[]> {
    const deadline = Date.now() + o.timeoutMs;
    for (;;) {
      await this.tail.read((e) => this.note(e.recordingId, e.type));
      const pending = ids.filter((id) => !this.ended.has(id));
      const left = deadline - Date.now();
      if (pending.length === 0 || left <= 0 || o.signal?.aborted === true) return pending;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          o.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(o.pollMs ?? 200, left));
        o.signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  close(): void {
    this.unsubscribe();
  }

  private note(id: string, type: RecordingEventType): void {
    if (FINAL.has(type) && !this.ended.has(id)) this.ended.set(id, type);
  }
}
