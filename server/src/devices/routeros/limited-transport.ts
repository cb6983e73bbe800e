// At most the device's concurrency (DeviceTarget.concurrency) in requests in flight,
// whichever transport. The limiter is the device's, shared with every other driver made for
// it (devices/limits.ts), so separate drivers do not add up past the limit. A pipelined batch
// of writes (one apply step) takes one slot for all of it: its window bounds what it has in
// flight on its own connection, and no other caller's request slips in between.
import type { RequestLimiter } from '../limits.js';
import type { PrintOptions, Row, RouterOsTransport, Write, WriteOutcome } from './transport.js';

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
    return this.slots.run(() => this.inner.writeAll(writes, window));
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
