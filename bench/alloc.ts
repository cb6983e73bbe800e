// Bench 3: 1,000 addPeer mutations fired at once (HTTP, in one burst) at two app replicas
// sharing one database, on SQLite and on PostgreSQL: throughput, failures, and duplicate
// tunnel IPs (distinct addresses must equal peers). Replicas do not share the in-process
// per-WAN lock, so concurrent allocation really races in the database.
import { findPostgres, startPostgres } from '../server/test/support/postgres.js';
import { ADD_PEER, createWan, startBenchApp, type BenchApp } from './app.js';
import { report, round, tempDir, type Metric } from './lib.js';
import { GraphQLTestClient } from '../server/test/support/graphql.js';
import fs from 'node:fs';

const ADDS = 1000;

async function burst(kind: string, replicas: BenchApp[]): Promise<Metric[]> {
  const [first] = replicas as [BenchApp];
  const wanId = await createWan(first.admin, `alloc-${kind}`);
  // Both replicas act as the same admin (one session cookie works against either).
  const clients = replicas.map((replica) => Object.assign(new GraphQLTestClient(replica.graphqlUrl), {}));
  const cookie = first.admin.sessionCookie ?? '';
  const started = performance.now();
  const results = await Promise.allSettled(Array.from({ length: ADDS }, async (_, i) => {
    const client = clients[i % clients.length] as GraphQLTestClient;
    const response = await fetch(client.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie },
      body: JSON.stringify({ query: ADD_PEER, variables: { wanId, input: { name: `alloc-${i}` } } }),
    });
    const body = (await response.json()) as { errors?: Array<{ message: string; extensions?: { code?: string } }> };
    if (body.errors?.length) throw new Error(`${body.errors[0]?.extensions?.code}: ${body.errors[0]?.message}`);
  }));
  const seconds = (performance.now() - started) / 1000;
  const failures = results.filter((result) => result.status === 'rejected') as PromiseRejectedResult[];
  const rows = await first.app.database.prisma.peer.findMany({ where: { wanId }, select: { tunnelIp: true } });
  const distinct = new Set(rows.map((row) => row.tunnelIp)).size;
  const reasons = [...new Set(failures.map((failure) => String((failure.reason as Error).message).slice(0, 80)))].slice(0, 3);
  return [
    { bench: 'alloc', name: `${kind}: ${ADDS} concurrent addPeer (2 replicas)`, value: round(ADDS / seconds), unit: 'adds/s', note: `${round(seconds, 2)} s in all` },
    { bench: 'alloc', name: `${kind}: failed adds`, value: failures.length, unit: 'adds', ...(reasons.length ? { note: reasons.join(' | ') } : {}) },
    { bench: 'alloc', name: `${kind}: duplicate tunnel IPs`, value: rows.length - distinct, unit: 'dups', target: '0', met: rows.length === distinct && rows.length === ADDS - failures.length, note: `${rows.length} peers, ${distinct} distinct IPs` },
  ];
}

const metrics: Metric[] = [];
{
  const dataDir = tempDir('alloc-sqlite');
  const a = await startBenchApp({ dataDir });
  const b = await startBenchApp({ dataDir, register: false });
  try {
    metrics.push(...(await burst('SQLite', [a, b])));
  } finally {
    await b.stop();
    await a.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
if (findPostgres().available) {
  const cluster = await startPostgres({ database: 'bench_alloc' });
  try {
    const a = await startBenchApp({ databaseUrl: cluster.url });
    const b = await startBenchApp({ databaseUrl: cluster.url, register: false });
    try {
      metrics.push(...(await burst('PostgreSQL', [a, b])));
    } finally {
      await b.stop();
      await a.stop();
    }
  } finally {
    await cluster.stop();
  }
} else {
  metrics.push({ bench: 'alloc', name: 'PostgreSQL', value: NaN, unit: '', note: 'skipped: no PostgreSQL server binaries' });
}
report(metrics);
process.exit(0);
