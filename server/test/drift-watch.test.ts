// The drift watch on a real app and the RouterOS simulator: nothing after a deploy; an item
// changed, removed or added (with Meshplane's tag) by hand is drift, named as verify names it,
// with a drift.detected webhook, an audit entry, metrics and a subscription message; a device
// the monitor finds unreachable is reported so, never as drifted; a config change not yet
// deployed is STALE, not drift; auto-repair puts the device back once per episode and backs off
// when the drift keeps coming back. Time is the watch's own clock (driftClock), moved by hand.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTokenFile } from '../src/infra/metrics-token.js';
import { buildOverlay, deploy, Feed, finishedJob, liveFixture, managedRows, MENU, startCountedSimulator, verify, type CountedSimulator, type Overlay } from './live-ops/harness.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { redisOrSkip, startRedis, type RedisServer } from './support/redis.js';
import { startReplicas, type ReplicaSet } from './support/replicas.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface DriftView {
  checkedAt: string;
  since: string | null;
  drifted: boolean;
  items: Array<{ kind: string; key: string; state: string; label: string; detail: string; fields: Array<{ field: string }> }>;
}

const DRIFT = `query ($id: ID!) { peer(id: $id) { configStatus drift { checkedAt since drifted items { kind key state label detail fields { field } } } } }`;

describe('drift watch (RouterOS simulator)', () => {
  let clock = Date.parse('2030-01-01T00:00:00Z');
  const fx = liveFixture({ app: { monitorIntervalMs: 100, driftClock: () => new Date(clock) } });
  const hooks: Array<{ type: string; subject: { id: string }; data: { jobId: string | null; items: Array<{ label: string; state: string; fields: string[] }> } }> = [];
  let receiver: http.Server;

  const watch = () => fx.live.app.services.drift;
  const prisma = () => fx.live.app.database.prisma;
  const driftOf = async (peerId: string) => (await fx.overlay.admin.ok<{ peer: { configStatus: string; drift: DriftView | null } }>(DRIFT, { id: peerId })).peer;
  const audits = (action: string) => prisma().auditLog.findMany({ where: { action }, orderBy: { at: 'asc' } });
  const interfaceRow = () => managedRows(fx.counted.sim, MENU.interface)[0]!;
  async function scrape(): Promise<string[]> {
    const token = fs.readFileSync(metricsTokenFile(fx.live.dataDir), 'utf8');
    const response = await fetch(new URL('/metrics', fx.live.graphqlUrl), { headers: { authorization: `Bearer ${token}` } });
    return (await response.text()).split('\n');
  }
  const checks = (lines: string[], result: string) => Number(lines.find((line) => line.startsWith(`meshplane_drift_checks_total{result="${result}"}`))?.split(' ')[1] ?? 0);

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        hooks.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof hooks)[number]);
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    await fx.overlay.admin.ok(`mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret } }`, {
      input: { name: 'drift', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`, allowPrivateTargets: true, events: ['drift.detected'] },
    });
  });

  afterAll(async () => {
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('never compares a peer that was not deployed, and finds nothing after a deploy', async () => {
    const { admin, branchId, hqId } = fx.overlay;
    expect((await watch().checkAll()).get(branchId)).toBe('not_deployed');
    expect((await driftOf(branchId)).drift).toBeNull();
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    const results = await watch().checkAll();
    expect(results.get(branchId)).toBe('in_sync');
    // hq and the laptop have no device: nothing to watch.
    expect(results.has(hqId)).toBe(false);
    const { drift } = await driftOf(branchId);
    expect(drift).toMatchObject({ drifted: false, since: null, items: [] });
    expect(new Date(drift!.checkedAt).getTime()).toBe(clock);
    expect(await audits('peer.drift.detected')).toEqual([]);
    const lines = await scrape();
    expect(lines).toContain('meshplane_peer_drift_items{wan="live",peer="branch",device="sim-router"} 0');
    expect(checks(lines, 'in_sync')).toBe(1);
  });

  it('names a changed, a removed and a tagged added item exactly as verify does, once: event, audit, metric, subscription', async () => {
    const { admin, branchId, wanId } = fx.overlay;
    const ws = fx.overlay.ws();
    const feed = new Feed<{ wanChanged: { entity: string; entityId: string; wan: { driftedCount: number } } }>(ws, `subscription ($wanId: ID!) { wanChanged(wanId: $wanId) { entity entityId wan { driftedCount } } }`, { wanId });
    await wait(200); // the subscription is registered before anything is published
    const { sim } = fx.counted;
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': interfaceRow()['.id']!, mtu: '1280' } });
    const [route] = managedRows(sim, MENU.route);
    sim.model.execute({ command: `${MENU.route}/remove`, attributes: { '.id': route!['.id']! } });
    // A copy of a managed address row, tag and all: Meshplane's item that it no longer wants.
    const [address] = managedRows(sim, MENU.address);
    sim.model.execute({ command: `${MENU.address}/add`, attributes: { address: '10.99.0.1/24', interface: address!.interface!, comment: address!.comment! } });
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('drifted');

    const { drift } = await driftOf(branchId);
    expect(drift!.drifted).toBe(true);
    expect(new Date(drift!.since!).getTime()).toBe(clock);
    expect(drift!.items.map((item) => [item.kind, item.state]).sort()).toEqual([[MENU.address, 'UNEXPECTED'], [MENU.interface, 'DIFFERENT'], [MENU.route, 'MISSING']].sort());
    expect(drift!.items.find((item) => item.state === 'DIFFERENT')!.detail).toMatch(/mtu: 1280/);
    // The verify job names the same items.
    const verified = await verify(admin, branchId);
    expect(verified.drift!.map((item) => `${item.kind} ${item.key} ${item.state}`).sort()).toEqual(drift!.items.map((item) => `${item.kind} ${item.key} ${item.state}`).sort());

    const [detected, ...more] = await audits('peer.drift.detected');
    expect(more).toEqual([]);
    expect(detected).toMatchObject({ actorLabel: 'meshplane (drift watch)', targetId: branchId, outcome: 'ok' });
    const details = JSON.parse(detected!.details) as { device: string; items: Array<{ label: string; state: string }> };
    expect(details.device).toBe('sim-router');
    expect(details.items.map((item) => item.label).sort()).toEqual(drift!.items.map((item) => item.label).sort());
    expect(detected!.details).not.toMatch(/[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=/); // no WireGuard key

    for (let poll = 0; poll < 200 && !hooks.some((hook) => hook.data.jobId === null); poll++) await wait(25);
    const event = hooks.find((hook) => hook.data.jobId === null);
    expect(event).toMatchObject({ type: 'drift.detected', subject: { id: branchId } });
    expect(event!.data.items.map((item) => item.label).sort()).toEqual(drift!.items.map((item) => item.label).sort());

    await feed.waitFor((messages) => messages.some((message) => message.wanChanged.entityId === branchId && message.wanChanged.wan.driftedCount === 1), 'a wanChanged message with the drifted peer');
    const lines = await scrape();
    expect(lines).toContain('meshplane_peer_drift_items{wan="live",peer="branch",device="sim-router"} 3');
    expect(checks(lines, 'drifted')).toBe(1);
    const { wan } = await admin.ok<{ wan: { driftedCount: number } }>(`query ($id: ID!) { wan(id: $id) { driftedCount } }`, { id: wanId });
    expect(wan.driftedCount).toBe(1);

    // The same drift again: recorded as checked, nothing announced twice.
    const eventsBefore = hooks.length;
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('drifted');
    expect(await audits('peer.drift.detected')).toHaveLength(1);
    expect(new Date((await driftOf(branchId)).drift!.since!).getTime()).toBe(clock - 300_000);
    await wait(300);
    expect(hooks.length).toBe(eventsBefore);

    // One item put back by hand: the item set changed, announced again with what went.
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': interfaceRow()['.id']!, mtu: '1420' } });
    clock += 300_000;
    await watch().checkAll();
    const changed = await audits('peer.drift.detected');
    expect(changed).toHaveLength(2);
    expect((JSON.parse(changed[1]!.details) as { goneItems: string[] }).goneItems).toHaveLength(1);
    expect((await driftOf(branchId)).drift!.items).toHaveLength(2);
    feed.close();
    await ws.dispose();
  });

  it('a deploy ends the drift (audited as resolved) and a change not yet deployed is STALE, not drift', async () => {
    const { admin, branchId } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await driftOf(branchId)).drift).toMatchObject({ drifted: false, since: null, items: [] });
    const [resolved] = await audits('peer.drift.resolved');
    expect(JSON.parse(resolved!.details)).toMatchObject({ by: 'deploy' });

    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { keepalive: 17 }) { peer { id } } }`, { id: branchId });
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('in_sync');
    expect(await driftOf(branchId)).toMatchObject({ configStatus: 'STALE', drift: { drifted: false, items: [] } });
    // Drift is still measured against what was deployed, not against the pending change.
    fx.counted.sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': interfaceRow()['.id']!, mtu: '1300' } });
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('drifted');
    expect((await driftOf(branchId)).drift!.items.map((item) => item.kind)).toEqual([MENU.interface]);
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await driftOf(branchId)).drift!.drifted).toBe(false);
  });

  it('auto-repair puts the device back once per episode and backs off when the drift keeps coming back', async () => {
    const { admin, branchId, deviceId } = fx.overlay;
    const { updateDevice } = await admin.ok<{ updateDevice: { autoRepair: boolean } }>(`mutation ($id: ID!) { updateDevice(id: $id, input: { autoRepair: true }) { autoRepair } }`, { id: deviceId });
    expect(updateDevice.autoRepair).toBe(true);
    const jobsBefore = await prisma().deployJob.count({ where: { kind: 'DEPLOY' } });

    const tamper = () => fx.counted.sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': interfaceRow()['.id']!, mtu: '1280' } });
    tamper();
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('drifted');
    const [started] = await audits('peer.drift.repair');
    expect(started).toMatchObject({ actorLabel: 'drift watch (auto-repair)', outcome: 'ok' });
    const { jobId } = JSON.parse(started!.details) as { jobId: string };
    const job = await finishedJob(admin, jobId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.log).toMatch(/started by the drift watch \(auto-repair\)/);
    expect(interfaceRow().mtu).toBe('1420');
    expect((await driftOf(branchId)).drift!.drifted).toBe(false);
    const deployAudit = await prisma().auditLog.findFirst({ where: { action: 'device.deploy', actorLabel: 'drift watch (auto-repair)' } });
    expect(deployAudit?.outcome).toBe('ok');

    // Changed back right away: a new episode, but too soon after the last repair: held back, said once.
    tamper();
    clock += 300_000;
    await watch().checkAll();
    // Twice the interval after the repair is not yet here: still held, not said again.
    clock += 100_000;
    await watch().checkAll();
    const held = (await audits('peer.drift.repair')).filter((entry) => entry.outcome === 'denied');
    expect(held).toHaveLength(1);
    expect(JSON.parse(held[0]!.details).reason).toMatch(/changed again after 1 repair/);
    expect(await prisma().deployJob.count({ where: { kind: 'DEPLOY' } })).toBe(jobsBefore + 1);
    expect(interfaceRow().mtu).toBe('1280');
    expect((await driftOf(branchId)).drift!.drifted).toBe(true);

    // Once the back-off has passed, the same episode gets its one repair.
    clock += 3600_000;
    await watch().checkAll();
    const repairs = (await audits('peer.drift.repair')).filter((entry) => entry.outcome === 'ok');
    expect(repairs).toHaveLength(2);
    expect((await finishedJob(admin, (JSON.parse(repairs[1]!.details) as { jobId: string }).jobId)).status).toBe('SUCCEEDED');
    expect(interfaceRow().mtu).toBe('1420');
    await admin.ok(`mutation ($id: ID!) { updateDevice(id: $id, input: { autoRepair: false }) { autoRepair } }`, { id: deviceId });
  });

  it('a device the monitor finds unreachable is reported as unreachable, never as drifted', async () => {
    const { admin, branchId, deviceId } = fx.overlay;
    const before = await driftOf(branchId);
    fx.counted.sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': interfaceRow()['.id']!, mtu: '1280' } });
    await fx.counted.sim.stop();
    for (let poll = 0; poll < 400; poll++) {
      const { device } = await admin.ok<{ device: { reachable: boolean | null } }>(`query ($id: ID!) { device(id: $id) { reachable } }`, { id: deviceId });
      if (device.reachable === false) break;
      await wait(25);
    }
    const detectedBefore = (await audits('peer.drift.detected')).length;
    clock += 300_000;
    expect((await watch().checkAll()).get(branchId)).toBe('unreachable');
    expect((await driftOf(branchId)).drift).toEqual(before.drift);
    expect(await audits('peer.drift.detected')).toHaveLength(detectedBefore);
    expect(checks(await scrape(), 'unreachable')).toBe(1);
  });
});

const pgBin = postgresOrSkip('drift watch on two replicas (test/drift-watch.test.ts)');
const redisBin = redisOrSkip('drift watch on two replicas (test/drift-watch.test.ts)');

describe.skipIf(!pgBin || !redisBin)('drift watch on two replicas (PostgreSQL + Redis)', () => {
  let cluster: PostgresCluster;
  let redis: RedisServer;
  let counted: CountedSimulator;
  let overlay: Overlay;
  let set: ReplicaSet;

  beforeAll(async () => {
    [cluster, redis, counted] = await Promise.all([startPostgres({ binDir: pgBin!, database: 'meshplane' }), startRedis(redisBin!), startCountedSimulator()]);
    set = await startReplicas('drift', { databaseUrl: cluster.url, redisUrl: redis.url, options: { monitor: true, monitorIntervalMs: 1000, driftIntervalMs: 200, handshakeProbeMs: 0 } });
    overlay = await buildOverlay(set.replicas[0]!.graphqlUrl, counted.sim);
  });
  afterAll(async () => {
    await set?.stop();
    await Promise.all([redis?.stop(), cluster?.stop(), counted?.sim.stop()]);
  });

  it('only the replica polling the devices watches them, on its interval: one detection, one audit entry', async () => {
    expect((await deploy(overlay.admin, overlay.branchId)).status).toBe('SUCCEEDED');
    const [wg] = managedRows(counted.sim, MENU.interface);
    counted.sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': wg!['.id']!, mtu: '1280' } });
    const prisma = set.replicas[0]!.app.database.prisma;
    let detected = 0;
    for (let poll = 0; poll < 400 && detected === 0; poll++) {
      await wait(25);
      detected = await prisma.auditLog.count({ where: { action: 'peer.drift.detected' } });
    }
    expect(detected).toBe(1);
    const runs = () => set.replicas.map((replica) => replica.app.services.drift.runs);
    // A few more intervals: still one replica watching, still one entry.
    const before = runs().reduce((a, b) => a + b, 0);
    for (let poll = 0; poll < 400 && runs().reduce((a, b) => a + b, 0) < before + 3; poll++) await wait(25);
    expect(runs().filter((count) => count > 0)).toHaveLength(1);
    const leader = set.replicas.find((replica) => replica.app.services.drift.runs > 0)!;
    expect(leader.app.services.monitor.leading).toBe(true);
    expect(await prisma.auditLog.count({ where: { action: 'peer.drift.detected' } })).toBe(1);
    // Every replica answers the same drift (it is stored, not held in memory).
    for (const replica of set.replicas) {
      const { peer } = await overlay.admin.ok<{ peer: { drift: { items: Array<{ label: string }> } } }>(`query ($id: ID!) { peer(id: $id) { drift { items { label } } } }`, { id: overlay.branchId });
      expect(replica && peer.drift.items.map((item) => item.label)).toEqual(['WireGuard interface wg0']);
    }
  });
});
