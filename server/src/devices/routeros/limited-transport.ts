// At most the device's concurrency (DeviceTarget.concurrency) in requests in flight,
// whichever transport. The limiter is the device's, shared with every other driver made for
// it (devices/limits.ts), so separate drivers do not add up past the limit. Each write of a
// pipelined batch takes a slot of its own: a device allowing n requests has at most n
// commands in flight, pipelined or not.
import type { RequestLimiter } from '../limits.js';
import { writeInWindow, type PrintOptions, type Row, type RouterOsTransport, type Write, type WriteOutcome } from './transport.js';

export class LimitedTransport implements RouterOsTransport {
  constructor(private readonly inner: RouterOsTransport, private readonly slots: RequestLimiter) {}

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

  writeAll(writes: readonly Write[], window: number): Promise<WriteOutcome[]> {
    return writeInWindow(this, writes, window);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
