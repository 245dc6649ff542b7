/**
 * A background job that runs now and again after a delay the job itself
 * chooses (an interval, or the next deadline), never overlapping itself, and
 * whose stop waits for a run in progress.
 */
export class RepeatingTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** `runOnce` does the work and resolves with how long to wait before the next run (ms). */
  constructor(private readonly runOnce: () => Promise<number>) {}

  start(): void {
    this.stopped = false;
    const loop = async (): Promise<void> => {
      const wait = await this.runOnce();
      if (!this.stopped) {
        this.timer = setTimeout(() => {
          this.running = loop();
        }, wait);
      }
    };
    this.running = loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }
}
