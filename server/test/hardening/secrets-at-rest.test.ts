// Secrets at rest: after creating peers with server-generated keys (one rotated), preshared
// keys, and devices with a password and an API key, then deploying to a RouterOS simulator
// (deploy, verify, a monitor poll, a deploy with a wrong device password: job logs and steps,
// Deployment.desired, device audit entries, driver errors), the raw SQLite files (database,
// WAL), the log and a pg_dump of a PostgreSQL run contain none of those secrets, in plain text
// nor as base64, base64url or hex of their bytes; every ciphertext names the master key it
// was sealed with.
// The generated master key file is 0600, the database file owner-only, and the first start
// warns to back the key up (later starts do not).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { createLogger } from '../../src/infra/logger.js';
import { decodeKey, loadSecretBox, masterKeyFile, SecretBox } from '../../src/infra/crypto/secret-box.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { confValues, DEVICE_PASSWORD, downloadConfig, seedOverlay } from '../support/overlay-fixture.js';
import { findPostgres, postgresOrSkip, startPostgres, type PostgresCluster } from '../support/postgres.js';
import { leaks } from '../support/leaks.js';
import { runOnSimulator } from '../support/device-run.js';
import { startRouterOsSimulator, type RouterOsSimulator } from '../sim/routeros/index.js';

const run = promisify(execFile);
const API_KEY = 'pfSense-api-key-0123456789abcdef;$(x)';
const ADMIN_PASSWORD = 'correct horse battery staple';

/** Creates every kind of secret through the API and a device run on the simulator; returns them by name. */
async function createSecrets(admin: GraphQLTestClient, name: string, app: App, sim: RouterOsSimulator): Promise<Map<string, string>> {
  const secrets = new Map<string, string>([['admin password', ADMIN_PASSWORD], ['device password', DEVICE_PASSWORD], ['device API key', API_KEY]]);
  const fixture = await seedOverlay(admin, name);
  await admin.ok(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
    input: { name: `${name}-pfsense`, kind: 'PFSENSE', host: '127.0.0.1', port: 9, tls: true, secret: API_KEY },
  });
  const collect = async (label: string, peerId: string) => {
    const conf = await downloadConfig(admin, peerId);
    confValues(conf, 'PrivateKey').forEach((key) => secrets.set(`${label} private key`, key));
    confValues(conf, 'PresharedKey').forEach((key, i) => secrets.set(`${label} preshared key ${i}`, key));
  };
  await collect('hub (before rotation)', fixture.hubId);
  await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: fixture.hubId });
  await collect('hub', fixture.hubId);
  await collect('site', fixture.siteId);
  const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "at-rest" }) { token } }`);
  secrets.set('API token', createApiToken.token);
  secrets.set('session token', admin.sessionCookie!.split('=')[1]!);
  for (const [label, value] of (await runOnSimulator(admin, app, sim, name)).secrets) secrets.set(label, value);
  const keys = [...secrets.keys()];
  expect(keys.filter((key) => key.endsWith('private key'))).toHaveLength(6);
  expect(keys.filter((key) => key.includes('preshared key')).length).toBeGreaterThanOrEqual(2);
  return secrets;
}

const SEALED = /^v1:([0-9a-f]{12}):[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]*$/;

/** Every sealed column's values carry the current key's id. */
async function expectSealedWith(app: App, keyId: string): Promise<void> {
  const prisma = app.database.prisma;
  const peers = (await prisma.peer.findMany({ where: { privateKeyEnc: { not: null } }, select: { privateKeyEnc: true } })).map((row) => row.privateKeyEnc!);
  const psks = (await prisma.presharedKey.findMany({ select: { keyEnc: true } })).map((row) => row.keyEnc);
  const devices = (await prisma.device.findMany({ where: { secretEnc: { not: null } }, select: { secretEnc: true } })).map((row) => row.secretEnc!);
  // What was deployed keeps its keys sealed inside the JSON.
  const deployed = (await prisma.deployment.findMany({ select: { desired: true } })).flatMap((row) => [...row.desired.matchAll(/v1:[0-9a-f]{12}:[^"]+/g)].map((match) => match[0]));
  expect(peers.length).toBeGreaterThanOrEqual(2);
  expect(psks.length).toBeGreaterThanOrEqual(1);
  expect(devices.length).toBe(4);
  expect(deployed.length).toBeGreaterThanOrEqual(2);
  for (const sealed of [...peers, ...psks, ...devices, ...deployed]) {
    expect(sealed).toMatch(SEALED);
    expect(SEALED.exec(sealed)![1]).toBe(keyId);
  }
}

describe('secrets at rest: SQLite', () => {
  let t: TestApp;
  let sim: RouterOsSimulator;
  let secrets: Map<string, string>;
  const log: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (log.push(chunk.toString('utf8')), done()) });
    t = await startTestApp({ logger: createLogger('info', sink), env: { MESHPLANE_HANDSHAKE_PROBE_MS: '300' } });
    sim = await startRouterOsSimulator();
    secrets = await createSecrets(await registerAdmin(t.graphqlUrl), 'sqlite', t.app, sim);
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
    await sim?.stop();
  });

  it('writes no secret into the database file or its WAL, in any encoding', async () => {
    await t.app.database.prisma.$queryRawUnsafe('PRAGMA wal_checkpoint(PASSIVE)');
    const files = fs.readdirSync(t.dataDir).filter((name) => name.startsWith('meshplane.db'));
    expect(files).toContain('meshplane.db');
    const raw = Buffer.concat(files.map((name) => fs.readFileSync(path.join(t.dataDir, name))));
    expect(raw.includes(Buffer.from('v1:'))).toBe(true);
    expect(leaks(raw, secrets)).toEqual([]);
  });

  it('writes no secret into the log of the run, which recorded the driver refusing the wrong password', () => {
    const text = log.join('');
    expect(text).toContain('RouterOS sqlite-sim-wrong (API): login');
    expect(leaks(text, secrets)).toEqual([]);
  });

  it('seals with the generated key file (0600) and says so once, on the first start', async () => {
    const file = masterKeyFile(t.dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await expectSealedWith(t.app, new SecretBox(decodeKey(fs.readFileSync(file, 'utf8'))).keyId);
    const warnings = log.filter((line) => /back it up/.test(line));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, file });
    // A later start with the same data directory finds the key and says nothing.
    const later: string[] = [];
    loadSecretBox({}, t.dataDir, createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => (later.push(chunk.toString('utf8')), done()) })));
    expect(later).toEqual([]);
  });

  it('keeps the database file owner-only', () => {
    for (const name of fs.readdirSync(t.dataDir).filter((entry) => entry.startsWith('meshplane.db'))) {
      expect({ name, mode: (fs.statSync(path.join(t.dataDir, name)).mode & 0o777).toString(8) }).toEqual({ name, mode: '600' });
    }
  });
});

const pgBin = postgresOrSkip('secrets at rest on PostgreSQL');

describe.skipIf(!pgBin)('secrets at rest: PostgreSQL (pg_dump)', () => {
  let cluster: PostgresCluster;
  let sim: RouterOsSimulator;
  let app: App;
  let dataDir: string;
  let secrets: Map<string, string>;
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    cluster = await startPostgres({ binDir: pgBin!, database: 'atrest' });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-atrest-'));
    app = await buildApp({
      dataDir, databaseUrl: cluster.url, port: 0, host: '127.0.0.1', web: false, monitor: false, handshakeProbeMs: 300, logger: createLogger('silent'),
      env: { ...process.env, MESHPLANE_MASTER_KEY: masterKey, MESHPLANE_CONFIG: '', REDIS_URL: '' },
    });
    const { graphqlUrl } = await app.start();
    sim = await startRouterOsSimulator();
    secrets = await createSecrets(await registerAdmin(graphqlUrl), 'pg', app, sim);
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await sim?.stop();
    await cluster?.stop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('dumps no secret in any encoding, and seals with the key from the environment', async () => {
    const found = findPostgres();
    const pgDump = found.available && fs.existsSync(path.join(found.binDir, 'pg_dump')) ? path.join(found.binDir, 'pg_dump') : 'pg_dump';
    const { stdout } = await run(pgDump, ['--dbname', cluster.url, '--no-owner', '--format', 'plain'], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
    const dump = stdout as unknown as Buffer;
    expect(dump.includes(Buffer.from('COPY public."Peer"'))).toBe(true);
    expect(dump.includes(Buffer.from('v1:'))).toBe(true);
    expect(leaks(dump, secrets)).toEqual([]);
    await expectSealedWith(app, new SecretBox(decodeKey(masterKey)).keyId);
    // With the key in the environment, nothing is written to the data directory.
    expect(fs.existsSync(masterKeyFile(dataDir))).toBe(false);
  });
});
