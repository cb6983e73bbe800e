// pfSense in a WAN with redundant hubs, against the simulator: a spoke gets one tunnel per
// hub, a monitored gateway per hub tunnel, a gateway group ranking the hubs and the overlay
// routed through them; a hub is refused before anything is written.
import { describe, expect, it } from 'vitest';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import { describePlan, secretsOf } from '../../domain/plan.js';
import { RawClient } from '../../../test/sim/pfsense/test-client.js';
import { DeviceError } from '../driver.js';
import { joinPriorities } from './codec.js';
import { HUB_MONITOR } from './mapping.js';
import { deploy, driverOnSimulator, isOurs, managedObjects, stateFor, unmanagedObjects } from './test-fixtures.js';

const start = driverOnSimulator({ applyDelayMs: 5 });

/** Two hubs with LANs, the pfSense spoke "pf" (its LAN is the firewall's LAN) and another spoke. */
function redundantSpec(hubRedundancy = true): OverlaySpec {
  const spec = overlay([
    peer('h1', '10.0.0.1', { role: 'HUB', subnets: [subnet('lanH1', '192.168.11.0/24')] }),
    peer('h2', '10.0.0.2', { role: 'HUB', subnets: [subnet('lanH2', '192.168.12.0/24')] }),
    peer('pf', '10.0.0.3', { endpointHost: null, runsBgp: false, subnets: [subnet('lanPf', '192.168.1.0/24')] }),
    peer('s4', '10.0.0.4', { endpointHost: null, subnets: [subnet('lanS4', '192.168.4.0/24')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy });
  spec.presharedKeys = [
    { peerAId: 'h1', peerBId: 'pf', key: Buffer.alloc(32, 21).toString('base64') },
    { peerAId: 'h2', peerBId: 'pf', key: Buffer.alloc(32, 22).toString('base64') },
  ];
  return spec;
}


describe('pfSense spoke in a WAN with redundant hubs', () => {
  it('deploys a tunnel per hub, a monitored gateway per hub tunnel, a group with the primary on tier 1 and the overlay routed through it; verify finds no drift', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(redundantSpec());
    expect(state.peer.routing?.protocol).toBe('gateway-monitor');
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });

    const tunnels = sim.model.list('tunnels').filter(isOurs);
    expect(tunnels.map((tunnel) => [tunnel.descr, tunnel.listenport])).toEqual([
      ['meshplane:wan1:tunnel:wg-mesh', '51820'],
      ['meshplane:wan1:tunnel:wg-meshh2', '51821'],
    ]);
    const peers = sim.model.list('peers').filter(isOurs);
    const overlayPrefixes = ['10.0.0.0/24', '10.0.5.0/24', '192.168.4.0/24', '192.168.11.0/24', '192.168.12.0/24'].sort();
    expect(peers.map((item) => [String(item.descr).split(' ')[0], item.tun, item.endpoint, item.port, item.persistentkeepalive])).toEqual([
      ['meshplane:wan1:peer:h1', tunnels[0]?.name, 'h1.example.net', '51820', 25],
      ['meshplane:wan1:peer:h2', tunnels[1]?.name, 'h2.example.net', '51820', 25],
    ]);
    for (const item of peers) expect((item.allowedips as Array<{ address: string; mask: number }>).map((entry) => `${entry.address}/${entry.mask}`).sort()).toEqual([...overlayPrefixes].sort());

    const interfaces = sim.model.list('interfaces').filter((iface) => String(iface.descr).startsWith('MP_'));
    expect(interfaces.map((iface) => [iface.descr, iface.if, iface.ipaddr, iface.subnet])).toEqual([
      ['MP_wg_mesh', tunnels[0]?.name, '10.0.0.3', 32],
      ['MP_wg_meshh2', tunnels[1]?.name, '10.0.0.3', 32],
    ]);

    const gateways = sim.model.list('gateways').filter(isOurs);
    expect(gateways.map((gateway) => [gateway.descr, gateway.interface, gateway.gateway, gateway.monitor, gateway.monitor_disable])).toEqual([
      ['meshplane:wan1:gateway:h1', interfaces[0]?.id, '10.0.0.1', '10.0.0.1', false],
      ['meshplane:wan1:gateway:h2', interfaces[1]?.id, '10.0.0.2', '10.0.0.2', false],
    ]);
    for (const gateway of gateways) expect(gateway).toMatchObject(HUB_MONITOR);
    const [group, ...moreGroups] = sim.model.list('groups');
    expect(moreGroups).toEqual([]);
    expect(group).toMatchObject({ descr: 'meshplane:wan1:group:hubs', trigger: 'down' });
    expect(group?.priorities).toEqual([
      { gateway: gateways[0]?.name, tier: 1, virtual_ip: 'address' },
      { gateway: gateways[1]?.name, tier: 2, virtual_ip: 'address' },
    ].sort((a, b) => String(a.gateway).localeCompare(String(b.gateway))));

    // pfSense installs static routes through single gateways only: the kernel routes go to the
    // primary hub, and LAN traffic is policy-routed through the group.
    const routes = sim.model.list('routes').filter(isOurs);
    expect(routes.map((route) => [route.network, route.gateway]).sort()).toEqual(overlayPrefixes.map((prefix) => [prefix, gateways[0]?.name]));
    const failover = sim.model.list('rules').filter((rule) => String(rule.descr).startsWith('meshplane:wan1:rule:failover:'));
    expect(failover.map((rule) => [rule.source, rule.destination, rule.gateway, rule.floating, rule.quick, rule.direction, rule.interface]).sort()).toEqual(
      overlayPrefixes.map((prefix) => ['192.168.1.0/24', prefix, group?.name, true, true, 'in', ['any']]),
    );
    const overlayIn = sim.model.list('rules').filter((rule) => String(rule.descr).startsWith('meshplane:wan1:rule:overlay-in'));
    expect(overlayIn.map((rule) => rule.interface)).toEqual([[interfaces[0]?.id], [interfaces[1]?.id]]);

    expect(['wireguard', 'interfaces', 'routing', 'firewall'].every((area) => sim.model.isApplied(area as 'routing'))).toBe(true);
    expect(sim.model.runtime.groups).toHaveLength(1);
    expect(unmanagedObjects(sim.model)).toEqual(before);
    // verify: the same desired state plans nothing.
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(driver.preflight(state, await driver.readState(state))).toEqual([]);
  });

  it('follows a hub that dpinger reports down: the group leaves it out, the status endpoint says so', async () => {
    const { sim, driver } = await start();
    await deploy(driver, stateFor(redundantSpec()));
    const [group] = sim.model.list('groups');
    const [gw1, gw2] = sim.model.list('gateways').filter(isOurs);
    expect(sim.model.activeMembers(String(group?.name))).toEqual([gw1?.name]);
    sim.model.markGatewayDown(String(gw1?.name));
    expect(sim.model.activeMembers(String(group?.name))).toEqual([gw2?.name]);
    const client = new RawClient(sim);
    try {
      const status = await client.send('/api/v2/status/gateways', { query: `name=${String(gw1?.name)}` });
      expect(status.json?.data).toEqual([expect.objectContaining({ name: gw1?.name, monitorip: '10.0.0.1', srcip: '10.0.0.3', status: 'down', loss: 100 })]);
    } finally {
      await client.close();
    }
    sim.model.markGatewayDown(String(gw1?.name), false);
    expect(sim.model.activeMembers(String(group?.name))).toEqual([gw1?.name]);
  });

  it('shows a changed tier as drift and puts it back', async () => {
    const { sim, driver } = await start();
    const state = stateFor(redundantSpec());
    await deploy(driver, state);
    const [gw1, gw2] = sim.model.list('gateways').filter(isOurs);
    const client = new RawClient(sim);
    try {
      // Someone ranks hub 2 first on the firewall.
      const reply = await client.send('/api/v2/routing/gateway/group', { method: 'PATCH', body: { id: 0, priorities: [{ gateway: gw1?.name, tier: 2 }, { gateway: gw2?.name, tier: 1 }] } });
      expect(reply.status, reply.text).toBe(200);
    } finally {
      await client.close();
    }
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations).toEqual([expect.objectContaining({
      op: 'update', kind: 'routing/gateway/group', key: 'wan1:group:hubs',
      changes: { priorities: joinPriorities([{ gateway: String(gw1?.name), tier: 1 }, { gateway: String(gw2?.name), tier: 2 }]) },
      before: { priorities: joinPriorities([{ gateway: String(gw1?.name), tier: 2 }, { gateway: String(gw2?.name), tier: 1 }]) },
    }), expect.objectContaining({ kind: 'routing/apply' })]);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.activeMembers(String(sim.model.list('groups')[0]?.name))).toEqual([gw1?.name]);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
  });

  it('clears exactly what it made (routes and rules before the group, the group before its gateways), and nothing else', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(redundantSpec());
    await deploy(driver, state);
    const plan = driver.clearPlan(await driver.readState(state));
    const order = plan.operations.map((operation) => operation.kind);
    expect(order.indexOf('routing/gateway/group')).toBeLessThan(order.indexOf('routing/gateway'));
    expect(order.lastIndexOf('routing/static_route')).toBeLessThan(order.indexOf('routing/gateway/group'));
    expect(order.lastIndexOf('firewall/rule')).toBeLessThan(order.indexOf('routing/gateway/group'));
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual({ tunnels: [], peers: [], gateways: [], groups: [], routes: [], rules: [], oneToOne: [], portForwards: [], interfaces: [] });
    expect(unmanagedObjects(sim.model)).toEqual(before);
    expect(sim.model.isApplied('routing')).toBe(true);
  });

  it('reverts between a single-hub deployment and the redundant one in both directions, each exactly as deployed before', async () => {
    const { sim, driver } = await start();
    const single = stateFor(redundantSpec(false));
    const redundant = stateFor(redundantSpec(true));
    expect(single.peer.routing).toBeUndefined();
    expect((await deploy(driver, single)).result.failed).toBeNull();
    const singleOnDevice = managedObjects(sim.model);
    expect((await deploy(driver, redundant)).result.failed).toBeNull();
    const redundantOnDevice = managedObjects(sim.model);
    expect(redundantOnDevice.groups).toHaveLength(1);

    expect((await deploy(driver, single)).result.failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual(singleOnDevice);
    expect((await deploy(driver, redundant)).result.failed).toBeNull();
    expect(managedObjects(sim.model)).toEqual(redundantOnDevice);
  });

  it('keeps the tunnel private key and the preshared keys of every hub tunnel out of plans and failure messages', async () => {
    const { sim, driver } = await start();
    const state = stateFor(redundantSpec());
    const secrets = [state.peer.interface.privateKey as string, Buffer.alloc(32, 21).toString('base64'), Buffer.alloc(32, 22).toString('base64')];
    const plan = driver.plan(state, await driver.readState(state));
    expect(new Set(plan.operations.flatMap((operation) => secretsOf(operation)))).toEqual(new Set(secrets));
    for (const secret of secrets) expect(describePlan(plan).join('\n')).not.toContain(secret);
    // The device refuses the link's tunnel quoting the body it got: the message must not carry the key.
    const linkTunnel = plan.operations.findIndex((operation) => operation.op === 'create' && operation.key === 'wan1:tunnel:wg-meshh2');
    expect(linkTunnel).toBeGreaterThan(0);
    expect((await driver.apply({ ...plan, operations: plan.operations.slice(0, linkTunnel) })).failed).toBeNull();
    sim.faults.failEndpoint = { method: 'POST', path: '/api/v2/vpn/wireguard/tunnel', status: 400, responseId: 'FIELD_INVALID', times: 1, echoBody: true };
    const result = await driver.apply({ ...plan, operations: plan.operations.slice(linkTunnel) });
    expect(result.failed?.operation.key).toBe('wan1:tunnel:wg-meshh2');
    expect(result.failed?.message).toContain('FIELD_INVALID');
    for (const secret of secrets) expect(result.failed?.message).not.toContain(secret);
  });
});

describe('pfSense as a hub of a WAN with redundant hubs', () => {
  it('is refused by preflight and plan, saying why and what to use, before anything is written', async () => {
    const { sim, driver } = await start();
    const before = managedObjects(sim.model);
    const state = stateFor(redundantSpec(), 'h1');
    const writesBefore = sim.requests.filter((request) => request.method !== 'GET').length;
    const actual = await driver.readState(state);
    const issues = driver.preflight(state, actual);
    expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringMatching(/hub of a WAN with redundant hubs.*cannot configure FRR\/BGP.*Linux or RouterOS/) })]);
    let refused: unknown = null;
    try {
      driver.plan(state, actual);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DeviceError);
    expect((refused as DeviceError).code).toBe('REFUSED');
    expect((refused as DeviceError).message).toContain('Use a Linux or RouterOS device for hubs');
    expect(sim.requests.filter((request) => request.method !== 'GET').length).toBe(writesBefore);
    expect(managedObjects(sim.model)).toEqual(before);
  });

  it('refuses a spoke compiled to run BGP (not marked as a pfSense peer)', async () => {
    const { driver } = await start();
    const spec = redundantSpec();
    spec.peers = spec.peers.map((item) => (item.id === 'pf' ? { ...item, runsBgp: undefined } : item));
    const state = stateFor(spec);
    expect(driver.preflight(state, await driver.readState(state))).toEqual([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('compiled to run BGP') })]);
  });
});
