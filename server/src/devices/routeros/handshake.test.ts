import { describe, expect, it } from 'vitest';
import type { PeerStatistics } from '../driver.js';
import { waitForHandshake } from './handshake.js';

const T0 = Date.UTC(2030, 0, 1);

function statsSource(script: ((now: number) => PeerStatistics[] | null)[], clock: { now: number }) {
  let calls = 0;
  return {
    calls: () => calls,
    driver: {
      statistics: async () => {
        const step = script[Math.min(calls, script.length - 1)] as (now: number) => PeerStatistics[] | null;
        calls++;
        return step(clock.now);
      },
    },
  };
}

const entry = (publicKey: string, secondsAgo: number | null, now: number): PeerStatistics => ({
  publicKey, rxBytes: '0', txBytes: '0', currentEndpoint: null, lastHandshake: secondsAgo === null ? null : new Date(now - secondsAgo * 1000),
});

describe('waitForHandshake', () => {
  it('polls until every peer has a fresh handshake', async () => {
    const clock = { now: T0 };
    const source = statsSource([
      (now) => [entry('A', 5, now), entry('B', null, now)],
      (now) => [entry('A', 6, now), entry('B', 1, now)],
    ], clock);
    const result = await waitForHandshake(source.driver, 'wg0', ['A', 'B'], 10_000, 1000, { now: () => new Date(clock.now), sleep: async (ms) => void (clock.now += ms) });
    expect(result).toEqual({ fresh: ['A', 'B'], stale: [], supported: true });
    expect(source.calls()).toBe(2);
  });

  it('names the peers without a fresh handshake when time runs out, after a bounded number of polls', async () => {
    const clock = { now: T0 };
    const source = statsSource([(now) => [entry('A', 2, now), entry('B', 600, now)]], clock);
    const result = await waitForHandshake(source.driver, 'wg0', ['A', 'B', 'C'], 3000, 1000, { now: () => new Date(clock.now), sleep: async (ms) => void (clock.now += ms) });
    expect(result).toEqual({ fresh: ['A'], stale: ['B', 'C'], supported: true });
    expect(source.calls()).toBe(4);
  });

  it('reports unsupported devices without polling again', async () => {
    const clock = { now: T0 };
    const source = statsSource([() => null], clock);
    await expect(waitForHandshake(source.driver, 'wg0', ['A'], 5000, 1000, { sleep: async () => undefined })).resolves.toEqual({ fresh: [], stale: ['A'], supported: false });
    expect(source.calls()).toBe(1);
  });
});
