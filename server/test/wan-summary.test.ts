// The WAN page's first view (graphql/schema/wan-summary.ts): counts and a topology summary
// instead of every peer and tunnel, the first conflicts with their total, and the stale count
// from the delivered peers only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`;
const UPDATE_PEER = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id } } }`;
const FIRST_VIEW = `query ($id: ID!) { wan(id: $id) {
  staleCount conflictCount conflicts(first: 1) { code }
  all: conflicts { code }
  topologySummary { peers enabled disabled hubs sites clients withDevice withoutEndpoint hubNames tunnels }
  topologyGraph { edges { from } }
} }`;

interface FirstView {
  staleCount: number;
  conflictCount: number;
  conflicts: Array<{ code: string }>;
  all: Array<{ code: string }>;
  topologySummary: Record<string, number | string[]>;
  topologyGraph: { edges: unknown[] };
}

describe('WAN page first view', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t.stop());

  it('counts peers by role and kind, tunnels as the graph draws them, conflicts beyond the first, and stale delivered peers', async () => {
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: 'summary', topology: 'HUB_SPOKE' } })).createWan.wan.id;
    const add = async (input: Record<string, unknown>) => (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
    const hub = await add({ name: 'hq', role: 'HUB', endpointHost: 'hq.example.net', endpointPort: 51820 });
    await add({ name: 'hub-b', role: 'HUB', endpointHost: 'b.example.net', endpointPort: 51820 });
    const site = await add({ name: 'branch', role: 'SITE', subnets: [{ cidr: '192.168.50.0/24' }] });
    await add({ name: 'branch-2', role: 'SITE', subnets: [{ cidr: '192.168.50.0/24' }] });
    await add({ name: 'laptop', role: 'CLIENT', enabled: false });
    await admin.ok(DOWNLOAD, { peerId: site });
    let view = (await admin.ok<{ wan: FirstView }>(FIRST_VIEW, { id: wanId })).wan;
    expect(view.topologySummary).toEqual({
      peers: 5, enabled: 4, disabled: 1, hubs: 2, sites: 2, clients: 1, withDevice: 0, withoutEndpoint: 3, hubNames: ['hq', 'hub-b'], tunnels: view.topologyGraph.edges.length,
    });
    expect(view.topologySummary.tunnels).toBeGreaterThan(0);
    expect(view.conflictCount).toBe(view.all.length);
    expect(view.conflictCount).toBeGreaterThan(1);
    expect(view.conflicts).toEqual(view.all.slice(0, 1));
    expect(view.staleCount).toBe(0);
    // The hub's endpoint changes: the downloaded branch config is stale; peers never delivered are not.
    await admin.ok(UPDATE_PEER, { id: hub, input: { endpointHost: 'hq2.example.net' } });
    view = (await admin.ok<{ wan: FirstView }>(FIRST_VIEW, { id: wanId })).wan;
    expect(view.staleCount).toBe(1);
  });
});
