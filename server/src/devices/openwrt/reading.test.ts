// discover(), statistics() and testConnection() of the OpenWrt driver against the simulator
// seeded with a WireGuard setup made by hand in LuCI (anonymous peers, a live session, a road
// warrior that never connected).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { demoHandMade, startOpenWrtSimulator, type HandMadeSpec, type OpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { discoverOpenWrt, readDiscovery } from './discover.js';
import { readStatistics } from './stats.js';
import { testOpenWrtConnection } from './test-connection.js';
import { simTarget } from './test-fixtures.js';
import { UbusClient } from './ubus-client.js';

let sim: OpenWrtSimulator;
let spec: HandMadeSpec;
let client: UbusClient;

beforeAll(async () => {
  spec = demoHandMade();
  sim = await startOpenWrtSimulator({ timeScale: 20, handMade: spec });
  client = new UbusClient(simTarget(sim));
});
afterEach(() => {
  Object.assign(sim.faults, { failCall: null, luciWireguard: true });
});
afterAll(async () => {
  await client.close();
  await sim.stop();
});

describe('discover', () => {
  it('reads the LuCI-made wg0 with its keys, anonymous peers, live figures, networks and routes', async () => {
    const [site, laptop] = spec.peers as [HandMadeSpec['peers'][0], HandMadeSpec['peers'][0]];
    sim.setPeerStats(site.publicKey, { latestHandshake: 1_786_432_210, rx: 10_112n, tx: 9_284n, endpoint: '203.0.113.1:51820' });
    const found = discoverOpenWrt(await readDiscovery(client), 'meshplane');
    expect(found.interfaces).toHaveLength(1);
    const wg0 = found.interfaces[0]!;
    expect(wg0).toMatchObject({
      ref: 'wg0', name: 'wg0', listenPort: 51820, mtu: 1420, privateKey: spec.privateKey, publicKey: publicKeyFromPrivate(spec.privateKey),
      addresses: ['10.99.0.2/24'], disabled: false, managedKey: null,
    });
    expect(wg0.peers.map((peer) => peer.ref)).toEqual(wg0.peers.map(() => expect.stringMatching(/^cfg[0-9a-f]{6}$/)));
    expect(wg0.peers[0]).toMatchObject({
      publicKey: site.publicKey, allowedIps: ['10.99.0.1/32', '172.16.0.0/24'], endpointHost: '203.0.113.1', endpointPort: 51820, persistentKeepalive: 25,
      presharedKey: site.presharedKey, hasPresharedKey: true, comment: 'site-a', rxBytes: '10112', txBytes: '9284', lastHandshake: new Date(1_786_432_210_000),
    });
    expect(wg0.peers[1]).toMatchObject({ publicKey: laptop.publicKey, endpointHost: null, endpointPort: null, presharedKey: null, lastHandshake: null, comment: 'laptop' });
    expect(wg0.unmodelled).toEqual(expect.arrayContaining([expect.objectContaining({ owner: wg0.peers[0]!.ref, name: 'route_allowed_ips' })]));
    expect(found.notes.join('\n')).toContain('anonymous UCI sections');
    expect(found.connectedNetworks).toEqual(expect.arrayContaining([
      { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'lan', uplink: false },
      expect.objectContaining({ cidr: '203.0.113.0/24', interfaceName: 'wan', uplink: true }),
    ]));
    expect(found.connectedNetworks.some((network) => network.interfaceName === 'wg0')).toBe(false);
    expect(found.routes).toEqual(expect.arrayContaining([expect.objectContaining({ destination: '0.0.0.0/0', interfaceName: 'wan', static: false })]));
  });
});

describe('statistics', () => {
  it('from `wg show wg0 dump`; no key in the result', async () => {
    const site = spec.peers[0]!;
    sim.setPeerStats(site.publicKey, { latestHandshake: 1_786_432_300, rx: 2n ** 60n, tx: 5n, endpoint: '203.0.113.1:51820' });
    const { stats, available } = await readStatistics(client, 'wg0');
    expect(available).toBe(true);
    expect(stats?.find((peer) => peer.publicKey === site.publicKey)).toEqual({
      publicKey: site.publicKey, rxBytes: (2n ** 60n).toString(), txBytes: '5', lastHandshake: new Date(1_786_432_300_000), currentEndpoint: '203.0.113.1:51820',
    });
    expect(JSON.stringify(stats)).not.toContain(spec.privateKey);
    expect(JSON.stringify(stats)).not.toContain(site.presharedKey!);
  });

  it('from luci.wireguard when the exec is refused and the admin granted it, and unavailable when neither answers', async () => {
    sim.faults.failCall = { object: 'file', method: 'exec', status: 6 };
    // The README's file grants no luci.wireguard (the wg exec serves): without it, no statistics.
    expect(await readStatistics(client, 'wg0')).toEqual({ stats: null, available: false });
    const acl = '/usr/share/rpcd/acl.d/meshplane.json';
    const seeded = sim.model.files.read(acl)!.data;
    const groups = JSON.parse(seeded) as { meshplane: { read: { ubus: Record<string, string[]> } } };
    groups.meshplane.read.ubus['luci.wireguard'] = ['getWgInstances'];
    sim.model.files.write(acl, JSON.stringify(groups));
    const granted = new UbusClient(simTarget(sim));
    try {
      const viaLuci = await readStatistics(granted, 'wg0');
      expect(viaLuci.available).toBe(true);
      expect(viaLuci.stats?.map((peer) => peer.publicKey).sort()).toEqual(spec.peers.map((peer) => peer.publicKey).sort());
      sim.faults.luciWireguard = false;
      expect(await readStatistics(granted, 'wg0')).toEqual({ stats: null, available: false });
    } finally {
      await granted.close();
      sim.model.files.write(acl, seeded);
    }
  });

  it('an interface that is not running has no peers', async () => {
    expect(await readStatistics(client, 'wg9')).toEqual({ stats: [], available: true });
  });
});

describe('testConnection', () => {
  it('reports the release and hostname when every grant is there', async () => {
    const report = await testOpenWrtConnection(client);
    expect(report).toMatchObject({ reachable: true, loggedIn: true, version: '24.10.2', identity: 'OpenWrt' });
    expect(report.failure).toBeUndefined();
    expect(report.message).toContain('every grant present');
  });

  it('names each missing grant', async () => {
    const path = '/usr/share/rpcd/acl.d/meshplane.json';
    const original = sim.model.files.read(path)!.data;
    sim.model.files.write(path, original.replace('"confirm",', '').replace('"/tmp/meshplane-psk"', '"/tmp/other"'));
    const fresh = new UbusClient(simTarget(sim));
    try {
      const report = await testOpenWrtConnection(fresh);
      expect(report).toMatchObject({ loggedIn: true, failure: 'AUTH_FAILED' });
      expect(report.message).toContain('uci.confirm');
      expect(report.message).toContain('file /tmp/meshplane-psk write');
      expect(report.message).not.toContain('uci.apply');
    } finally {
      sim.model.files.write(path, original);
      await fresh.close();
    }
  });

  it('refuses 21.02 (firewall3) and a wrong password', async () => {
    const old = await startOpenWrtSimulator({ version: '21.02.7', timeScale: 20 });
    const oldClient = new UbusClient(simTarget(old));
    const wrong = new UbusClient(simTarget(sim, { secret: 'not-it' }));
    try {
      expect(await testOpenWrtConnection(oldClient)).toMatchObject({ loggedIn: true, version: '21.02.7', failure: 'REFUSED', message: expect.stringContaining('needs 22.03 or later') });
      expect(await testOpenWrtConnection(wrong)).toMatchObject({ reachable: true, loggedIn: false, failure: 'AUTH_FAILED' });
    } finally {
      await Promise.all([oldClient.close(), wrong.close()]);
      await old.stop();
    }
  });
});
