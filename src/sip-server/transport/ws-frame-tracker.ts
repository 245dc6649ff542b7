/**
 * Where a client's byte stream stands in RFC 6455 §5.2 framing, to know
 * whether a message has been started and not finished: a client that
 * trickles a frame (or the fragments of a message) would otherwise hold the
 * connection and its buffer for as long as it keeps a byte coming. Only
 * header lengths are read; payloads are skipped, never copied. Validating
 * frames is the WebSocket library's job.
 */
export class WsFrameTracker {
  /** Header bytes of the frame being read (at most 14). */
  private readonly header = Buffer.alloc(14);
  private headerLength = 0;
  private payloadLeft = 0;
  private fin = true;
  private opcode = 0;
  /** A data frame without FIN was seen: the message continues in later frames. */
  private fragmented = false;

  /** True while part of a message has arrived and the rest has not. */
  get inMessage(): boolean {
    return this.headerLength > 0 || this.payloadLeft > 0 || this.fragmented;
  }

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - i);
        this.payloadLeft -= take;
        i += take;
        if (this.payloadLeft === 0) this.frameDone();
        continue;
      }
      this.header[this.headerLength++] = chunk[i++]!;
      const needed = this.headerNeeded();
      if (needed !== undefined && this.headerLength === needed) this.headerDone();
    }
  }

  /** The full header length once its second byte is known. */
  private headerNeeded(): number | undefined {
    if (this.headerLength < 2) return undefined;
    const b1 = this.header[1]!;
    const len7 = b1 & 0x7f;
    const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    return 2 + extended + ((b1 & 0x80) !== 0 ? 4 : 0);
  }

  private headerDone(): void {
    const b0 = this.header[0]!;
    const len7 = this.header[1]! & 0x7f;
    this.fin = (b0 & 0x80) !== 0;
    this.opcode = b0 & 0x0f;
    if (len7 === 126) this.payloadLeft = this.header.readUInt16BE(2);
    else if (len7 === 127) this.payloadLeft = this.header.readUInt32BE(2) * 2 ** 32 + this.header.readUInt32BE(6);
    else this.payloadLeft = len7;
    this.headerLength = 0;
    if (this.payloadLeft === 0) this.frameDone();
  }

  private frameDone(): void {
    // Control frames (opcode ≥ 8) may come between the fragments of a message and change nothing.
    if (this.opcode < 8) this.fragmented = !this.fin;
  }
}
