import { describe, expect, it } from 'vitest';
import { DeviceLimiters, requestLimit } from './limits.js';

describe('DeviceLimiters', () => {
  it('gives every driver of one device the same limiter, and other devices their own', () => {
    const limiters = new DeviceLimiters();
    const first = limiters.forDevice({ id: 'a', concurrency: 1 });
    expect(limiters.forDevice({ id: 'a', concurrency: 1 })).toBe(first);
    expect(limiters.forDevice({ id: 'b', concurrency: 1 })).not.toBe(first);
  });

  it('follows an edited concurrency on the same limiter', async () => {
    const limiters = new DeviceLimiters();
    const slots = limiters.forDevice({ id: 'a', concurrency: 1 });
    let release!: () => void;
    const held = slots.run(() => new Promise<void>((resolve) => (release = resolve)));
    let second = false;
    const waiting = slots.run(async () => {
      second = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(second).toBe(false);
    expect(limiters.forDevice({ id: 'a', concurrency: 2 })).toBe(slots);
    await waiting;
    expect(second).toBe(true);
    release();
    await held;
  });

  it('reads a missing or fractional concurrency as at least 1', () => {
    expect([requestLimit(0), requestLimit(1.7), requestLimit(Number.NaN), requestLimit(4)]).toEqual([1, 1, 1, 4]);
  });
});
