// At most `limit` requests in flight to one device, whichever transport: the device's
// configured concurrency (DeviceTarget.concurrency). Waiters are served in order.
import type { PrintOptions, Row, RouterOsTransport } from './transport.js';

export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, or give it back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  get inFlight(): number {
    return this.active;
  }
}

export class LimitedTransport implements RouterOsTransport {
  private readonly slots: Semaphore;

  constructor(private readonly inner: RouterOsTransport, concurrency: number) {
    this.slots = new Semaphore(Math.max(1, Math.floor(concurrency)));
  }

  print(menu: string, options?: PrintOptions): Promise<Row[]> {
    return this.slots.run(() => this.inner.print(menu, options));
  }

  add(menu: string, props: Readonly<Row>, options?: { placeBefore?: string }): Promise<string> {
    return this.slots.run(() => this.inner.add(menu, props, options));
  }

  set(menu: string, id: string, props: Readonly<Row>): Promise<void> {
    return this.slots.run(() => this.inner.set(menu, id, props));
  }

  remove(menu: string, id: string): Promise<void> {
    return this.slots.run(() => this.inner.remove(menu, id));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
