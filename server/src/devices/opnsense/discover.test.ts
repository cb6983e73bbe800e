// discoverOpnSense() on readings shaped like OPNsense's replies (reference §1.5/§1.6, §2.7,
// §3.5–§3.7), then discover() against the simulator at 26.7.2 and 25.1.2.
import { describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { HAND_MADE, SEEDED } from '../../../test/sim/opnsense/seed.js';
import { discoverOpnSense, type OpnSenseDiscoveryReading } from './discover.js';
import { driverOnSimulator } from './test-fixtures.js';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const MESH_KEY = key(11);
const [B, C, PHONE] = [key(41), key(42), key(43)];

function reading(overrides: Partial<OpnSenseDiscoveryReading> = {}): OpnSenseDiscoveryReading {
  return {
    servers: [
      { uuid: 's1', name: 'site-mesh', enabled: '1', instance: '1', interface: 'wg1', privkey: MESH_KEY, pubkey: '', port: '51820', mtu: '1420', tunneladdress: '10.10.0.1/24,fd10::1/64', disableroutes: '0', gateway: '', dns: '', carp_depend_on: '', debug: '0', peers: 'c1,c2' },
      { uuid: 's2', name: 'meshplane.wan9.i.wg-x', enabled: '0', instance: '2', privkey: key(12), pubkey: key(99), port: '', mtu: '', tunneladdress: '10.20.0.1/24', disableroutes: '1', gateway: '10.20.0.2', dns: '9.9.9.9', carp_depend_on: 'vip1', debug: '1', peers: 'c2' },
    ],
    clients: [
      { uuid: 'c1', name: 'site-b', enabled: '1', pubkey: B, psk: key(21), tunneladdress: '10.10.0.2/32,192.168.20.0/24', serveraddress: 'b.example.net', serverport: '', keepalive: '25' },
      { uuid: 'c2', name: 'meshplane.wan1.p.c', enabled: '0', pubkey: C, psk: '', tunneladdress: '10.10.0.3/32', serveraddress: '', serverport: '', keepalive: '' },
      { uuid: 'c3', name: 'phone', enabled: '1', pubkey: PHONE, psk: '', tunneladdress: '10.10.0.10/32', serveraddress: '', serverport: '', keepalive: '' },
    ],
    membership: new Map([['s1', ['c1', 'c2']], ['s2', ['c2']]]),
    show: [
      { if: 'wg1', type: 'peer', 'public-key': B, endpoint: '198.51.100.20:51820', 'latest-handshake': '1765000000', 'transfer-rx': '9007199254740993', 'transfer-tx': '0123', ifname: 'site-mesh' },
      { if: 'wg1', type: 'peer', 'public-key': C, endpoint: '(none)', 'latest-handshake': '0', 'transfer-rx': '0', 'transfer-tx': '0', ifname: 'site-mesh' },
    ],
    // 26.7 raw rows: the route's gateway by name, the gateway's interface by identifier.
    routes: [
      { uuid: 'r1', network: '10.250.0.0/16', gateway: 'WAN_GW', descr: 'Legacy data centre', enabled: '1' },
      { uuid: 'r2', network: '192.168.30.0/24', gateway: 'WG_C', descr: 'meshplane:wan1:route:x site C', enabled: '0' },
    ],
    gateways: [
      { uuid: 'g1', name: 'WAN_GW', interface: 'wan', ipprotocol: 'inet', gateway: '203.0.113.254', defaultgw: '1', disabled: '0', descr: 'Upstream' },
      { uuid: 'g2', name: 'WG_C', interface: 'opt1', ipprotocol: 'inet', gateway: '10.10.0.3', defaultgw: '0', disabled: '0', descr: '' },
    ],
    assignments: [
      { uuid: 'wan', if: 'em0', descr: 'WAN', enable: '1', type4: 'staticv4', ipaddr: '203.0.113.1', subnet: '24', type6: 'none', ipaddrv6: '', subnetv6: '' },
      { uuid: 'lan', if: 'em1', descr: 'LAN', enable: '1', type4: 'staticv4', ipaddr: '192.168.1.1', subnet: '24', type6: 'staticv6', ipaddrv6: '2001:db8:1::1', subnetv6: '64' },
      { uuid: 'opt1', if: 'wg1', descr: 'WGMESH', enable: '1', type4: 'staticv4', ipaddr: '10.10.0.1', subnet: '24', type6: 'none', ipaddrv6: '', subnetv6: '' },
      { uuid: 'opt2', if: 'em2', descr: '', enable: '1', type4: 'dhcp', ipaddr: '', subnet: '', type6: 'none', ipaddrv6: '', subnetv6: '' },
      { uuid: 'opt3', if: 'em3', descr: 'OFF', enable: '0', type4: 'staticv4', ipaddr: '172.16.9.1', subnet: '24', type6: 'none', ipaddrv6: '', subnetv6: '' },
    ],
    assignmentApi: true,
    unreadable: [],
    ...overrides,
  };
}

describe('discoverOpnSense', () => {
  it('reads instances with their private key, peers with PSK and live figures, and the name as the admin\'s comment', () => {
    const found = discoverOpnSense(reading(), 'meshplane');
    const [mesh, other] = found.interfaces;
    expect(mesh).toMatchObject({
      ref: 's1', name: 'wg1', listenPort: 51820, mtu: 1420, publicKey: publicKeyFromPrivate(MESH_KEY), privateKey: MESH_KEY,
      addresses: ['10.10.0.1/24', 'fd10::1/64'], disabled: false, comment: 'site-mesh', managedKey: null, source: 'OPNsense instance site-mesh (wg1)',
    });
    expect(mesh?.peers).toEqual([
      {
        ref: 'c1', publicKey: B, allowedIps: ['10.10.0.2/32', '192.168.20.0/24'], endpointHost: 'b.example.net', endpointPort: 51820, persistentKeepalive: 25,
        presharedKey: key(21), hasPresharedKey: true, comment: 'site-b', disabled: false, managedKey: null,
        lastHandshake: new Date(1_765_000_000_000), rxBytes: '9007199254740993', txBytes: '123',
      },
      expect.objectContaining({ ref: 'c2', comment: null, managedKey: 'wan1:peer:c', disabled: true, lastHandshake: null, rxBytes: '0', endpointHost: null, endpointPort: null, presharedKey: null, hasPresharedKey: false }),
    ]);
    // The stored public key of s2 is stale: the discovery's is the private key's.
    expect(other).toMatchObject({ name: 'wg2', publicKey: publicKeyFromPrivate(key(12)), disabled: true, comment: null, managedKey: 'wan9:tunnel:wg-x', listenPort: null, mtu: null });
    expect(other?.peers.map((peer) => [peer.ref, peer.rxBytes])).toEqual([['c2', null]]);
  });

  it('names what Meshplane has no place for: disable routes and gateway, DNS, CARP, debug, a stale public key, a peer on several instances', () => {
    const found = discoverOpnSense(reading(), 'meshplane');
    expect(found.interfaces[0]?.unmodelled).toEqual([
      { owner: 'c2', name: 'also a peer of', value: expect.stringMatching(/^meshplane\.wan9\.i\.wg-x \(wg2\): one peer, several instances/) },
    ]);
    expect(found.interfaces[1]?.unmodelled.map((setting) => [setting.name, setting.value.split(':')[0]])).toEqual([
      ['disable routes', 'yes'], ['gateway', '10.20.0.2'], ['DNS servers', '9.9.9.9'], ['depend on (CARP)', 'vip1'], ['debug', 'yes'], ['stored public key', `${key(99)} does not belong to the private key (its public key is ${publicKeyFromPrivate(key(12))}); OPNsense never derives it, Meshplane writes the right one`],
      ['also a peer of', 'site-mesh (wg1)'],
    ]);
    expect(found.notes).toEqual([
      '1 peer(s) belong to no instance: phone',
      expect.stringMatching(/^meshplane\.wan9\.i\.wg-x \(wg2\) has "Disable routes" on: .*turns those on and leaves the static routes as they are/),
      'OPT2 gets an address by dhcp: that network is not listed',
    ]);
  });

  it('lists connected networks from 26.7 assignments (tunnels, disabled and dynamic ones left out) with the default gateway\'s as the uplink; routes and default gateways', () => {
    const found = discoverOpnSense(reading(), 'meshplane');
    expect(found.connectedNetworks).toEqual([
      { cidr: '203.0.113.0/24', address: '203.0.113.1/24', interfaceName: 'WAN', uplink: true },
      { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'LAN', uplink: false },
      { cidr: '2001:db8:1::/64', address: '2001:db8:1::1/64', interfaceName: 'LAN', uplink: false },
    ]);
    expect(found.routes).toEqual([
      { ref: 'route r1', destination: '10.250.0.0/16', gateway: '203.0.113.254', interfaceName: 'WAN', static: true, disabled: false, comment: 'Legacy data centre', managedKey: null },
      { ref: 'route r2', destination: '192.168.30.0/24', gateway: '10.10.0.3', interfaceName: 'WGMESH', static: true, disabled: true, comment: 'site C', managedKey: 'wan1:route:x' },
      { ref: 'gateway WAN_GW', destination: '0.0.0.0/0', gateway: '203.0.113.254', interfaceName: 'WAN', static: false, disabled: false, comment: 'default gateway WAN_GW (Upstream)', managedKey: null },
    ]);
  });

  it('before 26.7 (labels in rows, `disabled` routes, no assignment API) says that connected networks cannot be read; unreadable lists are named', () => {
    const found = discoverOpnSense(reading({
      routes: [{ uuid: 'r1', network: '10.250.0.0/16', gateway: 'WAN_GW - 203.0.113.254', descr: '', disabled: '1' }],
      gateways: [{ uuid: 'g1', name: 'WAN_GW', interface: 'WAN', ipprotocol: 'IPv4', gateway: '203.0.113.254', defaultgw: '1', disabled: '0', descr: '' }],
      assignments: null, assignmentApi: false, show: null, unreadable: ['gateways not read: Forbidden'],
    }), 'meshplane');
    expect(found.connectedNetworks).toEqual([]);
    expect(found.routes.map((route) => [route.destination, route.gateway, route.interfaceName, route.disabled, route.comment])).toEqual([
      ['10.250.0.0/16', '203.0.113.254', 'WAN', true, null], ['0.0.0.0/0', '203.0.113.254', 'WAN', false, 'default gateway WAN_GW'],
    ]);
    expect(found.interfaces[0]?.peers[0]).toMatchObject({ lastHandshake: null, rxBytes: null, txBytes: null });
    expect(found.notes).toEqual(expect.arrayContaining([
      'gateways not read: Forbidden',
      'no handshake or traffic figures: service/show could not be read',
      expect.stringMatching(/^interface addresses cannot be read through the API before OPNsense 26\.7/),
    ]));
  });
});

describe('OPNsense discover against the simulator', () => {
  const start = driverOnSimulator({ seed: 'hand-made' });

  it.each(['26.7.2', '25.1.2'])('%s: reads the hand-made mesh and the road-warrior instance with keys and live figures, routes and gateways; writes nothing', async (version) => {
    const { sim, driver } = await start({ version });
    const from = sim.requests.length;
    const found = await driver.discover();
    expect(sim.requests.slice(from).filter((request) => request.write)).toEqual([]);

    expect(found.interfaces.map((iface) => [iface.comment, iface.name, iface.listenPort, iface.addresses, iface.peers.length])).toEqual([
      [SEEDED.roadWarrior.name, 'wg0', 51999, [SEEDED.roadWarrior.address], 1],
      [HAND_MADE.descr, 'wg1', 51820, [HAND_MADE.address], 3],
    ]);
    const mesh = found.interfaces[1];
    expect(mesh?.privateKey).toBe(HAND_MADE.privateKey);
    expect(mesh?.publicKey).toBe(publicKeyFromPrivate(HAND_MADE.privateKey));
    expect(mesh?.peers.map((peer) => [peer.comment, peer.publicKey, peer.presharedKey, peer.endpointHost, peer.endpointPort, peer.rxBytes, peer.lastHandshake?.getTime()])).toEqual(
      HAND_MADE.peers.map((peer, index) => [peer.descr, peer.publickey, peer.presharedkey || null, peer.endpoint, peer.port === null ? null : Number(peer.port), String(HAND_MADE.stats[index]?.rx), (HAND_MADE.stats[index]?.latestHandshake ?? 0) * 1000]),
    );
    expect(found.routes.map((route) => [route.destination, route.gateway, route.static, route.disabled])).toEqual([
      ['10.250.0.0/16', '203.0.113.254', true, false], ['0.0.0.0/0', '203.0.113.254', false, false],
    ]);
    if (version === '26.7.2') {
      expect(found.connectedNetworks).toEqual([
        { cidr: '203.0.113.0/24', address: '203.0.113.1/24', interfaceName: 'WAN', uplink: true },
        { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'LAN', uplink: false },
      ]);
    } else {
      expect(found.connectedNetworks).toEqual([]);
      expect(found.notes).toEqual(expect.arrayContaining([expect.stringMatching(/before OPNsense 26\.7/)]));
    }
  });

  it('a key without the Static Routes privilege still discovers the instances; the note names the privilege', async () => {
    const { driver } = await start({ faults: { privileges: ['VPN: WireGuard: Configuration', 'Firewall: Rules [new]', 'System: Firmware', 'System: Gateways', 'Interfaces: Assign network ports'] } });
    const found = await driver.discover();
    expect(found.interfaces).toHaveLength(2);
    expect(found.routes.filter((route) => route.static)).toEqual([]);
    expect(found.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^static routes not read: .*Static Routes/)]));
  });
});
