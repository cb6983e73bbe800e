// Several Meshplane replicas on one shared database (PostgreSQL, optionally with Redis), each with
// its own data directory and the same master key, as a scale-out deployment runs them. Stopping
// stops every replica and removes its data directory.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/infra/logger.js';

export interface Replica {
  app: App;
  graphqlUrl: string;
  dataDir: string;
}

type AppOptions = NonNullable<Parameters<typeof buildApp>[0]>;

export interface ReplicaSet {
  replicas: Replica[];
  stop(): Promise<void>;
}

/** `count` replicas of `databaseUrl` (Redis pub/sub and leases when `redisUrl` is given); `options` go to every buildApp. */
export async function startReplicas(
  label: string,
  { count = 2, databaseUrl, redisUrl = '', options = {} }: { count?: number; databaseUrl: string; redisUrl?: string; options?: Omit<AppOptions, 'dataDir' | 'databaseUrl' | 'env'> },
): Promise<ReplicaSet> {
  const masterKey = randomBytes(32).toString('base64');
  const metricsToken = randomBytes(32).toString('base64url');
  const replicas: Replica[] = [];
  const stop = async () => {
    for (const replica of replicas.splice(0)) {
      await replica.app.stop();
      fs.rmSync(replica.dataDir, { recursive: true, force: true });
    }
  };
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `meshplane-${label}-${i}-`));
      const app = await buildApp({
        port: 0, web: false, monitor: false, logger: createLogger('silent'), ...options, dataDir, databaseUrl,
        env: { ...process.env, REDIS_URL: redisUrl, MESHPLANE_MASTER_KEY: masterKey, MESHPLANE_CONFIG: '', MESHPLANE_METRICS_TOKEN: metricsToken },
      });
      const { graphqlUrl } = await app.start();
      replicas.push({ app, graphqlUrl, dataDir });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { replicas, stop };
}
