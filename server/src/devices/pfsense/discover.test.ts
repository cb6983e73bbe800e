// discoverPfSense() on lists shaped like the REST API's own examples (pfsense.md §2.2 and
// §2.4, issues #595/#614/#705, the v2.9.0 status endpoint): pure, no device.
import { describe, expect, it } from 'vitest';
import { discoverPfSense, type PfSenseReading } from './discover.js';

const PUBLIC = 'Af7yon24gIhKxTWSkNXtHj6csqlHVEf+BSiy3PTGFFQ=';
const PEER = 'mA1tsHhHx1ChA/fMO+Snfcq4uNjyh5JQ6eIHn9S+5mM=';

function reading(overrides: Partial<PfSenseReading> = {}): PfSenseReading {
  return {
    // #705's sample with `descr`; a GUI-made tunnel assigned to an interface reads `addresses: null` (#614).
    tunnels: [
      { id: 0, name: 'tun_wg0', enabled: true, descr: 'site-b', listenport: '51820', publickey: PUBLIC, mtu: 1420, addresses: null },
      { id: 1, name: 'tun_wg1', enabled: false, descr: '', listenport: '51821', publickey: PEER, mtu: 1420, addresses: [{ parent_id: 1, id: 0, address: '10.99.0.1', mask: 24, descr: 'road warriors' }] },
    ],
    // The PATCH body users send (#595), as a list item; a second peer with no endpoint and no tunnel.
    peers: [
      { id: 0, enabled: true, tun: 'tun_wg0', endpoint: '198.51.100.7', port: '51820', descr: 'meshplane:wan1:peer:b psk:1a2b3c4d', persistentkeepalive: 5, publickey: PEER, allowedips: [{ parent_id: 0, id: 0, address: '0.0.0.0', mask: 0, descr: 'everything' }] },
      { id: 1, enabled: false, tun: 'unassigned', endpoint: null, port: null, descr: '', persistentkeepalive: null, publickey: 'b'.repeat(43) + '=', allowedips: [] },
    ],
    interfaces: [
      { id: 'wan', if: 'em0', descr: 'WAN', enable: true, typev4: 'dhcp', typev6: 'dhcp6', ipaddrv6: 'dhcp6' },
      { id: 'lan', if: 'em1', descr: 'LAN', enable: true, typev4: 'static', ipaddr: '192.168.1.1', subnet: 24, typev6: 'staticv6', ipaddrv6: '2001:db8:1::1', subnetv6: 64 },
      { id: 'opt1', if: 'tun_wg0', descr: 'WG_SITEB', enable: true, typev4: 'static', ipaddr: '10.99.0.1', subnet: 30, typev6: 'none', mtu: 1380, blockbogons: true },
      { id: 'opt2', if: 'em2', descr: '', enable: false, typev4: 'static', ipaddr: '172.16.0.1', subnet: 24 },
    ],
    gateways: [
      { id: 0, name: 'WAN_DHCP', interface: 'WAN', ipprotocol: 'inet', gateway: 'dynamic', descr: 'Interface wan Gateway', disabled: false },
      { id: 1, name: 'SITEB', interface: 'WG_SITEB', ipprotocol: 'inet', gateway: '10.99.0.2', descr: '', disabled: false },
    ],
    routes: [{ id: 0, network: '192.168.50.0/24', gateway: 'SITEB', descr: 'site B LAN', disabled: false }],
    defaultGateway: { defaultgw4: '', defaultgw6: '-' },
    representation: 'descr',
    status: [{ name: 'tun_wg0', peers: [{ public_key: PEER, latest_handshake: '1700000000', transfer_rx: '18446744073709551615', transfer_tx: '0' }] }],
    version: '2.10.0',
    ...overrides,
  };
}

describe('discoverPfSense', () => {
  it('reads a tunnel\'s addresses from its assignment, its peers with statistics, and what it cannot model', () => {
    const found = discoverPfSense(reading(), 'meshplane');
    const [siteB, road] = found.interfaces;
    expect(siteB).toMatchObject({
      ref: 'tun_wg0', name: 'tun_wg0', listenPort: 51820, mtu: 1420, publicKey: PUBLIC, privateKey: null, addresses: ['10.99.0.1/30'],
      disabled: false, comment: 'site-b', managedKey: null,
    });
    expect(siteB?.peers).toEqual([{
      ref: '0', publicKey: PEER, allowedIps: ['0.0.0.0/0'], endpointHost: '198.51.100.7', endpointPort: 51820, persistentKeepalive: 5,
      presharedKey: null, hasPresharedKey: false, comment: null, disabled: false, managedKey: 'wan1:peer:b',
      lastHandshake: new Date(1_700_000_000_000), rxBytes: '18446744073709551615', txBytes: '0',
    }]);
    expect(siteB?.unmodelled).toEqual([
      { owner: 'interface', name: 'assigned interface opt1 MTU', value: '1380' },
      { owner: 'interface', name: 'assigned interface opt1 block bogon networks', value: 'yes' },
      { owner: '0', name: 'allowed IP 0.0.0.0/0 description', value: 'everything' },
    ]);
    expect(road).toMatchObject({ name: 'tun_wg1', disabled: true, comment: null, addresses: ['10.99.0.1/24'], peers: [] });
    expect(road?.unmodelled).toEqual([{ owner: 'interface', name: 'address 10.99.0.1/24 description', value: 'road warriors' }]);
  });

  it('lists the other interfaces\' networks, the uplink being the interface of the default gateway (automatic here), and the routes', () => {
    const found = discoverPfSense(reading(), 'meshplane');
    expect(found.connectedNetworks).toEqual([
      { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'LAN', uplink: false },
      { cidr: '2001:db8:1::/64', address: '2001:db8:1::1/64', interfaceName: 'LAN', uplink: false },
    ]);
    expect(found.routes).toEqual([
      { ref: 'static_route 0', destination: '192.168.50.0/24', gateway: '10.99.0.2', interfaceName: 'WG_SITEB', static: true, disabled: false, comment: 'site B LAN', managedKey: null },
      { ref: 'gateway WAN_DHCP', destination: '0.0.0.0/0', gateway: 'dynamic', interfaceName: 'WAN', static: false, disabled: false, comment: 'default gateway WAN_DHCP (Interface wan Gateway)', managedKey: null },
    ]);
    expect(found.notes).toEqual([
      'tun_wg0 is assigned as opt1 (WG_SITEB) with 10.99.0.1/30',
      '1 peer(s) belong to no tunnel (tun "unassigned"): ' + 'b'.repeat(43) + '=',
      expect.stringMatching(/^tunnel private keys are hidden by the REST API/),
      expect.stringMatching(/^preshared keys are hidden by the REST API/),
      'WAN gets an address by dhcp and dhcp6: that network is not listed',
    ]);
  });

  it('marks the uplink by the chosen default gateway and reads interface references in the id representation', () => {
    const found = discoverPfSense(reading({
      representation: 'id',
      gateways: [
        { id: 0, name: 'LAN_UP', interface: 'lan', ipprotocol: 'inet', gateway: '192.168.1.254', disabled: false },
        { id: 1, name: 'SITEB', interface: 'opt1', ipprotocol: 'inet', gateway: '10.99.0.2', disabled: false },
      ],
      defaultGateway: { defaultgw4: 'LAN_UP', defaultgw6: '' },
    }), 'meshplane');
    expect(found.connectedNetworks.map((network) => [network.cidr, network.uplink])).toEqual([['192.168.1.0/24', true], ['2001:db8:1::/64', true]]);
    expect(found.routes.map((route) => [route.destination, route.gateway, route.interfaceName])).toEqual([
      ['192.168.50.0/24', '10.99.0.2', 'WG_SITEB'], ['0.0.0.0/0', '192.168.1.254', 'LAN'],
    ]);
  });

  it('carries the keys the REST API shows (sensitive fields exposed) and says nothing is hidden', () => {
    const base = reading();
    const found = discoverPfSense(reading({
      tunnels: base.tunnels.map((tunnel) => ({ ...tunnel, privatekey: 'KG0BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHk=' })),
      peers: base.peers.map((peer, index) => ({ ...peer, presharedkey: index === 0 ? 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA=' : '' })),
    }), 'meshplane');
    expect(found.interfaces[0]?.privateKey).toBe('KG0BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAHk=');
    expect(found.interfaces[0]?.peers[0]).toMatchObject({ presharedKey: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MDA=', hasPresharedKey: true });
    expect(found.notes.filter((note) => note.includes('hidden'))).toEqual([]);
  });

  it('without the status endpoint (before 2.9.0) has no statistics and says so; without the default gateway endpoint takes WAN as the uplink', () => {
    const found = discoverPfSense(reading({
      status: null, version: '2.8.1', defaultGateway: null,
      interfaces: [{ id: 'wan', if: 'em0', descr: 'WAN', enable: true, typev4: 'static', ipaddr: '203.0.113.2', subnet: 29 }],
      gateways: [],
    }), 'meshplane');
    expect(found.interfaces[0]?.peers[0]).toMatchObject({ lastHandshake: null, rxBytes: null, txBytes: null });
    expect(found.connectedNetworks).toEqual([{ cidr: '203.0.113.0/29', address: '203.0.113.2/29', interfaceName: 'WAN', uplink: true }]);
    expect(found.notes).toEqual(expect.arrayContaining([
      expect.stringMatching(/^preshared keys are write-only in REST API packages before 2\.10\.0 \(this is 2\.8\.1\)/),
      'no handshake or traffic statistics: the REST API package is older than 2.9.0',
    ]));
  });
});
