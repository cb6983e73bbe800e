// Adoption on pfSense against the simulator seeded with a hand-made site (HAND_MADE): discover
// reads exactly it, adoption tags it in place (descr PATCHes only: the same ids, the sessions'
// handshakes and counters untouched), the next deploy only updates in place, and look-alikes
// are reported, never picked.
import { describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import { describePlan, type DesiredResource, type Plan } from '../../domain/plan.js';
import { adoptionPlanPfSense } from './adoption.js';
import { desiredPfSenseResources } from './mapping.js';
import { bindGatewayNames } from './planning.js';
import { HAND_MADE, type PfSenseSimulator } from '../../../test/sim/pfsense/index.js';
import type { DesiredDeviceState } from '../driver.js';
import { KIND } from './kinds.js';
import { pskFingerprint } from './tags.js';
import type { PfSenseDriver } from './driver.js';
import { driverOnSimulator, handMadeSpec, stateFor } from './test-fixtures.js';
import { overlay, peer } from '../../domain/__fixtures__/overlay.js';

const start = driverOnSimulator({ applyDelayMs: 5, seed: 'hand-made' });
const LISTS = ['tunnels', 'peers', 'gateways', 'routes', 'rules', 'interfaces'] as const;
const [siteB, siteC, phone] = HAND_MADE.peers;

/** Every config object with its id, by list. */
function snapshot(sim: PfSenseSimulator) {
  return Object.fromEntries(LISTS.map((list) => [list, sim.model.list(list)])) as Record<(typeof LISTS)[number], Array<Record<string, unknown>>>;
}

function stats(sim: PfSenseSimulator) {
  return HAND_MADE.peers.map((peer) => sim.model.peerStats.get(peer.publickey));
}

/** Writes since `from`, as "METHOD path". */
function writesSince(sim: PfSenseSimulator, from: number): string[] {
  return sim.requests.slice(from).filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path}`);
}

async function adopt(driver: PfSenseDriver, state: DesiredDeviceState) {
  const adoption = driver.adoptionPlan(state, await driver.readState(state));
  const result = await driver.apply(adoption.plan);
  return { adoption, result };
}

const byDescr = (objects: Array<Record<string, unknown>>, descr: string) => objects.find((obj) => String(obj.descr).startsWith(descr));

describe('pfSense discover', () => {
  it('reads the hand-made site: tunnels, peers with statistics, the assignment, connected networks with the uplink, routes; keys hidden and said so', async () => {
    const { driver } = await start();
    const found = await driver.discover();
    expect(found.interfaces.map((tunnel) => [tunnel.name, tunnel.listenPort, tunnel.addresses, tunnel.comment, tunnel.privateKey, tunnel.managedKey])).toEqual([
      ['tun_wg0', 51820, ['10.10.0.1/24'], 'Site mesh', null, null],
      ['tun_wg1', 51822, ['10.99.0.1/24'], 'Road warriors', null, null],
    ]);
    const [mesh] = found.interfaces;
    expect(mesh?.publicKey).toBe(publicKeyFromPrivate(HAND_MADE.tunnelPrivateKey));
    expect(mesh?.peers).toEqual([
      {
        ref: '0', publicKey: siteB.publickey, allowedIps: ['10.10.0.2/32', '192.168.20.0/24'], endpointHost: 'b.example.net', endpointPort: 51820, persistentKeepalive: 25,
        presharedKey: null, hasPresharedKey: false, comment: 'Site B', disabled: false, managedKey: null,
        lastHandshake: new Date(HAND_MADE.stats[0].latestHandshake * 1000), rxBytes: '9007199254740993', txBytes: '123456789',
      },
      expect.objectContaining({ ref: '1', publicKey: siteC.publickey, endpointHost: '203.0.113.30', endpointPort: 51821, persistentKeepalive: null, rxBytes: '55000', txBytes: '66000' }),
      expect.objectContaining({ ref: '2', publicKey: phone.publickey, allowedIps: ['10.10.0.10/32'], endpointHost: null, endpointPort: null, comment: 'Phone' }),
    ]);
    expect(found.interfaces[1]?.peers.map((peer) => [peer.ref, peer.comment])).toEqual([['3', 'Admin laptop']]);
    expect(found.connectedNetworks).toEqual([
      { cidr: '198.51.100.0/24', address: '198.51.100.2/24', interfaceName: 'WAN', uplink: true },
      { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'LAN', uplink: false },
    ]);
    expect(found.routes.map((route) => [route.destination, route.gateway, route.interfaceName, route.static, route.comment])).toEqual([
      ['192.168.20.0/24', '10.10.0.2', 'WG_MESH', true, 'Site B LAN'],
      ['192.168.30.0/24', '10.10.0.3', 'WG_MESH', true, 'Site C LAN'],
      ['10.200.0.0/16', '198.51.100.1', 'WAN', true, 'Legacy data centre'],
      ['0.0.0.0/0', '198.51.100.1', 'WAN', false, 'default gateway WAN_GW (Upstream)'],
    ]);
    expect(found.notes).toEqual(expect.arrayContaining([
      'tun_wg0 is assigned as opt1 (WG_MESH) with 10.10.0.1/24',
      expect.stringMatching(/^tunnel private keys are hidden by the REST API: turn on .*expose_sensitive_fields.*WireGuardTunnel:privatekey/),
      expect.stringMatching(/^preshared keys are hidden by the REST API: .*WireGuardPeer:presharedkey/),
    ]));
  });

  it('shows the private key and the preshared key only where the REST API exposes them', async () => {
    const { sim, driver } = await start();
    sim.model.restapi.override_sensitive_fields = ['WireGuardTunnel:privatekey'];
    let found = await driver.discover();
    const shown = found.interfaces[0]?.privateKey ?? null;
    expect(shown).not.toBeNull();
    expect(publicKeyFromPrivate(shown as string)).toBe(found.interfaces[0]?.publicKey);
    expect(found.interfaces[0]?.peers[0]).toMatchObject({ presharedKey: null, hasPresharedKey: false });
    expect(found.notes.some((note) => note.startsWith('tunnel private keys are hidden'))).toBe(false);

    sim.model.restapi.override_sensitive_fields = [];
    sim.model.restapi.expose_sensitive_fields = true;
    found = await driver.discover();
    expect(found.interfaces[0]?.privateKey).not.toBeNull();
    expect(found.interfaces[0]?.peers.map((peer) => [peer.presharedKey, peer.hasPresharedKey])).toEqual([[siteB.presharedkey, true], [null, false], [null, false]]);
    expect(found.notes.filter((note) => /hidden/.test(note))).toEqual([]);
  });

  it('says that preshared keys are write-only before package 2.10.0 and that there are no statistics before 2.9.0', async () => {
    const { sim, driver } = await start({ version: '2.8.1' });
    sim.model.restapi.expose_sensitive_fields = true;
    const found = await driver.discover();
    expect(found.interfaces[0]?.privateKey).not.toBeNull();
    expect(found.interfaces[0]?.peers[0]).toMatchObject({ presharedKey: null, hasPresharedKey: false, lastHandshake: null, rxBytes: null, txBytes: null });
    expect(found.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^preshared keys are write-only in REST API packages before 2\.10\.0 \(this is 2\.8\.1\)/),
      'no handshake or traffic statistics: the REST API package is older than 2.9.0',
    ]));
  });

  it('still reads everything when the user may not read the default gateway (403): pfSense\'s automatic choice is assumed', async () => {
    const { sim, driver } = await start({ faults: { failEndpoint: { path: '/api/v2/routing/gateway/default', status: 403, responseId: 'AUTH_AUTHORIZATION_FAILED' } } });
    const found = await driver.discover();
    expect(found.connectedNetworks.map((network) => [network.interfaceName, network.uplink])).toEqual([['WAN', true], ['LAN', false]]);
    expect(found.interfaces.map((tunnel) => tunnel.name)).toEqual(['tun_wg0', 'tun_wg1']);
    // pfSense's automatic choice is assumed: the first IPv4 gateway on the uplink.
    expect(found.routes.filter((route) => route.destination === '0.0.0.0/0').map((route) => route.gateway)).toEqual(['198.51.100.1']);
  });

  it('writes nothing', async () => {
    const { sim, driver } = await start();
    const from = sim.requests.length;
    await driver.discover();
    expect(writesSince(sim, from)).toEqual([]);
  });
});

describe('pfSense adoption in place', () => {
  it('tags the hand-made site with descr PATCHes only: the same ids, sessions untouched, unrelated items as they were', async () => {
    const { sim, driver } = await start();
    const state = stateFor(handMadeSpec());
    const before = snapshot(sim);
    const statsBefore = stats(sim);
    const from = sim.requests.length;

    const { adoption, result } = await adopt(driver, state);
    expect(result).toEqual({ applied: adoption.plan.operations.length, failed: null });
    expect(adoption.ambiguous).toEqual([]);
    expect(adoption.adopted.map((item) => [item.kind, item.id, item.key])).toEqual([
      [KIND.tunnel, '0', 'wan1:tunnel:wg-mesh'],
      [KIND.peer, '0', 'wan1:peer:b'],
      [KIND.peer, '1', 'wan1:peer:c'],
      [KIND.peer, '2', 'wan1:peer:phone'],
      [KIND.iface, 'opt1', 'wan1:iface:wg-mesh'],
      [KIND.gateway, '0', 'wan1:gateway:b'],
      [KIND.gateway, '1', 'wan1:gateway:c'],
      [KIND.route, '0', 'wan1:route:192.168.20.0/24'],
      [KIND.route, '1', 'wan1:route:192.168.30.0/24'],
      [KIND.rule, '1', 'wan1:rule:wan-udp-51820'],
      [KIND.rule, '2', 'wan1:rule:overlay-in'],
    ]);
    expect(adoption.plan.operations.every((operation) => operation.op === 'update' && operation.reason === ADOPTED_REASON && Object.keys(operation.changes).join() === 'descr')).toBe(true);
    // The object endpoints only see PATCHes (10: the assignment carries its tunnel's tag); then each area is applied.
    const writes = writesSince(sim, from);
    expect(writes.filter((write) => !write.endsWith('/apply'))).toEqual([
      'PATCH /api/v2/vpn/wireguard/tunnel', ...Array(3).fill('PATCH /api/v2/vpn/wireguard/peer'),
      ...Array(2).fill('PATCH /api/v2/routing/gateway'), ...Array(2).fill('PATCH /api/v2/routing/static_route'), ...Array(2).fill('PATCH /api/v2/firewall/rule'),
    ]);
    expect(writes.filter((write) => write.endsWith('/apply')).sort()).toEqual(['POST /api/v2/firewall/apply', 'POST /api/v2/routing/apply', 'POST /api/v2/vpn/wireguard/apply']);

    const after = snapshot(sim);
    for (const list of LISTS) {
      expect(after[list].map(({ descr: _descr, ...rest }) => rest), list).toEqual(before[list].map(({ descr: _descr, ...rest }) => rest));
    }
    expect(after.peers.map((peer) => peer.descr)).toEqual([
      // No fingerprint: this firewall hides preshared keys, so Site B's cannot be shown to be
      // the WAN's. The admin's descriptions stay after the tags.
      'meshplane:wan1:peer:b Site B', 'meshplane:wan1:peer:c Site C', 'meshplane:wan1:peer:phone Phone', 'Admin laptop']);
    expect(after.tunnels.map((tunnel) => tunnel.descr)).toEqual(['meshplane:wan1:tunnel:wg-mesh Site mesh', 'Road warriors']);
    expect(after.routes.map((route) => route.descr)).toEqual(['meshplane:wan1:route:192.168.20.0/24 Site B LAN', 'meshplane:wan1:route:192.168.30.0/24 Site C LAN', 'Legacy data centre']);
    expect(after.rules.map((rule) => rule.descr)).toEqual(['Default allow LAN to any rule', 'meshplane:wan1:rule:wan-udp-51820 WireGuard', 'meshplane:wan1:rule:overlay-in Allow WG_MESH', 'Road warriors', 'Admin HTTPS']);
    expect(after.interfaces).toEqual(before.interfaces);
    expect(stats(sim)).toEqual(statsBefore);

    // A second adoption finds nothing left to take.
    const again = driver.adoptionPlan(state, await driver.readState(state));
    expect(again).toEqual({ plan: { operations: [], unchanged: 0 }, adopted: [], ambiguous: [] });
  });

  it('after adoption the deploy only updates in place: no object deleted or added, ids and sessions kept; the next deploy plans nothing', async () => {
    const { sim, driver } = await start();
    const state = stateFor(handMadeSpec());
    await adopt(driver, state);
    const before = snapshot(sim);
    const statsBefore = stats(sim);
    const from = sim.requests.length;

    const plan: Plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.every((operation) => operation.op === 'update')).toBe(true);
    // Site B's keepalive is Meshplane's choice now, its preshared key (hidden on this firewall)
    // is written once, and the assignment gets Meshplane's name; everything else already matches.
    expect(describePlan(plan)).toEqual([
      `~ update vpn/wireguard/peer wan1:peer:b: descr meshplane:wan1:peer:b Site B → meshplane:wan1:peer:b psk:${pskFingerprint(siteB.presharedkey)} Site B, persistentkeepalive`
        + ' 25 → ∅, presharedkey ∅ → ‹new secret›',
      '~ update interface wan1:iface:wg-mesh: descr WG_MESH → MP_wg_mesh',
    ]);
    const result = await driver.apply(plan);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });
    expect(writesSince(sim, from).filter((write) => !write.endsWith('/apply'))).toEqual(['PATCH /api/v2/vpn/wireguard/peer', 'PATCH /api/v2/interface']);

    const after = snapshot(sim);
    for (const list of LISTS) expect(after[list].map((obj) => obj.id), list).toEqual(before[list].map((obj) => obj.id));
    expect(after.peers.map((peer) => peer.publickey)).toEqual(before.peers.map((peer) => peer.publickey));
    expect(sim.model.peers.get(0)?.presharedkey).toBe(siteB.presharedkey);
    expect(stats(sim)).toEqual(statsBefore);
    // Gateways keep the names the admin gave them; the routes still use them.
    expect(after.gateways.map((gateway) => gateway.name)).toEqual(['WG_SITEB', 'WG_SITEC', 'WAN_GW']);
    expect(after.routes.map((route) => route.gateway)).toEqual(['WG_SITEB', 'WG_SITEC', 'WAN_GW']);
    // Unrelated items exactly as they were.
    for (const [list, descr] of [['tunnels', 'Road warriors'], ['peers', 'Admin laptop'], ['gateways', 'Upstream'], ['routes', 'Legacy data centre'], ['rules', 'Admin HTTPS'], ['rules', 'Road warriors']] as const) {
      expect(byDescr(after[list], descr)).toEqual(byDescr(before[list], descr));
    }
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('adopts a tunnel that is not assigned to an interface: the deploy moves its address onto a new assignment, in place, session kept', async () => {
    const { sim, driver } = await start();
    const { roadWarrior } = HAND_MADE;
    sim.model.setPeerStats(roadWarrior.peerPublicKey, { latestHandshake: 1_765_000_000, rx: 5n, tx: 6n });
    const state = stateFor(overlay([
      peer('pf', '10.99.0.1', { privateKey: roadWarrior.privateKey, publicKey: publicKeyFromPrivate(roadWarrior.privateKey), endpointHost: 'pf.example.net', listenPort: 51822 }),
      peer('laptop', '10.99.0.2', { publicKey: roadWarrior.peerPublicKey, privateKey: null, endpointHost: null }),
    ], { id: 'wan2', tunnelCidr: '10.99.0.0/24', servicesCidr: '10.99.5.0/24', listenPort: 51822, interfaceName: 'wg-road' }));
    const { adoption, result } = await adopt(driver, state);
    expect(result.failed).toBeNull();
    expect(adoption.adopted.map((item) => [item.kind, item.id])).toEqual([[KIND.tunnel, '1'], [KIND.peer, '3'], [KIND.rule, '3']]);
    const plan = driver.plan(state, await driver.readState(state));
    expect(describePlan(plan)).toEqual([
      '~ update vpn/wireguard/tunnel wan2:tunnel:wg-road: addresses 10.99.0.1/24 → ∅',
      expect.stringMatching(/^\+ create interface wan2:iface:wg-road: descr=MP_wg_road if=@meshplane:wan2:tunnel:wg-road enable=true typev4=static ipaddr=10\.99\.0\.1 subnet=24/),
      expect.stringMatching(/^\+ create firewall\/rule wan2:rule:overlay-in: /),
    ]);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.list('tunnels')[1]).toMatchObject({ name: 'tun_wg1', descr: 'meshplane:wan2:tunnel:wg-road Road warriors' });
    expect(sim.model.list('peers')[3]).toMatchObject({ publickey: roadWarrior.peerPublicKey, descr: 'meshplane:wan2:peer:laptop Admin laptop' });
    expect(sim.model.peerStats.get(roadWarrior.peerPublicKey)).toMatchObject({ latestHandshake: 1_765_000_000, rx: 5n, tx: 6n });
    // The mesh beside it is nobody's yet and was not touched.
    expect(sim.model.list('peers').slice(0, 3).map((item) => item.descr)).toEqual(['Site B', 'Site C', 'Phone']);
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('takes over a peer added by hand to a tunnel it already manages, and nothing else', async () => {
    const { sim, driver } = await start();
    const spec = handMadeSpec();
    await adopt(driver, stateFor(spec));
    const laptopKey = Buffer.alloc(32, 44).toString('base64');
    sim.model.peers.add({ ...sim.model.peers.get(2), publickey: laptopKey, descr: 'Laptop', allowedips: [{ address: '10.10.0.11', mask: 32, descr: '' }] });
    const merged = stateFor({ ...spec, peers: [...spec.peers, peer('laptop', '10.10.0.11', { publicKey: laptopKey, privateKey: null, endpointHost: null })] });
    const { adoption, result } = await adopt(driver, merged);
    expect(result.failed).toBeNull();
    expect(adoption.adopted).toEqual([{ kind: KIND.peer, id: '4', key: 'wan1:peer:laptop' }]);
    expect(driver.plan(merged, await driver.readState(merged)).operations.filter((operation) => operation.op !== 'update')).toEqual([]);
  });

  it('reads each list a bounded number of times however many peers it tags (no re-read after each PATCH)', async () => {
    const { sim, driver } = await start();
    const spec = handMadeSpec();
    const extra = Array.from({ length: 60 }, (_, index) => peer(`r${index}`, `10.10.0.${100 + index}`, { publicKey: Buffer.alloc(32, 100 + index).toString('base64'), privateKey: null, endpointHost: null }));
    for (const remote of extra) sim.model.peers.add({ ...sim.model.peers.get(2), publickey: remote.publicKey, descr: remote.id, allowedips: [{ address: remote.tunnelIp, mask: 32, descr: '' }] });
    const state = stateFor({ ...spec, peers: [...spec.peers, ...extra] });
    const adoption = driver.adoptionPlan(state, await driver.readState(state));
    expect(adoption.adopted.filter((item) => item.kind === KIND.peer)).toHaveLength(63);
    const from = sim.requests.length;
    expect((await driver.apply(adoption.plan)).failed).toBeNull();
    const reads = sim.requests.slice(from).filter((request) => request.method === 'GET' && request.path === '/api/v2/vpn/wireguard/peers');
    expect(reads).toHaveLength(1);
  });

  it('with the preshared key shown by the REST API, the tag carries its fingerprint and the deploy writes no key', async () => {
    const { sim, driver } = await start();
    sim.model.restapi.expose_sensitive_fields = true;
    const state = stateFor(handMadeSpec());
    await adopt(driver, state);
    expect(sim.model.peers.get(0)?.descr).toBe(`meshplane:wan1:peer:b psk:${pskFingerprint(siteB.presharedkey)} Site B`);
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.filter((operation) => operation.kind === KIND.peer && operation.op === 'update' && 'presharedkey' in operation.changes)).toEqual([]);
  });

  it('adopts a tunnel whose private key is hidden by its public key (bring your own key) and never writes a key to it', async () => {
    const { sim, driver } = await start();
    const state = stateFor(handMadeSpec({ privateKeyKnown: false }));
    const statsBefore = stats(sim);
    const { adoption } = await adopt(driver, state);
    expect(adoption.adopted.filter((item) => item.kind === KIND.tunnel)).toEqual([{ kind: KIND.tunnel, id: '0', key: 'wan1:tunnel:wg-mesh' }]);
    const actual = await driver.readState(state);
    expect(driver.preflight(state, actual).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    const plan = driver.plan(state, actual);
    expect(plan.operations.filter((operation) => operation.kind === KIND.tunnel)).toEqual([]);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(stats(sim)).toEqual(statsBefore);
  });

  it('takes none of two look-alikes and reports them: a second tunnel with the same key, a copy of the WAN rule', async () => {
    const { sim, driver } = await start();
    sim.model.tunnels.add({ ...sim.model.tunnels.get(0), name: 'tun_wg2', listenport: '51830', descr: 'Copy of the mesh' });
    sim.model.rules.add({ ...sim.model.rules.get(1), descr: 'WireGuard again' });
    const before = snapshot(sim);
    const state = stateFor(handMadeSpec());
    const { adoption, result } = await adopt(driver, state);
    expect(result.failed).toBeNull();
    expect(adoption.ambiguous).toEqual([
      { kind: KIND.tunnel, key: 'wan1:tunnel:wg-mesh', ids: ['0', '2'] },
      { kind: KIND.rule, key: 'wan1:rule:wan-udp-51820', ids: ['1', '5'] },
    ]);
    // Nothing of the tunnel is taken: its peers, assignment and gateways are known only through it.
    expect(adoption.adopted.some((item) => [KIND.tunnel, KIND.peer, KIND.iface, KIND.gateway].includes(item.kind as never))).toBe(false);
    const after = snapshot(sim);
    expect(after.tunnels).toEqual(before.tunnels);
    expect(after.peers).toEqual(before.peers);
    expect(after.rules.filter((rule) => String(rule.descr).startsWith('WireGuard'))).toEqual(before.rules.filter((rule) => String(rule.descr).startsWith('WireGuard')));
  });

  it('refuses to tag an object that moved between reading and writing (pfSense ids are positions)', async () => {
    const { sim, driver } = await start();
    const state = stateFor(handMadeSpec());
    const adoption = driver.adoptionPlan(state, await driver.readState(state));
    sim.model.peers.remove(0);
    const result = await driver.apply(adoption.plan);
    expect(result.failed?.operation).toMatchObject({ kind: KIND.peer, id: '0' });
    expect(result.failed?.message).toMatch(/changed on the device after it was read, so it was not tagged/);
    expect(sim.model.list('peers').map((peer) => peer.descr)).toEqual(['Site C', 'Phone', 'Admin laptop']);
  });
});

describe('pfSense simulator: a peer removed and added again is a new session', () => {
  it('loses its handshake and counters and comes back at another id', async () => {
    const { sim, driver } = await start();
    const state = stateFor(handMadeSpec());
    await adopt(driver, state);
    const { id: _id, ...phoneObject } = sim.model.list('peers')[2] as Record<string, unknown>;
    const client = (driver as unknown as { client: { call: (method: string, path: string, options: object) => Promise<unknown> } }).client;
    await client.call('DELETE', KIND.peer, { query: { id: 2 } });
    await client.call('POST', KIND.peer, { body: { ...phoneObject } });
    expect(sim.model.list('peers').findIndex((peer) => peer.publickey === phone.publickey)).toBe(3);
    expect(sim.model.peerStats.get(phone.publickey)).toBeUndefined();
    const found = await driver.discover();
    expect(found.interfaces[0]?.peers.find((peer) => peer.publicKey === phone.publickey)).toMatchObject({ ref: '3', lastHandshake: null, rxBytes: '0', txBytes: '0' });
  });
});

describe('pfSense adoption rules (pure)', () => {
  const state = stateFor(handMadeSpec());
  const desired = desiredPfSenseResources(state);
  const wanRule = (id: string, props: Record<string, string>) => ({
    kind: KIND.rule, id, key: null,
    props: { descr: 'hand-made', type: 'pass', interface: '#wan', ipprotocol: 'inet', protocol: 'udp', source: 'any', destination: '(self)', destination_port: '51820', disabled: 'false', floating: 'false', ...props },
  });

  it('takes the WAN port rule to the firewall itself, not a disabled one, a floating one, or one forwarding the port elsewhere', () => {
    for (const [props, taken] of [
      [{}, true], [{ destination: 'wan:ip' }, true], [{ disabled: 'true' }, false], [{ floating: 'true' }, false],
      [{ destination: '192.168.1.10' }, false], [{ type: 'block' }, false], [{ destination_port: '51821' }, false],
    ] as const) {
      const plan = adoptionPlanPfSense(desired, [wanRule('3', props)], 'meshplane');
      expect(plan.adopted.map((item) => item.id), JSON.stringify(props)).toEqual(taken ? ['3'] : []);
    }
  });

  it('keeps an adopted gateway\'s name: the deploy does not try to rename it (pfSense refuses) and routes use it', () => {
    const gateway = desired.find((resource) => resource.kind === KIND.gateway) as DesiredResource;
    const route = desired.find((resource) => resource.kind === KIND.route && resource.props.gateway === gateway.props.name) as DesiredResource;
    const bound = bindGatewayNames(desired, [{ kind: KIND.gateway, id: '0', key: gateway.key, props: { ...gateway.props, name: 'WG_SITEB' } }]);
    expect(bound.find((resource) => resource.key === gateway.key)?.props.name).toBe('WG_SITEB');
    expect(bound.find((resource) => resource.key === route.key)?.props.gateway).toBe('WG_SITEB');
    expect(desired.find((resource) => resource.key === route.key)?.props.gateway).toBe(gateway.props.name);
  });
});
