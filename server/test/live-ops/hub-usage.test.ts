// Which hub a spoke uses, and a lost hub, as the devices report the tunnels: a WAN with two
// redundant hubs, the spoke deployed to one simulated RouterOS device (an interface per hub)
// and hub 2 to another, the monitor polling both (handshakes on every interface, and the BGP
// sessions), Wan.hubUsage and hubUsageChanged through GraphQL. The spoke's tunnel to hub 2
// sits on its second interface: were only the WAN's main interface read, that tunnel would
// look absent. The sessions decide where one is reported: they follow BFD within a second,
// a handshake stays fresh for three minutes after a hub is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { startRouterOsSimulator, type RouterOsSimulator } from '../sim/routeros/index.js';
import { registerAdmin, type GraphQLTestClient } from '../support/graphql.js';
import { ADD_PEER, deploy, Feed, startLiveApp, type LiveApp } from './harness.js';

interface Usage {
  hubs: Array<{ name: string; state: string; spokesUsing: number; reason: string }>;
  spokes: Array<{ name: string; state: string; hubName: string | null; hubRank: number | null; reason: string }>;
}
const USAGE = 'hubs { name state spokesUsing reason } spokes { name state hubName hubRank reason }';

describe('hub usage from the tunnels the devices report', () => {
  let live: LiveApp;
  let spokeRouter: RouterOsSimulator;
  let hubRouter: RouterOsSimulator;
  let admin: GraphQLTestClient;
  let ws: Client;
  let wanId: string;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};
  const addresses: Record<string, string> = {};
  /** Sets the BGP session with `peer` on a router, as its routing would report it. */
  const session = (router: RouterOsSimulator, peer: string, established: boolean) => router.model.setBgpSession(addresses[peer]!, established);

  beforeAll(async () => {
    [spokeRouter, hubRouter] = await Promise.all([startRouterOsSimulator({ version: '7.18.2' }), startRouterOsSimulator({ version: '7.18.2' })]);
    live = await startLiveApp({ monitorIntervalMs: 100 });
    admin = await registerAdmin(live.graphqlUrl);
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "hub-usage" }) { token } }`);
    ws = admin.withToken(createApiToken.token).ws();
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(
      `mutation { createWan(input: { name: "redundant", topology: HUB_SPOKE, interfaceName: "wgmp", hubRedundancy: true }) { wan { id } } }`,
    );
    wanId = createWan.wan.id;
    const device = async (name: string, sim: RouterOsSimulator) => (await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name, kind: 'ROUTEROS_API', host: sim.host, port: sim.apiPort, username: sim.username, secret: sim.password, tls: false, timeoutMs: 3000 },
    })).createDevice.id;
    const add = async (name: string, input: Record<string, unknown>) => {
      const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string; publicKey: string } } }>(ADD_PEER, { wanId, input: { name, ...input } });
      ids[name] = addPeer.peer.id;
      keys[name] = addPeer.peer.publicKey;
    };
    await add('hub1', { role: 'HUB', endpointHost: '203.0.113.1', endpointPort: 51820 });
    await add('hub2', { role: 'HUB', endpointHost: '203.0.113.2', endpointPort: 51820, deviceId: await device('hub2-router', hubRouter) });
    await add('branch', { role: 'SITE', deviceId: await device('branch-router', spokeRouter) });
    await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.20.0/24", description: "branch LAN" }) { id } }`, { peerId: ids.branch });
    expect((await deploy(admin, ids.branch!)).status).toBe('SUCCEEDED');
    expect((await deploy(admin, ids.hub2!)).status).toBe('SUCCEEDED');
    const { wan } = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; tunnelIp: string } }> } } }>(
      `query ($id: ID!) { wan(id: $id) { peers { edges { node { name tunnelIp } } } } }`, { id: wanId },
    );
    for (const { node } of wan.peers.edges) addresses[node.name] = node.tunnelIp;
  });
  afterAll(async () => {
    await ws?.dispose();
    await live?.stop();
    await Promise.all([spokeRouter?.stop(), hubRouter?.stop()]);
  });

  const usage = async (): Promise<Usage> => (await admin.ok<{ wan: { hubUsage: Usage } }>(`query ($id: ID!) { wan(id: $id) { hubUsage { ${USAGE} } } }`, { id: wanId })).wan.hubUsage;
  async function until(done: (value: Usage) => boolean, what: string): Promise<Usage> {
    let last: Usage | null = null;
    for (let poll = 0; poll < 300; poll++) {
      last = await usage();
      if (done(last)) return last;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(last)}`);
  }
  const hub = (value: Usage, name: string) => value.hubs.find((entry) => entry.name === name);
  const spoke = (value: Usage) => value.spokes.find((entry) => entry.name === 'branch');

  it('without sessions reported, from the handshakes: a spoke is on its primary hub while its device reports that tunnel up, read on every one of its interfaces', async () => {
    // Disabled connections have no session rows: the routing reports nothing, handshakes decide.
    for (const router of [spokeRouter, hubRouter]) {
      for (const row of router.model.execute({ command: '/routing/bgp/connection/print' }).rows ?? []) {
        router.model.execute({ command: '/routing/bgp/connection/set', attributes: { '.id': row['.id']!, disabled: 'yes' } });
      }
    }
    spokeRouter.setHandshake(keys.hub1!, 3);
    spokeRouter.setHandshake(keys.hub2!, 3);
    // Hub 2's device has no handshake with the spoke: only the spoke's second interface says
    // that tunnel is up.
    hubRouter.setHandshake(keys.branch!, null);
    hubRouter.setHandshake(keys.hub1!, 3);
    const now = await until((value) => spoke(value)?.state === 'PRIMARY', 'branch on hub 1');
    expect(spoke(now)).toMatchObject({ hubName: 'hub1', hubRank: 1 });
    expect(hub(now, 'hub1')).toMatchObject({ state: 'UP', spokesUsing: 1 });
    expect(hub(now, 'hub2')).toMatchObject({ state: 'UP', spokesUsing: 0 });
  });

  it('hub 1 lost: the routing reports its sessions down while the handshakes are still fresh, the spoke on hub 2 at once, and the subscription says so', async () => {
    for (const router of [spokeRouter, hubRouter]) {
      for (const row of router.model.execute({ command: '/routing/bgp/connection/print' }).rows ?? []) {
        router.model.execute({ command: '/routing/bgp/connection/set', attributes: { '.id': row['.id']!, disabled: 'no' } });
      }
    }
    session(spokeRouter, 'hub1', true);
    session(spokeRouter, 'hub2', true);
    session(hubRouter, 'branch', true);
    session(hubRouter, 'hub1', true);
    await until((value) => spoke(value)?.state === 'PRIMARY', 'branch on hub 1');
    const feed = new Feed<{ hubUsageChanged: Usage }>(ws, `subscription ($wanId: ID!) { hubUsageChanged(wanId: $wanId) { ${USAGE} } }`, { wanId });
    await feed.waitFor((messages) => messages.length >= 1, 'the current usage');

    // BFD takes the sessions down within a second; the handshakes (3 s ago) stay fresh for minutes.
    session(spokeRouter, 'hub1', false);
    session(hubRouter, 'hub1', false);
    const [lost] = (await feed.waitFor((messages) => messages.some((message) => hub(message.hubUsageChanged, 'hub1')?.state === 'LOST'), 'hub 1 lost'))
      .filter((message) => hub(message.hubUsageChanged, 'hub1')?.state === 'LOST');
    expect(hub(lost!.hubUsageChanged, 'hub1')).toMatchObject({ spokesUsing: 0, reason: 'the devices report all 2 of its tunnels down' });
    expect(spoke(lost!.hubUsageChanged)).toMatchObject({ state: 'BACKUP', hubName: 'hub2', hubRank: 2 });
    expect(hub(lost!.hubUsageChanged, 'hub2')).toMatchObject({ state: 'UP', spokesUsing: 1 });
    const edges = (await admin.ok<{ wan: { topologyGraph: { edges: Array<{ from: string; to: string; state: string; session: string | null }> } } }>(
      `query ($id: ID!) { wan(id: $id) { topologyGraph { edges { from to state session } } } }`, { id: wanId },
    )).wan.topologyGraph.edges;
    expect(edges.find((edge) => [edge.from, edge.to].sort().join() === [ids.branch, ids.hub1].sort().join())).toMatchObject({ state: 'DOWN', session: 'DOWN' });
    // The same for a scraper.
    const metrics = await (await fetch(new URL('/metrics', live.graphqlUrl), { headers: { authorization: `Bearer ${live.app.metricsToken.token}` } })).text();
    expect(metrics).toContain('meshplane_hub_state{wan="redundant",hub="hub1",state="LOST"} 1');
    expect(metrics).toContain('meshplane_hub_state{wan="redundant",hub="hub1",state="UP"} 0');
    expect(metrics).toContain('meshplane_hub_spokes{wan="redundant",hub="hub2"} 1');

    // Back: the spoke returns to its primary, and the subscription says that too.
    session(spokeRouter, 'hub1', true);
    await feed.waitFor((messages) => spoke(messages.at(-1)!.hubUsageChanged)?.state === 'PRIMARY', 'branch back on hub 1');
    expect(hub(feed.messages.at(-1)!.hubUsageChanged, 'hub1')).toMatchObject({ state: 'UP', spokesUsing: 1 });
  });

  it('dual-stack: a session per family to each hub, and a tunnel carries only while both are established', async () => {
    await admin.ok(`mutation ($id: ID!) { updateWan(id: $id, input: { ipv6: true }) { wan { id } } }`, { id: wanId });
    expect((await deploy(admin, ids.branch!)).status).toBe('SUCCEEDED');
    expect((await deploy(admin, ids.hub2!)).status).toBe('SUCCEEDED');
    const { wan } = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; tunnelIp6: string } }> } } }>(
      `query ($id: ID!) { wan(id: $id) { peers { edges { node { name tunnelIp6 } } } } }`, { id: wanId },
    );
    const addresses6 = Object.fromEntries(wan.peers.edges.map(({ node }) => [node.name, node.tunnelIp6]));
    const session6 = (router: RouterOsSimulator, peer: string, established: boolean) => router.model.setBgpSession(addresses6[peer]!, established);
    for (const [router, peers] of [[spokeRouter, ['hub1', 'hub2']], [hubRouter, ['branch', 'hub1']]] as const) {
      for (const peer of peers) {
        session(router, peer, true);
        session6(router, peer, true);
      }
    }
    await until((value) => spoke(value)?.state === 'PRIMARY', 'branch on hub 1 over both families');
    // Only the IPv6 session to hub 1 drops: IPv6 traffic takes hub 2, so hub 1 no longer carries the spoke.
    session6(spokeRouter, 'hub1', false);
    const backup = await until((value) => spoke(value)?.state === 'BACKUP', 'branch on hub 2 once its IPv6 session to hub 1 is down');
    expect(spoke(backup)).toMatchObject({ hubName: 'hub2', hubRank: 2 });
    session6(spokeRouter, 'hub1', true);
    await until((value) => spoke(value)?.state === 'PRIMARY', 'branch back on hub 1');
  });

  it('the spoke\'s state is unknown, not backup, while its device cannot be read', async () => {
    await spokeRouter.stop();
    hubRouter.setHandshake(keys.hub1!, null);
    const now = await until((value) => spoke(value)?.state === 'UNKNOWN', 'branch unknown');
    expect(spoke(now)?.reason).toMatch(/unknown/);
  });
});
