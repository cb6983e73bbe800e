// Bench 5: live status. The server runs as a child process (its RSS is its own) with the
// handshake monitor polling every POLL_MS; a 1,000-peer hub-and-spoke WAN whose hub is a
// RouterOS simulator (in another child process) that sees all 999 spokes; N graphql-ws
// subscribers on peerStatusChanged (N = 200 and 1,000 by default; LIVE_SUBSCRIBERS=200,1000
// picks others), each on its own socket as a browser tab would be. The server holds each
// user to LIVE_LIMITS (sockets and subscriptions), so the subscribers are spread over as
// many VIEWER accounts as those limits ask for: no limit is raised for the bench.
// Each round marks one spoke's handshake fresh on the simulator and times until every
// subscriber has been told that spoke is online. RSS is sampled every 100 ms from the first
// subscription to the last round (peak), and read once after start and after the rounds.
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../server/src/infra/db/client.js';
import { loadSecretBox } from '../server/src/infra/crypto/secret-box.js';
import { LIVE_LIMITS } from '../server/src/infra/http/live-sockets.js';
import { GraphQLTestClient, registerAdmin } from '../server/test/support/graphql.js';
import { createWan, seedPeers } from './app.js';
import { startFleet, type Fleet } from './fleet.js';
import { MASTER_KEY, spawnServer, type ServerProcess } from './server-process.js';
import { percentile, report, round, silentLogger, sleep, type Metric } from './lib.js';

const PEERS = 1000;
const COUNTS = (process.env.LIVE_SUBSCRIBERS ?? '200,1000').split(',').map(Number).filter((n) => n > 0);
const POLL_MS = 2000;
const ROUNDS = 5;
const PASSWORD = 'correct horse battery staple';

const SUBSCRIPTION = `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { id status { online lastHandshake } } }`;

function load(): string {
  return os.loadavg().map((value) => value.toFixed(2)).join(' ');
}

/** One subscriber per socket; a user may hold LIVE_LIMITS.socketsPerUser of them. */
async function viewerTokens(admin: GraphQLTestClient, graphqlUrl: string, subscribers: number): Promise<string[]> {
  const users = Math.ceil(subscribers / Math.min(LIVE_LIMITS.socketsPerUser, LIVE_LIMITS.operationsPerUser));
  const tokens: string[] = [];
  for (let i = 0; i < users; i++) {
    const email = `viewer${i}@example.net`;
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email, name: `Viewer ${i}`, password: PASSWORD, role: 'VIEWER' } });
    const viewer = new GraphQLTestClient(graphqlUrl);
    await viewer.ok(`mutation ($input: LoginInput!) { login(input: $input) { user { id } } }`, { input: { email, password: PASSWORD } });
    const { createApiToken } = await viewer.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "bench" }) { token } }`);
    tokens.push(createApiToken.token);
  }
  return tokens;
}

async function run(subscribers: number): Promise<Metric[]> {
  let server: ServerProcess | null = null;
  let fleet: Fleet | null = null;
  let sampler: NodeJS.Timeout | undefined;
  const clients: Array<ReturnType<GraphQLTestClient['ws']>> = [];
  try {
    fleet = await startFleet(1, false);
    const router = fleet.routers[0]!;
    server = await spawnServer({ env: { MESHPLANE_MONITOR_INTERVAL_MS: String(POLL_MS) } });
    const rssIdle = server.rssMb();
    const admin = await registerAdmin(server.graphqlUrl);
    const wanId = await createWan(admin, 'live', { topology: 'HUB_SPOKE' });
    const { wan } = await admin.ok<{ wan: { interfaceName: string } }>(`query ($id: ID!) { wan(id: $id) { interfaceName } }`, { id: wanId });
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'hub-router', kind: 'ROUTEROS_API', host: router.host, port: router.apiPort, tls: false, username: router.username, secret: router.password },
    });
    const tokens = await viewerTokens(admin, server.graphqlUrl, subscribers);

    // The peers go straight into the server's SQLite database (WAL: safe beside the server).
    const database = await openDatabase(`file:${path.join(server.dataDir, 'meshplane.db')}`);
    const secrets = loadSecretBox({ MESHPLANE_MASTER_KEY: MASTER_KEY }, server.dataDir, await silentLogger());
    const peers = await seedPeers({ prisma: database.prisma, secrets }, wanId, PEERS, (i) => (i === 0 ? { deviceId: createDevice.id } : {}));
    await database.close();
    const spokes = peers.slice(1);
    await fleet.seed(0, wan.interfaceName, spokes.map((peer) => peer.publicKey));
    // Let the monitor publish its first full round (every spoke offline) before subscribing.
    await sleep(POLL_MS * 1.5);

    let peakRss = server.rssMb();
    const live = server;
    sampler = setInterval(() => { try { peakRss = Math.max(peakRss, live.rssMb()); } catch { /* exited */ } }, 100);

    // Each subscriber on its own socket; each round's listener sees every later list.
    let onList: (subscriber: number, online: Map<string, boolean>) => void = () => undefined;
    let initial = 0;
    let failed = 0;
    const subscribeStarted = performance.now();
    for (let i = 0; i < subscribers; i++) {
      const ws = new GraphQLTestClient(server.graphqlUrl, tokens[i % tokens.length]).ws();
      clients.push(ws);
      let first = true;
      ws.subscribe<{ peerStatusChanged: Array<{ id: string; status: { online: boolean } | null }> }>({ query: SUBSCRIPTION, variables: { wanId } }, {
        next: (message) => {
          if (message.errors?.length) { failed++; console.error('subscription error', message.errors[0]?.message); return; }
          const list = message.data?.peerStatusChanged ?? [];
          if (first) { first = false; initial++; return; }
          onList(i, new Map(list.map((peer) => [peer.id, peer.status?.online ?? false])));
        },
        error: (error) => { failed++; console.error('subscription error', (error as { code?: number }).code ?? error); },
        complete: () => undefined,
      });
    }
    while (initial + failed < subscribers && performance.now() - subscribeStarted < 180_000) await sleep(20);
    const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
    const loadSubscribed = load();
    await sleep(POLL_MS);

    const latencies: number[] = [];
    let missed = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const target = spokes[(r * 197) % spokes.length]!;
      const received = new Array<number | null>(subscribers).fill(null);
      let count = 0;
      const t0 = Date.now();
      const done = new Promise<void>((resolve) => {
        onList = (subscriber, online) => {
          if (received[subscriber] !== null || online.get(target.id) !== true) return;
          received[subscriber] = Date.now() - t0;
          if (++count === subscribers) resolve();
        };
      });
      await fleet.handshake(0, target.publicKey, 0);
      await Promise.race([done, sleep(POLL_MS * 4)]);
      for (const ms of received) if (ms === null) missed++; else latencies.push(ms);
      // Rounds land at different points of the poll cycle.
      await sleep(300 + r * 370);
    }
    const loadRounds = load();
    clearInterval(sampler);
    const rssAfter = server.rssMb();
    latencies.sort((a, b) => a - b);
    const max = latencies[latencies.length - 1] ?? NaN;
    const who = `${subscribers} subscribers (${tokens.length} VIEWER users, a socket each)`;
    return [
      { bench: 'live', name: `handshake -> all ${subscribers} subscribers: p50`, value: round(percentile(latencies, 50)), unit: 'ms', note: `${ROUNDS} rounds, poll interval ${POLL_MS} ms; load ${loadRounds}` },
      { bench: 'live', name: `handshake -> all ${subscribers} subscribers: max`, value: round(max), unit: 'ms', target: `< ${POLL_MS + 250} ms (poll + 250)`, met: max < POLL_MS + 250 && missed === 0 && failed === 0, note: `p99 ${round(percentile(latencies, 99))} ms; ${missed} notices missed, ${failed} subscriptions failed; load ${loadRounds}` },
      { bench: 'live', name: `server RSS with ${PEERS} peers, ${who}, peak`, value: round(peakRss), unit: 'MB', target: '< 200 MB', met: peakRss < 200, note: `idle after start ${round(rssIdle)} MB, after the rounds ${round(rssAfter)} MB; ${subscribers} initial lists in ${round(subscribeSeconds, 1)} s (load ${loadSubscribed})` },
    ];
  } finally {
    clearInterval(sampler);
    await Promise.all(clients.map((ws) => ws.dispose()));
    await server?.stop();
    await fleet?.stop();
  }
}

const metrics: Metric[] = [];
for (const subscribers of COUNTS) {
  process.stderr.write(`live: ${subscribers} subscribers (load ${load()})\n`);
  metrics.push(...(await run(subscribers)));
}
report(metrics);
process.exit(0);
