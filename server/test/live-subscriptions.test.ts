import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

/** Collects a subscription's payloads; `next(n)` waits (bounded) until n have arrived. */
function collect<T>(client: Client, query: string, variables: Record<string, unknown>) {
  const received: T[] = [];
  let wake = () => undefined as void;
  const dispose = client.subscribe<T>({ query, variables }, {
    next: (message) => {
      if (message.data) received.push(message.data as T);
      wake();
    },
    error: (error) => {
      received.push({ error } as T);
      wake();
    },
    complete: () => wake(),
  });
  return {
    received,
    dispose,
    async until(count: number): Promise<T[]> {
      for (let waited = 0; received.length < count && waited < 200; waited++) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), new Promise((resolve) => setTimeout(resolve, 50))]);
      }
      return received;
    },
  };
}

describe('live WAN subscriptions: staleness and topology', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    token = (await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "live" }) { token } }`)).createApiToken.token;
  });
  afterAll(() => t.stop());

  it('sends the current statuses and graph first, then only what a change changed', async () => {
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "live", topology: HUB_SPOKE }) { wan { id } } }`);
    const wanId = createWan.wan.id;
    const ADD = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
    const hub = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD, { wanId, input: { name: 'hub', role: 'HUB', endpointHost: '198.51.100.1', endpointPort: 51820 } })).addPeer.peer.id;
    const spoke = (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD, { wanId, input: { name: 'spoke-1' } })).addPeer.peer.id;
    for (const peerId of [hub, spoke]) await admin.ok(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId });

    const ws = admin.withToken(token).ws();
    const staleness = collect<{ stalenessChanged: Array<{ name: string; configStatus: string }> }>(ws, `subscription ($wanId: ID!) { stalenessChanged(wanId: $wanId) { name configStatus } }`, { wanId });
    const topology = collect<{ topologyChanged: { nodes: Array<{ name: string }>; edges: unknown[] } }>(ws, `subscription ($wanId: ID!) { topologyChanged(wanId: $wanId) { nodes { name } edges { from to } } }`, { wanId });

    expect((await staleness.until(1))[0]!.stalenessChanged).toEqual([{ name: 'hub', configStatus: 'CURRENT' }, { name: 'spoke-1', configStatus: 'CURRENT' }]);
    expect((await topology.until(1))[0]!.topologyChanged.edges).toHaveLength(1);

    await admin.ok(ADD, { wanId, input: { name: 'spoke-2' } });
    const afterAdd = await staleness.until(2);
    expect(afterAdd[1]!.stalenessChanged).toEqual([{ name: 'hub', configStatus: 'STALE' }, { name: 'spoke-2', configStatus: 'NEVER_DELIVERED' }]);
    const graphs = await topology.until(2);
    expect(graphs[1]!.topologyChanged.nodes.map((node) => node.name).sort()).toEqual(['hub', 'spoke-1', 'spoke-2']);
    expect(graphs[1]!.topologyChanged.edges).toHaveLength(2);

    // A change that alters neither staleness nor the graph sends nothing.
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { autoDeploy: true }) { peer { id } } }`, { id: spoke });
    await admin.ok(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`, { peerId: hub });
    const final = await staleness.until(3);
    expect(final[2]!.stalenessChanged).toEqual([{ name: 'hub', configStatus: 'CURRENT' }]);
    expect(topology.received).toHaveLength(2);
    staleness.dispose();
    topology.dispose();
    await ws.dispose();
  });
});
