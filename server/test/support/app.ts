// Starts a real Meshplane app on an ephemeral loopback port with its own data directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger, type Logger } from '../../src/infra/logger.js';
import type { DriverFactory } from '../../src/devices/factory.js';

export interface TestApp {
  app: App;
  url: string;
  graphqlUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startTestApp(options: { web?: boolean; configFile?: string; env?: NodeJS.ProcessEnv; logger?: Logger; driverFactory?: DriverFactory; ldapSyncMs?: number } = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-test-'));
  fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
  const app = await buildApp({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    web: options.web ?? false,
    monitor: false,
    logger: options.logger ?? createLogger(process.env.MESHPLANE_TEST_LOG_LEVEL ?? 'silent'),
    env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', MESHPLANE_METRICS_TOKEN: '', ...options.env },
    ...(options.configFile ? { configFile: options.configFile } : {}),
    ...(options.driverFactory ? { driverFactory: options.driverFactory } : {}),
    ...(options.ldapSyncMs === undefined ? {} : { ldapSyncMs: options.ldapSyncMs }),
  });
  const { url, graphqlUrl } = await app.start();
  return {
    app,
    url,
    graphqlUrl,
    dataDir,
    async stop() {
      await app.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
