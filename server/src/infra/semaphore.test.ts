import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

/** Tasks that run until released one by one; records how many ran at once and in which order. */
function gatedTasks(slots: Semaphore, count: number) {
  let running = 0;
  let peak = 0;
  const order: number[] = [];
  const releases: Array<() => void> = [];
  const started = (index: number) => slots.run(async () => {
    running++;
    peak = Math.max(peak, running);
    order.push(index);
    await new Promise<void>((resolve) => releases.push(resolve));
    running--;
  });
  const tasks = Array.from({ length: count }, (_, index) => started(index));
  return { tasks, releases, order, started, get peak() { return peak; }, get running() { return running; } };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Semaphore', () => {
  it('keeps at most `limit` tasks running and serves waiters in order', async () => {
    const slots = new Semaphore(2);
    const gated = gatedTasks(slots, 5);
    for (let round = 0; round < 5; round++) {
      await settle();
      gated.releases.shift()?.();
    }
    await Promise.all(gated.tasks);
    expect(gated.peak).toBe(2);
    expect(gated.order).toEqual([0, 1, 2, 3, 4]);
    expect(slots.inFlight).toBe(0);
  });

  it('hands a released slot to the waiter, never to a task arriving before the waiter wakes', async () => {
    /** Runs `work` after `depth` microtask hops, to land between a release and the waiter waking. */
    const after = (depth: number, work: () => void): void => (depth === 0 ? work() : queueMicrotask(() => after(depth - 1, work)));
    // The window is a few microtasks wide, wherever exactly it falls: try a newcomer at each hop.
    for (let depth = 0; depth < 8; depth++) {
      const slots = new Semaphore(1);
      const gated = gatedTasks(slots, 2);
      await settle();
      gated.releases.shift()!();
      let late: Promise<void> | undefined;
      after(depth, () => (late = gated.started(2)));
      for (let round = 0; round < 3; round++) {
        await settle();
        gated.releases.shift()?.();
      }
      await Promise.all([...gated.tasks, late]);
      expect(gated.peak, `newcomer after ${depth} microtasks`).toBe(1);
    }
  });

  it('releases the slot when a task fails', async () => {
    const slots = new Semaphore(1);
    await expect(slots.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(slots.run(async () => 'next')).resolves.toBe('next');
    expect(slots.inFlight).toBe(0);
  });

  it('grows and shrinks: waiters start when the limit grows, extra slots are given back when it shrinks', async () => {
    const slots = new Semaphore(1);
    const gated = gatedTasks(slots, 4);
    await settle();
    expect(gated.running).toBe(1);
    slots.resize(3);
    await settle();
    expect(gated.running).toBe(3);
    slots.resize(1);
    // Three running above a limit of 1: none of the freed slots is handed on until one is left.
    gated.releases.shift()!();
    gated.releases.shift()!();
    await settle();
    expect(gated.running).toBe(1);
    gated.releases.shift()!();
    await settle();
    expect(gated.running).toBe(1);
    gated.releases.shift()!();
    await Promise.all(gated.tasks);
    expect(gated.peak).toBe(3);
    expect(slots.inFlight).toBe(0);
  });

  it('refuses a limit below 1', () => {
    expect(() => new Semaphore(0)).toThrow(RangeError);
    expect(() => new Semaphore(1).resize(1.5)).toThrow(RangeError);
  });
});
