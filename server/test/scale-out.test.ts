// Two replicas behind one PostgreSQL and one Redis, with a RouterOS simulator as the device of
// a peer: events of one replica reach subscribers of the other, only one replica reads the
// device's statistics, every replica (also one started later) answers the same statuses and
// device health, a burst of edits heard by both replicas queues one auto-deploy, and a
// replica that starts interrupts only the jobs of replicas that died.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { redisOrSkip, startRedis, type RedisServer } from './support/redis.js';
import { GraphQLTestClient } from './support/graphql.js';
import { autoRedeploySettled, buildOverlay, deploy, Feed, managedRows, MENU, startCountedSimulator, statisticsReads, type CountedSimulator, type Overlay } from './live-ops/harness.js';

const pgBin = postgresOrSkip('scale-out tests (test/scale-out.test.ts)');
const redisBin = redisOrSkip('scale-out tests (test/scale-out.test.ts)');

interface Replica {
  app: App;
  url: string;
  graphqlUrl: string;
  dataDir: string;
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a value (bounded); fails naming `what`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, polls = 300, pollMs = 50): Promise<T> {
  for (let poll = 0; poll < polls; poll++) {
    const value = await check();
    if (value !== undefined) return value;
    await wait(pollMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const HEALTH = `query ($id: ID!) { device(id: $id) { reachable statsAvailable } }`;
const STATUS = `query ($id: ID!) { peer(id: $id) { status { online rxBytes txBytes endpoint } } }`;
type Health = { device: { reachable: boolean | null; statsAvailable: boolean | null } };
const TUNNELS = `query ($id: ID!) { wan(id: $id) { topologyGraph { edges { from to state reportedBy lastHandshake } } } }`;
type Tunnel = { from: string; to: string; state: string; reportedBy: string | null; lastHandshake: string | null };

type Status = { peer: { status: { online: boolean; rxBytes: string; txBytes: string; endpoint: string | null } | null } };

describe.skipIf(!pgBin || !redisBin)('two replicas on PostgreSQL + Redis', () => {
  let cluster: PostgresCluster;
  let redis: RedisServer;
  let counted: CountedSimulator;
  let overlay: Overlay;
  const replicas: Replica[] = [];
  const env = () => ({ ...process.env, REDIS_URL: redis.url, MESHPLANE_MASTER_KEY: masterKey, MESHPLANE_CONFIG: '', MESHPLANE_METRICS_TOKEN: metricsToken });
  // Replicas with their own data directories share one scrape token only through the environment.
  const metricsToken = randomBytes(32).toString('base64url');
  const masterKey = randomBytes(32).toString('base64');

  async function startReplica(i: number): Promise<Replica> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshplane-replica-${i}-`));
    const app = await buildApp({
      dataDir, databaseUrl: cluster.url, port: 0, web: false, env: env(), logger: createLogger('silent'),
      monitorIntervalMs: 500, handshakeProbeMs: 0, autoRedeployDebounceMs: 1000,
    });
    const { url, graphqlUrl } = await app.start();
    return { app, url, graphqlUrl, dataDir };
  }

  async function stopReplica(replica: Replica): Promise<void> {
    await replica.app.stop();
    fs.rmSync(replica.dataDir, { recursive: true, force: true });
  }

  /** An admin client on the given replica (the overlay's token works on every replica). */
  const on = (replica: Replica) => new GraphQLTestClient(replica.graphqlUrl, overlay.token);
  const pair = (a: string, b: string) => [a, b].sort().join('|');
  const tunnels = async (replica: Replica): Promise<Record<string, Tunnel>> => {
    const { wan } = await on(replica).ok<{ wan: { topologyGraph: { edges: Tunnel[] } } }>(TUNNELS, { id: overlay.wanId });
    return Object.fromEntries(wan.topologyGraph.edges.map((edge) => [pair(edge.from, edge.to), edge]));
  };

  beforeAll(async () => {
    [cluster, redis, counted] = await Promise.all([startPostgres({ binDir: pgBin!, database: 'meshplane' }), startRedis(redisBin!), startCountedSimulator()]);
    for (let i = 0; i < 2; i++) replicas.push(await startReplica(i));
    overlay = await buildOverlay(replicas[0]!.graphqlUrl, counted.sim);
  });

  afterAll(async () => {
    for (const replica of replicas) await stopReplica(replica);
    await Promise.all([redis?.stop(), cluster?.stop(), counted?.sim.stop()]);
  });

  it('delivers a mutation made on replica A to a subscriber of replica B', async () => {
    const [, b] = replicas as [Replica, Replica];
    const onB = on(b).ws();
    const seen: string[] = [];
    let wake = () => undefined as void;
    onB.subscribe<{ wanChanged: { wan: { name: string } | null } }>({ query: `subscription { wanChanged { kind wan { name } } }` }, {
      next: (message) => {
        const name = message.data?.wanChanged.wan?.name;
        if (name) seen.push(name);
        wake();
      },
      error: () => wake(),
      complete: () => wake(),
    });
    // Publish probes from A until B's subscription is live (bounded), then the real change.
    for (let attempt = 0; seen.length === 0 && attempt < 100; attempt++) {
      await overlay.admin.ok(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name: `probe-${attempt}` });
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), wait(100)]);
    }
    await overlay.admin.ok(`mutation { createWan(input: { name: "made-on-a" }) { wan { id } } }`);
    for (let waited = 0; !seen.includes('made-on-a') && waited < 100; waited++) {
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), wait(100)]);
    }
    expect(seen).toContain('made-on-a');
    await onB.dispose();
  });

  it('reads the device from one replica per interval; a status change seen there reaches a subscriber of the other, which answers the same', async () => {
    const [a, b] = replicas as [Replica, Replica];
    expect((await deploy(overlay.admin, overlay.branchId)).status).toBe('SUCCEEDED');
    const monitors = replicas.map((replica) => replica.app.services.monitor);

    // A window of at least five polls by whichever replica holds the lease.
    const polls = monitors.map((monitor) => monitor.polls);
    const from = counted.requests.length;
    await eventually('five polls', () => (monitors.some((monitor, i) => monitor.polls - polls[i]! >= 5) ? true : undefined));
    const polled = monitors.map((monitor, i) => monitor.polls - polls[i]!);
    const reads = statisticsReads(counted.requests.slice(from));
    expect(polled.filter((count) => count > 0)).toHaveLength(1);
    // Counted at the simulator: one read per poll (± the poll in progress at either edge), all on one connection.
    expect(Math.abs(reads.length - Math.max(...polled))).toBeLessThanOrEqual(1);
    expect(new Set(reads.map((read) => read.connection)).size).toBe(1);
    const poller = polled[0]! > 0 ? a : b;
    const other = poller === a ? b : a;

    const onOther = on(other).ws();
    const feed = new Feed<{ peerStatusChanged: Array<{ name: string; status: { online: boolean; rxBytes: string } | null }> }>(
      onOther, `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { name status { online rxBytes } } }`, { wanId: overlay.wanId },
    );
    await feed.waitFor((messages) => messages.length >= 1, 'the current statuses');
    counted.sim.setHandshake(overlay.hqPublicKey, 5, { rx: 1000, tx: 2000, endpointAddress: '203.0.113.7', endpointPort: 51820 });
    await feed.waitFor((messages) => messages.some((message) => message.peerStatusChanged.some((peer) => peer.name === 'hq' && peer.status?.online)), 'hq online on the other replica');
    feed.close();
    await onOther.dispose();

    const [pollerStatus, otherStatus] = await Promise.all([poller, other].map((replica) => on(replica).ok<Status>(STATUS, { id: overlay.hqId })));
    expect(otherStatus).toEqual(pollerStatus);
    expect(otherStatus!.peer.status).toEqual({ online: true, rxBytes: '2000', txBytes: '1000', endpoint: '203.0.113.7:51820' });
    const [pollerHealth, otherHealth] = await Promise.all([poller, other].map((replica) => on(replica).ok<Health>(HEALTH, { id: overlay.deviceId })));
    expect(otherHealth).toEqual({ device: { reachable: true, statsAvailable: true } });
    expect(otherHealth).toEqual(pollerHealth);
    const metrics = await (await fetch(`${other.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    expect(metrics).toContain(`meshplane_device_reachable{device="${overlay.deviceId}",name="sim-router"} 1`);
    expect(metrics).toContain('meshplane_peer_up{wan="live",peer="hq"} 1');
    // Tunnel states come from the readings every replica holds, not the poller's memory alone.
    const [pollerTunnels, otherTunnels] = await Promise.all([poller, other].map((replica) => tunnels(replica)));
    expect(otherTunnels).toEqual(pollerTunnels);
    expect(otherTunnels![pair(overlay.branchId, overlay.hqId)]).toMatchObject({ state: 'UP', reportedBy: overlay.branchId });
    expect(otherTunnels![pair(overlay.branchId, overlay.laptopId)]).toMatchObject({ state: 'DOWN', reportedBy: overlay.branchId });
  });

  it('a replica started later answers the statuses and device health nobody changed since', async () => {
    const late = await startReplica(2);
    try {
      const status = await eventually('the late replica to know hq', async () => (await on(late).ok<Status>(STATUS, { id: overlay.hqId })).peer.status ?? undefined);
      expect(status).toMatchObject({ online: true, rxBytes: '2000' });
      expect(await on(late).ok<Health>(HEALTH, { id: overlay.deviceId })).toEqual({ device: { reachable: true, statsAvailable: true } });
      expect(late.app.services.monitor.polls).toBe(0);
      expect((await tunnels(late))[pair(overlay.branchId, overlay.hqId)]).toMatchObject({ state: 'UP', reportedBy: overlay.branchId });
    } finally {
      await stopReplica(late);
    }
  });

  it('a burst of edits heard by both replicas queues one deploy of the auto-deploy peer', async () => {
    const [a, b] = replicas as [Replica, Replica];
    const apps = [a.app, b.app];
    const checks = () => apps.map((app) => app.services.autoRedeploy.checks);
    let before = checks();
    await on(a).ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { autoDeploy: true }) { peer { id } } }`, { id: overlay.branchId });
    await autoRedeploySettled(apps, before);

    const prisma = a.app.database.prisma;
    const earlier = new Set((await prisma.deployJob.findMany({ select: { id: true } })).map((job) => job.id));
    before = checks();
    const lans = ['192.168.40.0/24', '192.168.41.0/24', '192.168.42.0/24', '192.168.43.0/24'];
    // Sent at once, half to each replica: well inside the debounce.
    await Promise.all(lans.map((cidr, i) => on(replicas[i % 2]!).ok(`mutation ($peerId: ID!, $cidr: String!) { addSubnet(peerId: $peerId, input: { cidr: $cidr }) { id } }`, { peerId: overlay.hqId, cidr })));
    await autoRedeploySettled(apps, before);

    const jobs = await prisma.deployJob.findMany({ where: { peerId: overlay.branchId, kind: 'DEPLOY', id: { notIn: [...earlier] } }, select: { status: true, actorId: true } });
    expect(jobs).toEqual([{ status: 'SUCCEEDED', actorId: null }]);
    expect(managedRows(counted.sim, MENU.route).map((row) => row['dst-address'])).toEqual(expect.arrayContaining(lans));
    const { peer } = await on(b).ok<{ peer: { configStatus: string } }>(`query ($id: ID!) { peer(id: $id) { configStatus } }`, { id: overlay.branchId });
    expect(peer.configStatus).toBe('CURRENT');

    // The same check started on both replicas at one instant (what debounce timers firing
    // together do): one of them queues the deploy, the other sees it.
    before = checks();
    await on(a).ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.44.0/24" }) { id } }`, { peerId: overlay.hqId });
    const queued = new Set((await prisma.deployJob.findMany({ select: { id: true } })).map((job) => job.id));
    await Promise.all(apps.map((app) => app.services.autoRedeploy.checkNow(overlay.wanId)));
    await autoRedeploySettled(apps, before.map((count) => count + 1));
    expect(await prisma.deployJob.count({ where: { peerId: overlay.branchId, id: { notIn: [...queued] } } })).toBe(1);
  });

  it('a replica that starts leaves a deploy another replica is running alone, and marks INTERRUPTED only the jobs of a runner that died', async () => {
    const [a] = replicas as [Replica, Replica];
    const prisma = a.app.database.prisma;
    // Every router reply takes 2 s (the device timeout raised above it): the deploy's dozen
    // commands keep it RUNNING for far longer than a replica takes to start.
    await overlay.admin.ok(`mutation ($id: ID!) { updateDevice(id: $id, input: { timeoutMs: 20000 }) { id } }`, { id: overlay.deviceId });
    counted.sim.faults.replyDelayMs = 2000;
    let late: Replica | undefined;
    try {
      const { deployPeer } = await on(a).ok<{ deployPeer: { id: string } }>(`mutation ($peerId: ID!) { deployPeer(peerId: $peerId, approve: true) { id } }`, { peerId: overlay.branchId });
      await eventually('the deploy to run on A', async () => ((await prisma.deployJob.findUniqueOrThrow({ where: { id: deployPeer.id } })).status === 'RUNNING' ? true : undefined));
      // A job left by a server that died: its runner's presence lease is long gone.
      const orphan = await prisma.deployJob.create({
        data: { kind: 'VERIFY', status: 'RUNNING', wanId: overlay.wanId, peerId: overlay.branchId, deviceId: overlay.deviceId, runnerId: 'runner-of-a-dead-replica', startedAt: new Date() },
      });

      late = await startReplica(3);
      const status = async (id: string) => (await prisma.deployJob.findUniqueOrThrow({ where: { id } })).status;
      expect(await status(deployPeer.id)).toBe('RUNNING');
      expect(await prisma.deployJob.findUniqueOrThrow({ where: { id: orphan.id } })).toMatchObject({ status: 'INTERRUPTED', error: expect.stringMatching(/server stopped/) });

      counted.sim.faults.reset();
      const finished = await eventually('the deploy to end', async () => {
        const job = await prisma.deployJob.findUniqueOrThrow({ where: { id: deployPeer.id } });
        return job.status === 'RUNNING' ? undefined : job;
      });
      expect(finished.status, finished.error ?? '').toBe('SUCCEEDED');
    } finally {
      counted.sim.faults.reset();
      if (late) await stopReplica(late);
    }
  });
});
