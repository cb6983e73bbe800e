// Bench 5: live status. The server runs as a child process (its RSS is its own) with the
// handshake monitor polling every POLL_MS; a 1,000-peer hub-and-spoke WAN whose hub is a
// RouterOS simulator (in another child process) that sees all 999 spokes; 200 graphql-ws
// subscribers on peerStatusChanged. Each round marks one spoke's handshake fresh on the
// simulator and times until every subscriber has been told that spoke is online.
import path from 'node:path';
import { openDatabase } from '../server/src/infra/db/client.js';
import { loadSecretBox } from '../server/src/infra/crypto/secret-box.js';
import { GraphQLTestClient, registerAdmin } from '../server/test/support/graphql.js';
import { createWan, seedPeers } from './app.js';
import { startFleet, type Fleet } from './fleet.js';
import { MASTER_KEY, spawnServer, type ServerProcess } from './server-process.js';
import { percentile, report, round, silentLogger, sleep, type Metric } from './lib.js';

const PEERS = 1000;
const SUBSCRIBERS = 200;
const POLL_MS = 2000;
const ROUNDS = 5;

const SUBSCRIPTION = `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { id status { online lastHandshake } } }`;

let server: ServerProcess | null = null;
let fleet: Fleet | null = null;
const clients: Array<ReturnType<GraphQLTestClient['ws']>> = [];
const metrics: Metric[] = [];
try {
  fleet = await startFleet(1, false);
  const router = fleet.routers[0]!;
  server = await spawnServer({ env: { MESHPLANE_MONITOR_INTERVAL_MS: String(POLL_MS) } });
  const rssIdle = server.rssMb();
  const admin = await registerAdmin(server.graphqlUrl);
  const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "bench" }) { token } }`);
  const wanId = await createWan(admin, 'live', { topology: 'HUB_SPOKE' });
  const { wan } = await admin.ok<{ wan: { interfaceName: string } }>(`query ($id: ID!) { wan(id: $id) { interfaceName } }`, { id: wanId });
  const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: 'hub-router', kind: 'ROUTEROS_API', host: router.host, port: router.apiPort, tls: false, username: router.username, secret: router.password },
  });

  // The peers go straight into the server's SQLite database (WAL: safe beside the server).
  const database = await openDatabase(`file:${path.join(server.dataDir, 'meshplane.db')}`);
  const secrets = loadSecretBox({ MESHPLANE_MASTER_KEY: MASTER_KEY }, server.dataDir, await silentLogger());
  const peers = await seedPeers({ prisma: database.prisma, secrets }, wanId, PEERS, (i) => (i === 0 ? { deviceId: createDevice.id } : {}));
  await database.close();
  const spokes = peers.slice(1);
  await fleet.seed(0, wan.interfaceName, spokes.map((peer) => peer.publicKey));

  // Subscribers, each on its own graphql-ws connection; wait for every initial list.
  const client = new GraphQLTestClient(server.graphqlUrl, createApiToken.token);
  const listeners: Array<(ids: Map<string, boolean>) => void> = [];
  let initial = 0;
  const subscribeStarted = performance.now();
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const ws = client.ws();
    clients.push(ws);
    let first = true;
    ws.subscribe<{ peerStatusChanged: Array<{ id: string; status: { online: boolean } | null }> }>({ query: SUBSCRIPTION, variables: { wanId } }, {
      next: (message) => {
        const list = message.data?.peerStatusChanged ?? [];
        if (first) { first = false; initial++; return; }
        const online = new Map(list.map((peer) => [peer.id, peer.status?.online ?? false]));
        for (const listener of listeners) listener(online);
      },
      error: (error) => { console.error('subscription error', error); },
      complete: () => undefined,
    });
  }
  while (initial < SUBSCRIBERS && performance.now() - subscribeStarted < 120_000) await sleep(20);
  const subscribeSeconds = (performance.now() - subscribeStarted) / 1000;
  // Let the monitor publish its first full round (every spoke offline) before measuring.
  await sleep(POLL_MS * 1.5);

  let peakRss = server.rssMb();
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, server!.rssMb()); } catch { /* exited */ } }, 100);
  const latencies: number[] = [];
  let missed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const target = spokes[(round * 197) % spokes.length]!;
    const received = new Array<number | null>(SUBSCRIBERS).fill(null);
    let count = 0;
    const t0 = Date.now();
    const done = new Promise<void>((resolve) => {
      // Listeners are shared; each round counts one notice per subscriber via its index.
      let next = 0;
      const seen = new Set<number>();
      listeners.length = 0;
      for (let s = 0; s < SUBSCRIBERS; s++) {
        const index = s;
        listeners.push((online) => {
          if (seen.has(index) || online.get(target.id) !== true) return;
          seen.add(index);
          received[index] = Date.now() - t0;
          count++;
          next++;
          if (count === SUBSCRIBERS) resolve();
        });
      }
    });
    await fleet.handshake(0, target.publicKey, 0);
    await Promise.race([done, sleep(POLL_MS * 4)]);
    for (const ms of received) if (ms === null) missed++; else latencies.push(ms);
    // Rounds land at different points of the poll cycle.
    await sleep(300 + round * 370);
  }
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  const max = latencies[latencies.length - 1] ?? NaN;
  metrics.push(
    { bench: 'live', name: `handshake -> all ${SUBSCRIBERS} subscribers: p50`, value: round(percentile(latencies, 50)), unit: 'ms', note: `${ROUNDS} rounds, poll interval ${POLL_MS} ms` },
    { bench: 'live', name: `handshake -> all ${SUBSCRIBERS} subscribers: max`, value: round(max), unit: 'ms', target: `< ${POLL_MS + 250} ms (poll + 250)`, met: max < POLL_MS + 250 && missed === 0, note: `p99 ${round(percentile(latencies, 99))} ms; ${missed} notices missed` },
    { bench: 'live', name: `server RSS with ${PEERS} peers, ${SUBSCRIBERS} subscribers (peak)`, value: round(peakRss), unit: 'MB', target: '< 200 MB', met: peakRss < 200, note: `idle after start ${round(rssIdle)} MB; ${SUBSCRIBERS} initial lists in ${round(subscribeSeconds, 1)} s` },
  );
} finally {
  await Promise.all(clients.map((ws) => ws.dispose()));
  await server?.stop();
  await fleet?.stop();
}
report(metrics);
process.exit(0);
