// A WAN with redundant hubs deployed to RouterOS simulators through the driver, over the
// binary API and REST: a hub and a spoke each on its own router; verify, drift on the
// routing items, clear (exactly Meshplane's items leave), revert to an earlier deployment,
// undo of an apply stopped anywhere, switching redundancy off and on, a spoke without BGP,
// and the BGP session listing a monitor reads. (The shared driver contract assumes one
// interface, whose peers are all the device's peers; these tests take its place here.)
import { afterEach, describe, expect, it } from 'vitest';
import {
  BFD_CONFIGURATION, BGP_CONNECTION, BGP_SESSION, FIREWALL_ADDRESS_LIST, ROUTING_FILTER_RULE, startRouterOsSimulator, type RouterOsSimulator,
} from '../../../test/sim/routeros/index.js';
import type { ActualResource } from '../../domain/plan.js';
import { undoPlan } from '../../domain/undo.js';
import type { DesiredDeviceState, DeviceKind } from '../driver.js';
import { redundantSpec, redundantState, withoutRedundancy } from './__fixtures__/redundant.js';
import { createRouterOsDriver, createRouterOsTransport, type RouterOsDriver } from './index.js';
import { MENU } from './menus.js';

interface Variant {
  label: string;
  kind: DeviceKind;
}

const VARIANTS: Variant[] = [
  { label: 'API', kind: 'ROUTEROS_API' },
  { label: 'REST', kind: 'ROUTEROS_REST' },
];

const ALL_MENUS = [MENU.interface, MENU.peers, MENU.address, MENU.route, MENU.filter, MENU.nat, FIREWALL_ADDRESS_LIST, ROUTING_FILTER_RULE, BFD_CONFIGURATION, BGP_CONNECTION];

function target(sim: RouterOsSimulator, variant: Variant) {
  const rest = variant.kind === 'ROUTEROS_REST';
  return {
    id: 'dev1', name: `sim ${variant.label}`, kind: variant.kind, host: sim.host, port: rest ? sim.restPort : sim.apiPort,
    username: sim.username, secret: sim.password, tls: rest, tlsVerify: true, caPem: sim.caPem, timeoutMs: 5000, concurrency: 2,
  };
}

/** Unmanaged routing state a router may already have: it must survive every deploy and clear. */
function seedUnmanagedRouting(sim: RouterOsSimulator): void {
  sim.model.seed(FIREWALL_ADDRESS_LIST, { list: 'blocklist', address: '203.0.113.0/24', comment: 'not Meshplane' });
  sim.model.seed(ROUTING_FILTER_RULE, { chain: 'isp-in', rule: 'if (dst-len > 24) { reject } else { accept }' });
  sim.model.seed(BFD_CONFIGURATION, { interfaces: 'ether1', 'min-rx': '1s', 'min-tx': '1s', multiplier: '3' });
  sim.model.seed(BGP_CONNECTION, { name: 'isp', as: '65010', 'local.role': 'ebgp', 'remote.address': '198.51.100.1', 'remote.as': '64500', 'input.filter': 'isp-in' });
}

function unmanagedRows(sim: RouterOsSimulator) {
  return ALL_MENUS.flatMap((menu) => sim.model.rows(menu)
    .filter((row) => !row.comment?.startsWith('meshplane:') && row.dynamic !== 'true')
    .map((row) => ({ menu, row: { ...row, active: undefined, inactive: undefined } })));
}

function managedRows(sim: RouterOsSimulator) {
  return ALL_MENUS.flatMap((menu) => sim.model.rows(menu).filter((row) => row.comment?.startsWith('meshplane:')).map((row) => `${menu} ${row.comment}`));
}

/** Managed resources without the ids the router hands out. */
function comparable(resources: readonly ActualResource[]): string[] {
  return resources.filter((item) => item.key !== null)
    .map((item) => `${item.kind} ${item.key} ${JSON.stringify(Object.entries(item.props).filter(([prop]) => prop !== 'inactive').sort(([a], [b]) => a.localeCompare(b)))}`).sort();
}

async function deploy(driver: RouterOsDriver, state: DesiredDeviceState) {
  const plan = driver.plan(state, await driver.readState(state));
  const result = await driver.apply(plan);
  expect(result.failed, result.failed?.message).toBeNull();
  return plan;
}

async function replan(driver: RouterOsDriver, state: DesiredDeviceState) {
  return driver.plan(state, await driver.readState(state));
}

describe.each(VARIANTS)('redundant hubs on the RouterOS simulator, $label', (variant) => {
  const started: { sim: RouterOsSimulator; driver: RouterOsDriver }[] = [];
  const router = async () => {
    const sim = await startRouterOsSimulator({});
    seedUnmanagedRouting(sim);
    const entry = { sim, driver: createRouterOsDriver(target(sim, variant)) };
    started.push(entry);
    return entry;
  };

  afterEach(async () => {
    for (const { sim, driver } of started.splice(0)) {
      await driver.close();
      await sim.stop();
    }
  });

  it('deploys a hub and a spoke that peer with each other, then verifies with nothing to do', async () => {
    const hub = await router();
    const spoke = await router();
    const hubState = redundantState('hub1');
    const spokeState = redundantState('site');
    await deploy(hub.driver, hubState);
    await deploy(spoke.driver, spokeState);
    expect((await replan(hub.driver, hubState)).operations).toEqual([]);
    expect((await replan(spoke.driver, spokeState)).operations).toEqual([]);

    // The spoke: one interface per hub, the link on the main port + 2, point-to-point addresses.
    const interfaces = spoke.sim.model.rows(MENU.interface).filter((row) => row.comment?.startsWith('meshplane:'));
    expect(interfaces.map((row) => [row.name, row['listen-port']])).toEqual([['wg-mp', '51820'], ['wg-mph2', '51822']]);
    const addresses = spoke.sim.model.rows(MENU.address).filter((row) => row.comment?.startsWith('meshplane:') && row.address === '10.0.0.5/32');
    expect(addresses.map((row) => [row.interface, row.network])).toEqual([['wg-mp', '10.0.0.1'], ['wg-mph2', '10.0.0.2']]);

    // Each end's session names the other as the Linux peers' BIRD would.
    const spokeToHub = spoke.sim.model.rows(BGP_CONNECTION).find((row) => row['remote.address'] === '10.0.0.1');
    const hubToSpoke = hub.sim.model.rows(BGP_CONNECTION).find((row) => row['remote.address'] === '10.0.0.5');
    expect(spokeToHub).toMatchObject({ as: '4200000005', 'remote.as': '4200000001', 'local.address': '10.0.0.5', 'local.role': 'ebgp', multihop: 'false', 'use-bfd': 'true', 'hold-time': '9s', 'keepalive-time': '3s' });
    expect(hubToSpoke).toMatchObject({ as: '4200000001', 'remote.as': '4200000005', 'local.address': '10.0.0.1', 'output.redistribute': 'bgp' });
    const rules = spoke.sim.model.rows(ROUTING_FILTER_RULE).filter((row) => row.comment?.startsWith('meshplane:'));
    expect(rules.find((row) => row.chain === spokeToHub?.['input.filter'])?.rule).toContain('set bgp-local-pref 200');
    expect(rules.find((row) => row.chain === spokeToHub?.['output.filter-chain'])?.rule).toBe('if (dst in meshplane-wan1-originate) { accept } else { reject }');
    const originate = spoke.sim.model.rows(FIREWALL_ADDRESS_LIST).filter((row) => row.list === spokeToHub?.['output.network']).map((row) => row.address);
    expect(originate.sort()).toEqual(['10.0.0.5', '10.0.5.7', '192.168.50.0/24']);
    expect(spoke.sim.model.rows(BFD_CONFIGURATION).find((row) => row.comment?.startsWith('meshplane:'))).toMatchObject({ interfaces: 'wg-mp,wg-mph2', 'min-rx': '200ms', 'min-tx': '200ms', multiplier: '5' });
  });

  it('drift on the routing items shows in the plan and a redeploy puts it back', async () => {
    const { sim, driver } = await router();
    const state = redundantState('site');
    await deploy(driver, state);
    const connection = sim.model.rows(BGP_CONNECTION).find((row) => row['remote.address'] === '10.0.0.2');
    sim.model.execute({ command: `${BGP_CONNECTION}/set`, attributes: { '.id': connection!['.id']!, 'use-bfd': 'no', 'hold-time': '3m' } });
    const pinned = sim.model.rows(FIREWALL_ADDRESS_LIST).find((row) => row.list === 'meshplane-wan1-pinned' && row.address === '10.0.0.1');
    sim.model.execute({ command: `${FIREWALL_ADDRESS_LIST}/remove`, attributes: { '.id': pinned!['.id']! } });
    const bfd = sim.model.rows(BFD_CONFIGURATION).find((row) => row.comment === 'meshplane:wan1:bfd:tunnels');
    sim.model.execute({ command: `${BFD_CONFIGURATION}/set`, attributes: { '.id': bfd!['.id']!, interfaces: 'wg-mp' } });

    const drift = await replan(driver, state);
    expect(drift.operations.map((operation) => `${operation.op} ${operation.kind} ${operation.key}`).sort()).toEqual([
      `create ${FIREWALL_ADDRESS_LIST} wan1:address-list:pinned:10.0.0.1/32`,
      `update ${BFD_CONFIGURATION} wan1:bfd:tunnels`,
      `update ${BGP_CONNECTION} wan1:bgp:10.0.0.2`,
    ]);
    expect(drift.operations.find((operation) => operation.kind === BGP_CONNECTION)).toMatchObject({ changes: { 'use-bfd': 'yes', 'hold-time': '9s' } });
    await deploy(driver, state);
    expect((await replan(driver, state)).operations).toEqual([]);
  });

  it('clear removes every item Meshplane created and touches nothing else', async () => {
    const { sim, driver } = await router();
    const before = unmanagedRows(sim);
    const state = redundantState('hub1');
    await deploy(driver, state);
    expect(managedRows(sim).length).toBe(driver.desiredResources(state).length);
    const cleared = await driver.apply(driver.clearPlan(await driver.readState(state)));
    expect(cleared.failed).toBeNull();
    expect(managedRows(sim)).toEqual([]);
    expect(unmanagedRows(sim)).toEqual(before);
  });

  it('reverting to an earlier deployment (a third hub taken back) reads exactly as that deployment did', async () => {
    const { driver } = await router();
    const first = redundantState('site');
    await deploy(driver, first);
    const deployed = comparable(await driver.readState(first));
    const second = redundantState('site', 'thirdHub');
    const grow = await deploy(driver, second);
    expect(grow.operations.some((operation) => operation.op === 'create' && operation.kind === BGP_CONNECTION && operation.key === 'wan1:bgp:10.0.0.3')).toBe(true);
    expect(grow.operations.some((operation) => operation.op === 'create' && operation.kind === MENU.interface && operation.key === 'wan1:interface:wg-mph3')).toBe(true);
    await deploy(driver, first);
    expect(comparable(await driver.readState(first))).toEqual(deployed);
  });

  it('an apply stopped after the first, half, all but the last or all operations is undone to the deployed state', async () => {
    const { driver } = await router();
    const first = redundantState('site');
    await deploy(driver, first);
    const deployed = comparable(await driver.readState(first));
    const second = redundantState('site', 'thirdHub');
    const total = (await replan(driver, second)).operations.length;
    expect(total).toBeGreaterThan(10);
    for (const cut of [...new Set([1, Math.floor(total / 2), total - 1, total])]) {
      // A fresh plan each time: an undone delete comes back under a new id.
      const before = await driver.readState(first);
      const plan = driver.plan(second, before);
      // Operation `cut` (when there is one) was refused: carried out up to it, attempted with it.
      const result = await driver.apply({ operations: plan.operations.slice(0, cut), unchanged: 0 });
      expect(result.failed, `cut ${cut}`).toBeNull();
      const attempted = plan.operations.slice(0, Math.min(cut + 1, plan.operations.length));
      const undo = undoPlan(before, await driver.readState(first), attempted, driver.undoPolicy);
      expect((await driver.apply(undo.plan)).failed, `undo after ${cut} of ${total}`).toBeNull();
      expect(comparable(await driver.readState(first)), `undo after ${cut} of ${total}`).toEqual(deployed);
    }
  });

  it('renaming the WAN interface updates the main interface and its remote in place, and replaces the links', async () => {
    const { sim, driver } = await router();
    await deploy(driver, redundantState('site'));
    const spec = redundantSpec();
    const renamed = redundantState('site', 'initial', {}, { ...spec, wan: { ...spec.wan, interfaceName: 'wg-mq' } });
    const plan = await deploy(driver, renamed);
    const peerOps = plan.operations.filter((operation) => operation.kind === MENU.peers).map((operation) => `${operation.op} ${operation.key}`);
    expect(peerOps.sort()).toEqual(['create wan1:peer:hub2', 'delete wan1:peer:hub2', 'update wan1:peer:hub1']);
    expect((await replan(driver, renamed)).operations).toEqual([]);
    expect(sim.model.rows(MENU.peers).filter((row) => row.comment?.startsWith('meshplane:')).map((row) => row.interface)).toEqual(['wg-mq', 'wg-mqh2']);
  });

  it('a spoke without BGP gets a route per overlay prefix and hub, watched by ping, the primary hub first', async () => {
    const { sim, driver } = await router();
    const state = redundantState('branch');
    await deploy(driver, state);
    expect((await replan(driver, state)).operations).toEqual([]);
    expect(sim.model.rows(BGP_CONNECTION).filter((row) => row.comment?.startsWith('meshplane:'))).toEqual([]);
    const routes = sim.model.rows(MENU.route).filter((row) => row.comment?.startsWith('meshplane:') && row['dst-address'] === '192.168.50.0/24');
    expect(routes.map((row) => [row.gateway, row.distance, row['check-gateway']])).toEqual([['10.0.0.1', '11', 'ping'], ['10.0.0.2', '12', 'ping']]);
  });

  it('a WAN that stops using redundant hubs loses its links and routing items on the next deploy', async () => {
    const { sim, driver } = await router();
    await deploy(driver, redundantState('site'));
    const single = redundantState('site', 'initial', {}, withoutRedundancy(redundantSpec()));
    await deploy(driver, single);
    expect((await replan(driver, single)).operations).toEqual([]);
    const managed = managedRows(sim);
    expect(managed.filter((row) => /(bgp|bfd|routing-filter|address-list|interface:)/.test(row))).toEqual([]);
    expect(managed.some((row) => row.startsWith(`${MENU.route} meshplane:wan1:route:`))).toBe(true);
    // And back: the hub that moved to the main interface moves to its link again.
    await deploy(driver, redundantState('site'));
    expect((await replan(driver, redundantState('site'))).operations).toEqual([]);
    expect(sim.model.rows(MENU.peers).filter((row) => row.comment?.startsWith('meshplane:')).map((row) => [row.comment, row.interface]))
      .toEqual([['meshplane:wan1:peer:hub1', 'wg-mp'], ['meshplane:wan1:peer:hub2', 'wg-mph2']]);
  });

  it('a hub demotes an unmanaged static route competing with its route to a spoke without BGP, and says so first', async () => {
    const sim = await startRouterOsSimulator({ unmanagedState: { lan: '192.168.60.0/24' } });
    const driver = createRouterOsDriver(target(sim, variant));
    started.push({ sim, driver });
    const state = redundantState('hub1');
    const warnings = driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'WARNING');
    expect(warnings.map((issue) => issue.message)).toContainEqual(expect.stringContaining('unmanaged static route to 192.168.60.0/24 at distance 1'));
    await deploy(driver, state);
    const routes = sim.model.rows(MENU.route).filter((row) => row['dst-address'] === '192.168.60.0/24');
    expect(routes.map((row) => [row.comment, row.distance, row.active])).toEqual([['old path to branch LAN', '11', 'false'], ['meshplane:wan1:route:192.168.60.0/24', '10', 'true']]);
  });

  it('statistics per interface: a hub link reports its own hub, and nothing of other tunnels', async () => {
    const { sim, driver } = await router();
    const state = redundantState('site');
    await deploy(driver, state);
    const [hub1, hub2] = [state.peer.peers[0]!, state.peer.links![0]!.peers[0]!];
    sim.setHandshake(hub2.publicKey, 7);
    const main = await driver.statistics('wg-mp');
    const link = await driver.statistics('wg-mph2');
    expect(main.map((entry) => [entry.publicKey, entry.lastHandshake])).toEqual([[hub1.publicKey, null]]);
    expect(link.map((entry) => entry.publicKey)).toEqual([hub2.publicKey]);
    expect(link[0]?.lastHandshake).not.toBeNull();
  });

  it('lists each BGP session with its neighbour and whether it is established, as tests set it', async () => {
    const { sim, driver } = await router();
    await deploy(driver, redundantState('site'));
    sim.setBgpSession('10.0.0.1', true);
    const transport = createRouterOsTransport(target(sim, variant));
    try {
      const sessions = await transport.print(BGP_SESSION, { proplist: ['remote.address', 'established'] });
      // The router's own session to its ISP (seeded, never up) is listed too.
      expect(sessions.map((row) => [row['remote.address'], row.established]).sort()).toEqual([['10.0.0.1', 'true'], ['10.0.0.2', 'false'], ['198.51.100.1', 'false']]);
      sim.setBgpSession('10.0.0.1', false);
      sim.setBgpSession('10.0.0.2', true);
      const up = await transport.print(BGP_SESSION, { where: { established: 'true' } });
      expect(up.map((row) => row['remote.address'])).toEqual(['10.0.0.2']);
      await expect(transport.add(BGP_SESSION, { name: 'x' })).rejects.toMatchObject({ code: 'REFUSED' });
    } finally {
      await transport.close();
    }
  });
});
