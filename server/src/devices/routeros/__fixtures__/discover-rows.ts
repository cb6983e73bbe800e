// Rows as a RouterOS 7.21 router prints them to a user without the `sensitive` policy (REST
// shapes; the peer row follows a real capture, routeros.md §3.5): for discover() unit tests.
import type { Row } from '../transport.js';

export const MASKED_KEY = '*****';
export const HUB_PUBLIC = 'oVtE7MydYil3+NcSk2O1OZ7JQ6UnTltadnk+5c+uxko=';
export const PHONE_PUBLIC = 'HhbyDzG6cFBh5yAacMPDYNZk9Z2PbuJ5ZzU1ws1dS2Y=';

export const DISCOVER_ROWS: Readonly<Record<string, Row[]>> = {
  '/interface/wireguard': [
    { '.id': '*55', disabled: 'false', 'listen-port': '13231', mtu: '1420', name: 'wg-awg', 'private-key': MASKED_KEY, 'public-key': 'gLP3dQ1Ci8tQHYbiTQMW2QJuzv0LwwBOJ4tHQ2Z8gmU=', running: 'true', vrf: 'main' },
    { '.id': '*56', disabled: 'true', 'listen-port': '51820', mtu: 'auto', name: 'wg-old', 'private-key': MASKED_KEY, 'public-key': 'cGVlcjJwZWVyMnBlZXIycGVlcjJwZWVyMnBlZXIyMDA=', running: 'false', comment: 'meshplane:wan9:interface', vrf: 'vrf-mgmt' },
  ],
  '/interface/wireguard/peers': [
    {
      '.id': '*3', 'allowed-address': '10.10.10.2/32,192.168.50.0/24', 'client-allowed-address': '::/0', 'client-endpoint': '', comment: 'awg-server-1-client-1',
      'current-endpoint-address': '172.19.120.142', 'current-endpoint-port': '51209', disabled: 'false', dynamic: 'false', 'endpoint-address': 'hub.example.net', 'endpoint-port': '51820',
      interface: 'wg-awg', 'last-handshake': '1m14s', name: 'peer1-AWG', 'persistent-keepalive': '25s', 'preshared-key': MASKED_KEY, 'private-key': MASKED_KEY,
      'public-key': HUB_PUBLIC, responder: 'false', rx: '8395000', tx: '18446744073709551000',
    },
    {
      '.id': '*4', 'allowed-address': '10.10.10.3', 'client-allowed-address': '0.0.0.0/0', 'client-dns': '10.10.10.1', 'client-endpoint': 'vpn.example.net:13231',
      disabled: 'true', dynamic: 'false', 'endpoint-address': '', 'endpoint-port': '0', interface: 'wg-awg', name: 'peer2', 'preshared-key': 'none',
      'public-key': PHONE_PUBLIC, responder: 'true', rx: '0', tx: '0',
    },
  ],
  '/ip/address': [
    { '.id': '*1', address: '198.51.100.2/24', interface: 'ether1', disabled: 'false', dynamic: 'true', comment: 'dhcp' },
    { '.id': '*2', address: '192.168.88.1/24', interface: 'bridge', disabled: 'false', dynamic: 'false' },
    { '.id': '*3', address: '10.10.10.1/24', interface: 'wg-awg', disabled: 'false', dynamic: 'false' },
    { '.id': '*4', address: '10.10.11.1/24', interface: 'wg-awg', disabled: 'true', dynamic: 'false' },
    { '.id': '*5', address: '10.255.255.1/32', interface: 'lo', disabled: 'false', dynamic: 'false' },
    { '.id': '*6', address: '192.168.99.1/24', interface: 'ether5', disabled: 'true', dynamic: 'false' },
  ],
  '/ipv6/address': [
    { '.id': '*1', address: 'fe80::1/64', interface: 'bridge', disabled: 'false', dynamic: 'true' },
    { '.id': '*2', address: 'fe80::2/64', interface: 'wg-awg', disabled: 'false', dynamic: 'true' },
    { '.id': '*3', address: '2001:db8:88::1/64', interface: 'bridge', disabled: 'false', dynamic: 'false' },
  ],
  '/ip/route': [
    { '.id': '*80000001', 'dst-address': '0.0.0.0/0', gateway: '198.51.100.1', 'immediate-gw': '198.51.100.1%ether1', distance: '1', 'routing-table': 'main', static: 'true', dynamic: 'false' },
    { '.id': '*80000002', 'dst-address': '192.168.50.0/24', gateway: '10.10.10.2', distance: '1', 'routing-table': 'main', static: 'true', comment: 'HQ LAN' },
    { '.id': '*80000003', 'dst-address': '192.168.60.0/24', gateway: 'wg-awg', distance: '1', 'routing-table': 'main', static: 'true', disabled: 'true', comment: 'meshplane:wan9:route:192.168.60.0/24' },
    { '.id': '*40000001', 'dst-address': '192.168.88.0/24', gateway: 'bridge', 'immediate-gw': 'bridge', distance: '0', 'routing-table': 'main', dynamic: 'true', connect: 'true' },
  ],
  '/ipv6/route': [
    { '.id': '*80000001', 'dst-address': '::/0', gateway: 'fe80::1%ether1', distance: '1', 'routing-table': 'main', static: 'true' },
  ],
};
