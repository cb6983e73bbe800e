// Traffic samples from real device statistics: the monitor reads a RouterOS simulator's
// WireGuard peers (rx/tx counters, last handshake), and the series through GraphQL shows the
// router's peer by its own counters and the peers it sees (no device of their own) by the
// router's counters seen from their side; a counter that goes down (reboot) is counted from
// zero; lastSeen and the sparkline; a page of peers is one read, and a list's series is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { startRouterOsSimulator, type RouterOsSimulator } from './sim/routeros/index.js';
import { buildOverlay, deploy, type Overlay } from './live-ops/harness.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SERIES = `query ($id: ID!, $range: TrafficRange!) { peer(id: $id) { lastSeen status { lastHandshake } traffic(range: $range) { resolutionSeconds points { at rxBytesPerSecond txBytesPerSecond handshakeAgeSeconds } } } }`;

interface Point { at: string; rxBytesPerSecond: number | null; txBytesPerSecond: number | null; handshakeAgeSeconds: number | null }
interface SeriesResult { peer: { lastSeen: string | null; status: { lastHandshake: string | null } | null; traffic: { resolutionSeconds: number; points: Point[] } } }

describe('traffic samples from the RouterOS simulator', () => {
  // The next hour boundary: the test's minutes and hours start together.
  let clock = Math.ceil(Date.now() / HOUR) * HOUR;
  let sim: RouterOsSimulator;
  let app: App;
  let dataDir: string;
  let overlay: Overlay;

  beforeAll(async () => {
    sim = await startRouterOsSimulator({ version: '7.18.2' });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-traffic-'));
    fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
    app = await buildApp({
      dataDir, port: 0, host: '127.0.0.1', web: false, monitor: false, handshakeProbeMs: 0,
      trafficClock: () => new Date(clock),
      logger: createLogger(process.env.MESHPLANE_TEST_LOG_LEVEL ?? 'silent'),
      env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: '', MESHPLANE_METRICS_TOKEN: '' },
    });
    const { graphqlUrl } = await app.start();
    overlay = await buildOverlay(graphqlUrl, sim);
    expect((await deploy(overlay.admin, overlay.branchId)).status).toBe('SUCCEEDED');
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const series = async (id: string, range = 'HOUR') => (await overlay.admin.ok<SeriesResult>(SERIES, { id, range })).peer;
  const last = (points: Point[]) => points.at(-1)!;

  it('nothing before two reads: no points, no invented zeros', async () => {
    sim.setHandshake(overlay.hqPublicKey, 5, { rx: 1_000n, tx: 4_000n });
    await app.services.monitor.pollOnce();
    const branch = await series(overlay.branchId);
    expect(branch.traffic.points).toHaveLength(60);
    expect(branch.traffic.points.every((point) => point.rxBytesPerSecond === null && point.txBytesPerSecond === null)).toBe(true);
  });

  it('a minute later: the router by its own counters, hq and the laptop by the router\'s, seen from their side', async () => {
    // The router received 6,000 B from hq and sent it 12,000 B in that minute.
    clock += MINUTE;
    sim.setHandshake(overlay.hqPublicKey, 5, { rx: 7_000n, tx: 16_000n });
    await app.services.monitor.pollOnce();

    const branch = await series(overlay.branchId);
    expect(branch.traffic.resolutionSeconds).toBe(60);
    expect(last(branch.traffic.points)).toMatchObject({ at: new Date(clock - MINUTE).toISOString(), rxBytesPerSecond: 100, txBytesPerSecond: 200 });
    // The age of the freshest handshake on any of its tunnels (hq's, 5 s before the read by the
    // device's clock; this test's clock is ahead of it by less than an hour).
    expect(last(branch.traffic.points).handshakeAgeSeconds).toBeGreaterThanOrEqual(5);
    expect(last(branch.traffic.points).handshakeAgeSeconds).toBeLessThanOrEqual(5 + HOUR / 1000 + 60);

    const hq = await series(overlay.hqId);
    expect(last(hq.traffic.points)).toMatchObject({ rxBytesPerSecond: 200, txBytesPerSecond: 100 });
    expect(hq.lastSeen).not.toBeNull();
    expect(hq.lastSeen).toBe(hq.status!.lastHandshake);

    // The laptop's counters were read twice and did not move: a real zero. No handshake ever.
    const laptop = await series(overlay.laptopId);
    expect(last(laptop.traffic.points)).toMatchObject({ rxBytesPerSecond: 0, txBytesPerSecond: 0, handshakeAgeSeconds: null });
    expect(laptop.lastSeen).toBeNull();
    expect(laptop.status).not.toBeNull();
  });

  it('counters lower than before (the router rebooted): counted from zero, never negative or huge', async () => {
    clock += MINUTE;
    sim.setHandshake(overlay.hqPublicKey, 5, { rx: 300n, tx: 600n });
    await app.services.monitor.pollOnce();
    const branch = await series(overlay.branchId);
    expect(last(branch.traffic.points)).toMatchObject({ rxBytesPerSecond: 5, txBytesPerSecond: 10 });
    const hq = await series(overlay.hqId);
    expect(last(hq.traffic.points)).toMatchObject({ rxBytesPerSecond: 10, txBytesPerSecond: 5 });

    // The hour so far is the sum of its minutes, as a rate over the minutes written (two; the
    // third is still open).
    const week = await series(overlay.branchId, 'WEEK');
    expect(week.traffic.resolutionSeconds).toBe(3600);
    expect(week.traffic.points).toHaveLength(168);
    const hourRows = await app.database.prisma.trafficSample.findMany({ where: { peerId: overlay.branchId, resolution: 3600 } });
    const minuteRows = await app.database.prisma.trafficSample.findMany({ where: { peerId: overlay.branchId, resolution: 60 } });
    expect(minuteRows).toHaveLength(2);
    expect(hourRows).toHaveLength(1);
    expect(hourRows[0]!.rxBytes).toBe(minuteRows.reduce((sum, row) => sum + row.rxBytes, 0n));
    expect(hourRows[0]!.rxBytes).toBe(6_000n + 300n);
    expect(hourRows[0]!.txBytes).toBe(12_000n + 600n);
    expect(last(week.traffic.points)).toMatchObject({ rxBytesPerSecond: 6_300 / 120, txBytesPerSecond: 12_600 / 120 });
  });

  it('the WAN page\'s sparklines and lastSeen: one read for all its peers; a whole list\'s series is refused', async () => {
    const samples = vi.spyOn(app.services.traffic, 'samples');
    const page = `query ($id: ID!) { wan(id: $id) { peers(first: 100) { edges { node { id lastSeen sparkline } } } } }`;
    const { wan } = await overlay.admin.ok<{ wan: { peers: { edges: Array<{ node: { id: string; lastSeen: string | null; sparkline: Array<number | null> } }> } } }>(page, { id: overlay.wanId });
    expect(samples).toHaveBeenCalledTimes(1);
    expect(samples.mock.calls[0]![0]).toHaveLength(3);
    samples.mockRestore();
    const branch = wan.peers.edges.find((edge) => edge.node.id === overlay.branchId)!.node;
    expect(branch.sparkline).toHaveLength(24);
    expect(branch.sparkline.slice(0, 23)).toEqual(Array(23).fill(null));
    expect(branch.sparkline[23]).toBeCloseTo((6_300 + 12_600) / 120, 9);

    const everySeries = `query ($id: ID!) { wan(id: $id) { peers(first: 1000) { edges { node { id traffic(range: DAY) { points { at rxBytesPerSecond txBytesPerSecond handshakeAgeSeconds } } } } } } }`;
    expect(await overlay.admin.errorCodes(everySeries, { id: overlay.wanId })).toEqual(['QUERY_TOO_COMPLEX']);
  });
});
