// A dual-stack WAN with redundant hubs deployed to the RouterOS simulator through the driver,
// over the binary API and REST: the IPv6 BGP connections (address-families=ipv6 between the
// IPv6 tunnel addresses), IPv6 lists, routes and point-to-point routes applied and converged;
// the sessions a monitor reads, IPv6 ones in canonical form; drift on an IPv6 connection
// repaired; clear and a return to an IPv4-only WAN leave no IPv6 routing item and keep the
// router's own IPv6 address list entries.
import { afterEach, describe, expect, it } from 'vitest';
import { BGP_CONNECTION, IPV6_FIREWALL_ADDRESS_LIST, IPV6_ROUTE } from '../../../test/sim/routeros/index.js';
import type { DesiredDeviceState } from '../driver.js';
import { redundantDualStackSpec, redundantState } from './__fixtures__/redundant.js';
import { simHarness, writesOf, type SimHarness, type SimVariant } from './__fixtures__/sim-harness.js';
import type { RouterOsDriver } from './index.js';

const VARIANTS: SimVariant[] = [
  { label: 'API', kind: 'ROUTEROS_API', tls: false, version: '7.18.2' },
  { label: 'REST', kind: 'ROUTEROS_REST', tls: true, version: '7.18.2' },
];

const dual = (id: string) => redundantState(id, 'initial', {}, redundantDualStackSpec());

async function deploy(driver: RouterOsDriver, state: DesiredDeviceState) {
  const plan = driver.plan(state, await driver.readState(state));
  const result = await driver.apply(plan);
  expect(result.failed, result.failed?.message).toBeNull();
  return plan;
}

const replan = async (driver: RouterOsDriver, state: DesiredDeviceState) => driver.plan(state, await driver.readState(state));

describe.each(VARIANTS)('dual-stack redundant hubs on the RouterOS simulator, $label', (variant) => {
  let current: SimHarness | null = null;
  const start = async () => {
    current = await simHarness(variant);
    // The router's own IPv6 list entry: never Meshplane's to touch.
    current.sim.model.seed(IPV6_FIREWALL_ADDRESS_LIST, { list: 'bogons6', address: '2001:db8:dead::/48', comment: 'not Meshplane' });
    return current;
  };
  afterEach(async () => {
    await current?.stop();
    current = null;
  });
  const tagged = (sim: SimHarness['sim'], menu: string) => sim.model.rows(menu).filter((row) => row.comment?.startsWith('meshplane:wan1:'));

  it('a spoke gets an IPv6 connection per hub next to the IPv4 one; a redeploy writes nothing', async () => {
    const { sim, driver, commands } = await start();
    await deploy(driver, dual('site'));
    const connections = tagged(sim, BGP_CONNECTION).map((row) => [row['remote.address'], row['local.address'], row['address-families'], row['use-bfd']]);
    expect(connections.sort()).toEqual([
      ['10.0.0.1', '10.0.0.5', 'ip', 'true'], ['10.0.0.2', '10.0.0.5', 'ip', 'true'],
      ['fd10:aaaa:bbbb::1', 'fd10:aaaa:bbbb::5', 'ipv6', 'true'], ['fd10:aaaa:bbbb::2', 'fd10:aaaa:bbbb::5', 'ipv6', 'true'],
    ]);
    expect(tagged(sim, IPV6_ROUTE).map((row) => [row['dst-address'], row.gateway ?? 'blackhole']).sort()).toEqual([
      ['2001:db8:50::/64', 'blackhole'], ['fd10:aaaa:bbbb::1/128', 'wg-mp'], ['fd10:aaaa:bbbb::2/128', 'wg-mph2'], ['fd10:aaaa:bbbb::5/128', 'blackhole'],
    ]);
    expect(tagged(sim, IPV6_FIREWALL_ADDRESS_LIST).map((row) => `${row.list} ${row.address}`).sort()).toEqual([
      'meshplane-wan1-originate6 2001:db8:50::/64', 'meshplane-wan1-originate6 fd10:aaaa:bbbb::5',
      'meshplane-wan1-pinned6 fd10:aaaa:bbbb::1', 'meshplane-wan1-pinned6 fd10:aaaa:bbbb::2',
    ]);
    commands.length = 0;
    const again = await replan(driver, dual('site'));
    expect(again.operations).toEqual([]);
    expect(writesOf(commands)).toEqual([]);
  });

  it('reports IPv6 sessions with the neighbour in canonical form, each family up or down on its own', async () => {
    const { sim, driver } = await start();
    await deploy(driver, dual('site'));
    // Set through a long, upper-case spelling: the session is found all the same.
    sim.setBgpSession('FD10:AAAA:BBBB:0:0:0:0:1', true);
    sim.setBgpSession('10.0.0.2', true);
    const sessions = await driver.routingSessions('wan1', 'meshplane');
    expect(sessions?.map((entry) => [entry.neighbourAddress, entry.established]).sort()).toEqual([
      ['10.0.0.1', false], ['10.0.0.2', true], ['fd10:aaaa:bbbb::1', true], ['fd10:aaaa:bbbb::2', false],
    ]);
  });

  it('an IPv6 connection changed on the router is set back, and only it', async () => {
    const { sim, driver } = await start();
    await deploy(driver, dual('site'));
    const row = tagged(sim, BGP_CONNECTION).find((entry) => entry['remote.address'] === 'fd10:aaaa:bbbb::1')!;
    sim.model.execute({ command: `${BGP_CONNECTION}/set`, attributes: { '.id': row['.id']!, 'address-families': 'ip', 'input.filter': 'meshplane-wan1-in-200' } });
    const plan = await replan(driver, dual('site'));
    expect(plan.operations.map((operation) => [operation.op, operation.key])).toEqual([['update', 'wan1:bgp:fd10:aaaa:bbbb::1']]);
    await deploy(driver, dual('site'));
    expect((await replan(driver, dual('site'))).operations).toEqual([]);
  });

  it('a hub routes and announces a BGP-less spoke\'s IPv6 LAN; clear removes every IPv6 routing item and nothing else', async () => {
    const { sim, driver } = await start();
    await deploy(driver, dual('hub1'));
    expect(tagged(sim, IPV6_ROUTE).find((row) => row['dst-address'] === '2001:db8:60::/64')).toMatchObject({ gateway: 'fd10:aaaa:bbbb::6', distance: '10' });
    expect(tagged(sim, IPV6_FIREWALL_ADDRESS_LIST).some((row) => row.address === '2001:db8:60::/64' && row.list === 'meshplane-wan1-originate6')).toBe(true);
    const result = await driver.apply(driver.clearPlan(await driver.readState(dual('hub1'))));
    expect(result.failed).toBeNull();
    for (const menu of [BGP_CONNECTION, IPV6_ROUTE, IPV6_FIREWALL_ADDRESS_LIST]) expect(tagged(sim, menu)).toEqual([]);
    expect(sim.model.rows(IPV6_FIREWALL_ADDRESS_LIST).map((row) => row.list)).toEqual(['bogons6']);
  });

  it('a WAN that stops being dual-stack loses its IPv6 sessions, lists and routes on the next deploy', async () => {
    const { sim, driver } = await start();
    await deploy(driver, dual('site'));
    const ipv4 = redundantState('site');
    const plan = await deploy(driver, ipv4);
    expect(plan.operations.filter((operation) => operation.op === 'delete').length).toBeGreaterThan(0);
    expect(tagged(sim, BGP_CONNECTION).map((row) => row['remote.address']).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(tagged(sim, IPV6_ROUTE)).toEqual([]);
    expect(tagged(sim, IPV6_FIREWALL_ADDRESS_LIST)).toEqual([]);
    expect((await replan(driver, ipv4)).operations).toEqual([]);
    expect(sim.model.rows(IPV6_FIREWALL_ADDRESS_LIST).map((row) => row.list)).toEqual(['bogons6']);
  });
});
