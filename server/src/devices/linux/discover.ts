// discover() on a Linux host: a read-only reading of everything WireGuard there, hand-made or
// Meshplane's, in the shape an adoption proposal reads (domain/adoption/discovery.ts).
//   interfaces   every WireGuard link of this host or namespace (kernel or wireguard-go):
//                `wg show <if> dump` — which gives root the private key and the preshared keys
//                as they are — with the link's MTU, state and ifalias, and its addresses
//   networks     the addresses of every other link (not loopback), the uplink being the link
//                of a default route
//   routes       the main table of each family, but the kernel's own prefix routes (those
//                are the connected networks and the tunnels' own subnets); static = made by
//                hand (`proto boot`, what `ip route add` and wg-quick give, or `proto static`)
// Keys are returned to the caller only: never in an error, a note or a log line.
import type { ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting } from '../../domain/adoption/discovery.js';
import { hostableNetwork } from '../../domain/adoption/discovery.js';
import { formatCidr, tryParseCidr } from '../../domain/ip.js';
import type { CommandRunner } from './exec.js';
import { parseAddresses, parseLinks, parseRoutes, type AddressInfo, type LinkInfo, type RouteInfo } from './ip-json.js';
import { isMeshplaneAlias, linuxInterfaceName, memberKey, routeId, type Family } from './names.js';
import { wireguardNames } from './state.js';
import { parseWgInterfaceKeys, type WgInterfaceKeys } from '../shared/wg-dump.js';

export interface DiscoverOptions {
  routeProtocol: number;
  commentPrefix: string;
  /** Where the reading came from, for messages ("device edge-1"). */
  source: string;
}

function isCommandSafeName(name: string): boolean {
  try {
    linuxInterfaceName(name);
    return true;
  } catch {
    return false;
  }
}

const HAND_MADE_PROTOCOLS = new Set(['boot', 'static']);

/** "100.64.0.3:51820", "[fd00::1]:51820" → host and port. */
export function splitEndpoint(endpoint: string | null): { host: string | null; port: number | null } {
  if (endpoint === null) return { host: null, port: null };
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(endpoint);
  return match ? { host: match[1] as string, port: Number(match[2]) } : { host: endpoint, port: null };
}

function peerOf(ifname: string, managed: boolean, peer: WgInterfaceKeys['peers'][number]): DiscoveredPeer {
  const ref = memberKey(ifname, peer.publicKey);
  const { host, port } = splitEndpoint(peer.endpoint);
  return {
    ref,
    publicKey: peer.publicKey,
    allowedIps: peer.allowedIps,
    endpointHost: host,
    endpointPort: port,
    persistentKeepalive: peer.persistentKeepalive,
    presharedKey: peer.presharedKey,
    hasPresharedKey: peer.presharedKey !== null,
    comment: null,
    disabled: false,
    managedKey: managed ? ref : null,
    lastHandshake: peer.latestHandshake === 0 ? null : new Date(peer.latestHandshake * 1000),
    rxBytes: peer.rxBytes,
    txBytes: peer.txBytes,
  };
}

function interfaceOf(link: LinkInfo, dump: WgInterfaceKeys, addresses: readonly AddressInfo[], options: DiscoverOptions): DiscoveredInterface {
  const managed = isMeshplaneAlias(link.alias, options.commentPrefix);
  const unmodelled: UnmodelledSetting[] = [];
  if (dump.fwmark !== null) unmodelled.push({ owner: 'interface', name: 'FwMark', value: dump.fwmark });
  const own = addresses.filter((address) => address.ifname === link.name);
  for (const address of own.filter((item) => item.peer !== null)) {
    unmodelled.push({ owner: 'interface', name: 'point-to-point address', value: `${address.cidr} peer ${address.peer}` });
  }
  return {
    ref: link.name,
    name: link.name,
    // 0: no port was set, and the interface has none to keep.
    listenPort: dump.listenPort === 0 ? null : dump.listenPort,
    mtu: link.mtu > 0 ? link.mtu : null,
    publicKey: dump.publicKey,
    privateKey: dump.privateKey,
    addresses: own.map((address) => address.cidr),
    disabled: !link.up,
    // An ifalias someone wrote is the interface's description; Meshplane's tag is not.
    comment: managed ? null : link.alias,
    managedKey: managed ? link.name : null,
    peers: dump.peers.map((peer) => peerOf(link.name, managed, peer)),
    unmodelled,
    source: options.source,
  };
}

function connectedNetworks(addresses: readonly AddressInfo[], wireguard: ReadonlySet<string>, uplinks: ReadonlySet<string>): ConnectedNetwork[] {
  const networks: ConnectedNetwork[] = [];
  for (const address of addresses) {
    if (wireguard.has(address.ifname) || address.ifname === 'lo' || address.peer !== null) continue;
    const cidr = hostableNetwork(address.cidr);
    if (cidr === null) continue;
    networks.push({ cidr, address: address.cidr, interfaceName: address.ifname, uplink: uplinks.has(address.ifname) });
  }
  return networks;
}

function routeOf(route: RouteInfo, managedLinks: ReadonlySet<string>, routeProtocol: number): DiscoveredRoute {
  const managed = route.protocol === String(routeProtocol) && route.dev !== null && managedLinks.has(route.dev) && route.type === 'unicast';
  return {
    ref: routeId({ destination: route.destination, gateway: route.gateway, dev: route.dev ?? '', metric: route.metric }),
    destination: route.destination,
    gateway: route.gateway,
    interfaceName: route.dev,
    static: HAND_MADE_PROTOCOLS.has(route.protocol),
    disabled: false,
    comment: null,
    managedKey: managed ? route.destination : null,
  };
}

export async function discoverLinux(runner: CommandRunner, options: DiscoverOptions): Promise<DeviceDiscovery> {
  const notes: string[] = [];
  const links = parseLinks((await runner.run(['ip', '-j', '-d', 'link', 'show'])).stdout);
  const wgNames = await wireguardNames(runner);
  // A userspace interface is a tun whose UAPI socket exists; a socket alone may be another
  // namespace's interface that happens to share a name with a link here, and not this link's.
  const wireguard = links.filter((link) => link.kind === 'wireguard' || (link.kind === 'tun' && wgNames.has(link.name)));
  const local = new Set(links.map((link) => link.name));
  const elsewhere = [...wgNames].filter((name) => !local.has(name));
  if (elsewhere.length > 0) notes.push(`userspace WireGuard interfaces of other network namespaces left out: ${elsewhere.sort().join(', ')}`);

  const addresses: AddressInfo[] = [];
  const routes: RouteInfo[] = [];
  for (const family of [4, 6] as const satisfies readonly Family[]) {
    try {
      addresses.push(...parseAddresses((await runner.run(['ip', '-j', `-${family}`, 'addr', 'show'])).stdout));
      routes.push(...parseRoutes((await runner.run(['ip', '-j', `-${family}`, 'route', 'show', 'table', 'main'])).stdout, family));
    } catch (error) {
      // A host without IPv6 still has its IPv4 to show.
      if (family === 4) throw error;
      notes.push('IPv6 addresses and routes could not be read (IPv6 disabled on this host?)');
    }
  }

  const interfaces: DiscoveredInterface[] = [];
  for (const link of wireguard) {
    if (!isCommandSafeName(link.name)) {
      notes.push(`interface ${JSON.stringify(link.name)} left out: its name is not one wg-quick or Meshplane can use`);
      continue;
    }
    // Root sees the keys; anyone else cannot run `wg show` at all (a clear AUTH_FAILED).
    const dump = parseWgInterfaceKeys((await runner.run(['wg', 'show', link.name, 'dump'])).stdout);
    interfaces.push(interfaceOf(link, dump, addresses, options));
  }
  if (interfaces.length > 0) notes.push('read as root: private and preshared keys are shown by `wg show dump` and kept');

  const wireguardNamesHere = new Set(wireguard.map((link) => link.name));
  const managedLinks = new Set(wireguard.filter((link) => isMeshplaneAlias(link.alias, options.commentPrefix)).map((link) => link.name));
  const uplinks = new Set(routes.filter((route) => route.dev !== null && (route.destination === '0.0.0.0/0' || route.destination === '::/0')).map((route) => route.dev as string));
  return {
    interfaces,
    connectedNetworks: connectedNetworks(addresses, wireguardNamesHere, uplinks),
    routes: routes.filter((route) => route.protocol !== 'kernel').map((route) => routeOf(route, managedLinks, options.routeProtocol)),
    notes,
  };
}
