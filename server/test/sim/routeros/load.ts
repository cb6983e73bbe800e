// How many API commands the router is working on at once, across every connection: a
// client's per-device concurrency limit is checked against it. A command counts from the
// moment its sentence arrives until its reply is written (including a slow-reply delay).
export class CommandLoad {
  private current = 0;
  private highest = 0;

  get inFlight(): number {
    return this.current;
  }

  /** The most commands in flight at once since the start or the last resetPeak(). */
  get peak(): number {
    return this.highest;
  }

  resetPeak(): void {
    this.highest = this.current;
  }

  /** Counts `work` as one command in flight while it runs. */
  async measure(work: () => Promise<void>): Promise<void> {
    this.current += 1;
    this.highest = Math.max(this.highest, this.current);
    try {
      await work();
    } finally {
      this.current -= 1;
    }
  }
}
