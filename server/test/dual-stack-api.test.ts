// Dual-stack WANs through the GraphQL API of a real app: IPv6 ranges (a random ULA /48 or given
// in any valid form, stored RFC 5952), peers' IPv6 tunnel addresses (allocated, or asked for
// and checked), IPv6 LANs with NPTv6 auto-NAT, IPv6 services, turning IPv6 on for a WAN that
// has peers and the refusal to turn it off while something is IPv6, and the wg-quick config a
// dual-stack peer downloads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient, type GraphQLResult } from './support/graphql.js';
import { contains, hostRange, parseCidr, rangeOf, tryParseAddress } from '../src/domain/ip.js';

const WAN = 'id name mtu tunnelCidr servicesCidr natPool tunnelCidr6 servicesCidr6 natPool6';
const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { ${WAN} } } }`;
const UPDATE_WAN = `mutation ($id: ID!, $input: UpdateWanInput!) { updateWan(id: $id, input: $input) { wan { ${WAN} } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id name tunnelIp tunnelIp6 } } }`;
const ADD_SUBNET = `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id cidr natCidr } }`;
const PUBLISH = `mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { id localIp serviceIp } }`;
const PEERS = `query ($id: ID!) { wan(id: $id) { ${WAN} peers(first: 100) { edges { node { id name tunnelIp tunnelIp6 } } } } }`;
const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`;

interface WanRow { id: string; name: string; mtu: number; tunnelCidr: string; servicesCidr: string; natPool: string; tunnelCidr6: string | null; servicesCidr6: string | null; natPool6: string | null }
interface PeerRow { id: string; name: string; tunnelIp: string; tunnelIp6: string | null }

const inside = (cidr: string, address: string) => contains(parseCidr(cidr), hostRange(tryParseAddress(address)!));
const within = (outer: string, inner: string) => contains(parseCidr(outer), parseCidr(inner));

describe('dual-stack WANs through the API', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  const createWan = async (input: Record<string, unknown>) => (await admin.ok<{ createWan: { wan: WanRow } }>(CREATE_WAN, { input })).createWan.wan;
  const addPeer = async (wanId: string, input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: PeerRow } }>(ADD_PEER, { wanId, input })).addPeer.peer;
  const peersOf = async (id: string) => (await admin.ok<{ wan: WanRow & { peers: { edges: Array<{ node: PeerRow }> } } }>(PEERS, { id })).wan;
  const failure = async (query: string, variables: Record<string, unknown>) => {
    const result: GraphQLResult = await admin.request(query, variables);
    expect(result.errors, JSON.stringify(result.data)).toHaveLength(1);
    const [error] = result.errors!;
    return { code: error!.extensions?.code, field: (error!.extensions?.details as { field?: string } | undefined)?.field, message: error!.message };
  };

  it('ipv6: true gives each WAN its own random unique local /48: tunnel and services /64, NAT pool /49', async () => {
    const a = await createWan({ name: 'ula-a', ipv6: true });
    const b = await createWan({ name: 'ula-b', ipv6: true });
    for (const wan of [a, b]) {
      expect(wan.tunnelCidr).toBe('10.0.0.0/24');
      const tunnel = parseCidr(wan.tunnelCidr6!);
      expect(tunnel.prefix).toBe(64);
      expect(within('fd00::/8', wan.tunnelCidr6!)).toBe(true);
      const slash48 = rangeOf(tunnel.start, 48);
      for (const range of [wan.servicesCidr6!, wan.natPool6!]) expect(contains(slash48, parseCidr(range))).toBe(true);
      expect(parseCidr(wan.servicesCidr6!).prefix).toBe(64);
      expect(parseCidr(wan.natPool6!).prefix).toBe(49);
    }
    // 40 random bits: two WANs with the same global ID would be a bug (or a 1 in 2^40 draw).
    expect(a.tunnelCidr6).not.toBe(b.tunnelCidr6);
  });

  it('stores IPv6 ranges and addresses given in any valid form canonically (RFC 5952)', async () => {
    const wan = await createWan({ name: 'canonical', tunnelCidr6: 'FD12:3456:789A:0:0::/64', servicesCidr6: 'fd12:3456:789a:0005:0000::/64', natPool6: 'FD12:3456:789A:8000:0:0:0:0/49' });
    expect(wan).toMatchObject({ tunnelCidr6: 'fd12:3456:789a::/64', servicesCidr6: 'fd12:3456:789a:5::/64', natPool6: 'fd12:3456:789a:8000::/49' });
    const first = await addPeer(wan.id, { name: 'first' });
    expect(first).toMatchObject({ tunnelIp: '10.0.0.1', tunnelIp6: 'fd12:3456:789a::1' });
    const asked = await addPeer(wan.id, { name: 'asked', tunnelIp6: 'FD12:3456:789A:0000:0:0:0:00A9' });
    expect(asked.tunnelIp6).toBe('fd12:3456:789a::a9');
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'dup', tunnelIp6: 'fd12:3456:789a:0::a9' } })).toMatchObject({ code: 'CONFLICT', field: 'tunnelIp6' });
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'outside', tunnelIp6: 'fd12:3456:789b::1' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tunnelIp6' });
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'anycast', tunnelIp6: 'fd12:3456:789a::' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tunnelIp6' });
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'v4', tunnelIp6: '10.0.0.9' } })).toMatchObject({ field: 'tunnelIp6' });
    // The next allocation skips the addresses taken, explicit ones included.
    expect((await addPeer(wan.id, { name: 'third' })).tunnelIp6).toBe('fd12:3456:789a::2');
    // All three ranges or none.
    expect(await failure(CREATE_WAN, { input: { name: 'partial', tunnelCidr6: 'fd12:1::/64' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'servicesCidr6' });
    expect(await failure(CREATE_WAN, { input: { name: 'contradiction', ipv6: false, tunnelCidr6: 'fd12:1::/64' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'ipv6' });
  });

  it('keeps managed devices out of IPv6 tunnel ranges, in both directions, naming the device', async () => {
    const wan = await createWan({ name: 'managed', tunnelCidr: '10.9.0.0/24', tunnelCidr6: 'fd09::/64', servicesCidr6: 'fd09:5::/64', natPool6: 'fd09:8000::/49' });
    const CREATE_DEVICE = `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`;
    const device = { kind: 'ROUTEROS_API', username: 'meshplane', secret: 'hunter2-hunter2' };
    expect((await admin.errorCodes(CREATE_DEVICE, { input: { ...device, name: 'inside', host: 'FD09::7' } }))).toEqual(['MANAGEMENT_IN_TUNNEL']);
    await admin.ok(CREATE_DEVICE, { input: { ...device, name: 'outside', host: 'fd0a::7' } });
    const refused = await failure(CREATE_WAN, { input: { name: 'swallows', ipv6: true, tunnelCidr6: 'fd0a::/64' } });
    expect(refused).toMatchObject({ code: 'MANAGEMENT_IN_TUNNEL', field: 'tunnelCidr6' });
    expect(refused.message).toContain('device "outside"');
    expect(wan.tunnelCidr6).toBe('fd09::/64');
  });

  it('IPv4-only WANs refuse IPv6 LANs, services and tunnel addresses, naming the field', async () => {
    const wan = await createWan({ name: 'v4-only', tunnelCidr: '10.8.0.0/24' });
    expect(wan.tunnelCidr6).toBeNull();
    const peer = await addPeer(wan.id, { name: 'site' });
    expect(peer.tunnelIp6).toBeNull();
    expect(await failure(ADD_SUBNET, { peerId: peer.id, input: { cidr: '2001:db8:1::/64' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'cidr' });
    expect(await failure(PUBLISH, { peerId: peer.id, input: { name: 'web', localIp: '2001:db8:1::10', localPort: 80 } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'localIp' });
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'v6', tunnelIp6: 'fd00::5' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tunnelIp6' });
  });

  describe('a dual-stack hub-and-spoke WAN', () => {
    let wan: WanRow;
    let hub: PeerRow;
    let siteA: PeerRow;
    let siteB: PeerRow;

    beforeAll(async () => {
      wan = await createWan({ name: 'dual', topology: 'HUB_SPOKE', tunnelCidr: '10.60.0.0/24', ipv6: true });
      hub = await addPeer(wan.id, { name: 'hub', role: 'HUB', endpointHost: '2001:DB8::100', endpointPort: 51820 });
      siteA = await addPeer(wan.id, { name: 'site-a' });
      siteB = await addPeer(wan.id, { name: 'site-b' });
    });

    it('gives every peer both tunnel addresses, each from its range, all distinct', () => {
      const peers = [hub, siteA, siteB];
      expect(peers.map((peer) => peer.tunnelIp)).toEqual(['10.60.0.1', '10.60.0.2', '10.60.0.3']);
      for (const peer of peers) expect(inside(wan.tunnelCidr6!, peer.tunnelIp6!)).toBe(true);
      expect(new Set(peers.map((peer) => peer.tunnelIp6)).size).toBe(3);
      expect(hub.tunnelIp6).toBe(wan.tunnelCidr6!.replace('::/64', '::1'));
    });

    it('the topology graph names both tunnel addresses of each node', async () => {
      const { wan: graph } = await admin.ok<{ wan: { topologyGraph: { nodes: Array<{ name: string; tunnelIp: string; tunnelIp6: string | null }> } } }>(
        `query ($id: ID!) { wan(id: $id) { topologyGraph { nodes { name tunnelIp tunnelIp6 } } } }`, { id: wan.id });
      expect(Object.fromEntries(graph.topologyGraph.nodes.map((node) => [node.name, [node.tunnelIp, node.tunnelIp6]])))
        .toEqual(Object.fromEntries([hub, siteA, siteB].map((peer) => [peer.name, [peer.tunnelIp, peer.tunnelIp6]])));
    });

    it('IPv6 LANs: stored canonical, an overlap resolved by NPTv6 auto-NAT from natPool6, and an IPv6 service on servicesCidr6', async () => {
      const lanA = (await admin.ok<{ addSubnet: { id: string; cidr: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: siteA.id, input: { cidr: '2001:DB8:1:0::/64' } })).addSubnet;
      expect(lanA).toMatchObject({ cidr: '2001:db8:1::/64', natCidr: null });
      const lanB = (await admin.ok<{ addSubnet: { id: string; cidr: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: siteB.id, input: { cidr: '2001:db8:1::/64', autoNat: true } })).addSubnet;
      const { wan: after } = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; subnets: Array<{ cidr: string; natCidr: string | null }> } }> } } }>(
        `query ($id: ID!) { wan(id: $id) { peers(first: 10) { edges { node { name subnets { cidr natCidr } } } } } }`, { id: wan.id });
      const natOf = Object.fromEntries(after.peers.edges.map(({ node }) => [node.name, node.subnets[0]?.natCidr]));
      // The whole overlap group is translated, each into its own /64 of the IPv6 pool.
      expect(lanB.natCidr).toBe(natOf['site-b']);
      for (const name of ['site-a', 'site-b']) {
        expect(parseCidr(natOf[name]!).prefix).toBe(64);
        expect(within(wan.natPool6!, natOf[name]!)).toBe(true);
      }
      expect(natOf['site-a']).not.toBe(natOf['site-b']);
      // An IPv4 LAN beside them still translates from the IPv4 pool only when it overlaps.
      await admin.ok(ADD_SUBNET, { peerId: siteA.id, input: { cidr: '192.168.61.0/24' } });

      const service = (await admin.ok<{ publishService: { localIp: string; serviceIp: string } }>(PUBLISH, { peerId: siteA.id, input: { name: 'web6', localIp: '2001:DB8:1::10', localPort: 8080 } })).publishService;
      expect(service.localIp).toBe('2001:db8:1::10');
      expect(service.serviceIp).toBe(wan.servicesCidr6!.replace('::/64', '::1'));
      const service4 = (await admin.ok<{ publishService: { serviceIp: string } }>(PUBLISH, { peerId: siteA.id, input: { name: 'web4', localIp: '192.168.61.10', localPort: 8080 } })).publishService;
      expect(service4.serviceIp).toBe('10.0.5.1');
      // A services range cannot move away from the services on it (either family), naming them.
      const moved6 = await failure(UPDATE_WAN, { id: wan.id, input: { servicesCidr6: 'fd66:5::/64' } });
      expect(moved6).toMatchObject({ code: 'CONFLICT', field: 'servicesCidr6' });
      expect(moved6.message).toContain('"web6"');
      expect(moved6.message).not.toContain('"web4"');
      expect(await failure(UPDATE_WAN, { id: wan.id, input: { servicesCidr: '10.0.6.0/24' } })).toMatchObject({ code: 'CONFLICT', field: 'servicesCidr' });
      expect(await failure(PUBLISH, { peerId: siteA.id, input: { name: 'mixed', localIp: '2001:db8:1::11', localPort: 80, serviceIp: '10.0.5.9' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'serviceIp' });
    });

    it("the wg-quick config a dual-stack peer downloads carries both families", async () => {
      const config = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: siteA.id })).downloadPeerConfig.content;
      const address = /^Address\s*=\s*(.+)$/m.exec(config)?.[1] ?? '';
      expect(address.split(/,\s*/)).toEqual(expect.arrayContaining([`${siteA.tunnelIp}/24`, `${siteA.tunnelIp6}/64`]));
      const allowed = (/^AllowedIPs\s*=\s*(.+)$/m.exec(config)?.[1] ?? '').split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining([wan.tunnelCidr, wan.tunnelCidr6]));
      // site-b's LAN under its translated prefix, through the hub.
      expect(allowed.some((entry) => entry.includes(':') && within(wan.natPool6!, entry))).toBe(true);
      expect(config).toMatch(/^Endpoint\s*=\s*\[2001:db8::100\]:51820$/m);
    });

    it('refuses to turn IPv6 off while IPv6 LANs or services exist, naming them; then turns it off and clears the peers', async () => {
      const refused = await failure(UPDATE_WAN, { id: wan.id, input: { ipv6: false } });
      expect(refused).toMatchObject({ code: 'CONFLICT', field: 'ipv6' });
      expect(refused.message).toContain('LAN 2001:db8:1::/64 of "site-a"');
      expect(refused.message).toContain('LAN 2001:db8:1::/64 of "site-b"');
      expect(refused.message).toContain('service "web6"');
      expect(refused.message).not.toContain('web4');
      expect((await peersOf(wan.id)).tunnelCidr6).toBe(wan.tunnelCidr6);
      // Changing the IPv6 tunnel range follows the IPv4 rule: not while peers hold addresses from it.
      expect(await failure(UPDATE_WAN, { id: wan.id, input: { tunnelCidr6: 'fd99::/64' } })).toMatchObject({ code: 'CONFLICT', field: 'tunnelCidr6' });

      const { wan: rows } = await admin.ok<{ wan: { peers: { edges: Array<{ node: { subnets: Array<{ id: string; cidr: string }>; services: Array<{ id: string; serviceIp: string }> } }> } } }>(
        `query ($id: ID!) { wan(id: $id) { peers(first: 10) { edges { node { subnets { id cidr } services { id serviceIp } } } } } }`, { id: wan.id });
      for (const { node } of rows.peers.edges) {
        for (const subnet of node.subnets.filter((s) => s.cidr.includes(':'))) await admin.ok(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: subnet.id });
        for (const service of node.services.filter((s) => s.serviceIp.includes(':'))) await admin.ok(`mutation ($id: ID!) { unpublishService(id: $id) }`, { id: service.id });
      }
      const off = (await admin.ok<{ updateWan: { wan: WanRow } }>(UPDATE_WAN, { id: wan.id, input: { ipv6: false } })).updateWan.wan;
      expect(off).toMatchObject({ tunnelCidr6: null, servicesCidr6: null, natPool6: null });
      const after = await peersOf(wan.id);
      expect(after.peers.edges.map(({ node }) => node.tunnelIp6)).toEqual([null, null, null]);
      const config = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: siteA.id })).downloadPeerConfig.content;
      // The IPv4 tunnel address and the IPv4 service's, nothing IPv6 left.
      expect(/^Address\s*=\s*(.+)$/m.exec(config)?.[1]).toBe(`${siteA.tunnelIp}/24, 10.0.5.1/32`);
      expect(config).not.toContain('ip6tables');
    });
  });

  it('turning IPv6 on for a WAN with peers gives each an IPv6 address in the order of their IPv4 ones; peers added later get the next', async () => {
    const wan = await createWan({ name: 'later', tunnelCidr: '10.70.0.0/24' });
    const names = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11'];
    for (const name of names) await addPeer(wan.id, { name });
    const on = (await admin.ok<{ updateWan: { wan: WanRow } }>(UPDATE_WAN, { id: wan.id, input: { ipv6: true, mtu: 1400 } })).updateWan.wan;
    expect(on).toMatchObject({ name: 'later', mtu: 1400, tunnelCidr: '10.70.0.0/24' });
    expect(within('fd00::/8', on.tunnelCidr6!)).toBe(true);
    const peers = (await peersOf(wan.id)).peers.edges.map(({ node }) => node);
    const base = on.tunnelCidr6!.replace('::/64', '::');
    const expected = Object.fromEntries(names.map((name, i) => [`10.70.0.${i + 1}`, `${base}${(i + 1).toString(16)}`]));
    expect(Object.fromEntries(peers.map((peer) => [peer.tunnelIp, peer.tunnelIp6]))).toEqual(expected);
    expect((await addPeer(wan.id, { name: 'p12' })).tunnelIp6).toBe(`${base}c`);
    // ipv6: true again keeps the ranges (and the addresses).
    const again = (await admin.ok<{ updateWan: { wan: WanRow } }>(UPDATE_WAN, { id: wan.id, input: { ipv6: true } })).updateWan.wan;
    expect(again.tunnelCidr6).toBe(on.tunnelCidr6);
    // Its IPv6 addresses now make the config dual-stack.
    const config = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: peers[0]!.id })).downloadPeerConfig.content;
    expect(/^Address\s*=\s*(.+)$/m.exec(config)?.[1]).toBe(`10.70.0.1/24, ${base}1/64`);
  });

  it('a peer left without an IPv6 address by a race across replicas gets one at the next add or WAN update', async () => {
    const wan = await createWan({ name: 'raced', tunnelCidr: '10.72.0.0/24', ipv6: true });
    const first = await addPeer(wan.id, { name: 'first' });
    // What another replica's addPeer leaves when it read the WAN as IPv4-only just before this
    // one turned IPv6 on: a peer row without tunnelIp6 in a dual-stack WAN.
    const { publicKey } = await t.app.database.prisma.peer.findUniqueOrThrow({ where: { id: first.id }, select: { publicKey: true } });
    await t.app.database.prisma.peer.create({ data: { wanId: wan.id, name: 'raced', tunnelIp: '10.72.0.9', endpointHost: '198.51.100.9', endpointPort: 51820, publicKey: publicKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } });
    await admin.ok(UPDATE_WAN, { id: wan.id, input: { mtu: 1380 } });
    const peers = Object.fromEntries((await peersOf(wan.id)).peers.edges.map(({ node }) => [node.name, node.tunnelIp6]));
    expect(peers).toEqual({ first: first.tunnelIp6, raced: wan.tunnelCidr6!.replace('::/64', '::2') });
    // The WAN renders again (a peer without its IPv6 address would fail the whole WAN's spec).
    expect((await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: first.id })).downloadPeerConfig.content).toContain(`${peers.raced}/128`);
  });

  it('turning IPv6 on with a range too small for the peers is refused and changes nothing', async () => {
    const wan = await createWan({ name: 'small', tunnelCidr: '10.71.0.0/24' });
    for (const name of ['a', 'b', 'c', 'd']) await addPeer(wan.id, { name });
    const refused = await failure(UPDATE_WAN, { id: wan.id, input: { tunnelCidr6: 'fd71::/126', servicesCidr6: 'fd71:5::/64', natPool6: 'fd71:8000::/49' } });
    expect(refused.code).toBe('POOL_EXHAUSTED');
    const after = await peersOf(wan.id);
    expect(after.tunnelCidr6).toBeNull();
    expect(after.peers.edges.every(({ node }) => node.tunnelIp6 === null)).toBe(true);
  });
  it('takes an IPv6 endpoint bare or bracketed, stores it canonical and renders it bracketed before the port', async () => {
    const wan = await createWan({ name: 'endpoint-forms', ipv6: true });
    const a = await addPeer(wan.id, { name: 'bracketed', endpointHost: '[2001:DB8:0:0::7]', endpointPort: 51000, portForwarded: true });
    const b = await addPeer(wan.id, { name: 'bare', endpointHost: '2001:db8:0:0:0:0:0:8' });
    const conf = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: b.id })).downloadPeerConfig.content;
    expect(conf).toContain('Endpoint = [2001:db8::7]:51000');
    const confA = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: a.id })).downloadPeerConfig.content;
    expect(confA).toContain('Endpoint = [2001:db8::8]:51820');
    expect(await failure(ADD_PEER, { wanId: wan.id, input: { name: 'with-port', endpointHost: '[2001:db8::9]:51820' } }))
      .toMatchObject({ code: 'INVALID_HOST', field: 'endpointHost', message: expect.stringContaining('endpointPort') });
  });
});
