import { describe, expect, it } from 'vitest';
import { describeDriverContract } from '../../../test/contract/driver-contract.js';
import type { ActualResource } from '../../domain/plan.js';
import { DeviceError } from '../driver.js';
import { MemoryRouterOsTransport } from './__fixtures__/memory-transport.js';
import { desiredState, overlaySpec } from './__fixtures__/overlay-variants.js';
import { redundantWan } from '../../../test/contract/redundant-wan.js';
import { RouterOsDriver, steps } from './driver.js';
import { MENU } from './menus.js';

const NOW = new Date('2030-01-01T00:00:00Z');

/** What a fresh router the tests deploy to already has: none of it is Meshplane's. */
function seededRouter(): MemoryRouterOsTransport {
  return new MemoryRouterOsTransport({
    [MENU.interface]: [{ name: 'wg-other', 'listen-port': '13231', mtu: '1420', disabled: 'false' }],
    [MENU.route]: [
      { 'dst-address': '192.168.2.0/24', gateway: '192.168.1.1', distance: '1', dynamic: 'false', static: 'true' },
      { 'dst-address': '0.0.0.0/0', gateway: '203.0.113.1', distance: '1', dynamic: 'false' },
      { 'dst-address': '192.168.1.0/24', gateway: 'ether2', distance: '0', dynamic: 'true', connect: 'true' },
    ],
    [MENU.filter]: [
      { chain: 'forward', action: 'passthrough', dynamic: 'true', comment: 'special dummy rule to show fasttrack counters' },
      { chain: 'input', action: 'accept', 'connection-state': 'established,related', dynamic: 'false' },
      { chain: 'input', action: 'drop', dynamic: 'false', comment: 'defconf: drop all' },
    ],
    [MENU.user]: [{ name: 'meshplane-api', group: 'full', address: '192.168.88.0/24' }],
    '/system/resource': [{ version: '7.18.2 (stable)', uptime: '1d2h' }],
    '/system/identity': [{ name: 'edge-1' }],
  });
}

function driverOn(router: MemoryRouterOsTransport): RouterOsDriver {
  return new RouterOsDriver('ROUTEROS_API', router, { apiUser: 'meshplane-api', now: () => NOW });
}

async function deploy(driver: RouterOsDriver, state = desiredState()) {
  const plan = driver.plan(state, await driver.readState(state));
  const result = await driver.apply(plan);
  return { plan, result };
}

/** The router's own peer ("site", same keys) in a WAN with redundant hubs. */
const redundantSite = redundantWan(overlaySpec('initial').peers.find((spec) => spec.id === 'site')!);

describeDriverContract('RouterOS over an in-memory transport', async () => {
  const router = seededRouter();
  return {
    driver: driverOn(router),
    desired: (variant) => desiredState(variant),
    peerKind: MENU.peers,
    redundant: { roles: ['spoke', 'hub'], desired: redundantSite },
    inspect: async () => ({ writes: router.writes.length }),
    teardown: async () => undefined,
  };
});

describe('steps: which writes of a plan may be pipelined together', () => {
  const create = (kind: string, key: string) => ({ op: 'create' as const, kind, key, props: {} });
  const remove = (kind: string, key: string) => ({ op: 'delete' as const, kind, key, id: '*1', props: {} });
  const update = (kind: string, key: string) => ({ op: 'update' as const, kind, key, id: '*2', changes: {}, before: {} });
  const label = (groups: ReturnType<typeof steps>) => groups.map((group) => group.map((operation) => operation.key).join(','));

  it('groups consecutive creates, or deletes, of one menu; updates, rule creates and menu changes stand alone', () => {
    expect(label(steps([
      remove(MENU.peers, 'p9'), remove(MENU.peers, 'p8'), remove(MENU.interface, 'old'),
      create(MENU.interface, 'i'), create(MENU.peers, 'p1'), create(MENU.peers, 'p2'), create(MENU.peers, 'p3'),
      update(MENU.peers, 'p4'), update(MENU.peers, 'p5'), create(MENU.route, 'r1'), create(MENU.route, 'r2'),
      create(MENU.filter, 'f1'), create(MENU.filter, 'f2'), create(MENU.nat, 'n1'), create(MENU.nat, 'n2'), remove(MENU.filter, 'f8'), remove(MENU.filter, 'f9'),
    ]))).toEqual(['p9,p8', 'old', 'i', 'p1,p2,p3', 'p4', 'p5', 'r1,r2', 'f1', 'f2', 'n1', 'n2', 'f8,f9']);
  });
});

describe('RouterOsDriver', () => {
  it('demotes the competing unmanaged static route to distance 11 and never deletes it', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    const { plan } = await deploy(driver);
    const demotion = plan.operations.find((operation) => operation.op === 'update' && operation.kind === MENU.route);
    expect(demotion).toMatchObject({ key: null, changes: { distance: '11' }, reason: expect.stringContaining('demoted, not removed') });
    const state = desiredState();
    const clear = driver.clearPlan(await driver.readState(state));
    await driver.apply(clear);
    const routes = router.rows(MENU.route);
    expect(routes.find((route) => route['dst-address'] === '192.168.2.0/24' && route.gateway === '192.168.1.1')?.distance).toBe('11');
    expect(routes.filter((route) => !route.comment?.startsWith('meshplane:'))).toHaveLength(3);
  });

  it('places new firewall rules before the first static rule, so the default drop cannot shadow them', async () => {
    const router = seededRouter();
    await deploy(driverOn(router));
    const comments = router.rows(MENU.filter).map((rule) => rule.comment ?? rule.action);
    expect(comments).toEqual([
      'special dummy rule to show fasttrack counters',
      'meshplane:wan1:filter:input-udp-51820',
      'meshplane:wan1:filter:forward-in',
      'meshplane:wan1:filter:forward-out',
      'accept',
      'defconf: drop all',
    ]);
  });

  it('widens the API user\'s allowed addresses, never narrows them', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    await deploy(driver, desiredState('initial', { apiAllowedAddresses: ['10.0.0.0/24', '192.168.88.0/24', '10.9.9.9'] }));
    expect(router.rows(MENU.user)[0]?.address).toBe('192.168.88.0/24,10.0.0.0/24,10.9.9.9/32');
    // Management over IPv6: a bare IPv6 address is a /128 host, in any spelling; none is added twice.
    await deploy(driver, desiredState('initial', { apiAllowedAddresses: ['10.0.0.0/24', '2001:DB8:0::9', 'fd00:88::/64'] }));
    expect(router.rows(MENU.user)[0]?.address).toBe('192.168.88.0/24,10.0.0.0/24,10.9.9.9/32,2001:db8::9/128,fd00:88::/64');
    const again = await deploy(driver, desiredState('initial', { apiAllowedAddresses: ['2001:db8::9', 'fd00:88::/64'] }));
    expect(again.plan.operations.filter((operation) => operation.kind === MENU.user)).toEqual([]);

    const open = seededRouter();
    (open.rows(MENU.user)[0] as Record<string, string>).address = '';
    const { plan } = await deploy(driverOn(open), desiredState('initial', { apiAllowedAddresses: ['10.0.0.0/24'] }));
    expect(plan.operations.filter((operation) => operation.kind === MENU.user)).toEqual([]);
  });

  it('reads RouterOS spellings as equal: durations, omitted defaults, list order, yes/no, masked secrets', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    await deploy(driver);
    for (const row of router.rows(MENU.peers)) {
      row['allowed-address'] = (row['allowed-address'] ?? '').split(',').reverse().join(',');
      if (row['persistent-keepalive'] === '0s') delete row['persistent-keepalive'];
      else row['persistent-keepalive'] = '00:00:25';
      if (row['endpoint-port'] === '0') delete row['endpoint-port'];
      row.disabled = 'no';
    }
    for (const rule of router.rows(MENU.nat)) if (rule['dst-address'] === '10.0.5.7') rule['dst-address'] = '10.0.5.7/32';
    const state = desiredState();
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('updates the interface in place when its private key changes, and not when only the masked copy differs', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    await deploy(driver);
    const ours = router.rows(MENU.interface).find((row) => row.comment === 'meshplane:wan1:interface') as Record<string, string>;
    ours['public-key'] = 'HhbyDzG6+ub06hnYYc0g5hR6MOCRXe2ytzYrk6nRbHk=';
    const state = desiredState();
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations).toMatchObject([{ op: 'update', kind: MENU.interface, changes: { 'private-key': expect.any(String) } }]);
  });

  it('stops with a clear DeviceError as the cause when the connection drops mid-apply; a rerun converges without duplicates', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    router.dropAfterWrites = 4;
    const state = desiredState();
    const { result: dropped } = await deploy(driver);
    expect(dropped.applied).toBe(4);
    const failure = dropped.failed?.cause;
    expect(failure).toBeInstanceOf(DeviceError);
    expect(failure?.code).toBe('UNREACHABLE');
    expect(failure?.message).toMatch(/after 4 of \d+ operations$/);
    router.dropAfterWrites = null;
    const { result } = await deploy(driver);
    expect(result.failed).toBeNull();
    const managed = (await driver.readState(state)).filter((resource: ActualResource) => resource.key !== null);
    expect(new Set(managed.map((resource) => `${resource.kind} ${resource.key}`)).size).toBe(managed.length);
    expect(managed).toHaveLength(driver.desiredResources(state).length);
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('reports a refused operation in `failed` and stops there', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    const state = desiredState();
    const plan = driver.plan(state, await driver.readState(state));
    const broken = { ...plan, operations: [plan.operations[0], { op: 'delete' as const, kind: MENU.address, key: 'wan1:address:x', id: '*FFFF', props: {} }, ...plan.operations.slice(1)] };
    const result = await driver.apply(broken as typeof plan);
    expect(result.applied).toBe(1);
    expect(result.failed?.message).toContain('no such item');
  });

  it('keeps other WANs\' tagged items out of this WAN\'s plan and clear', async () => {
    const router = seededRouter();
    router.insert(MENU.address, { address: '10.9.0.2/24', interface: 'wg-other', comment: 'meshplane:wan2:address:10.9.0.2/24' });
    const driver = driverOn(router);
    await deploy(driver);
    const state = desiredState();
    const clear = driver.clearPlan(await driver.readState(state));
    expect(clear.operations.some((operation) => operation.op === 'delete' && operation.props.comment?.includes('wan2'))).toBe(false);
  });

  it('preflight flags clashes with unmanaged names, ports, addresses, keys and routes', async () => {
    const router = seededRouter();
    router.insert(MENU.interface, { name: 'wg-mesh', 'listen-port': '51820' });
    router.insert(MENU.address, { address: '10.0.0.2/24', interface: 'ether5' });
    const driver = driverOn(router);
    const state = desiredState();
    const issues = driver.preflight(state, await driver.readState(state));
    expect(issues.filter((issue) => issue.severity === 'ERROR').map((issue) => issue.message)).toEqual([
      expect.stringContaining('already has an interface named wg-mesh (WireGuard)'),
      expect.stringContaining('listen port 51820 is already used'),
      expect.stringContaining('the tunnel address 10.0.0.2 is already assigned to ether5'),
    ]);
    expect(issues.filter((issue) => issue.severity === 'WARNING').map((issue) => issue.message)).toEqual([
      expect.stringContaining('unmanaged static route to 192.168.2.0/24 at distance 1'),
    ]);
  });

  it('reads statistics with one print: decimal counters beyond 2^53, handshake ages, endpoints', async () => {
    const router = seededRouter();
    const driver = driverOn(router);
    await deploy(driver);
    const [first, second] = router.rows(MENU.peers) as [Record<string, string>, Record<string, string>];
    Object.assign(first, { rx: '18446744073709551615', tx: '0042', 'last-handshake': '1w2d3h4m5s', 'current-endpoint-address': '198.51.100.7', 'current-endpoint-port': '51820' });
    Object.assign(second, { rx: '10', 'last-handshake': 'never' });
    const before = router.writes.length;
    const statistics = await driver.statistics('wg-mesh');
    expect(router.writes.length).toBe(before);
    expect(statistics).toHaveLength(3);
    expect(statistics[0]).toEqual({
      publicKey: first['public-key'],
      rxBytes: '18446744073709551615',
      txBytes: '42',
      lastHandshake: new Date(NOW.getTime() - ((9 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000),
      currentEndpoint: '198.51.100.7:51820',
    });
    expect(statistics[1]).toMatchObject({ rxBytes: '10', txBytes: '0', lastHandshake: null, currentEndpoint: null });
  });

  it('tests the connection: version and identity', async () => {
    await expect(driverOn(seededRouter()).testConnection()).resolves.toEqual({ reachable: true, loggedIn: true, version: '7.18.2 (stable)', identity: 'edge-1', message: 'RouterOS 7.18.2 (stable)' });
  });
});

describe('RouterOsDriver secrets', () => {
  it('never returns a preshared key in actual state, yet sees it unchanged, and updates it when it differs', async () => {
    const router = new MemoryRouterOsTransport();
    router.print = async function print(menu, options) {
      // A user with the `sensitive` policy: secrets come back in clear.
      return MemoryRouterOsTransport.prototype.print.call(this, menu, options).then((rows) => rows.map((row) => {
        const stored = this.rows(menu).find((item) => item['.id'] === row['.id']);
        return stored?.['preshared-key'] ? { ...row, 'preshared-key': stored['preshared-key'] } : row;
      }));
    };
    const driver = driverOn(router);
    await deploy(driver);
    const state = desiredState();
    const actual = await driver.readState(state);
    const psk = state.peer.peers.find((remote) => remote.presharedKey !== null)?.presharedKey as string;
    expect(JSON.stringify(actual)).not.toContain(psk);
    expect(driver.plan(state, actual).operations).toEqual([]);
    const hub = router.rows(MENU.peers).find((row) => row.comment === 'meshplane:wan1:peer:hub') as Record<string, string>;
    hub['preshared-key'] = 'HhbyDzG6+ub06hnYYc0g5hR6MOCRXe2ytzYrk6nRbHk=';
    expect(driver.plan(state, await driver.readState(state)).operations).toMatchObject([{ op: 'update', kind: MENU.peers, changes: { 'preshared-key': psk } }]);
  });
});
