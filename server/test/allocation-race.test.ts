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

const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { tunnelIp tunnelIp6 } } }`;

/** Which tunnel range the race fills: the IPv4 one, or the IPv6 one of a dual-stack WAN (its IPv4 range then has room to spare). */
type Family = 4 | 6;

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
async function race(replicas: Replica[], usable: number, adds: number, family: Family = 4): Promise<void> {
  const [a] = replicas as [Replica];
  const admin = await registerAdmin(a.graphqlUrl);
  const clients = replicas.map((replica) => new GraphQLTestClient(replica.graphqlUrl));
  const cookie = admin.sessionCookie!;
  // In the IPv6 race each add asks for its own IPv4 address, so only the IPv6 allocation (and
  // its unique constraint) decides who collides: the IPv4 one cannot catch the race for it.
  let asked = 0;
  const input = (name: string) => (family === 4 ? { name } : { name, tunnelIp: `10.40.${1 + Math.floor(asked / 200)}.${(asked++ % 200) + 1}` });
  const send = (i: number, name: string) => fetch((clients[i % clients.length] as GraphQLTestClient).url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ query: ADD_PEER, variables: { wanId, input: input(name) } }),
  }).then((response) => response.json() as Promise<{ data?: { addPeer: { peer: { tunnelIp: string; tunnelIp6: string | null } } }; errors?: Array<{ extensions?: { code?: string } }> }>);

  // IPv4 leaves the network and broadcast addresses out; IPv6 only its first (subnet-router anycast).
  const range = family === 4
    ? { tunnelCidr: `10.40.0.0/${32 - Math.ceil(Math.log2(usable + 2))}` }
    : { tunnelCidr: '10.40.0.0/22', tunnelCidr6: `fd40::/${128 - Math.ceil(Math.log2(usable + 1))}`, servicesCidr6: 'fd40:5::/64', natPool6: 'fd40:8000::/49' };
  const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`, { input: { name: 'race', ...range } });
  const wanId = createWan.wan.id;
  const addressOf = (peer: { tunnelIp: string; tunnelIp6: string | null }) => (family === 4 ? peer.tunnelIp : peer.tunnelIp6);

  const first = await Promise.all(Array.from({ length: adds }, (_, i) => send(i, `p${i}`)));
  expect(first.flatMap((result) => result.errors ?? [])).toEqual([]);
  expect(new Set(first.map((result) => addressOf(result.data!.addPeer.peer))).size).toBe(adds);
  // The IPv4 addresses allocated beside the IPv6 ones are distinct too.
  if (family === 6) expect(new Set(first.map((result) => result.data!.addPeer.peer.tunnelIp)).size).toBe(adds);

  const overflow = usable - adds + 10;
  const second = await Promise.all(Array.from({ length: overflow }, (_, i) => send(i, `q${i}`)));
  const codes = second.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK');
  expect(codes.filter((code) => code !== 'OK' && code !== 'POOL_EXHAUSTED')).toEqual([]);
  expect(codes.filter((code) => code === 'OK')).toHaveLength(usable - adds);

  const stored = await a.app.database.prisma.peer.findMany({ where: { wanId }, select: { tunnelIp: true, tunnelIp6: true } });
  expect(stored).toHaveLength(usable);
  expect(new Set(stored.map((row) => row.tunnelIp)).size).toBe(usable);
  if (family === 6) {
    expect(stored.every((row) => row.tunnelIp6 !== null)).toBe(true);
    expect(new Set(stored.map((row) => row.tunnelIp6)).size).toBe(usable);
  }
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

  it('on one SQLite file, IPv6: 100 concurrent adds to a dual-stack WAN get 100 distinct IPv6 addresses, then POOL_EXHAUSTED', async () => {
    const dataDir = tempDir('sqlite6');
    const replicas = await startReplicas({ dataDirs: [dataDir, dataDir] });
    try {
      await race(replicas, 127, 100, 6);
    } finally {
      for (const replica of replicas.reverse()) await replica.app.stop();
    }
  }, 120_000);

  const pgBin = postgresOrSkip('PostgreSQL allocation race (test/allocation-race.test.ts)');
  for (const family of [4, 6] as const) {
    it.skipIf(!pgBin)(`on PostgreSQL, IPv${family}: 100 concurrent adds get 100 distinct addresses, then POOL_EXHAUSTED`, async () => {
      let cluster: PostgresCluster | undefined;
      let replicas: Replica[] = [];
      try {
        cluster = await startPostgres({ binDir: pgBin!, database: 'meshplane_race' });
        replicas = await startReplicas({ dataDirs: [tempDir('pg-a'), tempDir('pg-b')], databaseUrl: cluster.url });
        await race(replicas, family === 4 ? 126 : 127, 100, family);
      } finally {
        for (const replica of replicas.reverse()) await replica.app.stop();
        await cluster?.stop();
      }
    }, 180_000);
  }
});
