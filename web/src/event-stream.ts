/**
 * The API's live events (GET /events, Server-Sent Events, WHATWG HTML §9.2)
 * read with fetch, since EventSource cannot send the Authorization header.
 * Parses `event:`/`data:` blocks, follows `retry:`, and reconnects after a
 * drop (the server then sends a fresh snapshot). A 401/403 stops it for good.
 */
import { ApiError, type Api } from './api.js';

export interface StreamHandlers {
  onEvent(type: string, data: unknown): void;
  onState(state: 'connecting' | 'open' | 'down'): void;
  onDenied(error: ApiError): void;
}

export class EventStream {
  private abort = new AbortController();
  private retryMs = 2000;
  private stopped = false;

  constructor(
    private readonly api: Api,
    private readonly handlers: StreamHandlers,
  ) {}

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.handlers.onState('connecting');
      try {
        const res = await fetch('/events', { headers: this.api.headers({ accept: 'text/event-stream' }), signal: this.abort.signal, cache: 'no-store' });
        if (res.status === 401 || res.status === 403) {
          const e = (await res.json().catch(() => ({}))) as { code?: string; reason?: string };
          this.handlers.onDenied(new ApiError(res.status, e.code ?? 'SB_HTTP', e.reason ?? res.statusText));
          return;
        }
        if (!res.ok || res.body === null) throw new Error(`event stream: HTTP ${res.status}`);
        this.handlers.onState('open');
        await this.read(res.body);
      } catch {
        // dropped or refused: wait and reconnect
      }
      if (this.stopped) return;
      this.handlers.onState('down');
      await new Promise((r) => setTimeout(r, this.retryMs));
    }
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        this.dispatch(block);
      }
    }
  }

  private dispatch(block: string): void {
    let type = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    }
    if (data.length === 0) return;
    try {
      this.handlers.onEvent(type, JSON.parse(data.join('\n')));
    } catch {
      // not JSON: not one of ours
    }
  }
}
