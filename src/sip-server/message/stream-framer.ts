/**
 * Cutting SIP messages out of a byte stream (TCP), RFC 3261 §18.3: the header
 * section ends at the first empty line and Content-Length (mandatory on
 * streams) gives the body size in bytes. CRLF keep-alives between messages
 * (RFC 5626 §3.5.1: "\r\n\r\n" ping, answered by a "\r\n" pong) are reported,
 * even when a ping arrives split over several reads.
 *
 * Work is linear in the bytes received however the stream is cut: partial
 * messages are kept in one growing buffer and the search for the end of the
 * header section resumes where it stopped. Messages cut from a read are views
 * of that read; messages assembled from several reads are copies, so that
 * reusing the buffer never changes a message already handed out.
 */
import { parseDecimal } from './decimal.js';
import { findHeaderEnd } from './header-section.js';

export type FramerEvent =
  | { readonly type: 'message'; readonly data: Buffer }
  | { readonly type: 'ping' }
  /**
   * The stream is unusable; `head` is the header section when one was read (to answer 400/513 from),
   * or, `partial`, the complete header lines of one too large to end within the limit.
   */
  | { readonly type: 'error'; readonly reason: string; readonly status: 400 | 513; readonly head?: Buffer; readonly partial?: true };

/** A Content-Length (or compact "l") field with its folded continuation lines. */
const CL_FIELD_RE = /(?:^|\n)(?:content-length|l)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)/gi;
const EMPTY = Buffer.alloc(0);

export class StreamFramer {
  /** Bytes kept from earlier reads: store[0, len) is the start of an unfinished message. */
  private store: Buffer = EMPTY;
  private len = 0;
  /** Within the unfinished message, where the search for the empty line resumes. */
  private scanned = 0;
  /** The unfinished message's full length once its header section has been read. */
  private total: number | undefined;
  /** Line feeds in the current run of CR/LF between messages (two make a ping). */
  private lfRun = 0;
  private failed = false;

  constructor(private readonly maxBytes: number) {}

  /** Feeds bytes; returns every complete message (and keep-alive) now available. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.failed || chunk.length === 0) return [];
    const events: FramerEvent[] = [];
    if (this.len === 0) {
      const used = this.drain(chunk, events, false);
      if (!this.failed && used < chunk.length) this.append(chunk.subarray(used));
    } else {
      this.append(chunk);
      const used = this.drain(this.store.subarray(0, this.len), events, true);
      if (!this.failed) this.consume(used);
    }
    return events;
  }

  /** Bytes waiting for the rest of a message. */
  get pending(): number {
    return this.len;
  }

  /** Cuts every complete message from `buf`; returns how many bytes were used. */
  private drain(buf: Buffer, events: FramerEvent[], copy: boolean): number {
    let off = 0;
    for (;;) {
      if (this.total === undefined && this.scanned === 0) {
        // Between messages: CR/LF runs are keep-alives (or §7.5 leading CRLFs).
        while (off < buf.length && (buf[off] === 0x0d || buf[off] === 0x0a)) {
          if (buf[off] === 0x0a && ++this.lfRun === 2) {
            events.push({ type: 'ping' });
            this.lfRun = 0;
          }
          off++;
        }
        if (off === buf.length) return off;
        this.lfRun = 0;
      }
      const avail = buf.length - off;
      if (this.total === undefined) {
        const view = buf.subarray(off);
        const end = findHeaderEnd(view, Math.max(0, this.scanned - 3));
        if (end === undefined) {
          if (avail > this.maxBytes) return this.error(events, 'header section too large', 513, completeLines(view), true);
          this.scanned = Math.max(1, avail);
          return off;
        }
        const headLength = end.index + end.sepLength;
        const length = announcedContentLength(view.toString('latin1', 0, end.index));
        if (length === undefined) return this.error(events, 'missing Content-Length on a stream transport', 400, view.subarray(0, headLength));
        if (typeof length === 'string') return this.error(events, length, 400, view.subarray(0, headLength));
        if (headLength + length > this.maxBytes) return this.error(events, 'message too large', 513, view.subarray(0, headLength));
        this.total = headLength + length;
      }
      if (avail < this.total) return off;
      const data = buf.subarray(off, off + this.total);
      events.push({ type: 'message', data: copy ? Buffer.from(data) : data });
      off += this.total;
      this.total = undefined;
      this.scanned = 0;
    }
  }

  private append(bytes: Buffer): void {
    const need = this.len + bytes.length;
    if (need > this.store.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.store.length * 2, 4096));
      this.store.copy(grown, 0, 0, this.len);
      this.store = grown;
    }
    bytes.copy(this.store, this.len);
    this.len = need;
  }

  private consume(used: number): void {
    if (used >= this.len) {
      this.len = 0;
      // Do not keep a large buffer alive for an idle connection.
      if (this.store.length > 65536) this.store = EMPTY;
      return;
    }
    if (used > 0) {
      this.store.copy(this.store, 0, used, this.len);
      this.len -= used;
    }
  }

  private error(events: FramerEvent[], reason: string, status: 400 | 513, head?: Buffer, partial?: true): number {
    // After a framing error the stream cannot be resynchronised: the connection must close.
    this.failed = true;
    if (head === undefined) events.push({ type: 'error', reason, status });
    else events.push({ type: 'error', reason, status, head: Buffer.from(head), ...(partial ? { partial } : {}) });
    this.store = EMPTY;
    this.len = 0;
    return 0;
  }
}

/**
 * The complete lines at the start of a header section that has not ended
 * (up to the last line feed), so that a 513 can still be answered when the
 * request line and the headers a response copies came before the oversized
 * part. A line that is (or may yet be) continued by a folded line (§7.3.1)
 * is not complete; undefined when no line is.
 */
function completeLines(view: Buffer): Buffer | undefined {
  let p = view.lastIndexOf(0x0a);
  // The byte after the line feed decides: SP or HTAB folds, none yet may still fold.
  while (p >= 0 && (p + 1 >= view.length || view[p + 1] === 0x20 || view[p + 1] === 0x09)) p = p === 0 ? -1 : view.lastIndexOf(0x0a, p - 1);
  return p < 0 ? undefined : view.subarray(0, p + 1);
}

/**
 * The body length a header section announces (mandatory on streams, §18.3);
 * a string says why the message cannot be framed by it, undefined that there
 * is no Content-Length.
 */
export function announcedContentLength(head: string): number | string | undefined {
  let value: string | undefined;
  CL_FIELD_RE.lastIndex = 0;
  for (let m = CL_FIELD_RE.exec(head); m !== null; m = CL_FIELD_RE.exec(head)) {
    // Two Content-Lengths (RFC 4475 §3.3.9) leave no way to know where the next message starts.
    if (value !== undefined) return 'more than one Content-Length on a stream transport';
    value = m[1]!.replace(/\s+/g, ' ').trim();
  }
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) return 'malformed Content-Length';
  // Too large to represent is too large to accept: Infinity.
  return parseDecimal(value, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY;
}
