// A read-only reading of everything WireGuard-related on a RouterOS router, for adoption
// (domain/adoption/discovery.ts): every WireGuard interface with its peers and addresses, the
// networks on its other interfaces, and its static and connected routes. The same code runs
// over the binary API and REST (it only prints through the transport).
//
// Secrets: RouterOS prints private and preshared keys as "*****" to a user whose group lacks
// the `sensitive` policy. A masked key is reported as unknown (null; a preshared key as
// "has one") with a note saying why; a shown one is passed on as real key material, which
// the caller seals and never prints.
import type {
  ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting,
} from '../../domain/adoption/discovery.js';
import { hostableNetwork } from '../../domain/adoption/discovery.js';
import { canonicalCidr, contains, hostRange, tryParseAddress, tryParseCidr } from '../../domain/ip.js';
import { MASKED, MENU } from './menus.js';
import { prefixed } from './normalize.js';
import type { Row, RouterOsTransport } from './transport.js';
import { counter, isTrue, parseDuration, splitList } from './values.js';

/** What a peer row carries that the model has a place for (or that RouterOS derives). */
const PEER_MODELLED = new Set([
  '.id', 'interface', 'public-key', 'allowed-address', 'endpoint-address', 'endpoint-port', 'persistent-keepalive', 'preshared-key',
  'comment', 'disabled', 'dynamic', 'rx', 'tx', 'last-handshake', 'current-endpoint-address', 'current-endpoint-port', 'name',
]);
const INTERFACE_MODELLED = new Set(['.id', 'name', 'listen-port', 'mtu', 'private-key', 'public-key', 'disabled', 'running', 'comment', 'dynamic']);
/** Values RouterOS prints for settings nobody made: not worth a line in the proposal. */
const DEFAULTS: Readonly<Record<string, readonly string[]>> = {
  responder: ['false', 'no'],
  'is-responder': ['false', 'no'],
  'client-allowed-address': ['::/0'],
  'client-keepalive': ['0s', '0'],
  'client-listen-port': ['0'],
  'private-key': ['none', MASKED],
  vrf: ['main'],
};
/** A peer's own name as RouterOS ≥ 7.15 makes it up ("peer3"); a name someone chose is kept as the peer's label. */
const GENERATED_PEER_NAME = /^peer\d+$/;
const LINK_LOCAL = tryParseCidr('fe80::/10');
const ROUTE_PROPLIST = ['dst-address', 'gateway', 'immediate-gw', 'distance', 'routing-table', 'static', 'dynamic', 'connect', 'disabled', 'blackhole', 'comment'];
const ADDRESS_PROPLIST = ['address', 'interface', 'disabled', 'dynamic', 'comment'];

export interface DiscoverOptions {
  /** The prefix of Meshplane's tags ("meshplane"): an item tagged "<prefix>:<key>" is reported as managed with that key. */
  commentPrefix: string;
  /** For the messages ("device edge-1"). */
  source: string;
  now: Date;
}

function text(value: string | undefined): string | null {
  const trimmed = (value ?? '').trim();
  return trimmed === '' ? null : trimmed;
}

function number(value: string | undefined): number | null {
  const trimmed = (value ?? '').trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

function managedKey(comment: string | undefined, prefix: string): string | null {
  const head = `${prefix}:`;
  return comment !== undefined && comment.startsWith(head) && comment.length > head.length ? comment.slice(head.length) : null;
}

/** A key as the router shows it: the key, null for none, or MASKED. */
function secret(value: string | undefined): string | null {
  const shown = text(value);
  return shown === null || shown === 'none' || shown === 'auto' ? null : shown;
}

function unmodelled(row: Row, modelled: ReadonlySet<string>, owner: string): UnmodelledSetting[] {
  const settings: UnmodelledSetting[] = [];
  for (const [name, value] of Object.entries(row)) {
    if (modelled.has(name) || value.trim() === '' || DEFAULTS[name]?.includes(value.trim())) continue;
    // A peer's own private key (7.12+, for client configs) is a secret: that it is set is all that is said.
    settings.push({ owner, name, value: name === 'private-key' ? '(set)' : value });
  }
  return settings;
}

function toPeer(row: Row, prefix: string, now: Date): { peer: DiscoveredPeer; unmodelled: UnmodelledSetting[] } {
  const ref = row['.id'] ?? '';
  const preshared = secret(row['preshared-key']);
  const age = parseDuration(row['last-handshake']);
  const keepalive = parseDuration(row['persistent-keepalive']);
  const name = text(row.name);
  const comment = text(row.comment) ?? (name !== null && !GENERATED_PEER_NAME.test(name) ? name : null);
  return {
    peer: {
      ref,
      publicKey: row['public-key'] ?? '',
      allowedIps: splitList(row['allowed-address']).map(prefixed),
      endpointHost: text(row['endpoint-address']),
      endpointPort: number(row['endpoint-port']) || null,
      persistentKeepalive: keepalive === null || keepalive === 0 ? null : Math.round(keepalive / 1000),
      presharedKey: preshared === MASKED ? null : preshared,
      hasPresharedKey: preshared !== null,
      comment,
      disabled: isTrue(row.disabled),
      managedKey: managedKey(row.comment, prefix),
      lastHandshake: age === null ? null : new Date(now.getTime() - age),
      rxBytes: row.rx === undefined ? null : counter(row.rx),
      txBytes: row.tx === undefined ? null : counter(row.tx),
    },
    unmodelled: unmodelled(row, PEER_MODELLED, ref),
  };
}

function isLinkLocal(address: string): boolean {
  const range = tryParseCidr(prefixed(address));
  return range !== null && LINK_LOCAL !== null && range.family === LINK_LOCAL.family && contains(LINK_LOCAL, range);
}

/**
 * The interface a gateway ("198.51.100.1", "wireguard1", "fe80::1%ether1") leads out of: the one it
 * names, or the one holding the network the address is in; null when none does.
 */
function interfaceOfHop(hop: string, addresses: readonly Row[], names: ReadonlySet<string>): string | null {
  const [target = '', scope] = hop.trim().split('%');
  if (scope !== undefined) return scope;
  if (names.has(target)) return target;
  const position = tryParseAddress(target);
  if (position === null) return null;
  const host = hostRange(position);
  const holder = addresses.find((row) => {
    const range = tryParseCidr(prefixed(row.address ?? ''));
    return !isTrue(row.disabled) && range !== null && range.family === host.family && contains(range, host);
  });
  return holder?.interface ?? null;
}

/** The interface a route leaves through: RouterOS's `immediate-gw` where it prints one, else its first gateway's. */
function interfaceOfRoute(route: Row, addresses: readonly Row[], names: ReadonlySet<string>): string | null {
  const [hop] = [...splitList(route['immediate-gw']), ...splitList(route.gateway)];
  return hop === undefined ? null : interfaceOfHop(hop, addresses, names);
}

function isDefaultRoute(route: Row): boolean {
  const destination = canonicalCidr(prefixed(route['dst-address'] ?? ''));
  return (destination === '0.0.0.0/0' || destination === '::/0') && !isTrue(route.disabled);
}

function toRoute(row: Row, menu: string, prefix: string, interfaceName: string | null): DiscoveredRoute {
  return {
    // Ids are per menu: /ip/route and /ipv6/route both have a *1.
    ref: `${menu} ${row['.id'] ?? ''}`,
    destination: prefixed(row['dst-address'] ?? ''),
    gateway: text(row.gateway),
    interfaceName,
    static: isTrue(row.static) || (!isTrue(row.dynamic) && !isTrue(row.connect)),
    disabled: isTrue(row.disabled),
    comment: text(row.comment),
    managedKey: managedKey(row.comment, prefix),
  };
}

/** Static and connected routes only: a router carrying a full BGP table would otherwise send a million rows. */
async function readRoutes(transport: RouterOsTransport, menu: string): Promise<Row[]> {
  const [statics, connected] = await Promise.all([
    transport.print(menu, { proplist: ROUTE_PROPLIST, where: { static: 'true' } }),
    transport.print(menu, { proplist: ROUTE_PROPLIST, where: { connect: 'true' } }),
  ]);
  const seen = new Set(statics.map((row) => row['.id']));
  return [...statics, ...connected.filter((row) => !seen.has(row['.id']))];
}

export async function discoverRouterOs(transport: RouterOsTransport, options: DiscoverOptions): Promise<DeviceDiscovery> {
  const { commentPrefix: prefix, now } = options;
  // Without a proplist: every property the router has, so what the model has no place for is seen and reported.
  const [interfaceRows, peerRows, addresses4, addresses6, routes4, routes6] = await Promise.all([
    transport.print(MENU.interface),
    transport.print(MENU.peers),
    transport.print(MENU.address, { proplist: ADDRESS_PROPLIST }),
    transport.print(MENU.address6, { proplist: ADDRESS_PROPLIST }),
    readRoutes(transport, MENU.route),
    readRoutes(transport, MENU.route6),
  ]);
  const addresses = [...addresses4, ...addresses6].filter((row) => !isTrue(row.dynamic) || !isLinkLocal(row.address ?? ''));
  const wireguard = new Set(interfaceRows.map((row) => row.name ?? ''));
  const notes: string[] = [];
  let hiddenPrivate = 0;
  let hiddenPreshared = 0;

  const interfaces: DiscoveredInterface[] = interfaceRows.map((row) => {
    const name = row.name ?? '';
    const key = secret(row['private-key']);
    if (key === MASKED) hiddenPrivate++;
    const extra = unmodelled(row, INTERFACE_MODELLED, 'interface');
    if (row.mtu !== undefined && number(row.mtu) === null) extra.push({ owner: 'interface', name: 'mtu', value: row.mtu });
    const own = addresses.filter((address) => address.interface === name && !isLinkLocal(address.address ?? ''));
    for (const address of own.filter((entry) => isTrue(entry.disabled))) extra.push({ owner: 'interface', name: 'disabled address', value: address.address ?? '' });
    const peers: DiscoveredPeer[] = [];
    for (const peerRow of peerRows.filter((candidate) => candidate.interface === name)) {
      const { peer, unmodelled: peerExtra } = toPeer(peerRow, prefix, now);
      if (secret(peerRow['preshared-key']) === MASKED) hiddenPreshared++;
      peers.push(peer);
      extra.push(...peerExtra);
    }
    return {
      ref: row['.id'] ?? '',
      name,
      listenPort: number(row['listen-port']),
      mtu: number(row.mtu),
      publicKey: text(row['public-key']),
      privateKey: key === MASKED ? null : key,
      addresses: own.filter((address) => !isTrue(address.disabled)).map((address) => prefixed(address.address ?? '')),
      disabled: isTrue(row.disabled),
      comment: text(row.comment),
      managedKey: managedKey(row.comment, prefix),
      peers,
      unmodelled: extra,
      source: options.source,
    };
  });
  if (hiddenPrivate > 0) {
    notes.push(`private keys hidden (${hiddenPrivate} of ${interfaceRows.length} interfaces): the API user's group lacks the "sensitive" policy; adopt with the device's own key (bring-your-own) or give the group that policy and discover again`);
  }
  if (hiddenPreshared > 0) {
    notes.push(`preshared keys hidden (${hiddenPreshared} peers): the API user's group lacks the "sensitive" policy; they are known to exist, and stay on the router as they are`);
  }

  const routes = [...routes4, ...routes6];
  const interfaceNames = new Set([...wireguard, ...addresses.map((row) => row.interface ?? '')]);
  const routeInterfaces = routes.map((row) => interfaceOfRoute(row, addresses, interfaceNames));
  const uplinks = new Set(routes.flatMap((row, index) => (isDefaultRoute(row) && routeInterfaces[index] ? [routeInterfaces[index]] : [])));
  const connectedNetworks: ConnectedNetwork[] = addresses
    .filter((row) => !wireguard.has(row.interface ?? '') && !isTrue(row.disabled))
    .flatMap((row) => {
      const address = prefixed(row.address ?? '');
      const cidr = hostableNetwork(address);
      return cidr === null ? [] : [{ cidr, address, interfaceName: row.interface ?? '', uplink: uplinks.has(row.interface ?? '') }];
    });

  return {
    interfaces,
    connectedNetworks,
    routes: routes.map((row, index) => toRoute(row, index < routes4.length ? '/ip/route' : '/ipv6/route', prefix, routeInterfaces[index] ?? null)),
    notes,
  };
}
