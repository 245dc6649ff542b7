/**
 * The retention limit, kept by the engine process as well as by the workers:
 * the sweeper needs no Redis and no worker, so recordings and capture files
 * past their deadline are deleted (and reported `expired`) while the engine
 * runs, whether a worker runs or not (`node.recordingsWorker: false` with the
 * workers elsewhere and down, a worker waiting for its Redis). Sweepers
 * sharing a spool report each deletion once (see retention-sweeper.ts).
 *
 * It also answers what the engine's metrics show of the recordings: what its
 * last sweep found in the spool, and the events appended to the events file
 * (by every process sharing the spool) since it started, by type.
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { RetentionSweeper } from '../delivery/retention-sweeper.js';
import { EventsFileTail } from '../events/events-file-tail.js';
import type { RecordingEvents, RecordingEventType } from '../events/recording-events.js';
import { setupSpool } from './recordings-setup.js';

const EVENT_TYPES: ReadonlySet<string> = new Set<RecordingEventType>(['captured', 'converted', 'part-uploaded', 'uploaded', 'retrying', 'failed', 'expired']);

export interface RecordingsSnapshot {
  /** Recordings in the spool, neither delivered nor past their deadline, at the last sweep. */
  readonly spoolRecordings: number;
  /** When the oldest of them started (ms since the epoch). */
  readonly oldestStartedAtMs: number | undefined;
  /** Events appended to the events file since this process started, by type. */
  readonly events: ReadonlyMap<RecordingEventType, number>;
}

export interface RetentionServiceOptions {
  readonly config: SwitchboardConfig;
  readonly logger: Logger;
  readonly cwd?: string;
  readonly clock?: () => number;
}

export class RetentionService {
  private readonly counts = new Map<RecordingEventType, number>();
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly sweeper: RetentionSweeper,
    private readonly events: RecordingEvents,
    private readonly tail: EventsFileTail,
    private readonly logger: Logger,
  ) {}

  static async start(o: RetentionServiceOptions): Promise<RetentionService> {
    const { store, events, paths, clock } = await setupSpool(o);
    const r = o.config.recordings;
    // Opened before the first sweep: its own events count too.
    const tail = await EventsFileTail.fromEnd(paths.eventsFile);
    const sweeper = new RetentionSweeper({ store, events, captureDir: paths.captureDir, retentionMs: r.retentionSeconds * 1000, clock, logger: o.logger }, r.sweepIntervalSeconds * 1000);
    sweeper.start();
    o.logger.debug({ spool: paths.spoolDir, captureDir: paths.captureDir }, 'retention sweeper started in the engine');
    return new RetentionService(sweeper, events, tail, o.logger);
  }

  /** Reads the events appended since the last call (one reader at a time), then says what is known. */
  async snapshot(): Promise<RecordingsSnapshot> {
    this.reading = this.reading
      .then(() =>
        this.tail.read((e) => {
          if (EVENT_TYPES.has(e.type)) this.counts.set(e.type, (this.counts.get(e.type) ?? 0) + 1);
        }),
      )
      .catch((e: unknown) => this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'cannot read the recording events file for metrics'));
    await this.reading;
    const last = this.sweeper.last;
    return { spoolRecordings: last?.waiting ?? 0, oldestStartedAtMs: last?.oldestStartedAt, events: new Map(this.counts) };
  }

  async stop(): Promise<void> {
    await this.sweeper.stop();
    await this.events.flush();
  }
}
