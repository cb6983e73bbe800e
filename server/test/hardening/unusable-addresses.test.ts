// Values that can never be right are refused with the field's code: a peer endpoint that is
// unspecified, loopback, multicast, reserved or the broadcast address (nobody can dial a site
// there), and a LINUX device anywhere but this machine (its driver runs local commands, so
// every poll of another host would fail). Addresses sites behind NAT use stay accepted.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { registerAdmin, type GraphQLTestClient } from '../support/graphql.js';
import { parseConfig } from '../../src/devices/config-file.js';

const REFUSED_ENDPOINTS = [
  '0.0.0.0', '0.1.2.3', '255.255.255.255', '127.0.0.1', '127.255.0.9', '224.0.0.1', '239.255.255.250', '240.0.0.1',
  'localhost', 'LocalHost', 'db.localhost', '::', '::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:0.0.0.0', '::ffff:255.255.255.255',
];
const ACCEPTED_ENDPOINTS = ['1.1.1.1', '1.0.0.0', '100.64.0.1', '100.127.255.254', '10.0.0.1', '192.168.1.1', '172.16.0.1', '198.51.100.7', '223.255.255.254', '2001:db8::1', 'vpn.example.net', 'localhost.example.net'];

const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id endpointHost } } }`;
const UPDATE = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id endpointHost } } }`;
const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id host } }`;
const UPDATE_DEVICE = `mutation ($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { id host } }`;

function refusal(result: { errors?: Array<{ extensions?: { code?: string; details?: unknown } }> }): string {
  const error = result.errors?.[0];
  return `${error?.extensions?.code} ${(error?.extensions?.details as { field?: string } | undefined)?.field}`;
}

describe('values that can never be right', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let wanId: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "endpoints" }) { wan { id } } }`)).createWan.wan.id;
  });
  afterAll(() => t?.stop());

  it('refuses a peer endpoint no peer can be reached at, on add and on update, with INVALID_HOST on endpointHost', async () => {
    const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD, { wanId, input: { name: 'site', endpointHost: '198.51.100.1', endpointPort: 51820 } });
    const outcomes: string[] = [];
    for (const [i, host] of REFUSED_ENDPOINTS.entries()) {
      outcomes.push(`add ${host}: ${refusal(await admin.request(ADD, { wanId, input: { name: `bad-${i}`, endpointHost: host, endpointPort: 51820 } }))}`);
      outcomes.push(`update ${host}: ${refusal(await admin.request(UPDATE, { id: addPeer.peer.id, input: { endpointHost: host } }))}`);
    }
    expect(outcomes).toEqual(REFUSED_ENDPOINTS.flatMap((host) => [`add ${host}: INVALID_HOST endpointHost`, `update ${host}: INVALID_HOST endpointHost`]));
    const peers = await t.app.database.prisma.peer.findMany({ where: { wanId }, select: { name: true, endpointHost: true } });
    expect(peers).toEqual([{ name: 'site', endpointHost: '198.51.100.1' }]);
  });

  it('accepts public, private and CGNAT addresses and hostnames as endpoints', async () => {
    const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD, { wanId, input: { name: 'roaming', endpointHost: '203.0.113.9', endpointPort: 51820 } });
    for (const [i, host] of ACCEPTED_ENDPOINTS.entries()) {
      const added = await admin.ok<{ addPeer: { peer: { endpointHost: string } } }>(ADD, { wanId, input: { name: `ok-${i}`, endpointHost: host, endpointPort: 51820 } });
      expect(added.addPeer.peer.endpointHost).toBe(host);
      const updated = await admin.ok<{ updatePeer: { peer: { endpointHost: string } } }>(UPDATE, { id: addPeer.peer.id, input: { endpointHost: host } });
      expect(updated.updatePeer.peer.endpointHost).toBe(host);
    }
  });

  it('keeps a LINUX device on this machine: another host is INVALID_HOST on host, on create and on update', async () => {
    const outcomes: string[] = [];
    for (const host of ['192.0.2.10', '10.0.0.1', 'router.example.net', '0.0.0.0']) {
      outcomes.push(`${host}: ${refusal(await admin.request(CREATE_DEVICE, { input: { name: `linux-${host}`, kind: 'LINUX', host } }))}`);
    }
    expect(outcomes).toEqual(['192.0.2.10', '10.0.0.1', 'router.example.net', '0.0.0.0'].map((host) => `${host}: INVALID_HOST host`));
    const ids: string[] = [];
    for (const [i, host] of ['localhost', '127.0.0.1', '::1'].entries()) {
      ids.push((await admin.ok<{ createDevice: { id: string } }>(CREATE_DEVICE, { input: { name: `local-${i}`, kind: 'LINUX', host } })).createDevice.id);
    }
    expect(refusal(await admin.request(UPDATE_DEVICE, { id: ids[0], input: { host: '192.0.2.10' } }))).toBe('INVALID_HOST host');
    expect((await admin.ok<{ updateDevice: { host: string } }>(UPDATE_DEVICE, { id: ids[0], input: { host: '127.0.0.1' } })).updateDevice.host).toBe('127.0.0.1');
    expect(await t.app.database.prisma.device.count({ where: { kind: 'LINUX' } })).toBe(3);
    // Other kinds are remote by nature: their host is not restricted this way.
    await admin.ok(CREATE_DEVICE, { input: { name: 'edge', kind: 'ROUTEROS_API', host: '192.0.2.10' } });
  });

  it('refuses a LINUX device elsewhere in the configuration file (what the start loads), writing nothing', async () => {
    const config = parseConfig('devices:\n  - name: far\n    kind: LINUX\n    host: 192.0.2.50\n', os.tmpdir(), {});
    await expect(t.app.services.devices.syncFromConfig(config)).rejects.toMatchObject({ code: 'INVALID_HOST', details: { field: 'host' } });
    expect(await t.app.database.prisma.device.count({ where: { name: 'far' } })).toBe(0);
  });
});
