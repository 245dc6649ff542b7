/**
 * Netstrings (`<length>:<bytes>,`, D. J. Bernstein's format): the framing of
 * baresip's ctrl_tcp control socket.
 */

export function encodeNetstring(payload: string): Buffer {
  const body = Buffer.from(payload, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);
}

/** Accumulates stream chunks and returns each complete netstring payload. */
export class NetstringDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Buffer): string[] {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const out: string[] = [];
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) break;
      const header = this.buffer.subarray(0, colon).toString('latin1');
      if (!/^\d{1,9}$/.test(header)) throw new Error(`bad netstring length "${header.slice(0, 20)}"`);
      const length = Number(header);
      const end = colon + 1 + length;
      if (this.buffer.length < end + 1) break;
      if (this.buffer[end] !== 0x2c) throw new Error('netstring not terminated by a comma');
      out.push(this.buffer.subarray(colon + 1, end).toString('utf8'));
      this.buffer = this.buffer.subarray(end + 1);
    }
    return out;
  }
}
