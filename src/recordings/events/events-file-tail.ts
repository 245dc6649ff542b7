/**
 * Reading what other processes append to the recording events file
 * (`events.jsonl`, one JSON event per line): from a given offset on, a line
 * still being written waits for its end, and a file truncated in place
 * (logrotate's copytruncate) is read again from its start. (Seen by size:
 * lines appended after a rotation that outgrow what was read before the next
 * read are missed.)
 */
import { open, stat } from 'node:fs/promises';
import type { RecordingEvent, RecordingEventType } from './recording-events.js';

/** The fields of an event line a reader relies on. */
export interface EventLine {
  readonly type: RecordingEventType;
  readonly recordingId: string;
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/** How much of the file is read at once. */
const CHUNK_BYTES = 1024 * 1024;
/** Longer than any event line (metadata only, a few hundred bytes). */
const MAX_LINE_BYTES = 1024 * 1024;

export class EventsFileTail {
  private rest: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly file: string,
    private offset: number,
  ) {}

  /** A tail that reads what is appended to `file` from now on. */
  static async fromEnd(file: string): Promise<EventsFileTail> {
    return new EventsFileTail(file, await sizeOf(file));
  }

  /** Calls `onEvent` for every whole line appended since the last read. */
  async read(onEvent: (e: EventLine) => void): Promise<void> {
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
        // Truncated in place: what is there now was appended since.
        this.offset = 0;
        this.rest = Buffer.alloc(0);
      }
      // A chunk at a time: a long backlog (a reader that was down) is not held in memory at once.
      const buf = Buffer.alloc(Math.min(CHUNK_BYTES, size - this.offset));
      while (this.offset < size) {
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - this.offset), this.offset);
        if (bytesRead === 0) break;
        this.offset += bytesRead;
        // Split on bytes, not characters: a read may end inside a multi-byte character of a line still being written.
        let data = Buffer.concat([this.rest, buf.subarray(0, bytesRead)]);
        for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a)) {
          const e = parse(data.subarray(0, nl).toString('utf8'));
          if (e !== undefined) onEvent(e);
          data = data.subarray(nl + 1);
        }
        // No event line is this long: what has no line end by then is not one (a corrupt file) and is dropped.
        this.rest = data.length > MAX_LINE_BYTES ? Buffer.alloc(0) : Buffer.from(data);
      }
    } finally {
      await fh.close();
    }
  }
}

function parse(line: string): EventLine | undefined {
  if (line.trim() === '') return undefined;
  try {
    const e = JSON.parse(line) as Partial<RecordingEvent>;
    if (typeof e.recordingId === 'string' && typeof e.type === 'string') return { type: e.type, recordingId: e.recordingId };
  } catch {
    // a line that is not JSON (hand-edited, cut by a crash) says nothing
  }
  return undefined;
}
