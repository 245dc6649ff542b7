/**
 * A Server-Sent Events reader over a real socket (node:http), parsing the
 * stream as the WHATWG HTML §9.2 parser does: lines of `field: value`, an
 * event per blank line, comments (`:`) ignored, `data` lines joined with \n.
 */
import { request, type IncomingMessage } from 'node:http';

export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

export class SseClient {
  readonly events: SseEvent[] = [];
  comments = 0;
  private buffer = '';
  private waiters: { pred: (e: SseEvent) => boolean; from: number; resolve: (e: SseEvent) => void }[] = [];

  private constructor(
    readonly status: number,
    readonly headers: IncomingMessage['headers'],
    private readonly res: IncomingMessage,
  ) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => this.push(chunk));
  }

  static open(port: number, path: string, headers: Record<string, string>): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers: { accept: 'text/event-stream', ...headers } }, (res) => resolve(new SseClient(res.statusCode ?? 0, res.headers, res)));
      req.on('error', reject);
      req.end();
    });
  }

  private push(chunk: string): void {
    this.buffer += chunk;
    let i: number;
    while ((i = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, i);
      this.buffer = this.buffer.slice(i + 2);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments++;
          continue;
        }
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (name === 'id') id = value;
        else if (name === 'event') event = value;
        else if (name === 'data') data.push(value);
        else continue;
        fields++;
      }
      if (fields === 0 || data.length === 0) continue;
      const e = { id, event, data: data.join('\n') };
      this.events.push(e);
      for (const w of [...this.waiters]) {
        if (this.events.length - 1 >= w.from && w.pred(e)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  }

  /** The first event from index `from` on that satisfies `pred` (bounded wait). */
  next(pred: (e: SseEvent) => boolean, what: string, from = 0, timeoutMs = 5000): Promise<SseEvent> {
    const found = this.events.slice(from).find(pred);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} event within ${timeoutMs} ms; got ${this.events.map((e) => e.event).join(', ')}`)), timeoutMs);
      this.waiters.push({ pred, from, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  /** Resolves when the server ends the stream. */
  ended(): Promise<void> {
    return new Promise((resolve) => (this.res.complete ? resolve() : this.res.on('end', () => resolve())));
  }

  close(): void {
    this.res.destroy();
  }
}
