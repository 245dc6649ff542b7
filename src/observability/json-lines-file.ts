/**
 * An append-only file of JSON lines (call records, the audit log) that loses
 * nothing to a passing fault and can be rotated:
 *
 * - Each line is written whole, synchronously (a line is one record: a few KB,
 *   once per call or per API action), so the order is the order of `append`.
 * - A write that fails (ENOSPC, EIO, the folder removed) keeps its line and
 *   every later one in memory, in order, and closes the file; they are written
 *   at the next append or every `retryMs`, once the file can be written again.
 *   The error is logged once per outage, and its end once.
 * - A line cut short by a failed write (or by a crash) is ended with a newline
 *   when the file is opened again, and the line is written again whole after
 *   it: readers skip the one fragment that is not JSON.
 * - `reopen()` (SIGHUP) closes the file, so that the next line goes to a new
 *   file at the path: rotation by rename (logrotate's default) works.
 */
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from './logger.js';

export interface JsonLinesOptions {
  /** What the file holds, for the log ("call records"). */
  readonly what: string;
  /** File mode of a new file (and 0o700 for a new folder when it is 0o600). Default 0o644. */
  readonly mode?: number;
  /** How often lines kept through a fault are tried again. Default 5 s. */
  readonly retryMs?: number;
  /** Most lines kept through a fault; older ones are dropped (counted in the log). Default 100,000. */
  readonly maxPending?: number;
}

export class JsonLinesFile {
  private fd: number | undefined;
  private readonly pending: string[] = [];
  private failing: string | undefined;
  private dropped = 0;
  private retry: NodeJS.Timeout | undefined;
  /** Lines in the file (this process's). */
  written = 0;

  constructor(
    readonly file: string,
    private readonly logger: Logger,
    private readonly options: JsonLinesOptions,
  ) {}

  /** Lines waiting for the file to be writable again. */
  get waiting(): number {
    return this.pending.length;
  }

  /**
   * Appends one line (a newline is added). `durable`: synced to disk before returning (fdatasync).
   * False when the line could not be written now: it is kept and written later.
   */
  append(line: string, durable = false): boolean {
    this.pending.push(`${line}\n`);
    if (this.pending.length > (this.options.maxPending ?? 100_000)) {
      this.pending.shift();
      this.dropped++;
    }
    return this.flush(durable);
  }

  /** Closes the file: the next line opens the path again (after a rotation, a new file). */
  reopen(): void {
    this.closeFd();
    this.flush(false);
  }

  /** Writes what is waiting (one last try) and closes the file; lines it could not write are counted in the log. */
  close(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    this.flush(false);
    clearTimeout(this.retry);
    if (this.pending.length > 0) this.logger.error({ file: this.file, lost: this.pending.length }, `${this.options.what}: lines never written to the file (they are in the log)`);
    this.closeFd();
  }

  private flush(durable: boolean): boolean {
    try {
      const fd = this.open();
      while (this.pending.length > 0) {
        writeWhole(fd, this.pending[0]!);
        this.pending.shift();
        this.written++;
      }
      if (durable) fdatasyncSync(fd);
    } catch (e) {
      this.fail(e);
      return false;
    }
    if (this.failing !== undefined || this.dropped > 0) {
      this.logger.warn({ file: this.file, dropped: this.dropped }, `${this.options.what} written again (${this.failing ?? 'ok'} is over)`);
      this.failing = undefined;
      this.dropped = 0;
    }
    return true;
  }

  private fail(e: unknown): void {
    const reason = e instanceof Error ? e.message : String(e);
    // Closed: the next try opens the file again and ends a line this write may have cut short.
    this.closeFd();
    if (this.failing === undefined) {
      this.failing = reason;
      this.logger.error({ err: reason, file: this.file, waiting: this.pending.length }, `${this.options.what} file cannot be written: keeping the lines to write when it can`);
    }
    if (this.retry === undefined) {
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (this.pending.length > 0) this.flush(false);
      }, this.options.retryMs ?? 5000);
      this.retry.unref();
    }
  }

  private open(): number {
    if (this.fd !== undefined) return this.fd;
    const mode = this.options.mode ?? 0o644;
    mkdirSync(dirname(this.file), { recursive: true, ...(mode === 0o600 ? { mode: 0o700 } : {}) });
    const fd = openSync(this.file, 'a+', mode);
    try {
      // A line cut short (a failed write, a crash) is ended here, so that the next one stays whole.
      const size = fstatSync(fd).size;
      const last = Buffer.alloc(1);
      if (size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a) writeWhole(fd, '\n');
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    this.fd = fd;
    return fd;
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already unusable
      }
    }
  }
}

/** Writes all of `text` (one write may take only part of it); throws when the file takes no more. */
function writeWhole(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
