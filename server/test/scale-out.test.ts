// Two replicas behind one PostgreSQL and one Redis: events of one reach subscribers of the
// other, and device work is coordinated through Redis leases (one replica polls).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { postgresOrSkip, startPostgres, type PostgresCluster } from './support/postgres.js';
import { redisOrSkip, startRedis, type RedisServer } from './support/redis.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const pgBin = postgresOrSkip('scale-out tests (test/scale-out.test.ts)');
const redisBin = redisOrSkip('scale-out tests (test/scale-out.test.ts)');

describe.skipIf(!pgBin || !redisBin)('two replicas on PostgreSQL + Redis', () => {
  let cluster: PostgresCluster;
  let redis: RedisServer;
  const replicas: Array<{ app: App; graphqlUrl: string; dataDir: string }> = [];

  beforeAll(async () => {
    [cluster, redis] = await Promise.all([startPostgres({ binDir: pgBin!, database: 'meshplane' }), startRedis(redisBin!)]);
    const env = { ...process.env, REDIS_URL: redis.url, MESHPLANE_MASTER_KEY: randomBytes(32).toString('base64'), MESHPLANE_CONFIG: '' };
    for (let i = 0; i < 2; i++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshplane-replica-${i}-`));
      const app = await buildApp({ dataDir, databaseUrl: cluster.url, port: 0, web: false, env, logger: createLogger('silent'), monitorIntervalMs: 100 });
      const { graphqlUrl } = await app.start();
      replicas.push({ app, graphqlUrl, dataDir });
    }
  });

  afterAll(async () => {
    for (const replica of replicas) {
      await replica.app.stop();
      fs.rmSync(replica.dataDir, { recursive: true, force: true });
    }
    await Promise.all([redis?.stop(), cluster?.stop()]);
  });

  it('delivers a mutation made on replica A to a subscriber of replica B', async () => {
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    const admin = await registerAdmin(a.graphqlUrl);
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "b" }) { token } }`);
    const onB = new GraphQLTestClient(b.graphqlUrl, createApiToken.token).ws();
    const seen: string[] = [];
    let wake = () => undefined as void;
    onB.subscribe<{ wanChanged: { wan: { name: string } | null } }>({ query: `subscription { wanChanged { kind wan { name } } }` }, {
      next: (message) => {
        const name = message.data?.wanChanged.wan?.name;
        if (name) seen.push(name);
        wake();
      },
      error: () => wake(),
      complete: () => wake(),
    });
    // Publish probes from A until B's subscription is live (bounded), then the real change.
    for (let attempt = 0; seen.length === 0 && attempt < 100; attempt++) {
      await admin.ok(`mutation ($name: String!) { createWan(input: { name: $name }) { wan { id } } }`, { name: `probe-${attempt}` });
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    await admin.ok(`mutation { createWan(input: { name: "made-on-a" }) { wan { id } } }`);
    for (let waited = 0; !seen.includes('made-on-a') && waited < 100; waited++) {
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    expect(seen).toContain('made-on-a');
    await onB.dispose();
  });

  it('lets exactly one replica poll devices at a time (a Redis lease, not an in-memory flag)', async () => {
    const before = replicas.map((replica) => replica.app.services.monitor.polls);
    for (let waited = 0; waited < 100; waited++) {
      const polled = replicas.map((replica, i) => replica.app.services.monitor.polls - before[i]!);
      if (polled.some((count) => count >= 5)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const polled = replicas.map((replica, i) => replica.app.services.monitor.polls - before[i]!);
    expect(polled.filter((count) => count > 0)).toHaveLength(1);
    expect(Math.max(...polled)).toBeGreaterThanOrEqual(5);
  });
});
