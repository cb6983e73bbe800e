// A pfSense whose REST API package predates 2.9.0 has no WireGuard status endpoints: the API
// says statsAvailable: false (the UI then says "no statistics" instead of showing zeros),
// while a 2.9+ device reports true; an unreachable device reports reachable: false. A device
// no peer is bound to gets a connection test from the monitor, which finds the same out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPfSenseSimulator, type PfSenseSimulator } from './sim/pfsense/index.js';
import { startTestApp, type TestApp } from './support/app.js';
import { registerAdmin, type GraphQLTestClient } from './support/graphql.js';

describe('device health in GraphQL (pfSense simulators)', () => {
  let app: TestApp;
  let admin: GraphQLTestClient;
  const sims: PfSenseSimulator[] = [];

  beforeAll(async () => {
    sims.push(await startPfSenseSimulator({ version: '2.8.1' }), await startPfSenseSimulator({ version: '2.9.0' }));
    app = await startTestApp();
    admin = await registerAdmin(app.graphqlUrl);
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all(sims.map((sim) => sim.stop()));
  });

  it('reports statsAvailable per device after a poll, and null before', async () => {
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "pf" }) { wan { id } } }`);
    const names = ['old-pf', 'new-pf', 'gone-pf'];
    // The third device points at a port where nothing listens.
    const ports = [sims[0]!.port, sims[1]!.port, 1];
    for (const [i, name] of names.entries()) {
      const sim = sims[Math.min(i, 1)]!;
      const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(
        `mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`,
        { input: { name, kind: 'PFSENSE', host: '127.0.0.1', port: ports[i], tls: true, username: sim.username, secret: sim.password, caPem: sim.caPem, timeoutMs: 2000 } },
      );
      await admin.ok(`mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`, {
        wanId: createWan.wan.id,
        input: { name: `site-${i}`, deviceId: createDevice.id, endpointHost: `site${i}.example.test`, listenPort: 51820, endpointPort: 51820 },
      });
    }
    // No peer on this one: the monitor has no interface to read and tests the connection instead.
    await admin.ok(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'spare-pf', kind: 'PFSENSE', host: '127.0.0.1', port: sims[0]!.port, tls: true, username: sims[0]!.username, secret: sims[0]!.password, caPem: sims[0]!.caPem, timeoutMs: 2000 },
    });
    const DEVICES = `{ devices { edges { node { name reachable statsAvailable } } } }`;
    type Devices = { devices: { edges: Array<{ node: { name: string; reachable: boolean | null; statsAvailable: boolean | null } }> } };
    const before = await admin.ok<Devices>(DEVICES);
    expect(before.devices.edges.map(({ node }) => node.statsAvailable)).toEqual([null, null, null, null]);

    await app.app.services.monitor.pollOnce();
    const after = await admin.ok<Devices>(DEVICES);
    const byName = Object.fromEntries(after.devices.edges.map(({ node }) => [node.name, node]));
    expect(byName['old-pf']).toMatchObject({ reachable: true, statsAvailable: false });
    expect(byName['new-pf']).toMatchObject({ reachable: true, statsAvailable: true });
    expect(byName['gone-pf']).toMatchObject({ reachable: false, statsAvailable: null });
    expect(byName['spare-pf']).toMatchObject({ reachable: true, statsAvailable: false });
  });
});
