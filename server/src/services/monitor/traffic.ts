// Traffic history: the monitor hands over each poll's tunnel counters; bytes are added up per
// peer and minute in memory and written once the minute is over (a fixed handful of
// statements per minute, whatever the number of peers), each hour bucket is recomputed from
// its minutes as they are written, and what is past its retention is deleted a bounded slice
// at a time. Only the replica holding the monitor lease records; any replica reads.
import type { Db } from '../../infra/db/client.js';
import type { Logger } from '../../infra/logger.js';
import {
  attribute, bucketStart, counterDelta, HOUR_SECONDS, MINUTE_SECONDS, rangeWindow, readingKey, RETENTION_SECONDS, seriesPoints, spread,
  type RangeSpec, type Resolution, type SeriesPoint, type StoredSample, type TunnelReading,
} from '../../domain/traffic.js';

/**
 * Counters read further apart than this (the device was unreachable, the monitor stopped)
 * start counting anew: the bytes between are unknown, not spread evenly over the gap.
 * Closer reads are split over the minutes between them in proportion to time.
 */
const MAX_READ_GAP_MS = 5 * 60_000;
/** A tunnel not reported for this long has its last counters forgotten (it was removed, or its device is down). */
const BASELINE_TTL_MS = 10 * 60_000;
/** Minutes that could not be written (the database was down) are retried this long, then dropped. */
const PENDING_TTL_MS = 60 * 60_000;
/** At most this much of the oldest samples is deleted per pass, so a pass after a long stop stays short. */
const PRUNE_SLICE_MS: Readonly<Record<Resolution, number>> = { [MINUTE_SECONDS]: 3600_000, [HOUR_SECONDS]: 24 * 3600_000 };

interface SampleRow {
  peerId: string;
  resolution: number;
  at: Date;
  rxBytes: bigint;
  txBytes: bigint;
  handshakeAgeSeconds: number | null;
}

interface Baseline {
  rx: bigint;
  tx: bigint;
  atMs: number;
}

interface Bucket {
  rx: bigint;
  tx: bigint;
  /** The freshest handshake seen in the minute, as its age in seconds then. */
  age: number | null;
  /** Bytes were counted (two reads of the counters): only such a bucket is written. */
  counted: boolean;
}

export interface TrafficOptions {
  /** The clock (tests drive days of samples in seconds). */
  now?: () => Date;
}

export class TrafficHistory {
  private readonly baselines = new Map<string, Baseline>();
  /** peerId → minute bucket start (ms) → what was counted in it. */
  private readonly pending = new Map<string, Map<number, Bucket>>();
  /** Minutes before this are written: later reads that reach back into them are not added. */
  private writtenBefore = 0;
  /** The minute of the last prune: one pass a minute, not one a poll. */
  private prunedMinute = 0;
  readonly now: () => Date;

  constructor(
    private readonly prisma: Db,
    private readonly log: Logger,
    options: TrafficOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** One poll's tunnel readings (on the polling replica): counted, and the minutes that ended written. */
  async record(readings: readonly TunnelReading[]): Promise<void> {
    const nowMs = this.now().getTime();
    this.count(readings, nowMs);
    await this.flush(nowMs);
  }

  /** Another replica polls now: its counters start from its own first read. */
  forget(): void {
    this.baselines.clear();
    this.pending.clear();
  }

  private count(readings: readonly TunnelReading[], nowMs: number): void {
    const deltas = new Map<string, { rx: Array<{ at: number; bytes: bigint }>; tx: Array<{ at: number; bytes: bigint }> }>();
    for (const reading of readings) {
      const key = readingKey(reading);
      const before = this.baselines.get(key);
      this.baselines.set(key, { rx: reading.rxBytes, tx: reading.txBytes, atMs: nowMs });
      // The first read of a tunnel only sets where counting starts: no bytes, so no sample.
      if (!before || before.atMs >= nowMs || nowMs - before.atMs > MAX_READ_GAP_MS) continue;
      deltas.set(key, { rx: spread(counterDelta(before.rx, reading.rxBytes), before.atMs, nowMs), tx: spread(counterDelta(before.tx, reading.txBytes), before.atMs, nowMs) });
    }
    for (const [key, baseline] of this.baselines) if (nowMs - baseline.atMs > BASELINE_TTL_MS) this.baselines.delete(key);

    const current = bucketStart(nowMs, MINUTE_SECONDS);
    for (const { peerId, reading, own } of attribute(readings)) {
      const buckets = this.pending.get(peerId) ?? new Map<number, Bucket>();
      this.pending.set(peerId, buckets);
      const bucket = (at: number) => {
        const found = buckets.get(at);
        if (found) return found;
        const made: Bucket = { rx: 0n, tx: 0n, age: null, counted: false };
        buckets.set(at, made);
        return made;
      };
      const delta = deltas.get(readingKey(reading));
      delta?.rx.forEach((part, i) => {
        if (part.at < this.writtenBefore) return;
        const target = bucket(part.at);
        const tx = delta.tx[i]!.bytes;
        // The reporter's counters are its own: for the peer at the other end rx and tx swap.
        target.rx += own ? part.bytes : tx;
        target.tx += own ? tx : part.bytes;
        target.counted = true;
      });
      if (reading.lastHandshake) {
        const age = Math.max(0, Math.round((nowMs - reading.lastHandshake.getTime()) / 1000));
        const target = bucket(current);
        target.age = target.age === null ? age : Math.min(target.age, age);
      }
    }
  }

  private async flush(nowMs: number): Promise<void> {
    const closedBefore = bucketStart(nowMs, MINUTE_SECONDS);
    const rows: SampleRow[] = [];
    for (const [peerId, buckets] of this.pending) {
      for (const [at, bucket] of buckets) {
        if (at >= closedBefore) continue;
        if (bucket.counted) rows.push({ peerId, resolution: MINUTE_SECONDS, at: new Date(at), rxBytes: bucket.rx, txBytes: bucket.tx, handshakeAgeSeconds: bucket.age });
        else buckets.delete(at);
      }
    }
    try {
      if (rows.length > 0) await this.write(rows);
      for (const row of rows) this.pending.get(row.peerId)?.delete(row.at.getTime());
      this.writtenBefore = Math.max(this.writtenBefore, closedBefore);
    } catch (error) {
      this.log.warn({ err: { message: (error as Error).message }, samples: rows.length }, 'could not write traffic samples; retrying with the next poll');
      for (const buckets of this.pending.values()) for (const at of buckets.keys()) if (nowMs - at > PENDING_TTL_MS) buckets.delete(at);
    }
    for (const [peerId, buckets] of this.pending) if (buckets.size === 0) this.pending.delete(peerId);
    if (closedBefore === this.prunedMinute) return;
    this.prunedMinute = closedBefore;
    await this.prune(nowMs).catch((error: unknown) => this.log.warn({ err: { message: (error as Error).message } }, 'could not prune traffic samples'));
  }

  /**
   * The minutes, and every hour they fall in recomputed from all of its minutes (sum of bytes,
   * smallest handshake age), so an hour is always the sum of its minutes, also when a second
   * replica took over polling within it.
   */
  private async write(rows: readonly SampleRow[]): Promise<void> {
    const minutes = [...new Set(rows.map((row) => row.at.getTime()))];
    const hours = [...new Set(minutes.map((at) => bucketStart(at, HOUR_SECONDS)))];
    await this.prisma.$transaction(async (tx) => {
      // Peers deleted since the poll, and minutes another replica wrote before a takeover, are left out.
      const [peers, written] = await Promise.all([
        tx.peer.findMany({ select: { id: true } }),
        tx.trafficSample.findMany({ where: { resolution: MINUTE_SECONDS, at: { in: minutes.map((at) => new Date(at)) } }, select: { peerId: true, at: true } }),
      ]);
      const alive = new Set(peers.map((peer) => peer.id));
      const taken = new Set(written.map((row) => `${row.peerId}|${row.at.getTime()}`));
      await tx.trafficSample.createMany({ data: rows.filter((row) => alive.has(row.peerId) && !taken.has(`${row.peerId}|${row.at.getTime()}`)) });
      for (const hour of hours) {
        const range = { gte: new Date(hour), lt: new Date(hour + HOUR_SECONDS * 1000) };
        const sums = await tx.trafficSample.groupBy({ by: ['peerId'], where: { resolution: MINUTE_SECONDS, at: range }, _sum: { rxBytes: true, txBytes: true }, _min: { handshakeAgeSeconds: true } });
        await tx.trafficSample.deleteMany({ where: { resolution: HOUR_SECONDS, at: new Date(hour) } });
        await tx.trafficSample.createMany({
          data: sums.map((sum) => ({
            peerId: sum.peerId, resolution: HOUR_SECONDS, at: new Date(hour),
            rxBytes: BigInt(sum._sum.rxBytes ?? 0n), txBytes: BigInt(sum._sum.txBytes ?? 0n), handshakeAgeSeconds: sum._min.handshakeAgeSeconds,
          })),
        });
      }
    });
  }

  /**
   * Deletes minutes that started more than 24 hours ago (a day of them stays, as the DAY range
   * shows) and hours more than 30 days ago and hours older than 30 days; at most PRUNE_SLICE_MS
   * of the oldest ones per pass (one pass a minute catches up an hour of minutes at a time).
   */
  private async prune(nowMs: number): Promise<void> {
    const oldest = await this.prisma.trafficSample.groupBy({ by: ['resolution'], _min: { at: true } });
    for (const { resolution, _min } of oldest) {
      if (resolution !== MINUTE_SECONDS && resolution !== HOUR_SECONDS) continue;
      const first = _min.at?.getTime();
      const cutoff = nowMs - RETENTION_SECONDS[resolution] * 1000;
      if (first === undefined || first >= cutoff) continue;
      await this.prisma.trafficSample.deleteMany({ where: { resolution, at: { lt: new Date(Math.min(cutoff, first + PRUNE_SLICE_MS[resolution])) } } });
    }
  }

  /** The stored samples of these peers for a range (one statement for all of them). */
  async samples(peerIds: readonly string[], range: RangeSpec): Promise<Array<StoredSample & { peerId: string }>> {
    const window = rangeWindow(range, this.now().getTime());
    return this.prisma.trafficSample.findMany({
      where: { peerId: { in: [...peerIds] }, resolution: window.resolution, at: { gte: new Date(window.from), lt: new Date(window.to) } },
      select: { peerId: true, at: true, rxBytes: true, txBytes: true, handshakeAgeSeconds: true },
      orderBy: { at: 'asc' },
    });
  }

  /** Every bucket of the range, oldest first, from one peer's samples; gaps where nothing was sampled. */
  series(samples: readonly StoredSample[], range: RangeSpec): { resolutionSeconds: number; points: SeriesPoint[] } {
    const nowMs = this.now().getTime();
    const window = rangeWindow(range, nowMs);
    return { resolutionSeconds: window.resolution, points: seriesPoints(samples, window, nowMs) };
  }
}
