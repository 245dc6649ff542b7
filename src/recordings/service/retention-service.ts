/**
 * The retention limit, kept by the engine process as well as by the workers:
 * the sweeper needs no Redis and no worker, so recordings and capture files
 * past their deadline are deleted (and reported `expired`) while the engine
 * runs, whether a worker runs or not (`node.recordingsWorker: false` with the
 * workers elsewhere and down, a worker waiting for its Redis). Sweepers
 * sharing a spool report each deletion once (see retention-sweeper.ts).
 */
import type { SwitchboardConfig } from '../../config/load.js';
import type { Logger } from '../../observability/logger.js';
import { RetentionSweeper } from '../delivery/retention-sweeper.js';
import type { RecordingEvents } from '../events/recording-events.js';
import { setupSpool } from './recordings-setup.js';

export interface RetentionServiceOptions {
  readonly config: SwitchboardConfig;
  readonly logger: Logger;
  readonly cwd?: string;
  readonly clock?: () => number;
}

export class RetentionService {
  private constructor(
    private readonly sweeper: RetentionSweeper,
    private readonly events: RecordingEvents,
  ) {}

  static async start(o: RetentionServiceOptions): Promise<RetentionService> {
    const { store, events, paths, clock } = await setupSpool(o);
    const r = o.config.recordings;
    const sweeper = new RetentionSweeper({ store, events, captureDir: paths.captureDir, retentionMs: r.retentionSeconds * 1000, clock, logger: o.logger }, r.sweepIntervalSeconds * 1000);
    sweeper.start();
    o.logger.debug({ spool: paths.spoolDir, captureDir: paths.captureDir }, 'retention sweeper started in the engine');
    return new RetentionService(sweeper, events);
  }

  async stop(): Promise<void> {
    await this.sweeper.stop();
    await this.events.flush();
  }
}
