// Discover and adopt-in-place against the RouterOS simulator seeded with a hand-made setup
// (test/sim/routeros/hand-made.ts), over the binary API and REST: what discover() reads, and
// that adoption and the deploy after it keep every item id and every WireGuard session.
import { afterEach, describe, expect, it } from 'vitest';
import { seedHandMadeSetup, USER, type CommandRequest, type HandMadeOptions, type HandMadeSetup } from '../../../test/sim/routeros/index.js';
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { simHarness, simTarget, type SimHarness, type SimVariant } from './__fixtures__/sim-harness.js';
import { createRouterOsDriver, type RouterOsDriver } from './index.js';
import { MENU } from './menus.js';

const VARIANTS: SimVariant[] = [
  { label: 'API 7.17', kind: 'ROUTEROS_API', tls: false, version: '7.17' },
  { label: 'API-SSL 7.18', kind: 'ROUTEROS_API', tls: true, version: '7.18.2' },
  { label: 'REST 7.18', kind: 'ROUTEROS_REST', tls: true, version: '7.18.2' },
];

/** Every menu a deploy or adoption could touch. */
const MENUS = [MENU.interface, MENU.peers, MENU.address, MENU.address6, MENU.route, MENU.route6, MENU.filter, MENU.filter6, MENU.nat, MENU.nat6, MENU.user];

/**
 * The WAN as adopting `wireguard1` makes it: this router is "site" at the interface's address
 * with its key (or only its public key: bring-your-own), each hand-made peer a peer with its
 * tunnel address, LAN, endpoint and preshared key.
 */
function adoptedWan(setup: HandMadeSetup, ownKey: 'private' | 'public-only'): DesiredDeviceState {
  const [tunnelIp] = setup.address.split('/') as [string];
  const peers = setup.peers.map((hand, index) => peer(`p${index}`, hand.tunnelIp, {
    name: hand.label,
    role: hand.lan === null ? 'CLIENT' : 'SITE',
    publicKey: hand.publicKey,
    privateKey: null,
    endpointHost: hand.endpoint?.host ?? null,
    endpointPort: hand.endpoint?.port ?? null,
    subnets: hand.lan === null ? [] : [subnet(`lan${index}`, hand.lan)],
  }));
  const site = peer('site', tunnelIp, { publicKey: setup.publicKey, privateKey: ownKey === 'private' ? setup.privateKey : null, endpointHost: 'site.example.net' });
  const spec = overlay([site, ...peers], { id: 'wanA', tunnelCidr: setup.tunnelCidr, listenPort: setup.listenPort, interfaceName: setup.interfaceName });
  const presharedKeys = setup.peers.flatMap((hand, index) => (hand.presharedKey === null ? [] : [{ peerAId: 'site', peerBId: `p${index}`, key: hand.presharedKey }]));
  const compiled = compileOverlay({ ...spec, presharedKeys });
  return { overlay: compiled, peer: findCompiledPeer(compiled, 'site'), commentPrefix: 'meshplane' };
}

interface Started {
  h: SimHarness;
  setup: HandMadeSetup;
  /** Every command the simulator ran after seeding, with its attributes. */
  requests: CommandRequest[];
}

/** A user of the built-in `write` group: may configure, but has no `sensitive` policy. */
const OPERATOR = { name: 'operator', password: 'operator-password-1' };

describe.each(VARIANTS)('RouterOS discover and adopt in place, $label', (variant) => {
  let current: Started | null = null;
  const opened: RouterOsDriver[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((driver) => driver.close()));
    await current?.h.stop();
    current = null;
  });

  async function start(options: HandMadeOptions = {}): Promise<Started> {
    const h = await simHarness(variant);
    const setup = seedHandMadeSetup(h.sim.model, options);
    h.sim.model.seed(USER, { name: OPERATOR.name, group: 'write', password: OPERATOR.password, address: '127.0.0.0/8' });
    const requests: CommandRequest[] = [];
    const execute = h.sim.model.execute.bind(h.sim.model);
    h.sim.model.execute = (request: CommandRequest) => {
      requests.push(request);
      return execute(request);
    };
    current = { h, setup, requests };
    return current;
  }

  function withoutSensitive(h: SimHarness): RouterOsDriver {
    const driver = createRouterOsDriver(simTarget(h.sim, variant, { username: OPERATOR.name, secret: OPERATOR.password }));
    opened.push(driver);
    return driver;
  }

  /** Every row of every menu, as the console prints it, by menu and id. */
  const snapshot = (h: SimHarness) => new Map(MENUS.flatMap((menu) => h.sim.model.rows(menu).map((row) => [`${menu} ${row['.id']}`, JSON.stringify(row)] as const)));
  /** The sessions as the router keeps them: handshake time and counters per peer id. */
  const sessions = (h: SimHarness) => h.sim.model.items(MENU.peers).map((item) => ({ id: item.id, handshakeAt: item.runtime.handshakeAt, rx: item.runtime.rx, tx: item.runtime.tx }));
  const writes = (requests: readonly CommandRequest[]) => requests.filter((request) => !/\/(print|getall)$/.test(request.command));

  it('discover reads the hand-made interface, its peers and sessions, the other tunnel, networks and routes; keys shown to a full user', async () => {
    const { h, setup, requests } = await start();
    const at = Date.now();
    const discovery = await h.driver.discover();
    expect(writes(requests)).toEqual([]);
    expect(discovery.notes).toEqual([]);
    expect(discovery.interfaces.map((iface) => iface.name)).toEqual(['wg-other', 'wireguard1']);
    const wg = discovery.interfaces.find((iface) => iface.name === 'wireguard1')!;
    expect(wg).toMatchObject({
      ref: setup.ids.interface, listenPort: 13231, mtu: 1420, publicKey: setup.publicKey, privateKey: setup.privateKey,
      addresses: ['10.10.0.1/24'], disabled: false, comment: null, managedKey: null, source: `device sim ${variant.label}`,
    });
    expect(wg.peers.map(({ lastHandshake, ...rest }) => rest)).toEqual([
      {
        ref: setup.ids.peers[0], publicKey: setup.peers[0]!.publicKey, allowedIps: ['10.10.0.2/32', '192.168.20.0/24'], endpointHost: 'branch-a.example.net', endpointPort: 13231,
        persistentKeepalive: 25, presharedKey: null, hasPresharedKey: false, comment: 'Branch A', disabled: false, managedKey: null, rxBytes: '7340032', txBytes: '1048576',
      },
      {
        ref: setup.ids.peers[1], publicKey: setup.peers[1]!.publicKey, allowedIps: ['10.10.0.3/32', '192.168.30.0/24'], endpointHost: '203.0.113.30', endpointPort: 51820,
        persistentKeepalive: 25, presharedKey: setup.peers[1]!.presharedKey, hasPresharedKey: true, comment: 'Branch B', disabled: false, managedKey: null,
        rxBytes: String(2n ** 40n + 5n), txBytes: '987654321',
      },
      {
        ref: setup.ids.peers[2], publicKey: setup.peers[2]!.publicKey, allowedIps: ['10.10.0.10/32'], endpointHost: null, endpointPort: null,
        persistentKeepalive: null, presharedKey: null, hasPresharedKey: false, comment: 'Anna laptop', disabled: false, managedKey: null, rxBytes: '123456', txBytes: '654321',
      },
    ]);
    for (const [index, discovered] of wg.peers.entries()) {
      // The router prints the age in whole seconds.
      expect(Math.abs(discovered.lastHandshake!.getTime() - (at - setup.peers[index]!.handshakeSecondsAgo * 1000))).toBeLessThan(2000);
    }
    expect(wg.unmodelled).toEqual([{ owner: setup.ids.peers[2], name: 'client-dns', value: '10.10.0.1' }]);
    const other = discovery.interfaces.find((iface) => iface.name === 'wg-other')!;
    expect(other).toMatchObject({ listenPort: 13232, comment: 'site-to-site tunnel not managed by Meshplane', addresses: ['10.99.0.1/24'] });
    expect(other.peers.map((entry) => [entry.comment, entry.allowedIps, entry.lastHandshake])).toEqual([['partner office', ['10.99.0.2/32', '10.98.0.0/24'], null]]);

    expect(discovery.connectedNetworks).toEqual([
      { cidr: '198.51.100.0/24', address: '198.51.100.2/24', interfaceName: 'ether1', uplink: true },
      { cidr: '192.168.88.0/24', address: '192.168.88.1/24', interfaceName: 'bridge', uplink: false },
      { cidr: 'fd00:88::/64', address: 'fd00:88::1/64', interfaceName: 'bridge', uplink: false },
    ]);
    const routes = discovery.routes.map((route) => [route.destination, route.gateway, route.interfaceName, route.static, route.comment]);
    expect(routes).toEqual([
      ['0.0.0.0/0', '198.51.100.1', 'ether1', true, 'defconf: default route'],
      ['192.168.2.0/24', '192.168.88.254', 'bridge', true, 'old path to branch LAN'],
      ['192.168.20.0/24', 'wireguard1', 'wireguard1', true, 'Branch A LAN'],
      ['192.168.30.0/24', '10.10.0.3', 'wireguard1', true, 'Branch B LAN'],
      ['10.200.0.0/16', '192.168.88.254', 'bridge', true, 'lab network'],
      ['::/0', 'fe80::1%ether1', 'ether1', true, 'upstream IPv6'],
    ]);
  });

  it('discover by a user without the `sensitive` policy: private and preshared keys unknown, and a note says why', async () => {
    const { h, setup } = await start();
    const discovery = await withoutSensitive(h).discover();
    const wg = discovery.interfaces.find((iface) => iface.name === 'wireguard1')!;
    expect(wg.privateKey).toBeNull();
    expect(wg.publicKey).toBe(setup.publicKey);
    expect(wg.peers[1]).toMatchObject({ presharedKey: null, hasPresharedKey: true });
    expect(wg.peers[0]).toMatchObject({ presharedKey: null, hasPresharedKey: false });
    expect(discovery.notes).toEqual([
      expect.stringMatching(/^private keys hidden \(2 of 2 interfaces\): the API user's group lacks the "sensitive" policy/),
      expect.stringMatching(/^preshared keys hidden \(1 peers\): .*"sensitive" policy/),
    ]);
    expect(JSON.stringify(discovery)).not.toContain(setup.privateKey);
    expect(JSON.stringify(discovery)).not.toContain(setup.peers[1]!.presharedKey);
  });

  for (const ownKey of ['private', 'public-only'] as const) {
    it(`adopts wireguard1 in place (${ownKey === 'private' ? 'key kept' : 'bring-your-own key'}): only comment writes, ids and sessions kept; the deploy after it only updates in place; everything else byte-identical`, async () => {
      const { h, setup, requests } = await start();
      const driver = ownKey === 'private' ? h.driver : withoutSensitive(h);
      const state = adoptedWan(setup, ownKey);
      // Read first: logging in stamps the user's `last-logged-in`.
      const actual = await driver.readState(state);
      const before = snapshot(h);
      const sessionsBefore = sessions(h);
      expect(sessionsBefore.filter((session) => session.handshakeAt !== undefined)).toHaveLength(setup.peers.length);

      const adoption = driver.adoptionPlan(state, actual);
      expect(adoption.ambiguous).toEqual([]);
      const adoptedIds = [setup.ids.interface, ...setup.ids.peers, setup.ids.address, ...setup.ids.routes, setup.ids.inputRule];
      expect(adoption.adopted.map((item) => item.id).sort()).toEqual([...adoptedIds].sort());
      expect(adoption.plan.operations.every((operation) => operation.op === 'update' && operation.reason === ADOPTED_REASON && Object.keys(operation.changes).join() === 'comment')).toBe(true);

      requests.length = 0;
      expect((await driver.apply(adoption.plan)).failed).toBeNull();
      // Only `set comment=` on each adopted item, nothing else reached the router.
      expect(writes(requests).map((request) => `${request.command} ${Object.keys(request.attributes ?? {}).sort().join(',')}`).sort())
        .toEqual(adoption.adopted.map((item) => `${item.kind}/set .id,comment`).sort());
      const afterAdoption = snapshot(h);
      expect([...afterAdoption.keys()]).toEqual([...before.keys()]);
      for (const [id, row] of before) {
        const now = JSON.parse(afterAdoption.get(id)!) as Record<string, string>;
        const adopted = adoption.adopted.find((item) => id === `${item.kind} ${item.id}`);
        if (!adopted) expect(afterAdoption.get(id), id).toBe(row);
        // The row as it was but for its comment, now Meshplane's tag (RouterOS prints the comment where it is set).
        else expect({ ...now, comment: undefined }, id).toEqual({ ...(JSON.parse(row) as Record<string, string>), comment: undefined, 'last-handshake': now['last-handshake'] });
      }
      expect(sessions(h)).toEqual(sessionsBefore);

      const plan = driver.plan(state, await driver.readState(state));
      expect(plan.operations.length).toBeGreaterThan(0);
      expect(plan.operations.filter((operation) => operation.op !== 'update')).toEqual([]);
      // What the hand-made setup had differently: keepalives, the route through 10.10.0.3 and both routes' distance. Never the key.
      expect(plan.operations.flatMap((operation) => (operation.op === 'update' ? Object.keys(operation.changes) : [])).sort())
        .toEqual(['distance', 'distance', 'gateway', 'persistent-keepalive', 'persistent-keepalive']);
      requests.length = 0;
      expect((await driver.apply(plan)).failed).toBeNull();
      expect(writes(requests).every((request) => request.command.endsWith('/set'))).toBe(true);
      const afterDeploy = snapshot(h);
      expect([...afterDeploy.keys()]).toEqual([...before.keys()]);
      const touched = new Set(plan.operations.map((operation) => `${operation.kind} ${operation.op === 'create' ? '' : operation.id}`));
      for (const [id, row] of before) if (!touched.has(id) && !adoptedIds.some((adopted) => id.endsWith(` ${adopted}`))) expect(afterDeploy.get(id), id).toBe(row);
      expect(sessions(h)).toEqual(sessionsBefore);
      expect(h.sim.model.lookup(MENU.interface, setup.interfaceName)?.['private-key']).toBe(setup.privateKey);

      expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
      const again = driver.adoptionPlan(state, await driver.readState(state));
      expect(again).toEqual({ plan: { operations: [], unchanged: 0 }, adopted: [], ambiguous: [] });
    });
  }

  it('a peer switched off by hand is adopted as it is (RouterOS allows no second with its key), and the deploy after it switches it on in place', async () => {
    const { h, setup } = await start();
    const laptop = setup.ids.peers[2]!;
    h.sim.model.execute({ command: `${MENU.peers}/disable`, attributes: { '.id': laptop } });
    const state = adoptedWan(setup, 'private');
    const adoption = h.driver.adoptionPlan(state, await h.driver.readState(state));
    expect(adoption.adopted.map((item) => item.id)).toContain(laptop);
    expect((await h.driver.apply(adoption.plan)).failed).toBeNull();
    const plan = h.driver.plan(state, await h.driver.readState(state));
    expect(plan.operations.filter((operation) => operation.op !== 'update')).toEqual([]);
    expect(plan.operations.find((operation) => operation.op === 'update' && operation.id === laptop)).toMatchObject({ changes: { disabled: 'false' } });
    expect((await h.driver.apply(plan)).failed).toBeNull();
    expect(h.sim.model.lookup(MENU.peers, laptop)).toMatchObject({ disabled: 'false', comment: 'meshplane:wanA:peer:p2' });
  });

  it('two identical hand-made input rules: neither is taken, the look-alike is reported, both stay as they were', async () => {
    const { h, setup } = await start({ lookAlikeRule: true });
    const state = adoptedWan(setup, 'private');
    const adoption = h.driver.adoptionPlan(state, await h.driver.readState(state));
    expect(adoption.ambiguous).toEqual([{ kind: MENU.filter, key: 'wanA:filter:input-udp-13231', ids: [setup.ids.inputRule, setup.ids.lookAlikeRule] }]);
    expect(adoption.adopted.map((item) => item.id)).not.toContain(setup.ids.inputRule);
    expect(adoption.adopted.map((item) => item.id)).not.toContain(setup.ids.lookAlikeRule);
    expect(adoption.adopted).toHaveLength(8 - 1);
    const rules = () => h.sim.model.rows(MENU.filter).filter((row) => row.comment?.startsWith('WireGuard'));
    const before = rules();
    expect((await h.driver.apply(adoption.plan)).failed).toBeNull();
    expect(rules()).toEqual(before);
  });

  it('a peer removed and added again (what adoption avoids) visibly loses its session', async () => {
    const { h, setup } = await start();
    const [branch] = setup.peers;
    const row = h.sim.model.lookup(MENU.peers, setup.ids.peers[0]!)!;
    expect(row).toMatchObject({ rx: '7340032', 'last-handshake': expect.any(String) });
    h.sim.model.execute({ command: `${MENU.peers}/remove`, attributes: { '.id': setup.ids.peers[0]! } });
    const added = h.sim.model.execute({ command: `${MENU.peers}/add`, attributes: { interface: setup.interfaceName, 'public-key': branch!.publicKey, 'allowed-address': row['allowed-address']! } });
    const again = h.sim.model.lookup(MENU.peers, added.ret!)!;
    expect(added.ret).not.toBe(setup.ids.peers[0]);
    expect(again).toMatchObject({ rx: '0', tx: '0' });
    expect(again['last-handshake']).toBeUndefined();
  });
});
