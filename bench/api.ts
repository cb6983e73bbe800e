// Bench 2: the WAN page on WANs of 100, 1,000 and 10,000 peers: latency percentiles and SQL
// statements per request, which must not grow with the number of peers (no N+1).
//   - First view (every size): what the web UI asks when the page opens, its WanPage document
//     (settings, counts, stale count, topology summary, the first conflicts) then the peer
//     table's first page (PeerTable, 25 peers), one after the other as the browser does.
//   - Full page (100 and 1,000 peers): the core of the whole page (settings, staleness,
//     conflicts, the topology graph, 1,000 peers with config status and live status) and the
//     web UI's WanDetails (graph and peer list, read by the page for a small WAN).
// Reachability is fetched per peer on demand, by none of these.
import os from 'node:os';
import { createWan, seedPeers, sql, startBenchApp, type BenchApp } from './app.js';
import { percentile, report, round, webDocument, type Metric } from './lib.js';

const FULL_SIZES = [100, 1000];
const FIRST_VIEW_SIZES = [100, 1000, 10_000];
const MAX_REQUESTS = 40;
const MAX_SECONDS_PER_QUERY = 15;
const PAGE_SIZE = 25;

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

const CORE = 'WAN page core (settings, staleness, conflicts, graph, 1,000 peers with status)';
const DETAILS = 'WanDetails document (web UI: graph + peer list)';
const FIRST_VIEW = 'first view (web UI: WanPage + PeerTable page of 25)';

type Check = (data: { wan?: Record<string, unknown> }) => string | null;

interface Request { query: string; variables: Record<string, unknown>; check: Check }

async function post(bench: BenchApp, request: Request): Promise<number> {
  const send = () => fetch(bench.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: bench.admin.sessionCookie ?? '' },
    body: JSON.stringify({ query: request.query, variables: request.variables }),
  });
  // A kept-alive socket the server closed while the bench seeded (its 5 s keep-alive) fails once.
  const response = await send().catch(() => send());
  const text = await response.text();
  const parsed = JSON.parse(text) as { errors?: unknown[]; data?: { wan?: Record<string, unknown> } };
  if (parsed.errors?.length) throw new Error(`errors: ${JSON.stringify(parsed.errors).slice(0, 500)}`);
  const problem = request.check(parsed.data ?? {});
  if (problem) throw new Error(problem);
  return text.length;
}

const edgesOf = (wan: Record<string, unknown> | undefined) => (wan?.peers as { edges?: unknown[] } | undefined)?.edges?.length;

/** Each round runs the requests one after the other; p50/p99 of the rounds' total time. */
async function timeRounds(bench: BenchApp, label: string, size: number, requests: Request[], target?: string): Promise<Metric[]> {
  const times: number[] = [];
  const statements: number[] = [];
  let bytes = 0;
  const started = performance.now();
  for (let i = 0; times.length < MAX_REQUESTS && (times.length < 1 || performance.now() - started < MAX_SECONDS_PER_QUERY * 1000); i++) {
    const before = sql.statements;
    const t0 = performance.now();
    let roundBytes = 0;
    for (const request of requests) roundBytes += await post(bench, request);
    const elapsed = performance.now() - t0;
    if (i === 0 && elapsed < 5000) continue; // warm-up (a round slower than 5 s counts: one is enough)
    times.push(elapsed);
    statements.push(sql.statements - before);
    bytes = roundBytes;
  }
  times.sort((a, b) => a - b);
  const p50 = percentile(times, 50);
  const load = os.loadavg()[0]?.toFixed(2);
  return [
    { bench: 'api', name: `${label}, ${size} peers: p50`, value: round(p50), unit: 'ms', ...(target ? { target, met: p50 < 50 } : {}), note: `${times.length} rounds, response ${round(bytes / 1024 / 1024, 2)} MB, load ${load}` },
    { bench: 'api', name: `${label}, ${size} peers: p99`, value: round(percentile(times, 99)), unit: 'ms' },
    { bench: 'api', name: `${label}, ${size} peers: SQL statements / request`, value: Math.min(...statements), unit: 'stmts', note: `max ${Math.max(...statements)} (the counter also sees background work)` },
  ];
}

async function measure(size: number): Promise<Metric[]> {
  const bench = await startBenchApp();
  try {
    const wanId = await createWan(bench.admin, `api-${size}`, { topology: 'HUB_SPOKE' });
    const seedStarted = performance.now();
    await seedPeers(bench, wanId, size);
    const seeded = `seeded in ${round((performance.now() - seedStarted) / 1000)} s`;
    const id = { id: wanId };
    const metrics: Metric[] = [];
    const firstView: Request[] = [
      { query: webDocument('WanPage'), variables: id, check: ({ wan }) => (wan?.peerCount === size ? null : `WanPage counted ${String(wan?.peerCount)} peers, expected ${size}`) },
      {
        query: webDocument('PeerTable'),
        variables: { ...id, orderBy: { field: 'TUNNEL_IP', direction: 'ASC' }, first: PAGE_SIZE },
        check: ({ wan }) => (edgesOf(wan) === Math.min(PAGE_SIZE, size) ? null : `PeerTable returned ${edgesOf(wan)} peers`),
      },
    ];
    metrics.push(...(await timeRounds(bench, FIRST_VIEW, size, firstView, size === 10_000 ? '< 50 ms' : undefined)));
    if (FULL_SIZES.includes(size)) {
      const all: Check = ({ wan }) => (edgesOf(wan) === size ? null : `returned ${edgesOf(wan)} peers, expected ${size}`);
      metrics.push(...(await timeRounds(bench, CORE, size, [{ query: WAN_CORE, variables: id, check: all }], size === 1000 ? '< 50 ms' : undefined)));
      metrics.push(...(await timeRounds(bench, DETAILS, size, [{ query: webDocument('WanDetails'), variables: id, check: all }])));
    }
    const last = metrics.at(-1);
    if (last) last.note = [last.note, seeded].filter(Boolean).join('; ');
    return metrics;
  } finally {
    await bench.stop();
  }
}

const metrics: Metric[] = [];
for (const size of FIRST_VIEW_SIZES) metrics.push(...(await measure(size)));
// No N+1: the statement count must not depend on the number of peers.
for (const [label, sizes] of [[CORE, FULL_SIZES], [DETAILS, FULL_SIZES], [FIRST_VIEW, FIRST_VIEW_SIZES]] as const) {
  const counts = sizes.map((size) => metrics.find((m) => m.name === `${label}, ${size} peers: SQL statements / request`)?.value ?? NaN);
  // Prisma splits an IN list at 999 bind parameters on SQLite: one more statement per 999
  // peers is chunking, not N+1 (BENCH_SQL_TRACE=1 shows the statements).
  const chunks = (size: number) => Math.ceil(size / 999);
  const allowed = label === FIRST_VIEW ? 0 : chunks(sizes[sizes.length - 1] as number) - chunks(sizes[0] as number);
  const growth = (counts[counts.length - 1] as number) - (counts[0] as number);
  metrics.push({ bench: 'api', name: `${label}: SQL statements at ${sizes.join(' vs ')} peers`, value: counts[counts.length - 1] as number, unit: 'stmts', target: allowed ? 'no N+1 (<= +1 per 999 peers: IN-list chunking)' : 'constant', met: growth <= allowed, note: counts.join(' vs ') });
}
report(metrics);
process.exit(0);
