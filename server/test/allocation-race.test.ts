// Concurrent addPeer across two app replicas sharing one database. Inside one process the
// per-WAN lock serialises allocation, so this is the test that exercises the unique
// (wanId, tunnelIp) constraint and the retry: on PostgreSQL (a private cluster) the two
// replicas' writers really race for the same first free address (without the retry, adds
// fail with CONFLICT); on SQLite (one file) the database's write lock serialises them, and
// the test checks the same outcome.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';

const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { tunnelIp } } }`;

interface Replica { app: App; graphqlUrl: string }

async function startReplicas(options: { dataDirs: [string, string]; databaseUrl?: string }): Promise<Replica[]> {
  const env = { ...process.env, MESHPLANE_MASTER_KEY: randomBytes(32).toString('base64'), MESHPLANE_CONFIG: '', DATABASE_URL: '', REDIS_URL: '' };
  const replicas: Replica[] = [];
  for (const dataDir of options.dataDirs) {
    const app = await buildApp({ dataDir, port: 0, host: '127.0.0.1', web: false, monitor: false, env, logger: createLogger('silent'), ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}) });
    replicas.push({ app, graphqlUrl: (await app.start()).graphqlUrl });
  }
  return replicas;
}

/**
 * Fires `adds` addPeer calls at once, alternating between the replicas (one admin session,
 * valid on both), then a burst that overfills the range. Every add must either get its own
 * address or, once the range is full, POOL_EXHAUSTED: never a duplicate, never another error.
 */
async function race(replicas: Replica[], usable: number, adds: number): Promise<void> {
  const [a] = replicas as [Replica];
  const admin = await registerAdmin(a.graphqlUrl);
  const clients = replicas.map((replica) => new GraphQLTestClient(replica.graphqlUrl));
  const cookie = admin.sessionCookie!;
  const send = (i: number, name: string) => fetch((clients[i % clients.length] as GraphQLTestClient).url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ query: ADD_PEER, variables: { wanId, input: { name } } }),
  }).then((response) => response.json() as Promise<{ data?: { addPeer: { peer: { tunnelIp: string } } }; errors?: Array<{ extensions?: { code?: string } }> }>);

  const cidrBits = 32 - Math.ceil(Math.log2(usable + 2));
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name: 'race', tunnelCidr: `10.40.0.0/${cidrBits}` } });
  const wanId = createWan.wan.id;

  const first = await Promise.all(Array.from({ length: adds }, (_, i) => send(i, `p${i}`)));
  expect(first.flatMap((result) => result.errors ?? [])).toEqual([]);
  expect(new Set(first.map((result) => result.data!.addPeer.peer.tunnelIp)).size).toBe(adds);

  const overflow = usable - adds + 10;
  const second = await Promise.all(Array.from({ length: overflow }, (_, i) => send(i, `q${i}`)));
  const codes = second.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK');
  expect(codes.filter((code) => code !== 'OK' && code !== 'POOL_EXHAUSTED')).toEqual([]);
  expect(codes.filter((code) => code === 'OK')).toHaveLength(usable - adds);

  const stored = await a.app.database.prisma.peer.findMany({ where: { wanId }, select: { tunnelIp: true } });
  expect(stored).toHaveLength(usable);
  expect(new Set(stored.map((row) => row.tunnelIp)).size).toBe(usable);
}

const temporaryDirs: string[] = [];
const tempDir = (label: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `meshplane-race-${label}-`));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('tunnel address allocation racing across two replicas', () => {
  it('on one SQLite file: 100 concurrent adds get 100 distinct addresses, then POOL_EXHAUSTED', async () => {
    const dataDir = tempDir('sqlite');
    const replicas = await startReplicas({ dataDirs: [dataDir, dataDir] });
    try {
      await race(replicas, 126, 100);
    } finally {
      for (const replica of replicas.reverse()) await replica.app.stop();
    }
  }, 120_000);

  const pgBin = postgresOrSkip('PostgreSQL allocation race (test/allocation-race.test.ts)');
  it.skipIf(!pgBin)('on PostgreSQL: 100 concurrent adds get 100 distinct addresses, then POOL_EXHAUSTED', async () => {
    let cluster: PostgresCluster | undefined;
    let replicas: Replica[] = [];
    try {
      cluster = await startPostgres({ binDir: pgBin!, database: 'meshplane_race' });
      replicas = await startReplicas({ dataDirs: [tempDir('pg-a'), tempDir('pg-b')], databaseUrl: cluster.url });
      await race(replicas, 126, 100);
    } finally {
      for (const replica of replicas.reverse()) await replica.app.stop();
      await cluster?.stop();
    }
  }, 180_000);
});
