// Bench: finding peers at scale. One hub-and-spoke WAN of 5,000 peers (every seventh bound to a
// device, every tenth with a LAN); the peer table's requests over HTTP (25 rows with the fields
// the table shows, config status and live status included): a search, a search for an address
// inside a LAN, filters, orders and the second page after a cursor. Median and p95 latency and
// the SQL statements per request, which must not depend on the number of peers (compared with
// the same requests on a 500-peer WAN).
import { createWan, seedPeers, sql, startBenchApp, type BenchApp } from './app.js';
import { percentile, report, round, type Metric } from './lib.js';

const SIZES = [500, 5000];
const REQUESTS = 30;
const MAX_SECONDS_PER_CASE = 20;

const QUERY = `query PeerTable($id: ID!, $search: String, $filter: PeerFilter, $orderBy: PeerOrder, $first: Int, $after: String) {
  wan(id: $id) { peers(search: $search, filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount
    edges { node { id name role tunnelIp tunnelIp6 endpointHost endpointPort configStatus device { id name kind } status { online lastHandshake } } }
    pageInfo { hasNextPage endCursor }
  } }
}`;

interface Case { label: string; variables: Record<string, unknown>; secondPage?: boolean }

const CASES: Case[] = [
  { label: 'search name "site-12"', variables: { search: 'site-12' } },
  { label: 'search an address inside a LAN', variables: { search: '10.200.3.77' } },
  { label: 'filter SITE, not stale, no device, tunnel unknown', variables: { filter: { roles: ['SITE'], stale: false, manual: true, tunnel: ['UNKNOWN'] } } },
  { label: 'sort by name, descending', variables: { orderBy: { field: 'NAME', direction: 'DESC' } } },
  { label: 'sort by device', variables: { orderBy: { field: 'DEVICE' } } },
  { label: 'search "site" + filter + sort by config status, 2nd page', variables: { search: 'site', filter: { roles: ['SITE'] }, orderBy: { field: 'CONFIG_STATUS' } }, secondPage: true },
];

async function post(bench: BenchApp, variables: Record<string, unknown>, retried = false): Promise<{ totalCount: number; edges: unknown[]; pageInfo: { endCursor: string | null } }> {
  let response: Response;
  try {
    response = await fetch(bench.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: bench.admin.sessionCookie ?? '' },
      body: JSON.stringify({ query: QUERY, variables }),
    });
  } catch (error) {
    // A kept-alive socket the server closed while seeding took longer than its keep-alive (5 s).
    if (retried || (error as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw error;
    return post(bench, variables, true);
  }
  const parsed = (await response.json()) as { errors?: unknown[]; data?: { wan: { peers: { totalCount: number; edges: unknown[]; pageInfo: { endCursor: string | null } } } } };
  if (parsed.errors?.length) throw new Error(`errors: ${JSON.stringify(parsed.errors).slice(0, 500)}`);
  return parsed.data!.wan.peers;
}

async function measure(size: number): Promise<Metric[]> {
  const bench = await startBenchApp();
  try {
    const wanId = await createWan(bench.admin, `search-${size}`, { topology: 'HUB_SPOKE' });
    const device = await bench.admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge', kind: 'ROUTEROS_API', host: '192.0.2.10', username: 'meshplane', secret: 'bench-secret-1' },
    });
    await seedPeers(bench, wanId, size, (i) => (i % 7 === 3 ? { deviceId: device.createDevice.id } : {}));
    const metrics: Metric[] = [];
    for (const { label, variables, secondPage } of CASES) {
      const base = { id: wanId, first: 25, ...variables };
      const first = await post(bench, base); // warm-up (the first request compiles the WAN's view)
      const asked = secondPage ? { ...base, after: first.pageInfo.endCursor } : base;
      const times: number[] = [];
      const statements: number[] = [];
      let total = 0;
      const started = performance.now();
      while (times.length < REQUESTS && (times.length < 3 || performance.now() - started < MAX_SECONDS_PER_CASE * 1000)) {
        const before = sql.statements;
        const t0 = performance.now();
        total = (await post(bench, asked)).totalCount;
        times.push(performance.now() - t0);
        statements.push(sql.statements - before);
      }
      times.sort((a, b) => a - b);
      metrics.push(
        { bench: 'peer-search', name: `${label}, ${size} peers: median`, value: round(percentile(times, 50)), unit: 'ms', note: `${times.length} requests, ${total} matches` },
        { bench: 'peer-search', name: `${label}, ${size} peers: p95`, value: round(percentile(times, 95)), unit: 'ms' },
        { bench: 'peer-search', name: `${label}, ${size} peers: SQL statements / request`, value: Math.min(...statements), unit: 'stmts', note: `max ${Math.max(...statements)} (background work adds)` },
      );
    }
    return metrics;
  } finally {
    await bench.stop();
  }
}

const metrics: Metric[] = [];
for (const size of SIZES) metrics.push(...(await measure(size)));
for (const { label } of CASES) {
  const counts = SIZES.map((size) => metrics.find((m) => m.name === `${label}, ${size} peers: SQL statements / request`)?.value ?? NaN);
  metrics.push({ bench: 'peer-search', name: `${label}: SQL statements at ${SIZES.join(' vs ')} peers`, value: counts.at(-1) as number, unit: 'stmts', target: 'the same at every size', met: counts.every((count) => count === counts[0]), note: counts.join(' vs ') });
}
report(metrics);
process.exit(0);
