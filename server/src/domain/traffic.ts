// Traffic history without I/O: how a poll's counters become bytes per time bucket, and how
// stored buckets become a series with its unknown stretches left as gaps.
//
// "A peer's traffic" counts each of its tunnels once: from the peer's own device when that
// device reported the tunnel in this poll, otherwise from the device at the other end (whose
// tx is what the peer received). A phone or laptop with no device of its own is thus measured
// by the hubs and sites that see it, and a router by itself.

export const MINUTE_SECONDS = 60;
export const HOUR_SECONDS = 3600;
export type Resolution = typeof MINUTE_SECONDS | typeof HOUR_SECONDS;

/** Minute buckets are kept 24 hours, hour buckets 30 days. */
export const RETENTION_SECONDS: Readonly<Record<Resolution, number>> = { [MINUTE_SECONDS]: 24 * 3600, [HOUR_SECONDS]: 30 * 24 * 3600 };

export interface RangeSpec {
  resolution: Resolution;
  points: number;
}

export const TRAFFIC_RANGES = {
  HOUR: { resolution: MINUTE_SECONDS, points: 60 },
  DAY: { resolution: MINUTE_SECONDS, points: 1440 },
  WEEK: { resolution: HOUR_SECONDS, points: 168 },
  MONTH: { resolution: HOUR_SECONDS, points: 720 },
} as const satisfies Record<string, RangeSpec>;
export type TrafficRange = keyof typeof TRAFFIC_RANGES;

/** The peer table's sparkline: the last 24 hours, a value per hour. */
export const SPARKLINE: RangeSpec = { resolution: HOUR_SECONDS, points: 24 };

/** One tunnel as one device reported it: the counters are the reporter's (rx: what it received). */
export interface TunnelReading {
  /** The device read: a peer moved to another device starts counting anew there. */
  deviceId: string;
  reporterId: string;
  interfaceName: string;
  remoteId: string;
  rxBytes: bigint;
  txBytes: bigint;
  lastHandshake: Date | null;
}

export function readingKey(reading: Pick<TunnelReading, 'deviceId' | 'reporterId' | 'interfaceName' | 'remoteId'>): string {
  return `${reading.deviceId}|${reading.reporterId}|${reading.interfaceName}|${reading.remoteId}`;
}

export function bucketStart(atMs: number, resolution: Resolution): number {
  return Math.floor(atMs / (resolution * 1000)) * resolution * 1000;
}

/**
 * Bytes counted since the previous read. A counter lower than before was reset (the device
 * rebooted, the interface or peer was recreated): what it counts now came after the reset, so
 * that is the delta, never a negative or wrapped-around number.
 */
export function counterDelta(previous: bigint, current: bigint): bigint {
  return current >= previous ? current - previous : current;
}

/** The peer a reading counts for, and whether the counters are the peer's own (else swapped). */
export interface Attribution {
  peerId: string;
  reading: TunnelReading;
  own: boolean;
}

/** Each tunnel once per peer: from the peer's own report when it has one, else from the other end. */
export function attribute(readings: readonly TunnelReading[]): Attribution[] {
  const ownTunnels = new Set(readings.map((reading) => `${reading.reporterId}|${reading.remoteId}`));
  const result: Attribution[] = [];
  for (const reading of readings) {
    result.push({ peerId: reading.reporterId, reading, own: true });
    if (!ownTunnels.has(`${reading.remoteId}|${reading.reporterId}`)) result.push({ peerId: reading.remoteId, reading, own: false });
  }
  return result;
}

/**
 * Splits bytes counted over [fromMs, toMs] across the minute buckets that stretch covers, in
 * proportion to the time spent in each, so a rate is never inflated by a poll that came late.
 */
export function spread(bytes: bigint, fromMs: number, toMs: number): Array<{ at: number; bytes: bigint }> {
  const span = toMs - fromMs;
  if (span <= 0) return [{ at: bucketStart(toMs, MINUTE_SECONDS), bytes }];
  const parts: Array<{ at: number; bytes: bigint }> = [];
  let given = 0n;
  for (let at = bucketStart(fromMs, MINUTE_SECONDS); at < toMs; at += MINUTE_SECONDS * 1000) {
    const end = Math.min(at + MINUTE_SECONDS * 1000, toMs);
    const last = end === toMs;
    // The last part takes the remainder, so the parts add up to exactly `bytes`.
    const share = last ? bytes - given : (bytes * BigInt(end - Math.max(at, fromMs))) / BigInt(span);
    given += share;
    parts.push({ at, bytes: share });
  }
  return parts;
}

export interface StoredSample {
  at: Date;
  rxBytes: bigint;
  txBytes: bigint;
  handshakeAgeSeconds: number | null;
}

export interface SeriesPoint {
  at: Date;
  /** null: nothing was sampled in this bucket (unknown, not zero). */
  rxBytesPerSecond: number | null;
  txBytesPerSecond: number | null;
  handshakeAgeSeconds: number | null;
}

/** The buckets a range shows: the last `points` closed (or, for hours, started) buckets before `now`. */
export function rangeWindow({ resolution, points }: RangeSpec, nowMs: number): { resolution: Resolution; from: number; to: number; points: number } {
  // Minute buckets are written once closed; the hour bucket holding them is rewritten with
  // every minute, so the current hour is shown from its first closed minute.
  const to = resolution === MINUTE_SECONDS ? bucketStart(nowMs, MINUTE_SECONDS) : bucketStart(nowMs, HOUR_SECONDS) + HOUR_SECONDS * 1000;
  return { resolution, from: to - points * resolution * 1000, to, points };
}

/**
 * Every bucket of the window, oldest first; a bucket without a stored sample is a gap. The
 * current hour's rate is over the minutes of it that are written so far, not all 60.
 */
export function seriesPoints(samples: readonly StoredSample[], window: { resolution: Resolution; from: number; points: number }, nowMs: number): SeriesPoint[] {
  const byAt = new Map(samples.map((sample) => [sample.at.getTime(), sample]));
  const writtenUntil = bucketStart(nowMs, MINUTE_SECONDS);
  return Array.from({ length: window.points }, (_, i) => {
    const at = window.from + i * window.resolution * 1000;
    const sample = byAt.get(at);
    const seconds = Math.min(window.resolution, (writtenUntil - at) / 1000);
    if (!sample || seconds <= 0) return { at: new Date(at), rxBytesPerSecond: null, txBytesPerSecond: null, handshakeAgeSeconds: null };
    return {
      at: new Date(at),
      rxBytesPerSecond: Number(sample.rxBytes) / seconds,
      txBytesPerSecond: Number(sample.txBytes) / seconds,
      handshakeAgeSeconds: sample.handshakeAgeSeconds,
    };
  });
}
