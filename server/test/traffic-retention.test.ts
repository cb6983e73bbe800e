// Traffic history storage on SQLite and PostgreSQL: three simulated days of minute samples for
// a few peers, driven through the sampler with its own clock, never keep more rows per peer
// than 24 hours of minutes plus 30 days of hours; each hour is the sum of its minutes; the
// series answers through GraphQL with gaps where nothing was sampled; deleting a peer deletes
// its samples.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import type { TunnelReading } from '../src/domain/traffic.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** 24 hours of minutes plus 30 days of hours: the bound per peer, with no slack needed. */
const BOUND = 1440 + 720;
const PEERS = 3;
const DAYS = 3;

const pgBin = postgresOrSkip('traffic retention on PostgreSQL (test/traffic-retention.test.ts)');
const backends = [{ name: 'SQLite', postgres: false }, ...(pgBin ? [{ name: 'PostgreSQL', postgres: true }] : [])];

describe.each(backends)('traffic history on $name', ({ postgres }) => {
  // Starts on an hour boundary, so the first hour has all its minutes.
  let clock = Date.UTC(2026, 11, 1, 0, 0, 0);
  let app: App;
  let cluster: PostgresCluster | null = null;
  let dataDir: string;
  let admin: GraphQLTestClient;
  let peerIds: string[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-traffic-'));
    let databaseUrl: string | undefined;
    if (postgres) {
      cluster = await startPostgres({ binDir: pgBin ?? undefined, database: 'traffic' });
      databaseUrl = cluster.url;
    } else {
      fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
    }
    app = await buildApp({
      dataDir, ...(databaseUrl ? { databaseUrl } : {}), port: 0, host: '127.0.0.1', web: false, monitor: false,
      trafficClock: () => new Date(clock),
      logger: createLogger(process.env.MESHPLANE_TEST_LOG_LEVEL ?? 'silent'),
      env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: '', MESHPLANE_METRICS_TOKEN: '' },
    });
    const { graphqlUrl } = await app.start();
    admin = await registerAdmin(graphqlUrl);
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "t", topology: MESH }) { wan { id } } }`);
    for (let i = 0; i < PEERS; i++) {
      const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(
        `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`,
        { wanId: createWan.wan.id, input: { name: `p${i}`, role: 'SITE', endpointHost: `198.51.100.${i + 1}`, endpointPort: 51820 } },
      );
      peerIds.push(addPeer.peer.id);
    }
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Peer 0 reports its tunnels to the others; each counter grows by (peer index + 1) kB a minute. */
  function readings(minute: number): TunnelReading[] {
    return peerIds.slice(1).map((remoteId, i) => ({
      deviceId: 'router-0', reporterId: peerIds[0]!, interfaceName: 'wg-t', remoteId,
      rxBytes: BigInt(minute * (i + 1) * 1000), txBytes: BigInt(minute * (i + 1) * 500), lastHandshake: new Date(clock - 30_000),
    }));
  }

  it(`keeps at most ${BOUND} rows per peer through ${DAYS} days of minutes; every hour is the sum of its minutes`, async () => {
    const prisma = app.database.prisma;
    let largest = 0;
    for (let minute = 0; minute <= DAYS * 24 * 60; minute++) {
      await app.services.traffic.record(readings(minute));
      const counts = await prisma.trafficSample.groupBy({ by: ['peerId'], _count: { _all: true } });
      for (const count of counts) {
        expect(count._count._all).toBeLessThanOrEqual(BOUND);
        largest = Math.max(largest, count._count._all);
      }
      // Each closed hour: its row is the sum of its 60 minute rows, per peer.
      if (minute > 0 && minute % 60 === 0) {
        const hour = new Date(clock - HOUR);
        const minutes = await prisma.trafficSample.findMany({ where: { resolution: 60, at: { gte: hour, lt: new Date(clock) } } });
        const hours = await prisma.trafficSample.findMany({ where: { resolution: 3600, at: hour } });
        expect(hours).toHaveLength(PEERS);
        for (const row of hours) {
          const own = minutes.filter((m) => m.peerId === row.peerId);
          expect(own).toHaveLength(60);
          expect(row.rxBytes).toBe(own.reduce((sum, m) => sum + m.rxBytes, 0n));
          expect(row.txBytes).toBe(own.reduce((sum, m) => sum + m.txBytes, 0n));
        }
      }
      clock += MINUTE;
    }
    // After 3 days: a full day of minutes and 72 hours, and nothing older than 24 h at minute resolution.
    expect(largest).toBe(1440 + 72);
    const oldestMinute = await prisma.trafficSample.findFirst({ where: { resolution: 60 }, orderBy: { at: 'asc' } });
    expect(clock - MINUTE - oldestMinute!.at.getTime()).toBeLessThanOrEqual(24 * HOUR);
  }, 600_000);

  it('the series: rates per bucket, the remote peer seen from the other end, gaps where nothing was sampled', async () => {
    const series = `query ($id: ID!, $range: TrafficRange!) { peer(id: $id) { traffic(range: $range) { resolutionSeconds points { at rxBytesPerSecond txBytesPerSecond handshakeAgeSeconds } } sparkline } }`;
    type Series = { peer: { traffic: { resolutionSeconds: number; points: Array<{ at: string; rxBytesPerSecond: number | null; txBytesPerSecond: number | null; handshakeAgeSeconds: number | null }> }; sparkline: Array<number | null> } };
    // One more read closes the last minute of the three days.
    await app.services.traffic.record(readings(DAYS * 24 * 60 + 1));
    // Peer 0 saw peer 1 receive 1000 B and send 500 B a minute: its own rx/tx swap for peer 1.
    const { peer: reporter } = await admin.ok<Series>(series, { id: peerIds[0], range: 'HOUR' });
    expect(reporter.traffic.resolutionSeconds).toBe(60);
    expect(reporter.traffic.points).toHaveLength(60);
    expect(reporter.traffic.points.at(-1)).toMatchObject({ rxBytesPerSecond: (1000 + 2000) / 60, txBytesPerSecond: (500 + 1000) / 60, handshakeAgeSeconds: 30 });
    const { peer: remote } = await admin.ok<Series>(series, { id: peerIds[1], range: 'HOUR' });
    expect(remote.traffic.points.at(-1)).toMatchObject({ rxBytesPerSecond: 500 / 60, txBytesPerSecond: 1000 / 60 });

    // 3 days in, a month shows 72 known hours, the current one (its first minute, at the same
    // rate), and 647 unknown ones before them.
    const { peer: month } = await admin.ok<Series>(series, { id: peerIds[1], range: 'MONTH' });
    expect(month.traffic.resolutionSeconds).toBe(3600);
    expect(month.traffic.points).toHaveLength(720);
    const known = month.traffic.points.filter((point) => point.rxBytesPerSecond !== null);
    expect(known).toHaveLength(73);
    expect(month.traffic.points.at(-1)).toMatchObject({ rxBytesPerSecond: 500 / 60, txBytesPerSecond: 1000 / 60 });
    expect(month.traffic.points.slice(0, 720 - 73).every((point) => point.rxBytesPerSecond === null && point.handshakeAgeSeconds === null)).toBe(true);
    expect(known[0]).toMatchObject({ rxBytesPerSecond: 500 / 60, txBytesPerSecond: 1000 / 60 });
    expect(month.sparkline).toHaveLength(24);
    for (const value of month.sparkline) expect(value).toBeCloseTo(1500 / 60, 9);

    // Ten minutes without a read: ten unknown minutes, not zeros; then counting starts again.
    clock += 10 * MINUTE;
    await app.services.traffic.record(readings(9_000));
    clock += MINUTE;
    await app.services.traffic.record(readings(9_001));
    const { peer: after } = await admin.ok<Series>(series, { id: peerIds[1], range: 'HOUR' });
    const tail = after.traffic.points.slice(-11);
    expect(tail.slice(0, 10).map((point) => point.rxBytesPerSecond)).toEqual(Array(10).fill(null));
    expect(tail[10]).toMatchObject({ rxBytesPerSecond: 500 / 60, txBytesPerSecond: 1000 / 60 });
  });

  it('hours older than 30 days go too, at most a day of them per pass', async () => {
    const prisma = app.database.prisma;
    // 40 days of hours before the three simulated ones, as a server stopped for weeks would find them.
    const firstKept = clock - 30 * 24 * HOUR;
    const oldHours = Array.from({ length: 40 * 24 }, (_, i) => ({ peerId: peerIds[1]!, resolution: 3600, at: new Date(Date.UTC(2026, 11, 1) - (i + 1) * HOUR), rxBytes: 1n, txBytes: 1n }));
    await prisma.trafficSample.createMany({ data: oldHours });
    const hoursOf = () => prisma.trafficSample.count({ where: { peerId: peerIds[1], resolution: 3600 } });
    let before = await hoursOf();
    let passes = 0;
    while ((await prisma.trafficSample.count({ where: { resolution: 3600, at: { lt: new Date(firstKept) } } })) > 0) {
      clock += MINUTE;
      await app.services.traffic.record(readings(9_002 + passes));
      const after = await hoursOf();
      expect(before - after).toBeLessThanOrEqual(24);
      before = after;
      expect(++passes).toBeLessThanOrEqual(40);
    }
    expect(await hoursOf()).toBeLessThanOrEqual(720);
    expect(await prisma.trafficSample.count({ where: { resolution: 3600, at: { gte: new Date(firstKept) }, rxBytes: 1n } })).toBeGreaterThan(0);
  });

  it('deleting a peer deletes its samples', async () => {
    const prisma = app.database.prisma;
    expect(await prisma.trafficSample.count({ where: { peerId: peerIds[2] } })).toBeGreaterThan(0);
    await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: peerIds[2] });
    expect(await prisma.trafficSample.count({ where: { peerId: peerIds[2] } })).toBe(0);
    expect(await prisma.trafficSample.count({ where: { peerId: peerIds[1] } })).toBeGreaterThan(0);
  });
});
