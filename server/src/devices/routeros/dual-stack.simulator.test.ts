// The RouterOS driver deploying a dual-stack peer to the simulator over the binary API and
// REST: the IPv6 items (/ipv6/address, /ipv6/route, /ipv6/firewall/filter, /ipv6/firewall/nat)
// applied and tagged like the IPv4 ones, converged (second apply: zero writes), drift shown,
// cleared (only tagged items, unmanaged IPv6 configuration untouched), dropped when the WAN
// goes back to IPv4 only; and the driver contract run on the dual-stack states, its redundant
// cases on a dual-stack WAN with redundant hubs (IPv6 BGP sessions, /128 links).
import { afterEach, describe, expect, it } from 'vitest';
import { describeDriverContract } from '../../../test/contract/driver-contract.js';
import type { RouterOsSimulator } from '../../../test/sim/routeros/index.js';
import { BRANCH_LAN6, desiredState, type Variant } from './__fixtures__/overlay-variants.js';
import { simHarness, writesOf, type SimHarness, type SimVariant } from './__fixtures__/sim-harness.js';
import type { RouterOsDriver } from './index.js';
import { redundantDualStackWan } from './__fixtures__/redundant-dual-stack.js';
import { MENU } from './menus.js';

const API_USER_ADDRESSES = ['10.0.0.0/24', '127.0.0.1'];
const IPV6_MENUS = [MENU.address6, MENU.route6, MENU.filter6, MENU.nat6];

const VARIANTS: SimVariant[] = [
  { label: 'API', kind: 'ROUTEROS_API', tls: false, version: '7.18.2' },
  { label: 'REST', kind: 'ROUTEROS_REST', tls: true, version: '7.18.2' },
];

const dual = (variant: Variant = 'initial') => desiredState(variant, { apiAllowedAddresses: API_USER_ADDRESSES }, 'dual');
const redundantDual = redundantDualStackWan();
const ipv4Only = () => desiredState('initial', { apiAllowedAddresses: API_USER_ADDRESSES });

/** The simulator also has a static IPv6 route to the branch's LAN, which the deploy must demote. */
const harness = (variant: SimVariant, options: { maskSensitive?: boolean } = {}) => simHarness(variant, { ...options, unmanagedState: { lan6: BRANCH_LAN6 } });

async function deploy(driver: RouterOsDriver, state = dual()) {
  const plan = driver.plan(state, await driver.readState(state));
  return { plan, result: await driver.apply(plan) };
}

for (const variant of VARIANTS) {
  describeDriverContract(`RouterOS simulator, dual-stack, ${variant.label}`, async () => {
    const h = await harness(variant, { maskSensitive: variant.kind === 'ROUTEROS_REST' });
    return {
      driver: h.driver,
      desired: (name) => dual(name),
      peerKind: MENU.peers,
      ownNetwork: '192.168.88.0/24',
      redundant: { roles: ['spoke', 'hub'], desired: (role, hubAdded) => ({ ...redundantDual(role, hubAdded), apiAllowedAddresses: API_USER_ADDRESSES }) },
      inspect: async () => ({ writes: writesOf(h.commands).length }),
      teardown: () => h.stop(),
    };
  });
}

describe.each(VARIANTS)('RouterOS driver, dual-stack peer on the simulator, $label', (variant) => {
  let current: SimHarness | null = null;
  const start = async () => (current = await harness(variant));
  afterEach(async () => {
    await current?.stop();
    current = null;
  });

  /** The simulator's rows of a menu that carry this WAN's tag. */
  const tagged = (sim: RouterOsSimulator, menu: string) => sim.model.rows(menu).filter((row) => row.comment?.startsWith('meshplane:wan1:'));

  it('applies the IPv6 items tagged like the IPv4 ones; a second apply writes nothing', async () => {
    const { sim, driver, commands } = await start();
    const { result } = await deploy(driver);
    expect(result.failed).toBeNull();
    expect(tagged(sim, MENU.address6).map((row) => [row.address, row.interface, row.advertise, row.comment])).toEqual([
      ['fd10:aaaa:bbbb::2/64', 'wg-mesh', 'false', 'meshplane:wan1:address:fd10:aaaa:bbbb::2/64'],
      ['fd10:aaaa:bbbb:5::7/128', 'wg-mesh', 'false', 'meshplane:wan1:address:fd10:aaaa:bbbb:5::7/128'],
    ]);
    // IPv4 addresses stay in /ip/address only.
    expect(tagged(sim, MENU.address).map((row) => row.address)).toEqual(['10.0.0.2/24', '10.0.5.7/32']);
    expect(tagged(sim, MENU.route6)).toEqual([expect.objectContaining({ 'dst-address': BRANCH_LAN6, gateway: 'wg-mesh', distance: '10', active: 'true', comment: `meshplane:wan1:route:${BRANCH_LAN6}` })]);
    // The IPv6 forwarding and listen-port rules sit before the IPv6 defconf drop.
    const filter6 = sim.model.rows(MENU.filter6).map((row) => row.comment ?? '');
    expect(filter6.indexOf('meshplane:wan1:filter:input-udp-51820')).toBeGreaterThanOrEqual(0);
    expect(filter6.indexOf('meshplane:wan1:filter:forward-out')).toBeLessThan(filter6.indexOf('defconf: drop everything else not coming from LAN'));
    expect(tagged(sim, MENU.nat6).map((row) => [row.chain, row.action, row['dst-address'] ?? row['src-address'], row['to-address']])).toEqual([
      ['dstnat', 'netmap', 'fd10:aaaa:bbbb:8088::/64', 'fd00:88::/64'],
      ['srcnat', 'netmap', 'fd00:88::/64', 'fd10:aaaa:bbbb:8088::/64'],
      ['dstnat', 'dst-nat', 'fd10:aaaa:bbbb:5::7/128', 'fd00:88::10/128'],
    ]);
    // AllowedIPs carry both families.
    const hub = sim.model.rows(MENU.peers).find((row) => row.comment === 'meshplane:wan1:peer:hub');
    expect(hub?.['allowed-address']).toBe('10.0.0.1/32,fd10:aaaa:bbbb::1/128');

    commands.length = 0;
    const again = await deploy(driver);
    expect(again.plan.operations).toEqual([]);
    expect(again.result.failed).toBeNull();
    expect(writesOf(commands)).toEqual([]);
  });

  it('demotes the competing unmanaged static IPv6 route (with a preflight warning) instead of removing it', async () => {
    const { sim, driver } = await start();
    const state = dual();
    const warnings = driver.preflight(state, await driver.readState(state));
    expect(warnings).toContainEqual(expect.objectContaining({ severity: 'WARNING', resource: expect.stringMatching(/^\/ipv6\/route \*/), message: expect.stringContaining(BRANCH_LAN6) }));
    await deploy(driver, state);
    const old = sim.model.rows(MENU.route6).find((row) => row.comment === 'old IPv6 path to branch LAN');
    expect(old).toMatchObject({ distance: '11', active: 'false' });
  });

  it('verify shows drift on an IPv6 item and the next apply sets exactly it', async () => {
    const { sim, driver, commands } = await start();
    await deploy(driver);
    const route = tagged(sim, MENU.route6)[0]!;
    sim.model.execute({ command: `${MENU.route6}/set`, attributes: { '.id': route['.id']!, distance: '30' } });
    const nat = tagged(sim, MENU.nat6).find((row) => row.action === 'dst-nat')!;
    sim.model.execute({ command: `${MENU.nat6}/set`, attributes: { '.id': nat['.id']!, 'to-address': 'fd00:88::11' } });
    const state = dual();
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.map((operation) => [operation.op, operation.kind, operation.op === 'update' ? operation.changes : null])).toEqual([
      ['update', MENU.route6, { distance: '10' }],
      ['update', MENU.nat6, { 'to-address': 'fd00:88::10' }],
    ]);
    commands.length = 0;
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(writesOf(commands)).toEqual([`${MENU.route6}/set`, `${MENU.nat6}/set`]);
    expect((await deploy(driver)).plan.operations).toEqual([]);
  });

  it('clear removes every tagged IPv6 item and leaves the unmanaged IPv6 configuration as it was', async () => {
    const { sim, driver } = await start();
    const unmanaged = () => IPV6_MENUS.flatMap((menu) => sim.model.rows(menu)
      .filter((row) => !row.comment?.startsWith('meshplane:'))
      .map((row) => ({ menu, id: row['.id'], comment: row.comment, address: row.address ?? row['dst-address'], distance: row.distance })));
    const before = unmanaged();
    expect(before.length).toBeGreaterThanOrEqual(5);
    await deploy(driver);
    const state = dual();
    const cleared = await driver.apply(driver.clearPlan(await driver.readState(state)));
    expect(cleared.failed).toBeNull();
    for (const menu of IPV6_MENUS) expect(tagged(sim, menu), menu).toEqual([]);
    const demoted = (row: { comment?: string }) => row.comment === 'old IPv6 path to branch LAN';
    expect(unmanaged().filter((row) => !demoted(row))).toEqual(before.filter((row) => !demoted(row)));
    expect(sim.model.rows(MENU.ipv6Settings)).toEqual([expect.objectContaining({ forward: 'true' })]);
  });

  it('a WAN that goes back to IPv4 only loses its IPv6 items on the next deploy; its IPv4 items stay', async () => {
    const { sim, driver, commands } = await start();
    await deploy(driver);
    const ipv4Before = tagged(sim, MENU.filter).map((row) => row['.id']);
    commands.length = 0;
    const { plan, result } = await deploy(driver, ipv4Only());
    expect(result.failed).toBeNull();
    for (const menu of IPV6_MENUS) expect(tagged(sim, menu), menu).toEqual([]);
    expect(plan.operations.filter((operation) => operation.op !== 'delete').map((operation) => operation.kind)).not.toContainEqual(expect.stringMatching(/^\/ipv6\//));
    expect(tagged(sim, MENU.filter).map((row) => row['.id'])).toEqual(ipv4Before);
    expect((await deploy(driver, ipv4Only())).plan.operations).toEqual([]);
  });

  it('preflight refuses an IPv6 tunnel address inside a network the router already has on its own interface', async () => {
    const { sim, driver } = await start();
    sim.model.execute({ command: `${MENU.address6}/add`, attributes: { address: 'fd10:aaaa:bbbb::77/64', interface: 'ether2', comment: 'lab ULA' } });
    const state = dual();
    const errors = driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR');
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining('fd10:aaaa:bbbb::') })]);
    expect(errors[0]!.message).toContain('ether2');
  });

  it('preflight warns when IPv6 forwarding or IPv6 itself is off on the router', async () => {
    const { sim, driver } = await start();
    const state = dual();
    const ipv6Issues = async () => driver.preflight(state, await driver.readState(state)).filter((issue) => issue.resource === MENU.ipv6Settings);
    expect(await ipv6Issues()).toEqual([]);
    sim.model.execute({ command: `${MENU.ipv6Settings}/set`, attributes: { forward: 'no' } });
    expect(await ipv6Issues()).toEqual([expect.objectContaining({ severity: 'WARNING', message: expect.stringContaining('IPv6 forwarding is off') })]);
    sim.model.execute({ command: `${MENU.ipv6Settings}/set`, attributes: { 'disable-ipv6': 'yes' } });
    expect(await ipv6Issues()).toEqual([expect.objectContaining({ message: expect.stringContaining('IPv6 is disabled') })]);
    // An IPv4-only WAN does not read or judge the IPv6 settings.
    expect(driver.preflight(ipv4Only(), await driver.readState(ipv4Only())).filter((issue) => issue.resource === MENU.ipv6Settings)).toEqual([]);
  });
});
