// /metrics is never open: scrapers need a bearer token, MESHPLANE_METRICS_TOKEN or else the one
// generated into the data directory on first start (metrics.token, 0600), kept across restarts.
// Without it, a wrong one or one without 'Bearer': 401 and no series.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { startTestApp, type TestApp } from './support/app.js';

async function scrape(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/metrics`, { headers });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), type: response.headers.get('content-type'), body: await response.text() };
}

async function expectRefused(url: string, headers: Record<string, string>) {
  const seen = await scrape(url, headers);
  expect(seen.status, JSON.stringify(headers)).toBe(401);
  expect(seen.challenge).toBe('Bearer');
  expect(seen.body).not.toContain('meshplane_');
}

async function expectServed(url: string, token: string) {
  const seen = await scrape(url, { authorization: `Bearer ${token}` });
  expect(seen.status).toBe(200);
  expect(seen.type).toMatch(/^text\/plain/);
  expect(seen.body).toMatch(/^# TYPE meshplane_\w+ /m);
}

describe('/metrics with MESHPLANE_METRICS_TOKEN', () => {
  const token = 'scrape-me-0123456789';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ env: { MESHPLANE_METRICS_TOKEN: token } });
  });
  afterAll(() => t.stop());

  it('refuses scrapers without the token or with another one', async () => {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong' }, { authorization: token }, { authorization: `Bearer ${token}x` }];
    for (const headers of attempts) await expectRefused(t.url, headers);
  });

  it('serves the exposition to a scraper with the token, and writes no token file', async () => {
    await expectServed(t.url, token);
    expect(fs.existsSync(path.join(t.dataDir, 'metrics.token'))).toBe(false);
  });
});

describe('/metrics without MESHPLANE_METRICS_TOKEN: a token generated into the data directory', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-metrics-'));
  const file = path.join(dataDir, 'metrics.token');
  let app: App | null = null;

  async function start(env: NodeJS.ProcessEnv = {}): Promise<string> {
    app = await buildApp({
      dataDir, port: 0, host: '127.0.0.1', web: false, monitor: false, logger: createLogger('silent'),
      env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '', REDIS_URL: '', MESHPLANE_METRICS_TOKEN: '', ...env },
    });
    return (await app.start()).url;
  }

  beforeAll(() => {
    fs.copyFileSync(inject('sqliteTemplate'), path.join(dataDir, 'meshplane.db'));
  });
  afterEach(async () => {
    await app?.stop();
    app = null;
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('refuses scrapers without it; creates it on first start (0600, 32 random bytes) and serves the exposition with it', async () => {
    expect(fs.existsSync(file)).toBe(false);
    const url = await start();
    await expectRefused(url, {});
    await expectRefused(url, { authorization: 'Bearer ' });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const token = fs.readFileSync(file, 'utf8');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(app!.metricsToken).toMatchObject({ source: 'file', file, created: true });
    await expectServed(url, token);
  });

  it('keeps the same token after a restart', async () => {
    const token = fs.readFileSync(file, 'utf8');
    const url = await start();
    expect(app!.metricsToken).toMatchObject({ source: 'file', created: false });
    expect(fs.readFileSync(file, 'utf8')).toBe(token);
    await expectServed(url, token);
    await expectRefused(url, { authorization: `Bearer ${token.slice(1)}` });
  });

  it('MESHPLANE_METRICS_TOKEN overrides the file (the file\'s token is refused then)', async () => {
    const fileToken = fs.readFileSync(file, 'utf8');
    const url = await start({ MESHPLANE_METRICS_TOKEN: 'from-the-environment-0123' });
    await expectServed(url, 'from-the-environment-0123');
    await expectRefused(url, { authorization: `Bearer ${fileToken}` });
    expect(fs.readFileSync(file, 'utf8')).toBe(fileToken);
  });
});
