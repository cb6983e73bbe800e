// scripts/rotate-master-key.ts as an operator runs it: against a stopped server's data
// directory, then the server starts again on the new key and serves the same secrets.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/app.js';
import { createLogger } from '../src/infra/logger.js';
import { Writable } from 'node:stream';
import { SecretBox, loadSecretBox, masterKeyFile, sealedKeyId } from '../src/infra/crypto/secret-box.js';
import { resealAllSecrets } from '../src/infra/crypto/rekey.js';
import { openDatabase } from '../src/infra/db/client.js';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { DEVICE_PASSWORD, confValues, downloadConfig, seedOverlay, type OverlayFixture } from './support/overlay-fixture.js';

const serverDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsx = path.join(serverDir, 'node_modules', '.bin', 'tsx');
const run = promisify(execFile);

function rotate(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return run(tsx, ['scripts/rotate-master-key.ts', ...args], {
    cwd: serverDir,
    env: { ...process.env, MESHPLANE_DATA_DIR: dataDir, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_NEW_MASTER_KEY: '', ...env },
  });
}

/** Every sealed value in the database with the key id it names. */
async function sealedValues(app: App): Promise<string[]> {
  const prisma = app.database.prisma;
  const peers = await prisma.peer.findMany({ where: { privateKeyEnc: { not: null } }, select: { privateKeyEnc: true } });
  const psks = await prisma.presharedKey.findMany({ select: { keyEnc: true } });
  const devices = await prisma.device.findMany({ where: { secretEnc: { not: null } }, select: { secretEnc: true } });
  const deployments = await prisma.deployment.findMany({ select: { desired: true } });
  const webhooks = await prisma.webhook.findMany({ select: { secretEnc: true } });
  return [
    ...webhooks.map((row) => row.secretEnc),
    ...peers.map((row) => row.privateKeyEnc!),
    ...psks.map((row) => row.keyEnc),
    ...devices.map((row) => row.secretEnc!),
    ...deployments.flatMap((row) => [...row.desired.matchAll(/v1:[0-9a-f]{12}:[^"]+/g)].map((match) => match[0])),
  ];
}

describe('master key rotation', () => {
  let t: TestApp | null = null;
  let restarted: App | null = null;
  afterEach(async () => {
    await restarted?.stop();
    restarted = null;
    if (t) fs.rmSync(t.dataDir, { recursive: true, force: true });
    t = null;
  });

  let webhookSecret = '';
  let webhookId = '';

  /** A stopped server's data directory with every kind of secret, and what the configs said. */
  async function preparedDataDir(): Promise<{ dataDir: string; fixture: OverlayFixture; hubConf: string; oldKey: string }> {
    t = await startTestApp();
    const admin = await registerAdmin(t.graphqlUrl);
    const fixture = await seedOverlay(admin);
    const hubConf = await downloadConfig(admin, fixture.hubId);
    const { createWebhook } = await admin.ok<{ createWebhook: { secret: string; webhook: { id: string } } }>(
      `mutation { createWebhook(input: { name: "ops", url: "https://hooks.example.com/meshplane", events: ["peer.created"] }) { secret webhook { id } } }`,
    );
    webhookSecret = createWebhook.secret;
    webhookId = createWebhook.webhook.id;
    // Deployment history keeps sealed keys inside JSON: seal two like a deploy would.
    const secrets = t.app.services.secrets;
    await t.app.database.prisma.deployment.create({
      data: { peerId: fixture.hubId, configHash: 'h', success: true, desired: JSON.stringify({ peer: { interface: { privateKey: secrets.seal('deployed-private') }, peers: [{ presharedKey: secrets.seal('deployed-psk') }] } }) },
    });
    await t.app.stop();
    return { dataDir: t.dataDir, fixture, hubConf, oldKey: fs.readFileSync(path.join(t.dataDir, 'master.key'), 'utf8') };
  }

  async function restart(dataDir: string): Promise<{ app: App; admin: GraphQLTestClient }> {
    restarted = await buildApp({ dataDir, port: 0, host: '127.0.0.1', web: false, monitor: false, logger: createLogger('silent'), env: { ...process.env, MESHPLANE_MASTER_KEY: '', DATABASE_URL: '', MESHPLANE_CONFIG: '' } });
    const { graphqlUrl } = await restarted.start();
    const admin = new GraphQLTestClient(graphqlUrl);
    await admin.ok(`mutation { login(input: { email: "admin@example.net", password: "correct horse battery staple" }) { user { id } } }`);
    return { app: restarted, admin };
  }

  it('re-seals every secret under a generated key, keeps the old key file as a backup, and the server serves the same secrets', async () => {
    const { dataDir, fixture, hubConf, oldKey } = await preparedDataDir();
    const oldKeyId = new SecretBox(Buffer.from(oldKey.trim(), 'base64')).keyId;

    const { stdout } = await rotate(dataDir, ['--generate']);
    expect(stdout).toMatch(/2 private keys, 1 preshared keys, 1 device secrets, 1 deployments/);
    const backup = path.join(dataDir, `master.key.${oldKeyId}.bak`);
    expect(fs.readFileSync(backup, 'utf8')).toBe(oldKey);
    expect(fs.statSync(backup).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(dataDir, 'master.key.new'))).toBe(false);

    const { app, admin } = await restart(dataDir);
    const newKeyId = app.services.secrets.keyId;
    expect(newKeyId).not.toBe(oldKeyId);
    const sealed = await sealedValues(app);
    expect(sealed).toHaveLength(7);
    expect(new Set(sealed.map(sealedKeyId))).toEqual(new Set([newKeyId]));

    const conf = await downloadConfig(admin, fixture.hubId);
    expect(confValues(conf, 'PrivateKey')).toEqual(confValues(hubConf, 'PrivateKey'));
    expect(confValues(conf, 'PresharedKey')).toEqual(confValues(hubConf, 'PresharedKey'));
    const device = await app.database.prisma.device.findUniqueOrThrow({ where: { id: fixture.deviceId } });
    expect(app.services.secrets.open(device.secretEnc!)).toBe(DEVICE_PASSWORD);
    const webhook = await app.database.prisma.webhook.findUniqueOrThrow({ where: { id: webhookId } });
    expect(app.services.secrets.open(webhook.secretEnc)).toBe(webhookSecret);
    const deployment = await app.database.prisma.deployment.findFirstOrThrow({ where: { peerId: fixture.hubId } });
    const desired = JSON.parse(deployment.desired) as { peer: { interface: { privateKey: string }; peers: Array<{ presharedKey: string }> } };
    expect(app.services.secrets.open(desired.peer.interface.privateKey)).toBe('deployed-private');
    expect(app.services.secrets.open(desired.peer.peers[0]!.presharedKey)).toBe('deployed-psk');
  });

  it('changes nothing when one secret is sealed with an unknown key (one transaction), and refuses the current key as the new one', async () => {
    const { dataDir, oldKey } = await preparedDataDir();
    const before = await (async () => {
      const { app } = await restart(dataDir);
      const stranger = new SecretBox(randomBytes(32));
      await app.database.prisma.device.create({ data: { name: 'foreign', kind: 'LINUX', host: '192.0.2.20', secretEnc: stranger.seal('x') } });
      const values = await sealedValues(app);
      await app.stop();
      restarted = null;
      return values;
    })();

    const newKey = randomBytes(32).toString('hex');
    await expect(rotate(dataDir, [], { MESHPLANE_NEW_MASTER_KEY: newKey })).rejects.toMatchObject({ stderr: expect.stringMatching(/neither the old .* nor the new .*nothing was changed/) });
    expect(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8')).toBe(oldKey);
    const { app } = await restart(dataDir);
    expect(await sealedValues(app)).toEqual(before);

    await expect(rotate(dataDir, ['--new-key-file', path.join(dataDir, 'master.key')])).rejects.toMatchObject({ stderr: expect.stringMatching(/is the current one/) });
  });

  it('finishes a rotation that crashed between the database commit and the key file swap, and refuses to overwrite its pending key', async () => {
    const { dataDir, fixture, hubConf, oldKey } = await preparedDataDir();
    // The crash: every secret re-sealed with the key in master.key.new, master.key still the old one.
    const pendingKey = randomBytes(32).toString('base64');
    const pendingFile = `${masterKeyFile(dataDir)}.new`;
    fs.writeFileSync(pendingFile, `${pendingKey}\n`, { mode: 0o600 });
    const database = await openDatabase(`file:${path.join(dataDir, 'meshplane.db')}`);
    try {
      await resealAllSecrets(database.prisma, new SecretBox(Buffer.from(oldKey.trim(), 'base64')), new SecretBox(Buffer.from(pendingKey, 'base64')));
    } finally {
      await database.close();
    }

    // A server started now would say so.
    const warnings: string[] = [];
    loadSecretBox({}, dataDir, createLogger('info', new Writable({ write: (chunk: Buffer, _encoding, done) => (warnings.push(chunk.toString('utf8')), done()) })));
    expect(warnings.join('')).toContain('rotation did not finish');

    // --generate would overwrite the only copy of the key the database is sealed with.
    await expect(rotate(dataDir, ['--generate'])).rejects.toMatchObject({ stderr: expect.stringContaining(`Finish it with --new-key-file ${pendingFile}`) });
    expect(fs.readFileSync(pendingFile, 'utf8').trim()).toBe(pendingKey);

    const { stdout } = await rotate(dataDir, ['--new-key-file', pendingFile]);
    expect(stdout).toMatch(/0 private keys, 0 preshared keys, 0 device secrets, 0 deployments/);
    expect(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim()).toBe(pendingKey);
    expect(fs.existsSync(pendingFile)).toBe(false);

    const { app, admin } = await restart(dataDir);
    const conf = await downloadConfig(admin, fixture.hubId);
    expect(confValues(conf, 'PrivateKey')).toEqual(confValues(hubConf, 'PrivateKey'));
    const device = await app.database.prisma.device.findUniqueOrThrow({ where: { id: fixture.deviceId } });
    expect(app.services.secrets.open(device.secretEnc!)).toBe(DEVICE_PASSWORD);
  });
});
