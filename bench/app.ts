// An in-process Meshplane for the benches: buildApp on a loopback port with its own data
// directory (SQLite) or a given PostgreSQL URL, an admin client, and a count of the SQL
// statements the driver adapters run (server/test/support/sql-statements.ts).
import fs from 'node:fs';
import path from 'node:path';
import { buildApp, type App, type AppOptions } from '../server/src/app.js';
import { GraphQLTestClient, registerAdmin } from '../server/test/support/graphql.js';
import { generateKeyPair } from '../server/src/domain/keys.js';
import { instrumentSql } from '../server/test/support/sql-statements.js';
import { silentLogger, tempDir } from './lib.js';

export { sql } from '../server/test/support/sql-statements.js';

export interface BenchApp {
  app: App;
  url: string;
  graphqlUrl: string;
  admin: GraphQLTestClient;
  stop(): Promise<void>;
}

export async function startBenchApp(options: { databaseUrl?: string; dataDir?: string; register?: boolean } & Pick<AppOptions, 'driverFactory' | 'monitor' | 'monitorIntervalMs' | 'jobConcurrency'> = {}): Promise<BenchApp> {
  instrumentSql();
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDir('app');
  const app = await buildApp({
    dataDir,
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
    port: 0,
    host: '127.0.0.1',
    web: false,
    monitor: options.monitor ?? false,
    ...(options.monitorIntervalMs ? { monitorIntervalMs: options.monitorIntervalMs } : {}),
    ...(options.driverFactory ? { driverFactory: options.driverFactory } : {}),
    ...(options.jobConcurrency ? { jobConcurrency: options.jobConcurrency } : {}),
    logger: await silentLogger(),
    env: { ...process.env, MESHPLANE_MASTER_KEY: 'a'.repeat(64), DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: '' },
  });
  const { url, graphqlUrl } = await app.start();
  const admin = options.register === false ? new GraphQLTestClient(graphqlUrl) : await registerAdmin(graphqlUrl);
  return {
    app, url, graphqlUrl, admin,
    async stop() {
      await app.stop();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
export const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp } } }`;

export async function createWan(client: GraphQLTestClient, name: string, input: Record<string, unknown> = {}): Promise<string> {
  const data = await client.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name, tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24', ...input } });
  return data.createWan.wan.id;
}

/** Adds peers through GraphQL, `concurrency` at a time; returns their ids in input order. */
export async function addPeers(client: GraphQLTestClient, wanId: string, inputs: Record<string, unknown>[], concurrency = 8): Promise<string[]> {
  const ids: string[] = new Array(inputs.length);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < inputs.length) {
      const index = next++;
      const data = await client.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: inputs[index] });
      ids[index] = data.addPeer.peer.id;
    }
  }));
  return ids;
}

export function dataDirOf(app: BenchApp): string {
  return path.dirname(app.app.database.url.replace(/^file:/, ''));
}

/**
 * Writes `size` peers straight into the database (one hub with an endpoint, sites of which
 * every third has an endpoint and every tenth a LAN): far quicker than 1,000 addPeer calls
 * for benches that only read. Keys are real and sealed like the service seals them.
 */
export async function seedPeers(bench: BenchApp | SeedTarget, wanId: string, size: number, hostOf?: (index: number) => Partial<{ deviceId: string; id: string }>): Promise<Array<{ id: string; publicKey: string }>> {
  const { prisma, secrets } = 'app' in bench ? { prisma: bench.app.database.prisma, secrets: bench.app.services.secrets } : bench;
  const rows = Array.from({ length: size }, (_, i) => {
    const pair = generateKeyPair();
    const octet = i + 1;
    return {
      id: `bench-peer-${String(i).padStart(5, '0')}`,
      wanId,
      name: i === 0 ? 'hub' : `site-${i}`,
      role: i === 0 ? 'HUB' as const : 'SITE' as const,
      tunnelIp: `10.0.${octet >> 8}.${octet & 255}`,
      publicKey: pair.publicKey,
      privateKeyEnc: secrets.seal(pair.privateKey),
      endpointHost: i === 0 ? 'hub.example.net' : i % 3 === 0 ? `site${i}.example.net` : null,
      endpointPort: i === 0 ? 51820 : null,
      ...(hostOf ? hostOf(i) : {}),
    };
  });
  for (let i = 0; i < rows.length; i += 200) await prisma.peer.createMany({ data: rows.slice(i, i + 200) });
  const subnets = rows.filter((_, i) => i > 0 && i % 10 === 0).map((row, j) => ({ peerId: row.id, cidr: `10.${200 + (j >> 8)}.${j & 255}.0/24`, description: 'office' }));
  if (subnets.length > 0) await prisma.subnet.createMany({ data: subnets });
  return rows.map((row) => ({ id: row.id, publicKey: row.publicKey }));
}

/** Where seedPeers writes when the server runs in another process. */
export interface SeedTarget {
  prisma: App['database']['prisma'];
  secrets: { seal(plaintext: string): string };
}
