// An OPNsense device's API key and secret through the device form (GraphQL) and the YAML
// registry: the lines of OPNsense's key file ("key=…", "secret=…") pasted whole, or a secret
// that is not base64, are refused at the field that holds them, without echoing the secret;
// a real key pair (80 base64 characters each) is accepted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin, type GraphQLResult } from './support/graphql.js';
import { loadConfigFile } from '../src/devices/config-file.js';

const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id username hasSecret } }`;
const UPDATE_DEVICE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id } }`;

const KEY = randomBytes(60).toString('base64');
const SECRET = randomBytes(60).toString('base64');
const failure = (result: GraphQLResult) => ({ field: (result.errors?.[0]?.extensions?.details as { field?: string } | undefined)?.field, message: result.errors?.[0]?.message ?? '' });

describe('OPNsense API key and secret', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  const device = (name: string, username: string, secret: string) => ({ input: { name, kind: 'OPNSENSE', host: '192.0.2.30', username, secret } });

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  it('accepts the key and secret as OPNsense issues them (80 base64 characters each)', async () => {
    expect(KEY).toHaveLength(80);
    const created = (await admin.ok<{ createDevice: { username: string; hasSecret: boolean } }>(CREATE_DEVICE, device('opn-ok', KEY, SECRET))).createDevice;
    expect(created).toMatchObject({ username: KEY, hasSecret: true });
  });

  it('refuses the key file\'s lines pasted whole, and a secret that is not base64, at their field and without echoing the secret', async () => {
    const key = failure(await admin.request(CREATE_DEVICE, device('opn-key', `key=${KEY}`, SECRET)));
    expect(key).toEqual({ field: 'username', message: expect.stringContaining('after "key="') });
    const secret = failure(await admin.request(CREATE_DEVICE, device('opn-secret', KEY, `secret=${SECRET}`)));
    expect(secret).toEqual({ field: 'secret', message: expect.stringContaining('after "secret="') });
    const spaced = failure(await admin.request(CREATE_DEVICE, device('opn-spaced', KEY, `${SECRET.slice(0, 40)} ${SECRET.slice(40)}`)));
    expect(spaced).toEqual({ field: 'secret', message: expect.stringContaining('base64') });
    for (const message of [secret.message, spaced.message]) expect(message).not.toContain(SECRET.slice(0, 40));
    expect(await t.app.database.prisma.device.count({ where: { name: { in: ['opn-key', 'opn-secret', 'opn-spaced'] } } })).toBe(0);
  });

  it('refuses a pasted "secret=" line on update too, and keeps the stored secret', async () => {
    const created = (await admin.ok<{ createDevice: { id: string } }>(CREATE_DEVICE, device('opn-upd', KEY, SECRET))).createDevice;
    const before = (await t.app.database.prisma.device.findUniqueOrThrow({ where: { id: created.id } })).secretEnc;
    expect(failure(await admin.request(UPDATE_DEVICE, { id: created.id, input: { secret: `secret=${SECRET}` } })).field).toBe('secret');
    expect((await t.app.database.prisma.device.findUniqueOrThrow({ where: { id: created.id } })).secretEnc).toBe(before);
  });

  it('the YAML registry refuses the same at startup, naming the field and not the secret', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-opn-'));
    try {
      const file = path.join(dir, 'meshplane.yaml');
      fs.writeFileSync(file, ['devices:', '  - name: opn-file', '    kind: OPNSENSE', '    host: 192.0.2.31', `    username: ${KEY}`, '    password: ${OPN_SECRET}', ''].join('\n'));
      const config = loadConfigFile(file, { OPN_SECRET: `secret=${SECRET}` });
      const error = await t.app.services.devices.syncFromConfig(config).then(() => null, (caught: Error) => caught);
      expect(error?.message).toContain('after "secret="');
      expect(error?.message).not.toContain(SECRET.slice(0, 40));
      expect(await t.app.database.prisma.device.count({ where: { name: 'opn-file' } })).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
