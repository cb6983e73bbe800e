// Background work on an interval (the peer expiry sweep, the directory sync): once at start,
// then every intervalMs, one run at a time, so a slow run is not overtaken by the next tick.
export class IntervalTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Starts the runs (an interval of 0 or less: never). */
  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
    this.tick();
  }

  /** Stops the runs and waits for the one in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  private tick(): void {
    if (this.running) return;
    this.running = this.work()
      .catch(this.onError)
      .finally(() => (this.running = null));
  }
}
