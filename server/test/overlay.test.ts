import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp } } }`;
const ADD_SUBNET = `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id cidr natCidr routed } }`;
const DOWNLOAD = `mutation ($peerId: ID!, $format: ConfigFormat) { downloadPeerConfig(peerId: $peerId, format: $format) { filename content hash qrSvg qrPngBase64 } }`;
const STATUSES = `query ($id: ID!) { wan(id: $id) { staleCount peers(first: 100) { edges { node { name configStatus stale } } } } }`;

describe('overlay engine through GraphQL', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  async function wan(input: Record<string, unknown>): Promise<string> {
    return (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input })).createWan.wan.id;
  }
  async function peer(wanId: string, input: Record<string, unknown>): Promise<string> {
    return (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
  }
  async function statuses(wanId: string): Promise<Record<string, string>> {
    const data = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; configStatus: string } }> } } }>(STATUSES, { id: wanId });
    return Object.fromEntries(data.wan.peers.edges.map((edge) => [edge.node.name, edge.node.configStatus]));
  }
  async function downloadAll(ids: string[]): Promise<void> {
    for (const id of ids) await admin.ok(DOWNLOAD, { peerId: id, format: 'WG_QUICK' });
  }

  it('marks exactly the affected configs stale: a new spoke flags the hub, a rotated key flags who holds it', async () => {
    const wanId = await wan({ name: 'hubs', topology: 'HUB_SPOKE', tunnelCidr: '10.20.0.0/24' });
    const hub = await peer(wanId, { name: 'hub', role: 'HUB', endpointHost: '203.0.113.1', endpointPort: 51820 });
    const spokeA = await peer(wanId, { name: 'spoke-a', endpointHost: '203.0.113.2', endpointPort: 51820 });
    const spokeB = await peer(wanId, { name: 'spoke-b', endpointHost: '203.0.113.3', endpointPort: 51820 });
    expect(await statuses(wanId)).toEqual({ hub: 'NEVER_DELIVERED', 'spoke-a': 'NEVER_DELIVERED', 'spoke-b': 'NEVER_DELIVERED' });
    await downloadAll([hub, spokeA, spokeB]);
    expect(await statuses(wanId)).toEqual({ hub: 'CURRENT', 'spoke-a': 'CURRENT', 'spoke-b': 'CURRENT' });

    const spokeC = await peer(wanId, { name: 'spoke-c' });
    expect(await statuses(wanId)).toEqual({ hub: 'STALE', 'spoke-a': 'CURRENT', 'spoke-b': 'CURRENT', 'spoke-c': 'NEVER_DELIVERED' });
    await downloadAll([hub, spokeC]);

    await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id: spokeA });
    expect(await statuses(wanId)).toEqual({ hub: 'STALE', 'spoke-a': 'STALE', 'spoke-b': 'CURRENT', 'spoke-c': 'CURRENT' });
    const counted = await admin.ok<{ wan: { staleCount: number } }>(STATUSES, { id: wanId });
    expect(counted.wan.staleCount).toBe(2);

    await downloadAll([hub, spokeA]);
    expect(await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: spokeB, b: hub })).toEqual({ setPresharedKey: true });
    expect(await statuses(wanId)).toEqual({ hub: 'STALE', 'spoke-a': 'CURRENT', 'spoke-b': 'STALE', 'spoke-c': 'CURRENT' });
    const hubConfig = await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: hub });
    expect(hubConfig.downloadPeerConfig.content.match(/^PresharedKey = [A-Za-z0-9+/]{43}=$/gm)).toHaveLength(1);
  });

  it('renders wg-quick with the private key and a QR code, RouterOS scripts, and keeps BYO keys out', async () => {
    const wanId = await wan({ name: 'render', tunnelCidr: '10.21.0.0/24', interfaceName: 'wg-render' });
    const site = await peer(wanId, { name: 'Site with a rather long name (Main office)', endpointHost: 'site.example.net', endpointPort: 51820 });
    const phone = await peer(wanId, { name: 'phone', role: 'CLIENT', publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' });
    const conf = (await admin.ok<{ downloadPeerConfig: { filename: string; content: string; qrSvg: string; qrPngBase64: string } }>(DOWNLOAD, { peerId: site })).downloadPeerConfig;
    // wg-quick takes the interface from the file name (at most 15 of [a-zA-Z0-9_=+.-]): the
    // file is named after the interface its header names, whatever the peer is called.
    expect(conf.filename).toBe('wg-render.conf');
    expect(conf.filename.replace(/\.conf$/, '')).toMatch(/^[a-zA-Z0-9_=+.-]{1,15}$/);
    expect(conf.content).toMatch(/^# Interface wg-render\./m);
    expect(conf.content).toMatch(/^\[Interface\]$/m);
    expect(conf.content).toMatch(/^Address = 10\.21\.0\.1\/24$/m);
    expect(conf.content).toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    expect(conf.content).toMatch(/^AllowedIPs = 10\.21\.0\.2\/32$/m);
    expect(conf.qrSvg).toContain('<svg');
    expect(Buffer.from(conf.qrPngBase64, 'base64').subarray(1, 4).toString()).toBe('PNG');

    const byo = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: phone })).downloadPeerConfig.content;
    expect(byo).not.toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    expect(byo).toContain('<REPLACE-WITH-YOUR-PRIVATE-KEY>');
    expect(byo).toMatch(/^Endpoint = site\.example\.net:51820$/m);
    expect(byo).toMatch(/^PersistentKeepalive = 25$/m);

    const rsc = (await admin.ok<{ downloadPeerConfig: { filename: string; content: string; qrSvg: string | null } }>(DOWNLOAD, { peerId: site, format: 'ROUTEROS' })).downloadPeerConfig;
    expect(rsc.filename).toBe('Site-with-a-rather-long-name-Main-office.rsc');
    expect(rsc.qrSvg).toBeNull();
    expect(rsc.content).toContain('/interface/wireguard');
    expect(rsc.content).toMatch(/meshplane:/);
  });

  it('lets a viewer preview configs without secrets but not download them', async () => {
    const wanId = await wan({ name: 'viewing', tunnelCidr: '10.22.0.0/24' });
    const site = await peer(wanId, { name: 'site' });
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'v@example.net', name: 'V', password: 'correct horse battery', role: 'VIEWER' } });
    const viewer = new GraphQLTestClient(t.graphqlUrl);
    await viewer.ok(`mutation { login(input: { email: "v@example.net", password: "correct horse battery" }) { user { id } } }`);
    const byo = await peer(wanId, { name: 'byo', publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' });
    const PREVIEWS = `query ($id: ID!) { peer(id: $id) { conf: configPreview rsc: configPreview(format: ROUTEROS) } }`;
    const preview = await viewer.ok<{ peer: { conf: string; rsc: string } }>(PREVIEWS, { id: site });
    expect(preview.peer.conf).toContain('[Interface]');
    expect(preview.peer.conf).not.toMatch(/^PrivateKey = [A-Za-z0-9+/]{43}=$/m);
    // Meshplane holds this peer's key: the preview says so instead of calling it bring-your-own.
    expect(preview.peer.conf).toContain('# PrivateKey held by Meshplane: left out of this preview (download the configuration to get it).');
    expect(preview.peer.rsc).toContain('# Private key held by Meshplane: left out of this preview');
    expect(`${preview.peer.conf}${preview.peer.rsc}`).not.toMatch(/Bring-your-own|private-key=/);
    const own = await viewer.ok<{ peer: { conf: string; rsc: string } }>(PREVIEWS, { id: byo });
    expect(own.peer.conf).toContain("# Bring-your-own key: Meshplane never saw this peer's private key.");
    expect(own.peer.rsc).toContain('# Bring-your-own key: the router keeps its own private key');
    expect(`${own.peer.conf}${own.peer.rsc}`).not.toContain('held by Meshplane');
    expect(await viewer.errorCodes(DOWNLOAD, { peerId: site })).toEqual(['FORBIDDEN']);
  });

  it('refuses critical subnet overlaps, refuses colliding AllowedIPs, resolves them by auto-NAT and warns about the rest', async () => {
    const wanId = await wan({ name: 'lans', tunnelCidr: '10.23.0.0/24', servicesCidr: '10.23.5.0/24' });
    const a = await peer(wanId, { name: 'site-a', endpointHost: '198.51.100.1', endpointPort: 51820 });
    const b = await peer(wanId, { name: 'site-b', endpointHost: '198.51.100.2', endpointPort: 51820 });
    const laptop = await peer(wanId, { name: 'laptop', role: 'CLIENT' });

    expect(await admin.errorCodes(ADD_SUBNET, { peerId: a, input: { cidr: '10.23.0.0/25' } })).toEqual(['SUBNET_CONFLICT']);
    expect(await admin.errorCodes(ADD_SUBNET, { peerId: a, input: { cidr: '10.23.5.128/25' } })).toEqual(['SUBNET_CONFLICT']);
    expect(await admin.errorCodes(ADD_SUBNET, { peerId: a, input: { cidr: '192.168.1.0/33' } })).toEqual(['INVALID_CIDR']);

    const lanA = await admin.ok<{ addSubnet: { cidr: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: a, input: { cidr: '192.168.1.0/24' } });
    expect(lanA.addSubnet).toMatchObject({ cidr: '192.168.1.0/24', natCidr: null });
    // Another site's overlapping LAN is accepted with a warning naming both sites...
    const lanB = await admin.ok<{ addSubnet: { id: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: b, input: { cidr: '192.168.1.0/24' } });
    expect(lanB.addSubnet.natCidr).toBeNull();
    const CONFLICTS = `query ($id: ID!) { wan(id: $id) { conflicts { severity code message peerIds } } }`;
    let conflicts = (await admin.ok<{ wan: { conflicts: Array<{ severity: string; code: string; peerIds: string[] }> } }>(CONFLICTS, { id: wanId })).wan.conflicts;
    expect(conflicts).toContainEqual(expect.objectContaining({ severity: 'WARNING', code: 'SUBNET_OVERLAP', peerIds: expect.arrayContaining([a, b]) }));
    // ...and resolved later by auto-NAT into an equally sized range of the NAT pool.
    const natted = await admin.ok<{ updateSubnet: { cidr: string; natCidr: string } }>(
      `mutation ($id: ID!) { updateSubnet(id: $id, input: { autoNat: true }) { cidr natCidr } }`,
      { id: lanB.addSubnet.id },
    );
    expect(natted.updateSubnet.cidr).toBe('192.168.1.0/24');
    expect(natted.updateSubnet.natCidr).toMatch(/^172\.(1[6-9]|2\d|3[01])\.\d+\.0\/24$/);
    conflicts = (await admin.ok<{ wan: { conflicts: Array<{ severity: string; code: string; peerIds: string[] }> } }>(CONFLICTS, { id: wanId })).wan.conflicts;
    expect(conflicts.some((c) => c.code === 'SUBNET_OVERLAP')).toBe(false);
    // A LAN can also be translated at creation.
    const third = await admin.ok<{ addSubnet: { natCidr: string } }>(ADD_SUBNET, { peerId: laptop, input: { cidr: '192.168.1.0/24', autoNat: true } });
    expect(third.addSubnet.natCidr).not.toBe(natted.updateSubnet.natCidr);
    await admin.ok(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: (await t.app.database.prisma.subnet.findFirstOrThrow({ where: { peerId: laptop } })).id });

    // Two peers claiming the same service address on one interface is refused, naming both.
    const PUBLISH = `mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { serviceIp } }`;
    await admin.ok(PUBLISH, { peerId: a, input: { name: 'dns', localIp: '192.168.1.53', localPort: 53, serviceIp: '10.23.5.53' } });
    const clash = await admin.request(PUBLISH, { peerId: b, input: { name: 'web', localIp: '192.168.1.80', localPort: 80, serviceIp: '10.23.5.53' } });
    expect(clash.errors?.[0]?.extensions?.code).toBe('ALLOWED_IPS_OVERLAP');
    expect(clash.errors?.[0]?.message).toContain(a);
    expect(await t.app.database.prisma.publishedService.count({ where: { peerId: b } })).toBe(0);

    await admin.ok(ADD_SUBNET, { peerId: laptop, input: { cidr: '192.168.50.0/24', routed: false } });
    conflicts = (await admin.ok<{ wan: { conflicts: Array<{ severity: string; code: string; peerIds: string[] }> } }>(CONFLICTS, { id: wanId })).wan.conflicts;
    expect(conflicts).toContainEqual(expect.objectContaining({ severity: 'WARNING', code: 'CLIENT_HOSTS_LAN', peerIds: [laptop] }));
    expect(conflicts.some((c) => c.severity === 'CRITICAL')).toBe(false);

    const siteAConfig = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: a })).downloadPeerConfig.content;
    expect(siteAConfig).toContain(natted.updateSubnet.natCidr);
    const siteBConfig = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: b })).downloadPeerConfig.content;
    expect(siteBConfig).toMatch(/NETMAP/);
  });

  it('publishes a service on the services range and reports reachability and the topology graph', async () => {
    const wanId = await wan({ name: 'services', tunnelCidr: '10.24.0.0/24', servicesCidr: '10.24.5.0/24' });
    const server = await peer(wanId, { name: 'server', endpointHost: '198.51.100.9', endpointPort: 51820 });
    const client = await peer(wanId, { name: 'client', role: 'CLIENT' });
    await admin.ok(ADD_SUBNET, { peerId: server, input: { cidr: '192.168.70.0/24' } });
    const service = await admin.ok<{ publishService: { serviceIp: string; servicePort: number } }>(
      `mutation ($peerId: ID!) { publishService(peerId: $peerId, input: { name: "web", localIp: "192.168.70.10", localPort: 8080, servicePort: 80 }) { serviceIp servicePort } }`,
      { peerId: server },
    );
    expect(service.publishService).toEqual({ serviceIp: '10.24.5.1', servicePort: 80 });
    const data = await admin.ok<{ wan: { topologyGraph: { nodes: Array<{ name: string; cgnat: boolean }>; edges: unknown[] }; reachability: Array<{ peerName: string; reaches: Array<{ kind: string; target: string; nextHopPeerName: string }> }> } }>(
      `query ($id: ID!) { wan(id: $id) { topologyGraph { nodes { name cgnat } edges { from to } } reachability { peerName reaches { kind target nextHopPeerName } } } }`,
      { id: wanId },
    );
    expect(data.wan.topologyGraph.nodes).toEqual(expect.arrayContaining([{ name: 'server', cgnat: false }, { name: 'client', cgnat: true }]));
    expect(data.wan.topologyGraph.edges).toHaveLength(1);
    const fromClient = data.wan.reachability.find((entry) => entry.peerName === 'client')!;
    expect(fromClient.reaches).toEqual(expect.arrayContaining([
      { kind: 'LAN', target: '192.168.70.0/24', nextHopPeerName: 'server' },
      { kind: 'SERVICE', target: '10.24.5.1/32', nextHopPeerName: 'server' },
    ]));
    // One peer asked alone (what the WAN page fetches on demand) gets its entry of the whole map.
    const alone = await admin.ok<{ peer: { reachability: { peerName: string; reaches: unknown[] } } }>(
      `query ($id: ID!) { peer(id: $id) { reachability { peerName reaches { kind target nextHopPeerName } } } }`,
      { id: client },
    );
    expect(alone.peer.reachability).toEqual(fromClient);
    const serverConfig = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: server })).downloadPeerConfig.content;
    expect(serverConfig).toMatch(/DNAT/);
    expect(serverConfig).toContain('192.168.70.10:8080');
    expect(client).toBeTruthy();
  });

  it('refuses hostile names at the input and nothing is written', async () => {
    const wanId = await wan({ name: 'hostile', tunnelCidr: '10.25.0.0/24' });
    for (const name of ['a"; /system reset-configuration; "', 'x\n[Peer]', '$(reboot)', 'a`id`']) {
      expect(await admin.errorCodes(ADD_PEER, { wanId, input: { name } })).toEqual(['INVALID_NAME']);
    }
    expect(await t.app.database.prisma.peer.count({ where: { wanId } })).toBe(0);
  });

  it('gives 100 concurrent addPeer calls 100 distinct addresses, then POOL_EXHAUSTED when the range is full', async () => {
    const wanId = await wan({ name: 'busy', tunnelCidr: '10.26.0.0/25' }); // 126 usable hosts
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => admin.request<{ addPeer: { peer: { tunnelIp: string } } }>(ADD_PEER, { wanId, input: { name: `p${i}` } })));
    expect(results.filter((result) => result.errors)).toEqual([]);
    const ips = results.map((result) => result.data!.addPeer.peer.tunnelIp);
    expect(new Set(ips).size).toBe(100);
    const more = await Promise.all(Array.from({ length: 30 }, (_, i) => admin.request(ADD_PEER, { wanId, input: { name: `q${i}` } })));
    const codes = more.map((result) => result.errors?.[0]?.extensions?.code ?? 'OK');
    expect(codes.filter((code) => code === 'OK')).toHaveLength(26);
    expect(codes.filter((code) => code === 'POOL_EXHAUSTED')).toHaveLength(4);
    const stored = await t.app.database.prisma.peer.findMany({ where: { wanId }, select: { tunnelIp: true } });
    expect(new Set(stored.map((row) => row.tunnelIp)).size).toBe(126);
  });
});
