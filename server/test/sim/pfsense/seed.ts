// A firewall as an operator left it: WAN and LAN, the default LAN rule, and (unless
// seed=false) unmanaged objects Meshplane must never touch: a hand-made tunnel with a
// peer, a WAN gateway, a static route and a WAN rule for the hand-made tunnel.
import { validateObject, type ModelSpec } from './fields.js';
import type { PfSenseModel } from './model.js';
import { firewallRuleSpec, gatewaySpec, interfaceSpec, staticRouteSpec } from './network-specs.js';
import type { KeyedStore, ListStore, Obj } from './store.js';
import { peerSpec, tunnelSpec } from './wireguard-specs.js';

/** Fixed, valid keys so the seeded objects are the same on every start. */
export const SEEDED = {
  tunnelPrivateKey: Buffer.alloc(32, 7).toString('base64'),
  peerPublicKey: 'mA1tsHhHx1ChA/fMO+Snfcq4uNjyh5JQ6eIHn9S+5mM=',
  tunnelListenPort: '51999',
};

function add(model: PfSenseModel, spec: ModelSpec, store: ListStore, input: Obj): void {
  store.add(validateObject(spec, input, { env: model, siblings: store.entries(), selfId: null, existing: null }));
}

function addInterface(model: PfSenseModel, store: KeyedStore, id: string, input: Obj): void {
  store.put(id, validateObject(interfaceSpec, input, { env: model, siblings: store.entries(), selfId: id, existing: null }));
}

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');

/**
 * A site set up by hand in the GUI, as adoption finds it (seed "hand-made"): tun_wg0 with
 * three peers, assigned as OPT1 "WG_MESH" with the tunnel address, a gateway per remote site
 * on it and a static route to each site's LAN, a WAN rule for the port and an any-rule on the
 * tunnel interface; besides it what the admin has that is not the mesh: a road-warrior tunnel
 * with its own peer, the upstream gateway (the default gateway), a legacy route and a rule.
 */
export const HAND_MADE = {
  tunnelPrivateKey: key(11),
  listenPort: '51820',
  tunnelAddress: '10.10.0.1/24',
  peers: [
    { descr: 'Site B', publickey: key(41), presharedkey: key(21), endpoint: 'b.example.net', port: '51820', persistentkeepalive: 25, allowedips: ['10.10.0.2/32', '192.168.20.0/24'], lan: '192.168.20.0/24', gatewayName: 'WG_SITEB' },
    { descr: 'Site C', publickey: key(42), presharedkey: '', endpoint: '203.0.113.30', port: '51821', persistentkeepalive: null, allowedips: ['10.10.0.3/32', '192.168.30.0/24'], lan: '192.168.30.0/24', gatewayName: 'WG_SITEC' },
    { descr: 'Phone', publickey: key(43), presharedkey: '', endpoint: null, port: null, persistentkeepalive: null, allowedips: ['10.10.0.10/32'], lan: null, gatewayName: null },
  ],
  /** What `wg show` reports for each peer, in the order of `peers`. */
  stats: [
    { latestHandshake: 1_765_000_000, rx: 9_007_199_254_740_993n, tx: 123_456_789n, endpoint: '198.51.100.20:51820' },
    { latestHandshake: 1_765_000_100, rx: 55_000n, tx: 66_000n, endpoint: '203.0.113.30:51821' },
    { latestHandshake: 1_764_999_000, rx: 1_024n, tx: 2_048n, endpoint: '100.64.7.9:40123' },
  ],
  roadWarrior: { privateKey: key(31), listenPort: '51822', peerPublicKey: 'mA1tsHhHx1ChA/fMO+Snfcq4uNjyh5JQ6eIHn9S+5mM=' },
} as const;

const cidr = (value: string) => {
  const [address = '', mask = ''] = value.split('/');
  return { address, mask: Number(mask) };
};

/** A WireGuard tunnel as an admin sets one up in the GUI (addHandMadeMesh). */
export interface HandMadeMesh {
  privateKey: string;
  listenPort: string;
  /** The assignment's address ("10.10.0.1/24"), and its IPv6 one in a dual-stack mesh. */
  address: string;
  address6?: string;
  descr: string;
  /** The name of the interface the tunnel is assigned as ("WG_MESH"). */
  interfaceDescr: string;
  peers: ReadonlyArray<{
    descr: string; publickey: string; presharedkey?: string; endpoint: string | null; port: string | null; persistentkeepalive: number | null; allowedips: readonly string[];
  }>;
  /** A gateway on the tunnel's interface per remote site (and family: `via` is its address), and the static route to its LAN through it. */
  routes: ReadonlyArray<{ network: string; via: string; gatewayName: string; descr: string }>;
}

/**
 * Adds, without any Meshplane tag: the tunnel (next tun_wgN), its peers, its assignment (next
 * optN) with the address, the gateways and routes, a pass rule for the port on WAN and an
 * any-rule on the tunnel's interface; enables WireGuard and applies everything.
 */
export function addHandMadeMesh(model: PfSenseModel, mesh: HandMadeMesh): { tunnel: string; interfaceId: string } {
  add(model, tunnelSpec, model.tunnels, { privatekey: mesh.privateKey, listenport: mesh.listenPort, descr: mesh.descr });
  const tunnel = String(model.tunnels.entries().at(-1)?.[1].name);
  for (const peer of mesh.peers) {
    add(model, peerSpec, model.peers, {
      enabled: true, tun: tunnel, descr: peer.descr, publickey: peer.publickey, presharedkey: peer.presharedkey ?? '',
      endpoint: peer.endpoint, ...(peer.port === null ? {} : { port: peer.port }), persistentkeepalive: peer.persistentkeepalive,
      allowedips: peer.allowedips.map(cidr),
    });
  }
  const { address, mask } = cidr(mesh.address);
  const v6 = mesh.address6 === undefined ? { typev6: 'none' } : { typev6: 'staticv6', ipaddrv6: cidr(mesh.address6).address, subnetv6: cidr(mesh.address6).mask };
  const ipprotocol = mesh.address6 === undefined ? 'inet' : 'inet46';
  const interfaceId = String(model.interfaces.add(validateObject(interfaceSpec, { if: tunnel, descr: mesh.interfaceDescr, enable: true, typev4: 'static', ipaddr: address, subnet: mask, ...v6 }, {
    env: model, siblings: model.interfaces.entries(), selfId: null, existing: null,
  })));
  const onTunnel = model.interfaceName(interfaceId);
  for (const route of mesh.routes) {
    if (!model.gatewayNames().includes(route.gatewayName)) {
      add(model, gatewaySpec, model.gateways, { name: route.gatewayName, interface: onTunnel, ipprotocol: route.via.includes(':') ? 'inet6' : 'inet', gateway: route.via, descr: `${route.descr} over WireGuard` });
    }
    add(model, staticRouteSpec, model.routes, { network: route.network, gateway: route.gatewayName, descr: route.descr });
  }
  add(model, firewallRuleSpec, model.rules, {
    type: 'pass', interface: [model.interfaceName('wan')], ipprotocol, protocol: 'udp', source: 'any', destination: '(self)', destination_port: mesh.listenPort, descr: 'WireGuard',
  });
  add(model, firewallRuleSpec, model.rules, { type: 'pass', interface: [onTunnel], ipprotocol, source: 'any', destination: 'any', descr: `Allow ${mesh.interfaceDescr}` });
  model.wireguardSettings = { ...model.wireguardSettings, enable: true };
  for (const area of ['wireguard', 'interfaces', 'routing', 'firewall'] as const) model.runApply(area);
  return { tunnel, interfaceId };
}

function seedHandMadeSite(model: PfSenseModel): void {
  addHandMadeMesh(model, {
    privateKey: HAND_MADE.tunnelPrivateKey, listenPort: HAND_MADE.listenPort, address: HAND_MADE.tunnelAddress, descr: 'Site mesh', interfaceDescr: 'WG_MESH',
    peers: HAND_MADE.peers,
    routes: HAND_MADE.peers.flatMap((peer) => (peer.lan === null || peer.gatewayName === null ? []
      : [{ network: peer.lan, via: peer.allowedips[0].split('/')[0] as string, gatewayName: peer.gatewayName, descr: `${peer.descr} LAN` }])),
  });
  HAND_MADE.peers.forEach((peer, index) => model.setPeerStats(peer.publickey, { ...HAND_MADE.stats[index] }));

  const wan = model.interfaceName('wan');
  add(model, tunnelSpec, model.tunnels, {
    privatekey: HAND_MADE.roadWarrior.privateKey, listenport: HAND_MADE.roadWarrior.listenPort, descr: 'Road warriors', addresses: [cidr('10.99.0.1/24')],
  });
  add(model, peerSpec, model.peers, { enabled: true, tun: 'tun_wg1', descr: 'Admin laptop', publickey: HAND_MADE.roadWarrior.peerPublicKey, allowedips: [cidr('10.99.0.2/32')] });
  add(model, gatewaySpec, model.gateways, { name: 'WAN_GW', interface: wan, ipprotocol: 'inet', gateway: '198.51.100.1', descr: 'Upstream' });
  model.defaultGateway = { defaultgw4: 'WAN_GW', defaultgw6: '' };
  add(model, staticRouteSpec, model.routes, { network: '10.200.0.0/16', gateway: 'WAN_GW', descr: 'Legacy data centre' });
  add(model, firewallRuleSpec, model.rules, {
    type: 'pass', interface: [wan], ipprotocol: 'inet', protocol: 'udp', source: 'any', destination: '(self)', destination_port: HAND_MADE.roadWarrior.listenPort, descr: 'Road warriors',
  });
  add(model, firewallRuleSpec, model.rules, {
    type: 'pass', interface: [wan], ipprotocol: 'inet', protocol: 'tcp', source: 'any', destination: '(self)', destination_port: '443', descr: 'Admin HTTPS',
  });
}

export type SeedKind = boolean | 'hand-made';

export function seedModel(model: PfSenseModel, seed: SeedKind): void {
  const unmanaged = seed === true;
  addInterface(model, model.interfaces, 'wan', { if: 'em0', descr: 'WAN', enable: true, typev4: 'static', ipaddr: '198.51.100.2', subnet: 24 });
  addInterface(model, model.interfaces, 'lan', { if: 'em1', descr: 'LAN', enable: true, typev4: 'static', ipaddr: '192.168.1.1', subnet: 24 });
  const lan = model.interfaceName('lan');
  const wan = model.interfaceName('wan');
  add(model, firewallRuleSpec, model.rules, { type: 'pass', interface: [lan], ipprotocol: 'inet46', source: lan, destination: 'any', descr: 'Default allow LAN to any rule' });
  if (unmanaged) {
    add(model, tunnelSpec, model.tunnels, {
      privatekey: SEEDED.tunnelPrivateKey, listenport: SEEDED.tunnelListenPort, descr: 'Road warriors (hand-made)',
      addresses: [{ address: '10.99.0.1', mask: 24 }],
    });
    add(model, peerSpec, model.peers, {
      enabled: true, tun: 'tun_wg0', publickey: SEEDED.peerPublicKey, descr: 'laptop', allowedips: [{ address: '10.99.0.2', mask: 32 }],
    });
    add(model, gatewaySpec, model.gateways, { name: 'WAN_GW', interface: wan, ipprotocol: 'inet', gateway: '198.51.100.1', descr: 'Upstream' });
    add(model, staticRouteSpec, model.routes, { network: '10.200.0.0/16', gateway: 'WAN_GW', descr: 'Legacy data centre' });
    add(model, firewallRuleSpec, model.rules, {
      type: 'pass', interface: [wan], ipprotocol: 'inet', protocol: 'udp', source: 'any', destination: '(self)',
      destination_port: SEEDED.tunnelListenPort, descr: 'Hand-made WireGuard',
    });
    model.wireguardSettings = { ...model.wireguardSettings, enable: true };
  }
  if (seed === 'hand-made') seedHandMadeSite(model);
  for (const area of ['wireguard', 'interfaces', 'routing', 'firewall'] as const) model.runApply(area);
  model.applyCount.wireguard = model.applyCount.interfaces = model.applyCount.routing = model.applyCount.firewall = 0;
}
