// Bench 7: what a VIEWER's config previews cost everyone else. The server runs as a child
// process (its RSS is its own) with a 201-peer hub-and-spoke WAN. A viewer opens SUBSCRIPTIONS
// subscriptions on one graphql-ws socket, each selecting stalenessChanged { configPreview }
// (every peer's preview first, then the changed ones), and asks for the list of every peer's
// configPreview LISTS times at once, ROUNDS times, while an operator downloads and edits
// configs every EDIT_EVERY_MS so that the subscriptions have news. Meanwhile `{ health }` is
// asked every HEALTH_EVERY_MS: its latency is what the load costs other clients.
import { GraphQLTestClient, registerAdmin } from '../server/test/support/graphql.js';
import { openDatabase } from '../server/src/infra/db/client.js';
import { loadSecretBox } from '../server/src/infra/crypto/secret-box.js';
import path from 'node:path';
import os from 'node:os';
import { createWan, seedPeers } from './app.js';
import { MASTER_KEY, spawnServer, type ServerProcess } from './server-process.js';
import { percentile, report, round, silentLogger, sleep, type Metric } from './lib.js';

const PEERS = 201;
const SUBSCRIPTIONS = 20;
const LISTS = 5;
const ROUNDS = 3;
/** The load ends when every round and every subscription's first payload are done, or at this. */
const LOAD_LIMIT_MS = 60_000;
const HEALTH_EVERY_MS = 50;
const EDIT_EVERY_MS = 500;
const METRICS_TOKEN = 'bench-previews';

const LIST = `query ($id: ID!) { wan(id: $id) { peers(first: 1000) { edges { node { id configPreview } } } } }`;
const SUBSCRIPTION = `subscription ($wanId: ID!) { stalenessChanged(wanId: $wanId) { id configStatus configPreview } }`;

async function compiles(server: ServerProcess): Promise<number> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const match = /^meshplane_overlay_compiles_total (\d+)/m.exec(await response.text());
  return match ? Number(match[1]) : NaN;
}

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

let server: ServerProcess | null = null;
let socket: ReturnType<GraphQLTestClient['ws']> | null = null;
const metrics: Metric[] = [];
try {
  server = await spawnServer({ env: { MESHPLANE_METRICS_TOKEN: METRICS_TOKEN } });
  const rssIdle = server.rssMb();
  const admin = await registerAdmin(server.graphqlUrl);
  await admin.ok(`mutation { createUser(input: { email: "viewer@example.net", name: "Viewer", password: "correct horse battery staple", role: VIEWER }) { id } }`);
  const viewer = new GraphQLTestClient(server.graphqlUrl);
  await viewer.ok(`mutation { login(input: { email: "viewer@example.net", password: "correct horse battery staple" }) { user { id } } }`);
  const { createApiToken } = await viewer.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "bench" }) { token } }`);
  const wanId = await createWan(admin, 'previews', { topology: 'HUB_SPOKE' });
  // The peers go straight into the server's SQLite database (WAL: safe beside the server).
  const database = await openDatabase(`file:${path.join(server.dataDir, 'meshplane.db')}`);
  const secrets = loadSecretBox({ MESHPLANE_MASTER_KEY: MASTER_KEY }, server.dataDir, await silentLogger());
  const peers = await seedPeers({ prisma: database.prisma, secrets }, wanId, PEERS);
  await database.close();
  const [hub, ...spokes] = peers;

  // One list and one subscription first, as a visit to the WAN page would: the load below is
  // measured warm (the server's first statements of each shape are compiled by Prisma once).
  const coldListMs = await timed(() => viewer.ok(LIST, { id: wanId }));
  const warm = viewer.withToken(createApiToken.token).ws();
  await new Promise<void>((resolve) => {
    const stop = warm.subscribe({ query: SUBSCRIPTION, variables: { wanId } }, { next: () => { stop(); resolve(); }, error: () => resolve(), complete: () => resolve() });
  });
  await warm.dispose();

  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push(await timed(() => viewer.ok(`{ health }`)));
  idle.sort((a, b) => a - b);
  const compilesBefore = await compiles(server);

  let peakRss = server.rssMb();
  const sampler = setInterval(() => { try { peakRss = Math.max(peakRss, server!.rssMb()); } catch { /* exited */ } }, 100);
  const loadStarted = performance.now();
  const deadline = loadStarted + LOAD_LIMIT_MS;
  let loadDone = false;
  const running = () => !loadDone && performance.now() < deadline;

  // The subscriptions, all on one socket.
  socket = viewer.withToken(createApiToken.token).ws();
  let payloads = 0;
  let previewsReceived = 0;
  let initial = 0;
  const errors: string[] = [];
  for (let i = 0; i < SUBSCRIPTIONS; i++) {
    let first = true;
    socket.subscribe<{ stalenessChanged: Array<{ configPreview: string }> }>({ query: SUBSCRIPTION, variables: { wanId } }, {
      next: (message) => {
        if (message.errors) errors.push(...message.errors.map((error) => String(error.extensions?.code ?? error.message)));
        payloads++;
        previewsReceived += message.data?.stalenessChanged.length ?? 0;
        if (first) { first = false; initial++; }
      },
      error: (error) => { errors.push(JSON.stringify(error).slice(0, 200)); },
      complete: () => undefined,
    });
  }

  // Preview lists: LISTS at once, ROUNDS times, a second apart.
  const listMs: number[] = [];
  const lists = (async () => {
    for (let round = 0; round < ROUNDS && running(); round++) {
      listMs.push(...await Promise.all(Array.from({ length: LISTS }, () => timed(() => viewer.ok(LIST, { id: wanId })))));
      await sleep(1000);
    }
    while (initial < SUBSCRIPTIONS && running()) await sleep(50);
    loadDone = true;
  })();

  // An operator: a spoke's config downloaded (its status changes), the hub edited (its config changes).
  let edits = 0;
  const editor = (async () => {
    while (running()) {
      const spoke = spokes[edits % spokes.length]!;
      await admin.ok(`mutation ($id: ID!) { downloadPeerConfig(peerId: $id) { hash } }`, { id: spoke.id });
      await admin.ok(`mutation ($id: ID!, $k: Int) { updatePeer(id: $id, input: { keepalive: $k }) { peer { id } } }`, { id: hub!.id, k: 20 + (edits % 40) });
      edits++;
      await sleep(EDIT_EVERY_MS);
    }
  })();

  // { health } as another client sees it.
  const healthMs: number[] = [];
  const prober = (async () => {
    while (running()) {
      const started = performance.now();
      healthMs.push(await timed(() => fetch(server!.graphqlUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ health }"}' }).then((r) => r.text())));
      await sleep(Math.max(0, HEALTH_EVERY_MS - (performance.now() - started)));
    }
  })();

  await Promise.all([lists, editor, prober]);
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  clearInterval(sampler);
  const compileCount = (await compiles(server)) - compilesBefore;

  healthMs.sort((a, b) => a - b);
  listMs.sort((a, b) => a - b);
  const p99 = percentile(healthMs, 99);
  const load = os.loadavg().map((value) => value.toFixed(2)).join(' ');
  metrics.push(
    { bench: 'previews', name: `{ health } under ${LISTS} preview lists + ${SUBSCRIPTIONS} subscriptions: p99`, value: round(p99), unit: 'ms', target: '< 250 ms', met: p99 < 250,
      note: `p50 ${round(percentile(healthMs, 50))} ms, max ${round(healthMs.at(-1) ?? NaN)} ms over ${healthMs.length} probes in ${round(loadSeconds, 1)} s; idle p50 ${round(percentile(idle, 50))} ms; load ${load}` },
    { bench: 'previews', name: `server RSS, ${PEERS}-peer WAN (peak)`, value: round(peakRss), unit: 'MB', target: '< 300 MB', met: peakRss < 300, note: `idle after start ${round(rssIdle)} MB` },
    { bench: 'previews', name: `list of ${PEERS} configPreview: p50`, value: round(percentile(listMs, 50)), unit: 'ms', note: `max ${round(listMs.at(-1) ?? NaN)} ms; ${LISTS} at once, ${ROUNDS} rounds; the first list of the server ${round(coldListMs)} ms` },
    { bench: 'previews', name: 'WAN compiles during the load', value: compileCount, unit: '', note: `${edits} edit rounds (download + hub edit), ${listMs.length} lists, ${payloads} subscription payloads carrying ${previewsReceived} previews (${initial}/${SUBSCRIPTIONS} initial)${errors.length ? `; errors ${[...new Set(errors)].join(', ')}` : ''}` },
  );
} finally {
  await socket?.dispose();
  await server?.stop();
}
report(metrics);
process.exit(0);
