// A WireGuard setup made by hand, as people have it before Meshplane: an interface
// `wireguard1` with three peers (two branch offices with their LANs, a laptop), its address,
// static routes to the two branch LANs through the tunnel (one by interface, one by the
// branch's tunnel address), and an input rule accepting its UDP port placed before the
// default drop. Every peer has a live session (handshake, byte counters). Seeded on top of
// seed.ts's unmanaged state, plus things of the admin that have nothing to do with it: a
// route to a lab network and a forward rule. For adoption tests: all of `wireguard1` is to
// be taken over in place, none of the rest touched.
import { FIREWALL_FILTER } from './menus/firewall.js';
import { IP_ADDRESS, IP_ROUTE } from './menus/ip.js';
import { WIREGUARD, WIREGUARD_PEERS } from './menus/wireguard.js';
import type { RouterOsModel } from './model.js';
import { keyPairFromLabel } from './wireguard-keys.js';

export interface HandMadePeer {
  label: string;
  publicKey: string;
  tunnelIp: string;
  /** The LAN behind it, or null (the laptop). */
  lan: string | null;
  /** Host and port, or null when it dials in (the laptop). */
  endpoint: { host: string; port: number } | null;
  presharedKey: string | null;
  /** The session seeded on it. */
  handshakeSecondsAgo: number;
  rx: bigint;
  tx: bigint;
}

export interface HandMadeSetup {
  interfaceName: string;
  listenPort: number;
  privateKey: string;
  publicKey: string;
  /** The interface's address: tunnel IP with the tunnel's prefix. */
  address: string;
  tunnelCidr: string;
  peers: HandMadePeer[];
  /** Ids of what was seeded, by what it is. */
  ids: { interface: string; address: string; peers: string[]; routes: string[]; inputRule: string; lookAlikeRule: string | null; adminRoute: string; adminRule: string };
}

export interface HandMadeOptions {
  /** A second, identical input accept rule (made twice by mistake): neither may be adopted. */
  lookAlikeRule?: boolean;
}

const key = (label: string) => keyPairFromLabel(`hand-made-${label}`);

export function seedHandMadeSetup(model: RouterOsModel, options: HandMadeOptions = {}): HandMadeSetup {
  const own = key('wireguard1');
  const interfaceName = 'wireguard1';
  const listenPort = 13231;
  const peers: HandMadePeer[] = [
    { label: 'Branch A', publicKey: key('branch-a').publicKey, tunnelIp: '10.10.0.2', lan: '192.168.20.0/24', endpoint: { host: 'branch-a.example.net', port: 13231 }, presharedKey: null, handshakeSecondsAgo: 42, rx: 7_340_032n, tx: 1_048_576n },
    { label: 'Branch B', publicKey: key('branch-b').publicKey, tunnelIp: '10.10.0.3', lan: '192.168.30.0/24', endpoint: { host: '203.0.113.30', port: 51820 }, presharedKey: key('branch-b-psk').privateKey, handshakeSecondsAgo: 95, rx: 2n ** 40n + 5n, tx: 987_654_321n },
    { label: 'Anna laptop', publicKey: key('laptop').publicKey, tunnelIp: '10.10.0.10', lan: null, endpoint: null, presharedKey: null, handshakeSecondsAgo: 7, rx: 123_456n, tx: 654_321n },
  ];

  const interfaceId = model.seed(WIREGUARD, { name: interfaceName, 'listen-port': String(listenPort), 'private-key': own.privateKey });
  const address = '10.10.0.1/24';
  const addressId = model.seed(IP_ADDRESS, { address, interface: interfaceName });
  const peerIds = peers.map((peer) => model.seed(WIREGUARD_PEERS, {
    interface: interfaceName,
    'public-key': peer.publicKey,
    'allowed-address': [`${peer.tunnelIp}/32`, ...(peer.lan ? [peer.lan] : [])].join(','),
    ...(peer.endpoint ? { 'endpoint-address': peer.endpoint.host, 'endpoint-port': String(peer.endpoint.port), 'persistent-keepalive': '25s' } : {}),
    ...(peer.presharedKey ? { 'preshared-key': peer.presharedKey } : {}),
    // What the admin's phone app wanted (RouterOS ≥ 7.12 keeps it for the client config).
    ...(peer.endpoint ? {} : { 'client-dns': '10.10.0.1' }),
    comment: peer.label,
  }));
  for (const peer of peers) model.setHandshake(peer.publicKey, peer.handshakeSecondsAgo, { rx: peer.rx, tx: peer.tx });

  const routes = [
    model.seed(IP_ROUTE, { 'dst-address': '192.168.20.0/24', gateway: interfaceName, comment: 'Branch A LAN' }),
    model.seed(IP_ROUTE, { 'dst-address': '192.168.30.0/24', gateway: '10.10.0.3', comment: 'Branch B LAN' }),
  ];
  const drop = model.rows(FIREWALL_FILTER).find((row) => row.comment === 'defconf: drop all not coming from LAN')?.['.id'];
  const inputRule = { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': String(listenPort), comment: 'WireGuard', ...(drop ? { 'place-before': drop } : {}) };
  const inputRuleId = model.seed(FIREWALL_FILTER, inputRule);
  const lookAlikeRule = options.lookAlikeRule ? model.seed(FIREWALL_FILTER, { ...inputRule, comment: 'WireGuard (again)' }) : null;

  const adminRoute = model.seed(IP_ROUTE, { 'dst-address': '10.200.0.0/16', gateway: '192.168.88.254', comment: 'lab network' });
  const adminRule = model.seed(FIREWALL_FILTER, { chain: 'forward', action: 'drop', 'src-address': '192.168.88.66', comment: 'keep the old printer off the internet' });

  return {
    interfaceName, listenPort, privateKey: own.privateKey, publicKey: own.publicKey, address, tunnelCidr: '10.10.0.0/24', peers,
    ids: { interface: interfaceId, address: addressId, peers: peerIds, routes, inputRule: inputRuleId, lookAlikeRule, adminRoute, adminRule },
  };
}
