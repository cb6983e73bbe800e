// What the simulated firewall holds at start. Records are written as the GUI saves them (all
// strings); the running state is brought up as after a boot (reconfigure, filter/routes loaded).
import type { OpnSenseModel, Fields } from './model.js';
import { reconfigure } from './runtime.js';
import { defaultFaults } from './faults.js';

/**
 * true (default): WAN + LAN, WireGuard on with a hand-made road-warrior instance (wg0, one peer),
 * its WAN rule, an upstream gateway and a static route — what Meshplane must never touch.
 * 'empty': WAN + LAN only. 'worked-example': the reference §4's site A (LAN 172.16.0.1/24, no
 * WireGuard). 'hand-made': the default plus a site mesh set up by hand (HAND_MADE), for adoption.
 */
export type SeedKind = boolean | 'empty' | 'worked-example' | 'hand-made';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

export const SEEDED = {
  roadWarrior: { name: 'rw', privateKey: key(7), listenPort: '51999', address: '10.200.0.1/24', peerName: 'laptop', peerPublicKey: 'mA1tsHhHx1ChA/fMO+Snfcq4uNjyh5JQ6eIHn9S+5mM=', peerAddress: '10.200.0.2/32' },
  wan: { device: 'em0', address: '203.0.113.1', subnet: '24' },
  lan: { device: 'em1', address: '192.168.1.1', subnet: '24' },
} as const;

/** The reference's worked example (§4): site A and its remote, site B. */
export const WORKED_EXAMPLE = {
  privkey: 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
  pubkey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=',
  lan: { device: 'em1', address: '172.16.0.1', subnet: '24' },
  peerB: { pubkey: key(66), endpoint: '203.0.113.2', port: '51820', allowedIps: '10.99.0.2/32,192.168.0.0/24' },
} as const;

/** A WireGuard instance as an admin sets one up in the GUI (addHandMadeMesh). */
export interface HandMadeMesh {
  /** The instance's name (OPNsense allows [0-9A-Za-z._-]{1,64}). */
  descr: string;
  privateKey: string;
  listenPort: string;
  /** The instance's tunnel address ("10.10.0.1/24"), and its IPv6 one in a dual-stack mesh. */
  address: string;
  address6?: string;
  peers: ReadonlyArray<{
    descr: string; publickey: string; presharedkey?: string; endpoint: string | null; port: string | null; persistentkeepalive: number | null; allowedips: readonly string[];
  }>;
}

export const HAND_MADE = {
  descr: 'site-mesh',
  privateKey: key(11),
  listenPort: '51820',
  address: '10.10.0.1/24',
  peers: [
    { descr: 'site-b', publickey: key(41), presharedkey: key(21), endpoint: 'b.example.net', port: '51820', persistentkeepalive: 25, allowedips: ['10.10.0.2/32', '192.168.20.0/24'] },
    { descr: 'site-c', publickey: key(42), presharedkey: '', endpoint: '203.0.113.30', port: '51821', persistentkeepalive: null, allowedips: ['10.10.0.3/32', '192.168.30.0/24'] },
    { descr: 'phone', publickey: key(43), presharedkey: '', endpoint: null, port: null, persistentkeepalive: null, allowedips: ['10.10.0.10/32'] },
  ],
  /** What `wg show` reports for each peer, in the order of `peers`. */
  stats: [
    { latestHandshake: 1_765_000_000, rx: 9_007_199_254_740_993n, tx: 123_456_789n, endpoint: '198.51.100.20:51820' },
    { latestHandshake: 1_765_000_100, rx: 55_000n, tx: 66_000n, endpoint: '203.0.113.30:51821' },
    { latestHandshake: 1_764_999_000, rx: 1_024n, tx: 2_048n, endpoint: '100.64.7.9:40123' },
  ],
} satisfies HandMadeMesh & { stats: unknown[] };

function put(map: Map<string, Fields>, model: OpnSenseModel, record: Fields): string {
  const uuid = model.newUuid();
  map.set(uuid, record);
  return uuid;
}

function iface(device: string, descr: string, address: string, subnet: string): Fields {
  return { if: device, descr, enable: '1', lock: '1', type4: 'staticv4', type6: 'none', ipaddr: address, subnet, ipaddrv6: '', subnetv6: '', mtu: '' };
}

function passRule(iface: string, protocol: string, destination: string, port: string, description: string, sequence: string): Fields {
  return {
    enabled: '1', sequence, action: 'pass', quick: '1', interface: iface, interfacenot: '0', direction: 'in', ipprotocol: 'inet', protocol,
    source_net: 'any', source_not: '0', source_port: '', destination_net: destination, destination_not: '0', destination_port: port,
    gateway: '', log: '0', categories: '', description,
  };
}

function server(model: OpnSenseModel, fields: { name: string; privkey: string; port: string; tunneladdress: string; peers: string }): Fields {
  return {
    enabled: '1', name: fields.name, instance: model.nextInstance(), pubkey: '', privkey: fields.privkey, port: fields.port, mtu: '', dns: '',
    tunneladdress: fields.tunneladdress, disableroutes: '0', gateway: '', carp_depend_on: '', peers: fields.peers,
    ...(model.features.instanceDebug ? { debug: '0' } : {}),
  };
}

function client(name: string, pubkey: string, psk: string, tunneladdress: string, serveraddress: string, serverport: string, keepalive: string): Fields {
  return { enabled: '1', name, pubkey, psk, tunneladdress, serveraddress, serverport, keepalive };
}

/** The running state as after a boot: WireGuard configured, filter/routes/interfaces loaded. */
function boot(model: OpnSenseModel): void {
  reconfigure(model, defaultFaults(model.features));
  model.running.filter = structuredClone(model.config.filter);
  model.running.routes = structuredClone(model.config.routes);
  model.running.gateways = structuredClone(model.config.gateways);
  model.running.interfaces = structuredClone(model.config.interfaces);
}

/**
 * Adds, without any Meshplane tag: the instance (next wgN) with its peers attached, a pass rule
 * for the port on WAN and an any-rule on the `wireguard` group; turns WireGuard on and brings
 * everything up. The peers' `wg show` counters start at zero (setPeerStats changes them).
 */
export function addHandMadeMesh(model: OpnSenseModel, mesh: HandMadeMesh): { uuid: string; ifname: string; peerUuids: string[] } {
  const peerUuids = mesh.peers.map((peer) => put(model.config.clients, model, client(
    peer.descr, peer.publickey, peer.presharedkey ?? '', peer.allowedips.join(','), peer.endpoint ?? '', peer.port ?? '', peer.persistentkeepalive === null ? '' : String(peer.persistentkeepalive),
  )));
  const record = server(model, { name: mesh.descr, privkey: mesh.privateKey, port: mesh.listenPort, tunneladdress: [mesh.address, ...(mesh.address6 ? [mesh.address6] : [])].join(','), peers: peerUuids.join(',') });
  const uuid = put(model.config.servers, model, record);
  const ipprotocol = mesh.address6 === undefined ? 'inet' : 'inet46';
  put(model.config.filter.rules, model, { ...passRule('wan', 'UDP', '(self)', mesh.listenPort, `WireGuard ${mesh.descr}`, '10'), ipprotocol });
  put(model.config.filter.rules, model, { ...passRule('wireguard', 'any', 'any', '', `Allow ${mesh.descr}`, '20'), ipprotocol });
  model.config.general.enabled = '1';
  boot(model);
  return { uuid, ifname: `wg${record.instance}`, peerUuids };
}

function seedDefault(model: OpnSenseModel): void {
  const rw = SEEDED.roadWarrior;
  model.config.general.enabled = '1';
  const peer = put(model.config.clients, model, client(rw.peerName, rw.peerPublicKey, '', rw.peerAddress, '', '', ''));
  put(model.config.servers, model, server(model, { name: rw.name, privkey: rw.privateKey, port: rw.listenPort, tunneladdress: rw.address, peers: peer }));
  put(model.config.filter.rules, model, passRule('wan', 'UDP', '(self)', rw.listenPort, 'Road warriors', '10'));
  put(model.config.gateways, model, { name: 'WAN_GW', interface: 'wan', ipprotocol: 'inet', gateway: '203.0.113.254', defaultgw: '1', fargw: '0', monitor_disable: '1', descr: 'Upstream', disabled: '0' });
  const flag: Fields = model.features.routeFlag === 'enabled' ? { enabled: '1' } : { disabled: '0' };
  put(model.config.routes, model, { network: '10.250.0.0/16', gateway: 'WAN_GW', descr: 'Legacy data centre', ...flag });
}

export function seedModel(model: OpnSenseModel, seed: SeedKind): void {
  const lan = seed === 'worked-example' ? WORKED_EXAMPLE.lan : SEEDED.lan;
  model.config.interfaces.set('wan', iface(SEEDED.wan.device, 'WAN', SEEDED.wan.address, SEEDED.wan.subnet));
  model.config.interfaces.set('lan', iface(lan.device, 'LAN', lan.address, lan.subnet));
  if (seed === true || seed === 'hand-made') seedDefault(model);
  if (seed === 'hand-made') {
    const { ifname } = addHandMadeMesh(model, HAND_MADE);
    HAND_MADE.peers.forEach((peer, index) => model.setPeerStats(peer.publickey, { ...HAND_MADE.stats[index] }, ifname));
  }
  boot(model);
}
