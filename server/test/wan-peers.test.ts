// Wan.peers is cut from the request's one read of the WAN's peers, not a Pothos-planned
// relation: its pages, cursors and every field beneath a node must be what a planned read of
// the same peer gives (Query.peer), and paging must follow Pothos's relay semantics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

const NODE = `id name tunnelIp keyCustody configStatus stale deliveredVia download { status } autoDeploy
  device { id name kind hasSecret peers { id name } }
  subnets { id cidr natCidr routed peer { id name } }
  services { id name serviceIp servicePort peer { id } }
  wan { id name peerCount }
  deployments { id }
  status { online }`;

interface Edge { cursor: string; node: { id: string; name: string } & Record<string, unknown> }
interface Page { edges: Edge[]; pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null } }

describe('Wan.peers', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let wanId: string;
  const ids: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "paged", topology: HUB_SPOKE, tunnelCidr: "10.44.0.0/24" }) { wan { id } } }`)).createWan.wan.id;
    const device = (await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'edge-paged', kind: 'ROUTEROS_API', host: '192.0.2.44', username: 'meshplane', secret: 'hunter2-hunter2' },
    })).createDevice.id;
    for (let i = 0; i < 7; i++) {
      const input = { name: `p${i}`, role: i === 0 ? 'HUB' : 'SITE', ...(i === 0 ? { endpointHost: '203.0.113.44', endpointPort: 51820 } : {}), ...(i % 3 === 1 ? { deviceId: device } : {}) };
      ids.push((await admin.ok<{ addPeer: { peer: { id: string } } }>(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, { wanId, input })).addPeer.peer.id);
    }
    for (const [i, cidr] of [[2, '192.168.52.0/24'], [2, '192.168.50.0/24'], [5, '192.168.55.0/24']] as const) {
      await admin.ok(`mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id } }`, { peerId: ids[i], input: { cidr } });
    }
    await admin.ok(`mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { id } }`, { peerId: ids[3], input: { name: 'web', localIp: '192.168.1.10', localPort: 8080 } });
    // A manual peer (its download is what it runs) and one with a device (a download is only an inspection).
    for (const peerId of [ids[4], ids[5]]) await admin.ok(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId });
  });
  afterAll(() => t.stop());

  async function page(args: string): Promise<Page> {
    return (await admin.ok<{ wan: { peers: Page } }>(`query ($id: ID!) { wan(id: $id) { peers${args ? `(${args})` : ''} { edges { cursor node { ${NODE} } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`, { id: wanId })).wan.peers;
  }

  it('answers every field of a node as a planned read of the same peer does', async () => {
    const all = await page('first: 100');
    expect(all.edges).toHaveLength(7);
    for (const edge of all.edges) {
      const planned = await admin.ok<{ peer: Record<string, unknown> }>(`query ($id: ID!) { peer(id: $id) { ${NODE} } }`, { id: edge.node.id });
      expect(edge.node).toEqual(planned.peer);
    }
    const byName = Object.fromEntries(all.edges.map((edge) => [edge.node.name, edge.node]));
    expect(byName.p2?.subnets).toMatchObject([{ cidr: '192.168.50.0/24' }, { cidr: '192.168.52.0/24' }]);
    expect(byName.p1?.device).toMatchObject({ name: 'edge-paged', hasSecret: true });
    expect(byName.p5).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'download:conf', download: { status: 'CURRENT' } });
    expect(byName.p4).toMatchObject({ configStatus: 'NEVER_DELIVERED', deliveredVia: null, download: { status: 'CURRENT' } });
  });

  it('pages forward and backward in tunnel-address order', async () => {
    const all = (await page('first: 100')).edges.map((edge) => edge.node.tunnelIp);
    expect(all).toEqual([...all].sort());
    expect((await page('')).edges).toHaveLength(7);

    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const next: Page = await page(after ? `first: 3, after: "${after}"` : 'first: 3');
      forward.push(...next.edges.map((edge) => edge.node.tunnelIp as string));
      expect(next.pageInfo.hasPreviousPage).toBe(after !== null);
      // A position inside a cursor that names this list (src/graphql/argument-checks.ts, schema/wan-peers.ts).
      for (const edge of next.edges) expect(Buffer.from(edge.cursor, 'base64').toString()).toMatch(new RegExp(`^Wan\\.peers/${wanId}\\|[A-Za-z0-9_-]+$`));
      if (!next.pageInfo.hasNextPage) break;
      after = next.pageInfo.endCursor;
    }
    expect(forward).toEqual(all);

    const last = await page('last: 2');
    expect(last.edges.map((edge) => edge.node.tunnelIp)).toEqual(all.slice(-2));
    expect(last.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: false });
    const before = await page(`last: 2, before: "${last.pageInfo.startCursor}"`);
    expect(before.edges.map((edge) => edge.node.tunnelIp)).toEqual(all.slice(-4, -2));
    expect(before.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });
    expect((await page('first: 0')).edges).toEqual([]);
    const all1000 = await admin.ok<{ wan: { peers: Page } }>(`query ($id: ID!) { wan(id: $id) { peers(first: 1000) { edges { node { id } } pageInfo { hasNextPage } } } }`, { id: wanId });
    expect(all1000.wan.peers.edges).toHaveLength(7);
    // More than the largest page is refused, not cut silently (src/graphql/argument-checks.ts).
    expect(await admin.errorCodes(`query ($id: ID!) { wan(id: $id) { peers(first: 1500) { edges { node { id } } } } }`, { id: wanId })).toEqual(['BAD_USER_INPUT']);
    expect(await admin.errorCodes(`query ($id: ID!, $a: String) { wan(id: $id) { peers(after: $a, before: $a) { edges { node { id } } } } }`, { id: wanId, a: last.pageInfo.startCursor })).toHaveLength(1);
  });

  it('counts stale configs from the same read the list shows', async () => {
    for (const id of [ids[4], ids[5]]) await admin.ok(`mutation ($id: ID!) { rotatePeerKey(id: $id) { peer { id } } }`, { id });
    const data = await admin.ok<{ wan: { staleCount: number; peers: Page } }>(`query ($id: ID!) { wan(id: $id) { staleCount peers(first: 100) { edges { cursor node { id name stale } } } } }`, { id: wanId });
    expect(data.wan.staleCount).toBe(1);
    // p4's device never had a configuration: a stale download of it does not count.
    expect(data.wan.peers.edges.filter((edge) => edge.node.stale).map((edge) => edge.node.name)).toEqual(['p5']);
  });
});
