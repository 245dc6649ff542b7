/**
 * Telling a queue's agents about a voicemail when the queue opens again (the
 * seed: "agents assigned to the queue are notified when the queue opens
 * again"). A notice is kept on disk until it fires, so a restart keeps it;
 * when it fires it is appended to `notices.jsonl`, logged, emitted (the API's
 * event stream), and POSTed as JSON to the configured webhook (best effort,
 * a few tries; the file is the record).
 *
 * A notice fires only while its queue is open, as the hours policy says at
 * that moment: it is due at its `notifyAt` (the queue's next opening when the
 * voicemail was left) or at once when that was not known, and then the queue
 * is asked. Still closed (an emergency closure with no end, or one added
 * since), it is held until the opening the policy now names, or, with none
 * known, asked again every `recheckMs`. So a closure lifted in the
 * configuration releases its notices: at once on a reload (SIGHUP), at their
 * next check after a restart (which reads them back from disk); no notice ever claims an
 * opening that has not come. A queue no longer configured (or no longer taking IVR calls) cannot be asked:
 * its notices fire (with a warning) rather than wait for ever.
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
  /** When the queue opens (ISO), as known when the voicemail was left; null: not known (it fires once the queue is open). */
  readonly notifyAt: string | null;
  readonly callbackNumber: string | null;
  readonly caller: string | null;
  readonly language: string;
  readonly recordedAt: string;
}

/** Whether a queue is open now, and when it next opens if not (null: not known); undefined: no such queue. */
export type QueueOpening = (queue: string, language: string, atMs: number) => { readonly open: boolean; readonly nextOpenMs: number | null } | undefined;

export interface VoicemailNoticesOptions {
  readonly dir: string;
  readonly webhook: string | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** The hours policy's answer for a queue (default: always open). */
  readonly opening?: QueueOpening;
  /** How often a notice whose queue is closed with no known reopening is checked again (default 60 s). */
  readonly recheckMs?: number;
}

/** setTimeout's longest delay; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const WEBHOOK_TRIES = 3;
const RECHECK_MS = 60_000;

export class VoicemailNotices extends EventEmitter<{ notify: [VoicemailNotice]; held: [VoicemailNotice, number | null] }> {
  private readonly pending = new Map<string, VoicemailNotice>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Notices already logged as held (later checks log at debug). */
  private readonly heldBefore = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Aborted at close(): cuts short a webhook POST in flight. */
  private readonly closing = new AbortController();
  private readonly firing = new Set<Promise<void>>();
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

  /** The hours changed (a reload): every held notice asks its queue again now. */
  hoursChanged(): void {
    for (const n of [...this.pending.values()]) this.due(n);
  }

  /** Keeps `n` and wakes at `dueMs` (default: its notifyAt, or now when that is not known). */
  private arm(n: VoicemailNotice, dueMs?: number): void {
    if (this.closed) return;
    this.pending.set(n.recordingId, n);
    const parsed = n.notifyAt === null ? NaN : Date.parse(n.notifyAt);
    const due = dueMs ?? (Number.isFinite(parsed) ? parsed : this.now());
    const wait = Math.max(0, due - this.now());
    const timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.arm(n, due) : this.due(n)), Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    clearTimeout(this.timers.get(n.recordingId));
    this.timers.set(n.recordingId, timer);
  }

  /** A notice's time has come: it fires if its queue is open now, else waits for the next opening. */
  private due(n: VoicemailNotice): void {
    if (this.closed || !this.pending.has(n.recordingId)) return;
    const now = this.now();
    let state: ReturnType<QueueOpening>;
    try {
      state = this.o.opening === undefined ? { open: true, nextOpenMs: null } : this.o.opening(n.queue, n.language, now);
    } catch (e) {
      this.o.logger.error({ err: (e as Error).message, queue: n.queue }, 'voicemail notice: the queue\'s hours could not be decided; asked again later');
      state = { open: false, nextOpenMs: null };
    }
    if (state === undefined) {
      this.o.logger.warn({ notice: n }, 'voicemail notice: its queue is no longer configured, or no longer takes IVR calls; sent now');
      this.track(this.fire(n, 'queue-unknown'));
      return;
    }
    if (state.open) {
      this.track(this.fire(n, 'open'));
      return;
    }
    // At the opening the policy names (never a tight loop on one in the past), else at the next check.
    const next = state.nextOpenMs !== null && state.nextOpenMs > now ? state.nextOpenMs : now + (this.o.recheckMs ?? RECHECK_MS);
    const log = { recordingId: n.recordingId, queue: n.queue, nextOpen: state.nextOpenMs === null ? null : new Date(state.nextOpenMs).toISOString() };
    if (this.heldBefore.has(n.recordingId)) this.o.logger.debug(log, 'voicemail notice held: the queue is still closed');
    else this.o.logger.info(log, 'voicemail notice held: the queue is closed');
    this.heldBefore.add(n.recordingId);
    this.emit('held', n, state.nextOpenMs);
    this.arm(n, next);
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

  /** A notice being sent: close() waits for it (its line, its event; its webhook is cut short). */
  private track(firing: Promise<void>): void {
    this.firing.add(firing);
    void firing.finally(() => this.firing.delete(firing));
  }

  private async fire(n: VoicemailNotice, why: 'open' | 'queue-unknown'): Promise<void> {
    if (this.closed || !this.pending.delete(n.recordingId)) return;
    // Its timer may still be armed (a reload's hoursChanged fires it early): one that woke later would arm it again.
    clearTimeout(this.timers.get(n.recordingId));
    this.timers.delete(n.recordingId);
    this.heldBefore.delete(n.recordingId);
    await this.persist();
    await appendFile(join(this.o.dir, 'notices.jsonl'), `${JSON.stringify({ ...n, notifiedAt: new Date(this.now()).toISOString() })}\n`).catch((e: unknown) =>
      this.o.logger.error({ err: (e as Error).message }, 'voicemail notice not written'),
    );
    if (why === 'open') this.o.logger.info({ notice: n }, 'voicemail notice: the queue is open again');
    this.emit('notify', n);
    if (this.o.webhook !== undefined) await this.post(this.o.webhook, n);
  }

  private async post(url: string, n: VoicemailNotice): Promise<void> {
    for (let attempt = 1; attempt <= WEBHOOK_TRIES && !this.closed; attempt++) {
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'voicemail', ...n }), signal: AbortSignal.any([AbortSignal.timeout(5000), this.closing.signal]) });
        if (res.ok) return;
        this.o.logger.warn({ status: res.status, attempt }, 'voicemail webhook refused the notice');
      } catch (e) {
        if (this.closed) return; // cut short by close(): the notice is in notices.jsonl
        this.o.logger.warn({ err: (e as Error).message, attempt }, 'voicemail webhook unreachable');
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, 1000 * attempt).unref());
    }
  }

  /** Stops; resolves once notices being sent are written and told (a webhook POST in flight is aborted), and the pending ones saved. */
  async close(): Promise<void> {
    this.closed = true;
    this.closing.abort();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.firing);
    await this.writing;
  }
}
