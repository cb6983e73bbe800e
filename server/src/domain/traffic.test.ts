import { describe, expect, it } from 'vitest';
import { attribute, counterDelta, rangeWindow, readingKey, seriesPoints, spread, TRAFFIC_RANGES, type TunnelReading } from './traffic.js';

const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
const reading = (reporterId: string, remoteId: string, deviceId = `dev-${reporterId}`): TunnelReading =>
  ({ deviceId, reporterId, interfaceName: 'wg0', remoteId, rxBytes: 0n, txBytes: 0n, lastHandshake: null });

describe('traffic counting', () => {
  it('a counter lower than before counts from zero, never negative', () => {
    expect(counterDelta(1_000n, 1_500n)).toBe(500n);
    expect(counterDelta(1_000n, 1_000n)).toBe(0n);
    expect(counterDelta(2n ** 64n - 1n, 300n)).toBe(300n);
  });

  it('bytes between two reads are split over the minutes in proportion to time, adding up exactly', () => {
    // 10:00:45 → 10:01:15: half in each minute.
    expect(spread(1_001n, T0 + 45_000, T0 + 75_000)).toEqual([{ at: T0, bytes: 500n }, { at: T0 + 60_000, bytes: 501n }]);
    // Within one minute: all of it there; a read at the minute's end belongs to that minute.
    expect(spread(7n, T0 + 5_000, T0 + 60_000)).toEqual([{ at: T0, bytes: 7n }]);
    const parts = spread(1_000_003n, T0 + 1_000, T0 + 4 * 60_000 + 7_000);
    expect(parts.map((part) => part.at)).toEqual([T0, T0 + 60_000, T0 + 120_000, T0 + 180_000, T0 + 240_000]);
    expect(parts.reduce((sum, part) => sum + part.bytes, 0n)).toBe(1_000_003n);
  });

  it('each tunnel once per peer: its own device when it reported the tunnel, else the other end', () => {
    // a and b both on devices and reporting each other; c has no device, seen by a.
    const ab = reading('a', 'b');
    const ba = reading('b', 'a');
    const ac = reading('a', 'c');
    const got = attribute([ab, ba, ac]).map(({ peerId, reading: r, own }) => `${peerId}:${r.reporterId}>${r.remoteId}:${own ? 'own' : 'other end'}`);
    expect(got.sort()).toEqual(['a:a>b:own', 'a:a>c:own', 'b:b>a:own', 'c:a>c:other end']);
    // b's device not read this time: its tunnel with a comes from a's side.
    expect(attribute([ab]).map(({ peerId, own }) => `${peerId}:${own}`).sort()).toEqual(['a:true', 'b:false']);
  });

  it('a peer moved to another device starts counting anew there', () => {
    expect(readingKey(reading('a', 'b', 'router-1'))).not.toBe(readingKey(reading('a', 'b', 'router-2')));
  });
});

describe('traffic series', () => {
  it('every bucket of the range, gaps as null; the current hour as a rate over its written minutes', () => {
    const now = T0 + 30 * 60_000 + 10_000; // 10:30:10
    const day = rangeWindow(TRAFFIC_RANGES.DAY, now);
    expect(day.to).toBe(T0 + 30 * 60_000);
    const minutePoints = seriesPoints([{ at: new Date(T0 + 29 * 60_000), rxBytes: 600n, txBytes: 60n, handshakeAgeSeconds: 12 }], day, now);
    expect(minutePoints).toHaveLength(1440);
    expect(minutePoints.at(-1)).toEqual({ at: new Date(T0 + 29 * 60_000), rxBytesPerSecond: 10, txBytesPerSecond: 1, handshakeAgeSeconds: 12 });
    expect(minutePoints.at(-2)).toEqual({ at: new Date(T0 + 28 * 60_000), rxBytesPerSecond: null, txBytesPerSecond: null, handshakeAgeSeconds: null });

    const week = rangeWindow(TRAFFIC_RANGES.WEEK, now);
    const hourPoints = seriesPoints([{ at: new Date(T0), rxBytes: 1_800n, txBytes: 0n, handshakeAgeSeconds: null }], week, now);
    expect(hourPoints).toHaveLength(168);
    // 30 minutes of 10:00 are written: 1,800 B over 1,800 s.
    expect(hourPoints.at(-1)).toMatchObject({ at: new Date(T0), rxBytesPerSecond: 1, txBytesPerSecond: 0 });
  });
});
