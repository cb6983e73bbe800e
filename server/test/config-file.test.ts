import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

describe('devices declared in MESHPLANE_CONFIG', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let dir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-config-'));
    const file = path.join(dir, 'meshplane.yaml');
    fs.writeFileSync(file, [
      'backend:',
      '  default: edge-1',
      'devices:',
      '  - name: edge-1',
      '    kind: ROUTEROS_API',
      '    host: 192.0.2.1',
      '    port: 8729',
      '    username: meshplane',
      '    password: ${EDGE_PASSWORD}',
      '  - name: fw-1',
      '    kind: PFSENSE',
      '    host: 192.0.2.2',
      '    apiKey: plain-api-key',
      '    tlsVerify: false',
      '',
    ].join('\n'));
    t = await startTestApp({ configFile: file, env: { EDGE_PASSWORD: 'from-the-environment' } });
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(async () => {
    await t.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows both devices and the default backend in GraphQL, with credentials sealed', async () => {
    const data = await admin.ok<{ devices: { edges: Array<{ node: { name: string; kind: string; source: string; hasSecret: boolean; tlsVerify: boolean } }> }; backend: { defaultDevice: { name: string } } }>(
      `{ devices { edges { node { name kind source hasSecret tlsVerify } } } backend { defaultDevice { name } } }`,
    );
    expect(data.devices.edges.map((edge) => edge.node)).toEqual([
      { name: 'edge-1', kind: 'ROUTEROS_API', source: 'config', hasSecret: true, tlsVerify: true },
      { name: 'fw-1', kind: 'PFSENSE', source: 'config', hasSecret: true, tlsVerify: false },
    ]);
    expect(data.backend.defaultDevice.name).toBe('edge-1');
    const rows = await t.app.database.prisma.device.findMany();
    expect(JSON.stringify(rows)).not.toContain('from-the-environment');
    expect(t.app.services.secrets.open(rows.find((row) => row.name === 'edge-1')!.secretEnc!)).toBe('from-the-environment');
  });

  it('binds new peers to the default backend unless they ask to be manual; config devices are read-only in the API', async () => {
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "cfg" }) { wan { id } } }`);
    const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { device { name } } } }`;
    const bound = await admin.ok<{ addPeer: { peer: { device: { name: string } | null } } }>(ADD, { wanId: createWan.wan.id, input: { name: 'site' } });
    expect(bound.addPeer.peer.device?.name).toBe('edge-1');
    const manual = await admin.ok<{ addPeer: { peer: { device: null } } }>(ADD, { wanId: createWan.wan.id, input: { name: 'laptop', deviceId: null } });
    expect(manual.addPeer.peer.device).toBeNull();
    const id = (await t.app.database.prisma.device.findUniqueOrThrow({ where: { name: 'fw-1' } })).id;
    expect(await admin.errorCodes(`mutation ($id: ID!) { updateDevice(id: $id, input: { host: "192.0.2.9" }) { id } }`, { id })).toEqual(['CONFLICT']);
    expect(await admin.errorCodes(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id })).toEqual(['CONFLICT']);
  });
});
