import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id name tunnelCidr servicesCidr natPool topology listenPort mtu keepalive interfaceName peerCount } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id name role tunnelIp publicKey keyCustody endpointHost endpointPort listenPort portForwarded } } }`;

interface WanShape { id: string; name: string; tunnelCidr: string; peerCount: number }
interface PeerShape { id: string; name: string; tunnelIp: string; publicKey: string; keyCustody: string }

describe('WAN, peer and device CRUD', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let wan: WanShape;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    wan = (await admin.ok<{ createWan: { wan: WanShape } }>(CREATE_WAN, { input: { name: 'Branch offices', tunnelCidr: '10.9.0.77/24' } })).createWan.wan;
  });
  afterAll(() => t.stop());

  it('creates a WAN with defaults and a normalised tunnel range', () => {
    expect(wan).toMatchObject({ name: 'Branch offices', tunnelCidr: '10.9.0.0/24', servicesCidr: '10.0.5.0/24', natPool: '172.16.0.0/12', topology: 'MESH', listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0', peerCount: 0 });
  });

  it('refuses bad WAN settings with specific codes and writes nothing', async () => {
    const before = await t.app.database.prisma.wan.count();
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', tunnelCidr: '10.0.0.0/33' } })).toEqual(['INVALID_CIDR']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', tunnelCidr: '10.0.5.0/24' } })).toEqual(['SUBNET_CONFLICT']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'a"; /system reset-configuration; "' } })).toEqual(['INVALID_NAME']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', listenPort: 70000 } })).toEqual(['INVALID_PORT']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', listenPort: 0 } })).toEqual(['INVALID_PORT']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', tunnelCidr: `10.0.0.0/${'2'.repeat(60)}` } })).toEqual(['INVALID_CIDR']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x'.repeat(300) } })).toEqual(['INVALID_NAME']);
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', mtu: 100 } })).toEqual(['BAD_USER_INPUT']);
    // Two different fields at fault: no single code fits, so the generic one, listing both.
    const mixed = await admin.request(CREATE_WAN, { input: { name: 'x', listenPort: 0, mtu: 100 } });
    expect(mixed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { fields: [expect.objectContaining({ message: expect.any(String) }), expect.objectContaining({ message: expect.any(String) })] } });
    expect(await admin.errorCodes(CREATE_WAN, { input: { name: 'x', interfaceName: 'wg0; reboot' } })).toEqual(['INVALID_NAME']);
    // A duplicate name names the field, as a form needs it to show the message beside it.
    const duplicate = await admin.request(CREATE_WAN, { input: { name: 'Branch offices' } });
    expect(duplicate.errors?.[0]?.message).toBe('Another WAN already uses this name');
    expect(duplicate.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', details: { field: 'name', fields: 'name' } });
    expect(await t.app.database.prisma.wan.count()).toBe(before);
  });

  it('adds peers with the first free tunnel address and a server-held key, sealed at rest', async () => {
    const first = (await admin.ok<{ addPeer: { peer: PeerShape } }>(ADD_PEER, { wanId: wan.id, input: { name: 'hq', role: 'HUB', endpointHost: 'hq.example.net', endpointPort: 51820 } })).addPeer.peer;
    const second = (await admin.ok<{ addPeer: { peer: PeerShape } }>(ADD_PEER, { wanId: wan.id, input: { name: 'branch' } })).addPeer.peer;
    expect(first).toMatchObject({ tunnelIp: '10.9.0.1', keyCustody: 'SERVER' });
    expect(second.tunnelIp).toBe('10.9.0.2');
    expect(first.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const row = await t.app.database.prisma.peer.findUniqueOrThrow({ where: { id: first.id } });
    expect(row.privateKeyEnc).toMatch(/^v1:/);
    expect(t.app.services.secrets.open(row.privateKeyEnc!)).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  it('keeps a bring-your-own public key and never holds a private key for it', async () => {
    const publicKey = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
    const peer = (await admin.ok<{ addPeer: { peer: PeerShape } }>(ADD_PEER, { wanId: wan.id, input: { name: 'laptop', role: 'CLIENT', publicKey } })).addPeer.peer;
    expect(peer).toMatchObject({ publicKey, keyCustody: 'USER' });
    expect((await t.app.database.prisma.peer.findUniqueOrThrow({ where: { id: peer.id } })).privateKeyEnc).toBeNull();
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'dup-key', publicKey } })).toEqual(['CONFLICT']);
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'bad-key', publicKey: 'not-a-key' } })).toEqual(['INVALID_KEY']);
  });

  it('enforces endpoint port = listen port unless port-forwarded upstream', async () => {
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'nat-site', endpointHost: '198.51.100.7', endpointPort: 40000 } })).toEqual(['ENDPOINT_PORT_MISMATCH']);
    const ok = await admin.ok<{ addPeer: { peer: { portForwarded: boolean; endpointPort: number } } }>(ADD_PEER, {
      wanId: wan.id,
      input: { name: 'nat-site', endpointHost: '198.51.100.7', endpointPort: 40000, portForwarded: true },
    });
    expect(ok.addPeer.peer).toMatchObject({ portForwarded: true, endpointPort: 40000 });
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'bad-host', endpointHost: 'evil host; rm -rf /' } })).toEqual(['INVALID_HOST']);
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'hq' } })).toEqual(['CONFLICT']);
  });

  it('refuses out-of-range ports everywhere with INVALID_PORT, naming the field', async () => {
    const refused = await admin.request(ADD_PEER, { wanId: wan.id, input: { name: 'p0', endpointHost: '198.51.100.9', endpointPort: 0 } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_PORT', details: { field: 'endpointPort' } });
    expect(await admin.errorCodes(ADD_PEER, { wanId: wan.id, input: { name: 'p1', listenPort: 65536 } })).toEqual(['INVALID_PORT']);
    expect(await admin.errorCodes(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'bad-port', kind: 'ROUTEROS_API', host: '192.0.2.11', port: 70000 },
    })).toEqual(['INVALID_PORT']);
    const hq = (await t.app.database.prisma.peer.findFirstOrThrow({ where: { wanId: wan.id, name: 'hq' } })).id;
    expect(await admin.errorCodes(`mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { id } }`, {
      peerId: hq, input: { name: 'web', localIp: '192.168.1.10', localPort: 0 },
    })).toEqual(['INVALID_PORT']);
    expect(await t.app.database.prisma.peer.count({ where: { wanId: wan.id, name: { in: ['p0', 'p1'] } } })).toBe(0);
    expect(await t.app.database.prisma.device.count({ where: { name: 'bad-port' } })).toBe(0);
  });

  it('answers refusals the domain finds in its input with BAD_USER_INPUT, like the edge does', async () => {
    const hq = (await t.app.database.prisma.peer.findFirstOrThrow({ where: { wanId: wan.id, name: 'hq' } })).id;
    expect(await admin.errorCodes(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: hq, b: hq })).toEqual(['BAD_USER_INPUT']);
  });

  it('updates, rotates the key of, and deletes a peer', async () => {
    const peer = (await admin.ok<{ addPeer: { peer: PeerShape } }>(ADD_PEER, { wanId: wan.id, input: { name: 'temp' } })).addPeer.peer;
    const updated = await admin.ok<{ updatePeer: { peer: { name: string; keepalive: number } } }>(
      `mutation ($id: ID!) { updatePeer(id: $id, input: { name: "temp-2", keepalive: 15 }) { peer { name keepalive } } }`,
      { id: peer.id },
    );
    expect(updated.updatePeer.peer).toEqual({ name: 'temp-2', keepalive: 15 });
    const rotated = await admin.ok<{ rotatePeerKey: { peer: { publicKey: string } } }>(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { publicKey } } }`, { id: peer.id });
    expect(rotated.rotatePeerKey.peer.publicKey).not.toBe(peer.publicKey);
    expect(await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: peer.id })).toEqual({ deletePeer: peer.id });
    expect(await admin.errorCodes(`query ($id: ID!) { peer(id: $id) { id } }`, { id: peer.id })).toEqual(['NOT_FOUND']);
  });

  it('lists peers of a WAN as a relay connection ordered by tunnel address', async () => {
    const result = await admin.ok<{ wan: { peerCount: number; peers: { edges: Array<{ node: { name: string } }>; pageInfo: { hasNextPage: boolean } } } }>(
      `query ($id: ID!) { wan(id: $id) { peerCount peers(first: 2) { edges { node { name } } pageInfo { hasNextPage } } } }`,
      { id: wan.id },
    );
    expect(result.wan.peers.edges.map((edge) => edge.node.name)).toEqual(['hq', 'branch']);
    expect(result.wan.peers.pageInfo.hasNextPage).toBe(true);
    expect(result.wan.peerCount).toBe(4);
  });

  it('creates devices with the secret sealed and never returned; refuses a management address in a tunnel range', async () => {
    const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id name kind host hasSecret tlsVerify } }`;
    const { createDevice } = await admin.ok<{ createDevice: { id: string; hasSecret: boolean } }>(CREATE_DEVICE, {
      input: { name: 'edge-1', kind: 'ROUTEROS_API', host: '192.0.2.10', username: 'meshplane', secret: 'hunter2-hunter2' },
    });
    expect(createDevice).toMatchObject({ hasSecret: true });
    const row = await t.app.database.prisma.device.findUniqueOrThrow({ where: { id: createDevice.id } });
    expect(row.secretEnc).not.toContain('hunter2');
    expect(await admin.errorCodes(CREATE_DEVICE, { input: { name: 'inside', kind: 'ROUTEROS_API', host: '10.9.0.200' } })).toEqual(['MANAGEMENT_IN_TUNNEL']);
    const updated = await admin.ok<{ updateDevice: { name: string } }>(`mutation ($id: ID!) { updateDevice(id: $id, input: { name: "edge-one" }) { name } }`, { id: createDevice.id });
    expect(updated.updateDevice.name).toBe('edge-one');
    const audit = await t.app.database.prisma.auditLog.findMany({ where: { action: { startsWith: 'device.' } } });
    expect(audit.map((entry) => entry.action)).toEqual(expect.arrayContaining(['device.create', 'device.update']));
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    expect(await admin.ok(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: createDevice.id })).toEqual({ deleteDevice: createDevice.id });
  });

  it('refuses a WAN whose tunnel range would contain a managed device\'s address, naming the device', async () => {
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge-mgmt', kind: 'ROUTEROS_REST', host: 'edge.example.net', managementAddress: '10.77.0.9' },
    });
    const refused = await admin.request(CREATE_WAN, { input: { name: 'swallows-edge', tunnelCidr: '10.77.0.0/24' } });
    expect(refused.errors?.[0]?.extensions?.code).toBe('MANAGEMENT_IN_TUNNEL');
    expect(refused.errors?.[0]?.message).toContain('edge-mgmt');
    expect(await t.app.database.prisma.wan.count({ where: { name: 'swallows-edge' } })).toBe(0);
    const empty = (await admin.ok<{ createWan: { wan: WanShape } }>(CREATE_WAN, { input: { name: 'empty', tunnelCidr: '10.78.0.0/24' } })).createWan.wan;
    expect(await admin.errorCodes(`mutation ($id: ID!) { updateWan(id: $id, input: { tunnelCidr: "10.77.0.0/16" }) { wan { id } } }`, { id: empty.id })).toEqual(['MANAGEMENT_IN_TUNNEL']);
    expect((await t.app.database.prisma.wan.findUniqueOrThrow({ where: { id: empty.id } })).tunnelCidr).toBe('10.78.0.0/24');
    await admin.ok(`mutation ($id: ID!) { deleteWan(id: $id) }`, { id: empty.id });
    await admin.ok(`mutation ($id: ID!) { deleteDevice(id: $id) }`, { id: createDevice.id });
  });

  it('renames and deletes a WAN; the tunnel range is locked while peers exist', async () => {
    expect(await admin.errorCodes(`mutation ($id: ID!) { updateWan(id: $id, input: { tunnelCidr: "10.10.0.0/24" }) { wan { id } } }`, { id: wan.id })).toEqual(['CONFLICT']);
    const other = (await admin.ok<{ createWan: { wan: WanShape } }>(CREATE_WAN, { input: { name: 'scratch' } })).createWan.wan;
    const renamed = await admin.ok<{ updateWan: { wan: { name: string; topology: string } } }>(
      `mutation ($id: ID!) { updateWan(id: $id, input: { name: "scratch-2", topology: HUB_SPOKE }) { wan { name topology } } }`,
      { id: other.id },
    );
    expect(renamed.updateWan.wan).toEqual({ name: 'scratch-2', topology: 'HUB_SPOKE' });
    expect(await admin.ok(`mutation ($id: ID!) { deleteWan(id: $id) }`, { id: other.id })).toEqual({ deleteWan: other.id });
  });
});
