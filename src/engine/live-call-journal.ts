/**
 * Calls under way, journaled so that a call live when the engine dies
 * (SIGKILL, a crash, the kernel's OOM killer) still gets its call record at
 * the next start: each call's record as it stood when it arrived and when it
 * was connected (and whenever a recording starts or its details change), then
 * the word that it ended. While calls are live the file is touched every
 * `heartbeatMs`, so its modification time says when the engine was last
 * alive. At start-up every call with no end in the journal gets its last
 * record, ended then (never before a time the record itself holds), its wait
 * and talk time counted to that end, `endReason` "engine stopped
 * unexpectedly", `facts.recovered`.
 *
 *   <stateDir>/calls/live/journal-<ms>.jsonl   {"live": CallRecord} | {"ended": call id}
 *
 * Appended through a stream (no sync per line: it guards against the process
 * dying, not the machine). A file past `rotateBytes` is replaced by a new one
 * that starts with the calls still live, so the journal stays small whatever
 * the traffic; a clean stop (every call ended) leaves no file. A file that
 * fails (a full disk) is no longer touched, and a new one holding every live
 * call is tried every `retryMs`; once one is written, every other journal
 * file goes (one that missed a call's end must not bring the call back).
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import type { CallRecord } from './call-record.js';

export const RECOVERED_END_REASON = 'engine stopped unexpectedly';

type Line = { readonly live: CallRecord } | { readonly ended: string };

export class LiveCallJournal {
  private stream: WriteStream | undefined;
  private file: string | undefined;
  private bytes = 0;
  /** Each live call's last line. */
  private readonly live = new Map<string, string>();

  private readonly heartbeat: NodeJS.Timeout;
  /** The touch in flight, awaited by `close()` so that nothing changes the file after it. */
  private touching: Promise<void> | undefined;
  /** The removal of older files after a rotation, awaited by `close()` too. */
  private cleaning: Promise<void> = Promise.resolve();
  private closed = false;
  /** When the file last failed to take a line (a full disk): it is replaced once `retryMs` has passed. */
  private failedAt: number | undefined;

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
    private readonly rotateBytes = 4 * 1024 * 1024,
    heartbeatMs = 5000,
    private readonly retryMs = 5000,
  ) {
    this.heartbeat = setInterval(() => {
      const file = this.file;
      if (file === undefined || this.live.size === 0) return;
      // A file that missed lines is not a sign of life: it is written anew (all live calls) instead.
      if (this.failedAt !== undefined) {
        if (Date.now() - this.failedAt >= this.retryMs) this.rotate();
        return;
      }
      if (this.touching !== undefined) return;
      const now = new Date();
      this.touching = utimes(file, now, now)
        .catch(() => undefined)
        .finally(() => {
          this.touching = undefined;
        });
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * The calls a previous run left without an end, as final records; the old
   * files are removed once read. Call before `open()`.
   */
  async recover(): Promise<CallRecord[]> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => /^journal-\d+\.jsonl$/.test(n)).sort();
    const last = new Map<string, { record: CallRecord; endedAt: number }>();
    for (const name of names) {
      const file = join(this.dir, name);
      // A file gone since the listing (removed by a journal that had moved on to a newer one) held nothing the newer one lacks.
      const read = await Promise.all([readFile(file, 'utf8'), stat(file)]).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return undefined;
        throw e;
      });
      if (read === undefined) continue;
      const [text, info] = read;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        let parsed: Line;
        try {
          parsed = JSON.parse(line) as Line;
        } catch {
          continue; // the line being written when the process died
        }
        if ('ended' in parsed) last.delete(parsed.ended);
        else if (typeof parsed.live?.call === 'string') last.set(parsed.live.call, { record: parsed.live, endedAt: info.mtimeMs });
      }
    }
    for (const name of names) await unlink(join(this.dir, name)).catch(() => undefined);
    return [...last.values()].map(({ record, endedAt }) => recovered(record, endedAt));
  }

  /** The call's record as it stands (a new call, or a step of it). */
  update(record: CallRecord): void {
    const line = `${JSON.stringify({ live: record })}\n`;
    this.live.set(record.call, line);
    this.append(line);
  }

  ended(call: string): void {
    if (!this.live.delete(call)) return;
    this.append(`${JSON.stringify({ ended: call })}\n`);
  }

  /** Ends the journal; its file is removed when no call is live (a clean stop). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    const file = this.file;
    await this.touching;
    await this.closeStream();
    await this.cleaning;
    if (file !== undefined && this.live.size === 0) await unlink(file).catch(() => undefined);
  }

  private append(line: string): void {
    // Closed: nothing more is written (a new file now would outlive the stop, and bring its calls back at the next start).
    if (this.closed) return;
    if (this.failedAt !== undefined) {
      // The live calls are in memory: the next file, once one can be written, holds them all.
      if (Date.now() - this.failedAt >= this.retryMs) this.rotate();
      return;
    }
    if (this.stream === undefined || this.bytes >= this.rotateBytes) {
      this.rotate();
      if (line.startsWith('{"live"')) return; // the new file starts with every live call's line, this one's too
    }
    this.bytes += line.length;
    this.stream!.write(line);
  }

  /**
   * A new file holding the calls still live; once it holds them, every other journal file is removed
   * (one that failed midway may miss a call's end, and must not bring the call back at the next start).
   */
  private rotate(): void {
    const old = this.stream;
    const oldFile = this.file;
    this.failedAt = undefined;
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (e) {
      this.failed(e, this.dir);
      return;
    }
    // Named by time, with a sequence if two rotations fall in one millisecond: read back in order.
    let stamp = Date.now();
    while (oldFile !== undefined && join(this.dir, `journal-${stamp}.jsonl`) <= oldFile) stamp++;
    const file = join(this.dir, `journal-${stamp}.jsonl`);
    const stream = createWriteStream(file, { flags: 'a' });
    stream.on('error', (e) => {
      if (this.stream === stream) this.failed(e, file);
    });
    this.stream = stream;
    this.file = file;
    this.bytes = 0;
    for (const line of this.live.values()) {
      this.bytes += line.length;
      stream.write(line);
    }
    old?.destroy();
    stream.write('', (err) => {
      if (err !== null && err !== undefined) return;
      if (this.outage) {
        this.outage = false;
        this.logger.warn({ file, live: this.live.size }, 'live call journal written again');
      }
      this.cleaning = this.cleaning.then(() => this.removeOthers(file));
    });
  }

  /** Between a failed write and the next file that takes the live calls (logged once each way). */
  private outage = false;

  private failed(e: unknown, file: string): void {
    if (!this.outage) this.logger.error({ err: e instanceof Error ? e.message : String(e), file }, 'live call journal cannot be written: trying a new file every few seconds');
    this.outage = true;
    this.failedAt = Date.now();
    this.stream?.destroy();
    this.stream = undefined;
  }

  private async removeOthers(keep: string): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      const file = join(this.dir, name);
      if (file !== keep && this.file === keep && /^journal-\d+\.jsonl$/.test(name)) await unlink(file).catch(() => undefined);
    }
  }

  private async closeStream(): Promise<void> {
    const s = this.stream;
    this.stream = undefined;
    if (s !== undefined) await new Promise<void>((resolve) => s.end(() => resolve()));
  }
}

/**
 * The final record of a call the engine died in: ended when the journal was last written or touched
 * (the file's time, which the kernel keeps coarsely: never before a time the record holds), its wait
 * and talk time counted to that end.
 */
function recovered(record: CallRecord, lastAlive: number): CallRecord {
  const t = record.times;
  const known = [t.arrived, t.answered, t.agentAnswered, t.bridged].filter((x): x is string => x !== null).map((x) => Date.parse(x));
  const end = t.ended !== null ? Date.parse(t.ended) : Math.round(Math.max(lastAlive, ...known));
  const bridged = t.bridged !== null ? Date.parse(t.bridged) : undefined;
  return {
    ...record,
    times: { ...t, ended: new Date(end).toISOString() },
    // A call deflected elsewhere (not to a queue) stopped waiting at the deflection: its wait stands as journaled.
    metrics: { ...record.metrics, waitMs: waitedElsewhere(record) ? record.metrics.waitMs : (bridged ?? end) - Date.parse(t.arrived), talkMs: bridged === undefined ? 0 : end - bridged },
    endReason: RECOVERED_END_REASON,
    endedBy: 'engine',
    facts: { ...record.facts, recovered: true },
  };
}

function waitedElsewhere(record: CallRecord): boolean {
  return record.times.bridged === null && record.deflection !== null && record.deflection.action !== 'queue';
}
