// The audit log as people read it: every entry names its target (kept with the entry, so a
// deleted peer is still named), the `peer` family filter finds peer.*, updates list the fields
// that changed with before and after, and no secret (private key, preshared key, device
// password, nor their ciphertexts) is ever written into a row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const ENTRIES = `query ($filter: AuditFilter, $first: Int) { auditLog(filter: $filter, first: $first) { edges { node { id action actorLabel targetType targetId targetName targetExists details changes { field before after secret valuesRecorded } } } } }`;
const DEVICE_PASSWORD = 'Dev1ce-pa55word!';
const BYO_PUBLIC_KEY = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';

interface Change { field: string; before: string | null; after: string | null; secret: boolean; valuesRecorded: boolean }
interface Entry { id: string; action: string; actorLabel: string; targetType: string | null; targetId: string | null; targetName: string | null; targetExists: boolean | null; details: string; changes: Change[] }

describe('audit log: names, families and field changes', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  const ids = {} as Record<'wan' | 'hub' | 'laptop' | 'office' | 'device', string>;

  const entries = async (filter: Record<string, unknown> = {}): Promise<Entry[]> =>
    (await admin.ok<{ auditLog: { edges: Array<{ node: Entry }> } }>(ENTRIES, { filter, first: 500 })).auditLog.edges.map((edge) => edge.node);
  const newest = async (action: string): Promise<Entry> => {
    const found = (await entries({ action }))[0];
    if (!found) throw new Error(`no ${action} entry`);
    return found;
  };
  const secretsSeen: string[] = [];
  const configOf = async (peerId: string): Promise<string> =>
    (await admin.ok<{ downloadPeerConfig: { content: string } }>(`mutation ($p: ID!) { downloadPeerConfig(peerId: $p) { content } }`, { p: peerId })).downloadPeerConfig.content;
  const keysIn = (config: string) => [...config.matchAll(/^(?:PrivateKey|PresharedKey)\s*=\s*(\S+)/gm)].map((match) => match[1]!);

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl, 'grace@example.net');
    const wan = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "branches", topology: HUB_SPOKE }) { wan { id } } }`);
    ids.wan = wan.createWan.wan.id;
    const add = async (name: string, extra = '') =>
      (await admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($w: ID!) { addPeer(wanId: $w, input: { name: "${name}" ${extra} }) { peer { id } } }`, { w: ids.wan })).addPeer.peer.id;
    ids.hub = await add('hub', 'role: HUB, endpointHost: "hub.example.net", endpointPort: 51820');
    ids.laptop = await add('laptop', 'role: CLIENT');
    ids.office = await add('office', 'role: SITE');
  });
  afterAll(() => t?.stop());

  it('names the target of each kind of action, also after the target is deleted', async () => {
    await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: ids.hub, b: ids.office });
    secretsSeen.push(...keysIn(await configOf(ids.laptop)), ...keysIn(await configOf(ids.office)));
    const subnet = await admin.ok<{ addSubnet: { id: string } }>(`mutation ($p: ID!) { addSubnet(peerId: $p, input: { cidr: "192.168.20.0/24" }) { id } }`, { p: ids.office });
    await admin.ok(`mutation ($id: ID!) { updateSubnet(id: $id, input: { description: "warehouse" }) { id } }`, { id: subnet.addSubnet.id });
    const service = await admin.ok<{ publishService: { id: string } }>(`mutation ($p: ID!) { publishService(peerId: $p, input: { name: "intranet", localIp: "192.168.20.5", localPort: 443 }) { id } }`, { p: ids.office });
    await admin.ok(`mutation ($id: ID!) { unpublishService(id: $id) }`, { id: service.publishService.id });
    await admin.ok(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: subnet.addSubnet.id });
    const device = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge-router', kind: 'ROUTEROS_REST', host: '127.0.0.1', port: 9, tls: true, username: 'admin', secret: DEVICE_PASSWORD },
    });
    ids.device = device.createDevice.id;
    const user = await admin.ok<{ createUser: { id: string } }>(`mutation { createUser(input: { email: "ops@example.net", name: "Ops", password: "correct horse battery staple", role: VIEWER }) { id } }`);
    await admin.ok(`mutation ($id: ID!) { changeUserRole(userId: $id, role: OPERATOR) { id } }`, { id: user.createUser.id });
    const token = await admin.ok<{ createApiToken: { apiToken: { id: string } } }>(`mutation { createApiToken(input: { name: "ci-runner" }) { apiToken { id } } }`);
    await admin.ok(`mutation ($id: ID!) { revokeApiToken(id: $id) { id } }`, { id: token.createApiToken.apiToken.id });
    await admin.ok(`mutation ($id: ID!) { deletePeer(id: $id) }`, { id: ids.laptop });

    const expected: Array<[string, string]> = [
      ['wan.create', 'branches'],
      ['peer.create', 'office'],
      ['psk.enable', 'hub ↔ office'],
      ['peer.downloadConfig', 'office'],
      ['subnet.create', '192.168.20.0/24'],
      ['subnet.update', '192.168.20.0/24'],
      ['subnet.delete', '192.168.20.0/24'],
      ['service.create', 'intranet'],
      ['service.delete', 'intranet'],
      ['device.create', 'edge-router'],
      ['user.create', 'ops@example.net'],
      ['user.changeRole', 'ops@example.net'],
      ['apiToken.create', 'ci-runner'],
      ['apiToken.revoke', 'ci-runner'],
      ['peer.delete', 'laptop'],
    ];
    const seen = await Promise.all(expected.map(async ([action]) => [action, (await newest(action)).targetName]));
    expect(seen).toEqual(expected);
    // The download of the deleted peer still says which peer's private key left.
    const download = (await entries({ action: 'peer.downloadConfig' })).filter((entry) => entry.targetId === ids.laptop);
    expect(download.map((entry) => [entry.targetName, entry.targetExists])).toEqual([['laptop', false]]);
    expect((await newest('peer.create')).targetExists).toBe(true);
    expect((await entries({ action: 'auth.login' })).every((entry) => entry.targetExists === true)).toBe(true);
    expect(JSON.parse(download[0]!.details)).toMatchObject({ format: 'WG_QUICK', targetName: 'laptop' });
    const roleChange = await newest('user.changeRole');
    expect(roleChange.changes).toEqual([{ field: 'role', before: 'VIEWER', after: 'OPERATOR', secret: false, valuesRecorded: true }]);
  });

  it('names targets of entries written before names were kept: the current name, else "deleted <kind>"', async () => {
    const prisma = t.app.database.prisma;
    const base = { actorId: null, actorLabel: 'older version', outcome: 'ok', details: '{}' };
    await prisma.auditLog.createMany({
      data: [
        { ...base, action: 'legacy.peer', targetType: 'Peer', targetId: ids.office },
        { ...base, action: 'legacy.gone', targetType: 'Peer', targetId: 'no-such-peer' },
        { ...base, action: 'legacy.device', targetType: 'Device', targetId: ids.device },
        { ...base, action: 'legacy.wan', targetType: 'Wan', targetId: 'deleted-wan-id' },
        { ...base, action: 'legacy.plain' },
        { ...base, action: 'legacy.changed', targetType: 'Peer', targetId: ids.office, details: JSON.stringify({ changed: ['keepalive'] }) },
      ],
    });
    const legacy = await entries({ action: 'legacy' });
    const names = Object.fromEntries(legacy.map((entry) => [entry.action, entry.targetName]));
    expect(names).toEqual({ 'legacy.peer': 'office', 'legacy.gone': 'deleted peer', 'legacy.device': 'edge-router', 'legacy.wan': 'deleted WAN', 'legacy.plain': null, 'legacy.changed': 'office' });
    expect(legacy.find((entry) => entry.action === 'legacy.changed')!.changes).toEqual([{ field: 'keepalive', before: null, after: null, secret: false, valuesRecorded: false }]);
  });

  it('filters by a family of actions ("peer" finds peer.*), by an exact action and by actor', async () => {
    const family = await entries({ action: 'peer' });
    expect(family.length).toBeGreaterThanOrEqual(5);
    expect(family.every((entry) => entry.action === 'peer' || entry.action.startsWith('peer.'))).toBe(true);
    expect(new Set(family.map((entry) => entry.action))).toEqual(new Set(['peer.create', 'peer.downloadConfig', 'peer.delete']));
    expect((await entries({ action: 'peer.' })).map((entry) => entry.id)).toEqual(family.map((entry) => entry.id));
    // Not a substring search: "pee" is no family, and psk.* is not peer.*.
    expect(await entries({ action: 'pee' })).toEqual([]);
    const exact = await entries({ action: 'peer.delete' });
    expect(exact.map((entry) => entry.action)).toEqual(['peer.delete']);
    const byGrace = await entries({ actor: 'grace@', action: 'wan' });
    expect(byGrace.map((entry) => entry.action)).toEqual(['wan.create']);
    expect(await entries({ actor: 'nobody-such@' })).toEqual([]);
  });

  it('lists the fields an update changed, before and after, and secrets only as changed', async () => {
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { listenPort: 51821, endpointHost: "vpn.example.net", endpointPort: 51821, name: "office" }) { peer { id } } }`, { id: ids.office });
    const peerUpdate = await newest('peer.update');
    expect(peerUpdate.targetName).toBe('office');
    const byField = Object.fromEntries(peerUpdate.changes.map((change) => [change.field, [change.before, change.after]]));
    expect(byField.endpointHost).toEqual([null, 'vpn.example.net']);
    expect(byField.endpointPort).toEqual([null, '51821']);
    expect(byField.listenPort![1]).toBe('51821');
    // A field sent with its current value (the name) is not listed.
    expect(Object.keys(byField).sort()).toEqual(['endpointHost', 'endpointPort', 'listenPort']);

    await admin.ok(`mutation ($id: ID!, $d: ID!) { updatePeer(id: $id, input: { deviceId: $d }) { peer { id } } }`, { id: ids.office, d: ids.device });
    expect((await newest('peer.update')).changes).toEqual([{ field: 'device', before: null, after: 'edge-router', secret: false, valuesRecorded: true }]);

    await admin.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { mtu: 1380, topology: MESH }) { wan { id } } }`, { id: ids.wan });
    const wanUpdate = await newest('wan.update');
    expect(wanUpdate.targetName).toBe('branches');
    expect(wanUpdate.changes.map((change) => `${change.field}: ${change.before} → ${change.after}`).sort()).toEqual(['mtu: 1420 → 1380', 'topology: HUB_SPOKE → MESH']);

    await admin.ok(`mutation ($id: ID!) { updateDevice(id: $id, input: { port: 8443, secret: "${DEVICE_PASSWORD}-2" }) { id } }`, { id: ids.device });
    const deviceUpdate = await newest('device.update');
    expect(deviceUpdate.targetName).toBe('edge-router');
    expect(deviceUpdate.changes).toEqual(expect.arrayContaining([
      { field: 'port', before: '9', after: '8443', secret: false, valuesRecorded: true },
      { field: 'secret', before: null, after: null, secret: true, valuesRecorded: false },
    ]));

    await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: ids.hub });
    const rotated = await newest('peer.rotateKey');
    expect(rotated.targetName).toBe('hub');
    expect(rotated.changes.map((change) => [change.field, change.secret])).toEqual([['publicKey', false], ['privateKey', true]]);
    // A switch to a user-held key: the server's private key is gone, said without its value.
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { publicKey: "${BYO_PUBLIC_KEY}" }) { peer { id } } }`, { id: ids.office });
    expect((await newest('peer.update')).changes.map((change) => [change.field, change.secret, change.after])).toEqual(expect.arrayContaining([['publicKey', false, BYO_PUBLIC_KEY], ['privateKey', true, null]]));
  });

  it('never writes a private key, preshared key, device password or their ciphertexts into any row', async () => {
    secretsSeen.push(...keysIn(await configOf(ids.hub)));
    const prisma = t.app.database.prisma;
    const stored = [
      ...(await prisma.peer.findMany({ select: { privateKeyEnc: true } })).map((row) => row.privateKeyEnc),
      ...(await prisma.presharedKey.findMany({ select: { keyEnc: true } })).map((row) => row.keyEnc),
      ...(await prisma.device.findMany({ select: { secretEnc: true } })).map((row) => row.secretEnc),
    ].filter((value): value is string => Boolean(value));
    // Both peers' private keys, the preshared key, and the device's passwords.
    expect(secretsSeen.length).toBeGreaterThanOrEqual(3);
    const secrets = [...secretsSeen, ...stored, DEVICE_PASSWORD];
    const rows = JSON.stringify(await prisma.auditLog.findMany());
    const served = JSON.stringify(await entries());
    for (const secret of secrets) {
      expect(rows.includes(secret), `a secret in the audit table: ${secret.slice(0, 4)}…`).toBe(false);
      expect(served.includes(secret), `a secret served by auditLog: ${secret.slice(0, 4)}…`).toBe(false);
    }
  });
});
