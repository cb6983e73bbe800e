// Bench 2: the WAN page query (the web UI's WanPage document: WAN settings, staleness,
// topology graph, conflicts, peers with their config status; reachability is fetched per
// peer on demand, not by this document) on WANs of 100
// and 1,000 peers: latency percentiles and SQL statements per request, which must not
// grow with the number of peers (no N+1). A second query adds every peer's live status.
import { createWan, seedPeers, sql, startBenchApp } from './app.js';
import { percentile, report, round, wanPageDocument, type Metric } from './lib.js';

const SIZES = [100, 1000];
const MAX_REQUESTS = 40;
const MAX_SECONDS_PER_QUERY = 15;

const STATUS_FIELDS = 'status { online lastHandshake endpoint rxBytes txBytes observedAt }';

/**
 * The page's core: WAN settings, staleness, conflicts, the topology graph and every peer
 * with its config status and live status.
 */
const WAN_CORE = `query WanCore($id: ID!) {
  wan(id: $id) {
    id name tunnelCidr topology staleCount
    conflicts { code severity message peerIds subnetIds cidrs }
    topologyGraph { nodes { peerId name role tunnelIp endpoint cgnat } edges { from to } }
    peers(first: 1000) { edges { node { id name role tunnelIp endpointHost endpointPort keyCustody configStatus device { id name kind } ${STATUS_FIELDS} } } pageInfo { hasNextPage } }
  }
}`;

async function measure(size: number): Promise<Metric[]> {
  const bench = await startBenchApp();
  try {
    const wanId = await createWan(bench.admin, `api-${size}`, { topology: 'HUB_SPOKE' });
    const seedStarted = performance.now();
    await seedPeers(bench, wanId, size);
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const metrics: Metric[] = [];
    for (const [label, query] of [['WAN page core (peers + status + staleness + conflicts)', WAN_CORE], ['WanPage document (web UI)', wanPageDocument()]] as const) {
      const times: number[] = [];
      const statements: number[] = [];
      let bytes = 0;
      const started = performance.now();
      for (let i = 0; times.length < MAX_REQUESTS && (times.length < 1 || performance.now() - started < MAX_SECONDS_PER_QUERY * 1000); i++) {
        const before = sql.statements;
        const t0 = performance.now();
        const response = await fetch(bench.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: bench.admin.sessionCookie ?? '' },
          body: JSON.stringify({ query, variables: { id: wanId } }),
        });
        const text = await response.text();
        const elapsed = performance.now() - t0;
        const parsed = JSON.parse(text) as { errors?: unknown[]; data?: { wan?: { peers?: { edges?: unknown[] } } } };
        if (parsed.errors?.length) throw new Error(`page errors: ${JSON.stringify(parsed.errors).slice(0, 500)}`);
        if (parsed.data?.wan?.peers?.edges?.length !== size) throw new Error(`WanPage returned ${parsed.data?.wan?.peers?.edges?.length} peers, expected ${size}`);
        if (i === 0 && elapsed < 5000) continue; // warm-up (a request slower than 5 s counts: one is enough)
        times.push(elapsed);
        statements.push(sql.statements - before);
        bytes = text.length;
      }
      times.sort((a, b) => a - b);
      const p50 = percentile(times, 50);
      const stmts = Math.max(...statements);
      metrics.push(
        { bench: 'api', name: `${label}, ${size} peers: p50`, value: round(p50), unit: 'ms', ...(size === 1000 && label.startsWith('WAN page core') ? { target: '< 50 ms', met: p50 < 50 } : {}), note: `${times.length} requests, response ${round(bytes / 1024 / 1024, 2)} MB` },
        { bench: 'api', name: `${label}, ${size} peers: p99`, value: round(percentile(times, 99)), unit: 'ms' },
        { bench: 'api', name: `${label}, ${size} peers: SQL statements / request`, value: stmts, unit: 'stmts', note: `min ${Math.min(...statements)}; seeded in ${round(seedSeconds)} s` },
      );
    }
    return metrics;
  } finally {
    await bench.stop();
  }
}

const metrics: Metric[] = [];
for (const size of SIZES) metrics.push(...(await measure(size)));
// No N+1: the statement count must not depend on the number of peers.
for (const label of ['WAN page core (peers + status + staleness + conflicts)', 'WanPage document (web UI)']) {
  const counts = SIZES.map((size) => metrics.find((m) => m.name === `${label}, ${size} peers: SQL statements / request`)?.value ?? NaN);
  // Prisma splits an IN list at 999 bind parameters on SQLite: one more statement per 999
  // peers is chunking, not N+1 (BENCH_SQL_TRACE=1 shows the statements).
  const chunks = (size: number) => Math.ceil(size / 999);
  const allowed = chunks(SIZES[SIZES.length - 1] as number) - chunks(SIZES[0] as number);
  const growth = (counts[counts.length - 1] as number) - (counts[0] as number);
  metrics.push({ bench: 'api', name: `${label}: SQL statements at ${SIZES.join(' vs ')} peers`, value: counts[counts.length - 1] as number, unit: 'stmts', target: 'no N+1 (<= +1 per 999 peers: IN-list chunking)', met: growth <= allowed, note: counts.join(' vs ') });
}
report(metrics);
process.exit(0);
