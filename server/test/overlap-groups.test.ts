// LAN overlap groups through GraphQL (issue 14 item 1): sites hosting the same LAN. Auto-NAT on
// one member translates the whole group, a LAN joining a translated group is translated too,
// conflicts name every broken direction, and reachability lists only the paths both ends carry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const ADD_SUBNET = `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id natCidr } }`;
const UPDATE_SUBNET = `mutation ($id: ID!, $input: UpdateSubnetInput!) { updateSubnet(id: $id, input: $input) { id natCidr } }`;
const LANS = `query ($id: ID!) { wan(id: $id) { peers(first: 50) { edges { node { name subnets { id cidr natCidr } } } } } }`;
const CONFLICTS = `query ($id: ID!) { wan(id: $id) { conflicts { code peerIds subnetIds cidrs autoNatSubnetIds } } }`;
const REACH = `query ($id: ID!) { peer(id: $id) { reachability { reaches { from fromKind kind target targetPeerName } } } }`;

interface Conflict { code: string; peerIds: string[]; subnetIds: string[]; cidrs: string[]; autoNatSubnetIds: string[] }
interface Reach { from: string; fromKind: string; kind: string; target: string; targetPeerName: string }

describe('LAN overlap groups through GraphQL', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  async function lans(wanId: string): Promise<Record<string, { id: string; natCidr: string | null }>> {
    const data = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; subnets: Array<{ id: string; cidr: string; natCidr: string | null }> } }> } } }>(LANS, { id: wanId });
    return Object.fromEntries(data.wan.peers.edges.map(({ node }) => [node.name, node.subnets[0]!]));
  }
  async function conflicts(wanId: string): Promise<Conflict[]> {
    return (await admin.ok<{ wan: { conflicts: Conflict[] } }>(CONFLICTS, { id: wanId })).wan.conflicts;
  }
  /** "near -> far" for every LAN_UNREACHABLE, with peer names. */
  async function brokenDirections(wanId: string, names: Map<string, string>): Promise<string[]> {
    return (await conflicts(wanId)).filter((c) => c.code === 'LAN_UNREACHABLE')
      .map((c) => `${names.get(c.peerIds[0]!)} -> ${names.get(c.peerIds[1]!)}`).sort();
  }
  /** The LANs a peer's LAN hosts reach: "peer target". */
  async function lanPaths(peerId: string): Promise<string[]> {
    const reaches = (await admin.ok<{ peer: { reachability: { reaches: Reach[] } } }>(REACH, { id: peerId })).peer.reachability.reaches;
    return reaches.filter((r) => r.fromKind === 'LAN' && r.kind === 'LAN').map((r) => `${r.targetPeerName} ${r.target}`).sort();
  }

  it('auto-NAT on one LAN translates its whole group; conflicts and reachability follow every member', async () => {
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'same-lan', tunnelCidr: '10.31.0.0/24', servicesCidr: '10.31.5.0/24' } })).createWan.wan.id;
    const ids: Record<string, string> = {};
    for (const [i, name] of ['a', 'b', 'c'].entries()) {
      ids[name] = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name, endpointHost: `198.51.100.${i + 1}`, endpointPort: 51820 } })).addPeer.peer.id;
    }
    const names = new Map(Object.entries(ids).map(([name, id]) => [id, name]));
    const subnetOf: Record<string, string> = {};
    for (const name of ['a', 'b', 'c']) {
      const added = await admin.ok<{ addSubnet: { id: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: ids[name], input: { cidr: '192.168.1.0/24' } });
      // Nothing is translated yet, so a new member stays as it is.
      expect(added.addSubnet.natCidr).toBeNull();
      subnetOf[name] = added.addSubnet.id;
    }
    expect(await brokenDirections(wanId, names)).toEqual(['a -> b', 'a -> c', 'b -> a', 'b -> c', 'c -> a', 'c -> b']);
    expect(await lanPaths(ids.a!)).toEqual([]);

    // The "auto-NAT" action on one conflict: translating b translates a and c as well.
    const overlap = (await conflicts(wanId)).find((c) => c.code === 'SUBNET_OVERLAP')!;
    expect(overlap.autoNatSubnetIds.length).toBe(2);
    await admin.ok(UPDATE_SUBNET, { id: subnetOf.b, input: { autoNat: true } });
    let now = await lans(wanId);
    const translated = ['a', 'b', 'c'].map((name) => now[name]!.natCidr);
    expect(translated.every((cidr) => cidr !== null && /^172\.(1[6-9]|2\d|3[01])\.\d+\.0\/24$/.test(cidr))).toBe(true);
    expect(new Set(translated).size).toBe(3);
    expect((await conflicts(wanId)).filter((c) => ['LAN_UNREACHABLE', 'SUBNET_OVERLAP', 'LAN_UNROUTED'].includes(c.code))).toEqual([]);
    // Every LAN reaches every other LAN at the address Meshplane gave it, from its own translation.
    for (const name of ['a', 'b', 'c']) {
      expect(await lanPaths(ids[name]!), name).toEqual(['a', 'b', 'c'].filter((other) => other !== name).map((other) => `${other} ${now[other]!.natCidr}`));
    }
    const fromA = (await admin.ok<{ peer: { reachability: { reaches: Reach[] } } }>(REACH, { id: ids.a })).peer.reachability.reaches;
    expect(new Set(fromA.filter((r) => r.fromKind === 'LAN').map((r) => r.from))).toEqual(new Set([now.a!.natCidr]));

    // A fourth site with the same LAN joins the translated group translated, without asking.
    ids.d = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'd', endpointHost: '198.51.100.4', endpointPort: 51820 } })).addPeer.peer.id;
    names.set(ids.d, 'd');
    const joined = await admin.ok<{ addSubnet: { id: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: ids.d, input: { cidr: '192.168.1.0/24', autoNat: false } });
    expect(joined.addSubnet.natCidr).toMatch(/^172\./);
    expect(translated).not.toContain(joined.addSubnet.natCidr);
    subnetOf.d = joined.addSubnet.id;
    expect(await brokenDirections(wanId, names)).toEqual([]);

    // The case: a stops translating (respected), b, c and d keep theirs. Now a's LAN is
    // the others' own range both ways, and the API says so rather than claiming the paths.
    await admin.ok(UPDATE_SUBNET, { id: subnetOf.a, input: { natCidr: null } });
    now = await lans(wanId);
    expect(now.a!.natCidr).toBeNull();
    expect(await brokenDirections(wanId, names)).toEqual(['a -> b', 'a -> c', 'a -> d', 'b -> a', 'c -> a', 'd -> a']);
    const aToB = (await conflicts(wanId)).find((c) => c.code === 'LAN_UNREACHABLE' && c.peerIds[0] === ids.a && c.peerIds[1] === ids.b)!;
    expect(aToB).toMatchObject({ subnetIds: [subnetOf.a, subnetOf.b], cidrs: ['192.168.1.0/24', now.b!.natCidr], autoNatSubnetIds: [subnetOf.a] });
    expect(await lanPaths(ids.a!)).toEqual([]);
    expect(await lanPaths(ids.b!)).toEqual([`c ${now.c!.natCidr}`, `d ${now.d!.natCidr}`]);
    // a itself (its tunnel IP) still reaches b's LAN: b accepts 10.31.0.x from a.
    const aRouter = (await admin.ok<{ peer: { reachability: { reaches: Reach[] } } }>(REACH, { id: ids.a })).peer.reachability.reaches;
    expect(aRouter).toContainEqual({ from: expect.stringMatching(/^10\.31\.0\.\d+\/32$/), fromKind: 'TUNNEL_IP', kind: 'LAN', target: now.b!.natCidr, targetPeerName: 'b' });

    // The fix the conflict offers: auto-NAT on a's LAN puts it back into the group.
    await admin.ok(UPDATE_SUBNET, { id: aToB.autoNatSubnetIds[0], input: { autoNat: true } });
    expect(await brokenDirections(wanId, names)).toEqual([]);
    const audit = await t.app.database.prisma.auditLog.findMany({ where: { action: 'subnet.update', targetId: { in: [subnetOf.a!, subnetOf.c!] } } });
    expect(audit.some((entry) => entry.targetId === subnetOf.c && (entry.details ?? '').includes('overlap group'))).toBe(true);
  });

  it('the two-site case: auto-NAT asked for at creation translates the other site too', async () => {
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'pair', tunnelCidr: '10.32.0.0/24', servicesCidr: '10.32.5.0/24' } })).createWan.wan.id;
    const a = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'a', endpointHost: '198.51.100.11', endpointPort: 51820 } })).addPeer.peer.id;
    const b = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input: { name: 'b', endpointHost: '198.51.100.12', endpointPort: 51820 } })).addPeer.peer.id;
    await admin.ok(ADD_SUBNET, { peerId: a, input: { cidr: '192.168.7.0/24' } });
    const lanB = await admin.ok<{ addSubnet: { natCidr: string | null } }>(ADD_SUBNET, { peerId: b, input: { cidr: '192.168.7.0/24', autoNat: true } });
    const now = await lans(wanId);
    expect(now.b!.natCidr).toBe(lanB.addSubnet.natCidr);
    expect(now.a!.natCidr).toMatch(/^172\./);
    expect(now.a!.natCidr).not.toBe(now.b!.natCidr);
    expect(await lanPaths(a)).toEqual([`b ${now.b!.natCidr}`]);
    expect(await lanPaths(b)).toEqual([`a ${now.a!.natCidr}`]);
  });
});
