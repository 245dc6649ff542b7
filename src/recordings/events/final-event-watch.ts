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
import { open, stat } from 'node:fs/promises';
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

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

export class FinalEventWatch {
  private readonly ended = new Map<string, RecordingEventType>();
  private rest: Buffer = Buffer.alloc(0);
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly file: string,
    private offset: number,
    source: RecordingEventSource | undefined,
  ) {
    this.unsubscribe = source?.subscribe((e) => this.note(e.recordingId, e.type)) ?? (() => undefined);
  }

  /** Starts watching: events appended to `file` from now on count. */
  static async open(file: string, source?: RecordingEventSource): Promise<FinalEventWatch> {
    return new FinalEventWatch(file, await sizeOf(file), source);
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
      await this.readAppended();
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

  private async readAppended(): Promise<void> {
    if ((await sizeOf(this.file)) === this.offset) return;
    let fh;
    try {
      fh = await open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    try {
      const size = (await fh.stat()).size;
      if (size < this.offset) {
        // Truncated in place (logrotate's copytruncate): what is there now was appended since. (Seen by
        // size: lines appended after a rotation that outgrow what was read before the next read are missed,
        // and the wait then ends at its limit.)
        this.offset = 0;
        this.rest = Buffer.alloc(0);
      }
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      this.offset += bytesRead;
      // Split on bytes, not characters: a read may end inside a multi-byte character of a line still being written.
      let data = Buffer.concat([this.rest, buf.subarray(0, bytesRead)]);
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
        this.parse(data.subarray(0, nl).toString('utf8'));
        data = data.subarray(nl + 1);
      }
      this.rest = Buffer.from(data);
    } finally {
      await fh.close();
    }
  }

  private parse(line: string): void {
    if (line.trim() === '') return;
    try {
      const e = JSON.parse(line) as Partial<RecordingEvent>;
      if (typeof e.recordingId === 'string' && typeof e.type === 'string') this.note(e.recordingId, e.type);
    } catch {
      // a line that is not JSON (hand-edited, cut by a crash) says nothing about our recordings
    }
  }
}
