/** Keeps the last `limit` bytes of a child's output, for error messages. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.limit && this.chunks.length > 1) {
      this.size -= this.chunks.shift()!.length;
    }
  }

  /** The retained text, trimmed to the limit and to whole lines where possible. */
  text(): string {
    const all = Buffer.concat(this.chunks).toString('utf8');
    const cut = all.length > this.limit ? all.slice(all.length - this.limit) : all;
    const nl = cut.indexOf('\n');
    return (all.length > this.limit && nl >= 0 ? cut.slice(nl + 1) : cut).trimEnd();
  }
}
