/**
 * drachtio control-channel framing (spec §1.2): `<decimal byte count>#<payload>`,
 * the count in UTF-8 bytes of the payload, frames back to back on a TCP stream,
 * split and merged arbitrarily. A malformed length closes the connection.
 */

/** At most this many length digits are accepted from an app (the reference server's limit). */
const MAX_LENGTH_DIGITS = 7;

export type DecodeEvent = { readonly type: 'frame'; readonly payload: string } | { readonly type: 'error'; readonly reason: string };

export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxPayloadBytes: number) {}

  push(chunk: Buffer): DecodeEvent[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: DecodeEvent[] = [];
    let offset = 0;
    for (;;) {
      const hash = this.buf.indexOf(0x23 /* # */, offset);
      if (hash < 0) {
        if (this.buf.length - offset > MAX_LENGTH_DIGITS) return this.fail(out, 'frame length prefix too long or missing "#"');
        for (let i = offset; i < this.buf.length; i++) {
          const c = this.buf[i]!;
          if (c < 0x30 || c > 0x39) return this.fail(out, 'non-digit in frame length prefix');
        }
        break;
      }
      const digits = hash - offset;
      if (digits === 0 || digits > MAX_LENGTH_DIGITS) return this.fail(out, 'malformed frame length prefix');
      let length = 0;
      for (let i = offset; i < hash; i++) {
        const c = this.buf[i]!;
        if (c < 0x30 || c > 0x39) return this.fail(out, 'non-digit in frame length prefix');
        length = length * 10 + (c - 0x30);
      }
      if (length === 0 || length > this.maxPayloadBytes) return this.fail(out, `frame length ${length} out of range`);
      const end = hash + 1 + length;
      if (this.buf.length < end) break;
      out.push({ type: 'frame', payload: this.buf.toString('utf8', hash + 1, end) });
      offset = end;
    }
    this.buf = offset >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(offset);
    return out;
  }

  private fail(out: DecodeEvent[], reason: string): DecodeEvent[] {
    this.failed = true;
    this.buf = Buffer.alloc(0);
    out.push({ type: 'error', reason });
    return out;
  }
}

/** Encodes one frame. */
export function encodeFrame(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}#`, 'latin1'), body]);
}

let cachedMs = -1;
let cachedPrefix = '';

/** UTC time of day with microseconds, `HH:MM:SS.uuuuuu` (spec §1.7). */
export function stackTime(): string {
  const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const ms = Math.floor(nowUs / 1000);
  if (ms !== cachedMs) {
    cachedMs = ms;
    cachedPrefix = new Date(ms).toISOString().slice(11, 23);
  }
  return `${cachedPrefix}${String(nowUs % 1000).padStart(3, '0')}`;
}
