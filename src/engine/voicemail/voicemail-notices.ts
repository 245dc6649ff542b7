/**
 * Telling a queue's agents about a voicemail when the queue opens again (the
 * seed: "agents assigned to the queue are notified when the queue opens
 * again"). A notice is kept on disk until it fires, so a restart keeps it;
 * when it fires it is appended to `notices.jsonl`, logged, emitted (the API's
 * event stream), and POSTed as JSON to the configured webhook (best effort,
 * a few tries; the file is the record).
 */
import { EventEmitter } from 'node:events';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observability/logger.js';

export interface VoicemailNotice {
  /** The voicemail's recording id. */
  readonly recordingId: string;
  /** The engine's call id. */
  readonly call: string;
  readonly queue: string;
  /** When the queue opens (ISO); null: at once. */
  readonly notifyAt: string | null;
  readonly callbackNumber: string | null;
  readonly caller: string | null;
  readonly language: string;
  readonly recordedAt: string;
}

export interface VoicemailNoticesOptions {
  readonly dir: string;
  readonly webhook: string | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** setTimeout's longest delay; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const WEBHOOK_TRIES = 3;

export class VoicemailNotices extends EventEmitter<{ notify: [VoicemailNotice] }> {
  private readonly pending = new Map<string, VoicemailNotice>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly o: VoicemailNoticesOptions) {
    super();
    this.now = o.now ?? Date.now;
  }

  private get pendingFile(): string {
    return join(this.o.dir, 'pending.json');
  }

  /** Loads notices a previous run left and arms them. */
  async start(): Promise<void> {
    await mkdir(this.o.dir, { recursive: true });
    let saved: VoicemailNotice[] = [];
    try {
      saved = JSON.parse(await readFile(this.pendingFile, 'utf8')) as VoicemailNotice[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.logger.warn({ err: (e as Error).message }, 'pending voicemail notices unreadable; starting without them');
    }
    for (const n of saved) this.arm(n);
  }

  get size(): number {
    return this.pending.size;
  }

  async add(notice: VoicemailNotice): Promise<void> {
    this.arm(notice);
    await this.persist();
  }

  private arm(n: VoicemailNotice): void {
    if (this.closed) return;
    this.pending.set(n.recordingId, n);
    const due = n.notifyAt === null ? this.now() : Date.parse(n.notifyAt);
    const wait = Math.max(0, due - this.now());
    const timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.arm(n) : void this.fire(n)), Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    clearTimeout(this.timers.get(n.recordingId));
    this.timers.set(n.recordingId, timer);
  }

  private persist(): Promise<void> {
    const body = JSON.stringify([...this.pending.values()], null, 1);
    this.writing = this.writing.then(async () => {
      const tmp = `${this.pendingFile}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, this.pendingFile);
    }).catch((e: unknown) => this.o.logger.error({ err: (e as Error).message }, 'voicemail notices not saved'));
    return this.writing;
  }

  private async fire(n: VoicemailNotice): Promise<void> {
    if (this.closed || !this.pending.delete(n.recordingId)) return;
    this.timers.delete(n.recordingId);
    await this.persist();
    await appendFile(join(this.o.dir, 'notices.jsonl'), `${JSON.stringify({ ...n, notifiedAt: new Date(this.now()).toISOString() })}\n`).catch((e: unknown) =>
      this.o.logger.error({ err: (e as Error).message }, 'voicemail notice not written'),
    );
    this.o.logger.info({ notice: n }, 'voicemail notice: the queue is open again');
    this.emit('notify', n);
    if (this.o.webhook !== undefined) await this.post(this.o.webhook, n);
  }

  private async post(url: string, n: VoicemailNotice): Promise<void> {
    for (let attempt = 1; attempt <= WEBHOOK_TRIES && !this.closed; attempt++) {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'voicemail', ...n }), signal: AbortSignal.timeout(5000) });
        if (res.ok) return;
        this.o.logger.warn({ status: res.status, attempt }, 'voicemail webhook refused the notice');
      } catch (e) {
        this.o.logger.warn({ err: (e as Error).message, attempt }, 'voicemail webhook unreachable');
      }
      await new Promise((r) => setTimeout(r, 1000 * attempt).unref());
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.writing;
  }
}
