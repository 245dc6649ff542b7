/**
 * Cutting SIP messages out of a byte stream (TCP), RFC 3261 §18.3: the header
 * section ends at the first blank line and Content-Length (mandatory on
 * streams) gives the body size. CRLF keep-alives between messages (RFC 5626
 * §3.5.1: "\r\n\r\n" ping, "\r\n" pong) are recognised.
 */
import { findHeaderEnd } from './parser.js';

export type FramerEvent =
  | { readonly type: 'message'; readonly data: Buffer }
  | { readonly type: 'ping' }
  /** The stream is unusable; `head` is the header section when one was read (to answer 400 from). */
  | { readonly type: 'error'; readonly reason: string; readonly status: 400 | 513; readonly head?: Buffer };

const CL_RE = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im;

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxBytes: number) {}

  /** Feeds bytes; returns every complete message (and keep-alive) now available. */
  push(chunk: Buffer): FramerEvent[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const events: FramerEvent[] = [];
    for (;;) {
      // Leading CRLFs: a double CRLF is a keep-alive ping that wants a pong.
      let lead = 0;
      while (lead < this.buf.length && (this.buf[lead] === 0x0d || this.buf[lead] === 0x0a)) lead++;
      if (lead > 0) {
        const text = this.buf.toString('latin1', 0, lead);
        if (text.includes('\r\n\r\n') || text.includes('\n\n')) events.push({ type: 'ping' });
        this.buf = this.buf.subarray(lead);
      }
      if (this.buf.length === 0) break;
      const end = findHeaderEnd(this.buf);
      if (end === undefined) {
        if (this.buf.length > this.maxBytes) return this.error(events, 'header section too large', 513);
        break;
      }
      const head = this.buf.toString('latin1', 0, end.index);
      const m = CL_RE.exec(head);
      if (m === null) return this.error(events, 'missing Content-Length on a stream transport', 400, this.buf.subarray(0, end.index + end.sepLength));
      const total = end.index + end.sepLength + Number(m[1]);
      if (total > this.maxBytes) return this.error(events, 'message too large', 513);
      if (this.buf.length < total) break;
      events.push({ type: 'message', data: this.buf.subarray(0, total) });
      this.buf = this.buf.subarray(total);
    }
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
    return events;
  }

  /** Bytes waiting for the rest of a message. */
  get pending(): number {
    return this.buf.length;
  }

  private error(events: FramerEvent[], reason: string, status: 400 | 513, head?: Buffer): FramerEvent[] {
    // After a framing error the stream cannot be resynchronised: the connection must close.
    this.failed = true;
    this.buf = Buffer.alloc(0);
    events.push(head === undefined ? { type: 'error', reason, status } : { type: 'error', reason, status, head: Buffer.from(head) });
    return events;
  }
}
