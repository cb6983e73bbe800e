// Bounds how many tasks run at once (deploy jobs across devices, requests in flight to one
// device); the rest wait in order.
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private limit: number) {
    Semaphore.check(limit);
  }

  private static check(limit: number): void {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a semaphore needs a whole limit of at least 1, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    // A released slot is handed straight to the first waiter (active stays counted): were it
    // given back and re-taken when the waiter wakes, a newcomer could take it in between and
    // two tasks would run on a limit of 1.
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** Changes the limit (e.g. a device's concurrency was edited); running tasks are not stopped. */
  resize(limit: number): void {
    Semaphore.check(limit);
    this.limit = limit;
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }

  get inFlight(): number {
    return this.active;
  }

  private release(): void {
    // After a shrink, slots above the new limit are given back instead of handed on.
    const next = this.active <= this.limit ? this.waiting.shift() : undefined;
    if (next) next();
    else this.active--;
  }
}
