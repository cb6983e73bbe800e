// RouterOS v7 items of a peer in a WAN with redundant hubs (see hub-redundancy.ts), shared by
// the .rsc script (routeros.ts) and the device driver (devices/routeros/resources.ts), so
// both write the same items under the same tags. The routing mirrors bird.ts so RouterOS
// and Linux peers form the same sessions: eBGP between tunnel IPs, one hop, BFD, hold 9 s,
// keepalive 3 s.
//
// Preference: BIRD's `preference` (higher wins whatever the path) becomes BGP local-pref
// with the same number, set by the import filter. Every session of a peer shares one router
// id, so RouterOS keeps them in one BGP instance, where best-path selection compares
// local-pref before AS-path length; local-pref is never sent to an eBGP neighbour, so the
// choice stays on this router as BIRD's does. Distance is left at eBGP's default (20): it
// also decides between protocols, where a user's static route must keep its meaning.
//
// Pinned addresses: BIRD rejects a neighbour's tunnel /32 unless that neighbour announces
// it. A route a neighbour originates itself has an AS path of length 1 (its own AS), one it
// passes on from another has 2 or more; so `dst in <pinned> && bgp-path-len > 1` rejects
// exactly what BIRD rejects, and one import chain per preference serves every neighbour.
import { interfacesOf, type CompiledFirewallRule, type CompiledPeer } from '../compiled.js';
import { safeCidr, safeId, safeInteger, safeInterfaceName, safeIp } from './safe-values.js';

export const ROUTING_MENU = {
  addressList: '/ip/firewall/address-list',
  filterRule: '/routing/filter/rule',
  bfd: '/routing/bfd/configuration',
  bgp: '/routing/bgp/connection',
  session: '/routing/bgp/session',
} as const;

/**
 * Distance of the blackhole routes that anchor announced prefixes (`output.network` sends a
 * prefix only while a route to exactly it exists): below eBGP's 20, so the same prefix
 * learned from a neighbour never replaces the own one (BIRD's static routes outrank BGP
 * too), above connected routes (0), so a LAN's own route stays active.
 */
export const ORIGINATE_DISTANCE = 19;
/** Hubs' routes to spokes without BGP (the overlay routes' distance). */
export const SPOKE_ROUTE_DISTANCE = 10;
/** Gateway-monitor spokes: the route through hub n has distance 10 + n. */
export const MONITORED_ROUTE_BASE_DISTANCE = 10;
/** BGP over TCP 179, BFD single-hop control packets on UDP 3784 (RFC 5881). */
const BGP_PORT = 179;
const BFD_PORT = 3784;

/** One managed item: its menu, the tag kind and key (tag "<prefix>:<wanId>:<kind>:<key>") and properties. */
export interface RouterOsItem {
  menu: string;
  kind: string;
  key: string;
  props: Record<string, string>;
  /** What a script line before the item says (names only through commentText). */
  note?: string;
}

/** Names of the chains and lists one WAN's peer uses on a router (letters, digits, _ and - only). */
export function routingNames(prefix: string, wanId: string) {
  const base = `${prefix}-${safeId(wanId)}`;
  return {
    originate: `${base}-originate`,
    pinned: `${base}-pinned`,
    importChain: (preference: number) => `${base}-in-${safeInteger(preference, 'preference')}`,
    exportChain: `${base}-out`,
    connection: (address: string) => `${base}-${safeIp(address)}`,
  };
}

/** The key of an interface's item within its kind: the main interface keeps today's keys, links add their name. */
export function interfaceItemKey(view: CompiledPeer, main: CompiledPeer, key: string): string {
  return view.interface.name === main.interface.name ? key : `${safeInterfaceName(view.interface.name)}:${key}`;
}

function routingFirewall(name: string): CompiledFirewallRule[] {
  return [
    { chain: 'input', action: 'accept', protocol: 'tcp', dstPort: BGP_PORT, inInterface: name, comment: 'BGP sessions with overlay neighbours' },
    { chain: 'input', action: 'accept', protocol: 'udp', dstPort: BFD_PORT, inInterface: name, comment: 'BFD liveness checks with overlay neighbours' },
  ];
}

/**
 * Every interface of the peer as the router gets it: interfacesOf, and on a peer that runs
 * BGP each interface also accepts BGP and BFD from its tunnel (a default "drop what is not
 * from the LAN" rule would otherwise keep every session down). RouterOS has no random
 * listen port: an interface left without one would take 13231, the port of the factory
 * WireGuard interface and of every other link without one, so a spoke's link to hub n
 * listens on the main port (or the WAN's) + n, as hubs' links do.
 */
export function routerOsInterfaces(peer: CompiledPeer, wanListenPort: number): CompiledPeer[] {
  const views = interfacesOf(peer);
  if (views.length === 1) return views;
  const base = peer.interface.listenPort ?? wanListenPort;
  return views.map((view, index) => {
    let shown = view;
    if (index > 0 && view.interface.listenPort === null) {
      const port = base + index + 1 <= 65535 ? base + index + 1 : base - index - 1;
      shown = { ...shown, interface: { ...shown.interface, listenPort: port } };
    }
    if (peer.routing?.protocol === 'bgp') shown = { ...shown, firewall: [...shown.firewall, ...routingFirewall(view.interface.name)] };
    return shown;
  });
}

/** A host route's address as RouterOS lists it in an address list (a bare address for a /32). */
function listAddress(cidr: string): string {
  const value = safeCidr(cidr);
  return value.endsWith('/32') ? value.slice(0, -3) : value;
}

function yes(flag: boolean): string {
  return flag ? 'yes' : 'no';
}

function milliseconds(value: number): string {
  return `${safeInteger(value, 'BFD interval')}ms`;
}

function bgpItems(peer: CompiledPeer, names: ReturnType<typeof routingNames>): RouterOsItem[] {
  const routing = peer.routing!;
  const items: RouterOsItem[] = [];
  for (const cidr of routing.originate) {
    items.push({ menu: ROUTING_MENU.addressList, kind: 'address-list', key: `originate:${safeCidr(cidr)}`, props: { list: names.originate, address: listAddress(cidr) } });
  }
  for (const route of routing.staticRoutes) {
    // Announced like the own prefixes: output.network finds the static route.
    items.push({ menu: ROUTING_MENU.addressList, kind: 'address-list', key: `originate:${safeCidr(route.destination)}`, props: { list: names.originate, address: listAddress(route.destination) } });
  }
  for (const cidr of routing.pinned) {
    items.push({ menu: ROUTING_MENU.addressList, kind: 'address-list', key: `pinned:${safeCidr(cidr)}`, props: { list: names.pinned, address: listAddress(cidr) } });
  }
  for (const cidr of routing.originate) {
    items.push({ menu: '/ip/route', kind: 'route', key: `originate:${safeCidr(cidr)}`, props: { 'dst-address': safeCidr(cidr), blackhole: 'yes', distance: String(ORIGINATE_DISTANCE) } });
  }
  for (const route of routing.staticRoutes) {
    items.push({ menu: '/ip/route', kind: 'route', key: safeCidr(route.destination), props: { 'dst-address': safeCidr(route.destination), gateway: safeIp(route.gateway), distance: String(SPOKE_ROUTE_DISTANCE) } });
  }
  const preferences = [...new Set(routing.neighbours.map((neighbour) => safeInteger(neighbour.preference, 'preference')))];
  for (const preference of preferences) {
    items.push({
      menu: ROUTING_MENU.filterRule, kind: 'routing-filter', key: `in-${preference}`,
      note: `Preference ${preference}: a neighbour tunnel IP is taken only from that neighbour`,
      props: { chain: names.importChain(preference), rule: `if (dst in ${names.pinned} && bgp-path-len > 1) { reject } else { set bgp-local-pref ${preference}; accept }` },
    });
  }
  items.push({
    menu: ROUTING_MENU.filterRule, kind: 'routing-filter', key: 'out',
    note: routing.transit ? 'A hub passes on everything it learned and its own prefixes' : 'A spoke announces only its own prefixes',
    props: { chain: names.exportChain, rule: routing.transit ? 'accept' : `if (dst in ${names.originate}) { accept } else { reject }` },
  });
  const interfaces = [...new Set(routing.neighbours.map((neighbour) => safeInterfaceName(neighbour.interfaceName)))];
  if (interfaces.length > 0) {
    items.push({
      menu: ROUTING_MENU.bfd, kind: 'bfd', key: 'tunnels',
      props: { interfaces: interfaces.join(','), 'min-rx': milliseconds(routing.bfd.intervalMs), 'min-tx': milliseconds(routing.bfd.intervalMs), multiplier: String(safeInteger(routing.bfd.multiplier, 'BFD multiplier')) },
    });
  }
  const { timers } = routing;
  for (const neighbour of routing.neighbours) {
    const address = safeIp(neighbour.address);
    const role = neighbour.hubRank === null ? neighbour.role.toLowerCase() : `hub ${neighbour.hubRank}${neighbour.hubRank === 1 ? ' (primary)' : ' (backup)'}`;
    items.push({
      menu: ROUTING_MENU.bgp, kind: 'bgp', key: address,
      note: `${neighbour.name}: ${role}, behind ${neighbour.interfaceName}`,
      props: {
        name: names.connection(address),
        as: String(safeInteger(routing.asn, 'asn')),
        'router-id': safeIp(routing.routerId),
        'local.role': 'ebgp',
        'local.address': safeIp(routing.routerId),
        'remote.address': address,
        'remote.as': String(safeInteger(neighbour.asn, 'asn')),
        multihop: yes(false),
        'use-bfd': yes(true),
        'hold-time': `${safeInteger(timers.holdSeconds, 'hold time')}s`,
        'keepalive-time': `${safeInteger(timers.keepaliveSeconds, 'keepalive time')}s`,
        // A hub's main interface is a /24 shared with every spoke: without this a hub would
        // pass one spoke's routes on with that spoke as next hop (RFC 4271 third-party
        // next hop), which the other spokes reach only through the hub (BIRD: next hop self).
        'nexthop-choice': 'force-self',
        'input.filter': names.importChain(neighbour.preference),
        'output.filter-chain': names.exportChain,
        'output.network': names.originate,
        'output.redistribute': routing.transit ? 'bgp' : '',
      },
    });
  }
  return items;
}

/**
 * A spoke that runs no BGP: one static route per overlay prefix and hub, through the hub's
 * tunnel IP with check-gateway=ping, the primary at the lowest distance; a hub that stops
 * answering makes its routes inactive and the next one takes over.
 */
function monitoredItems(peer: CompiledPeer): RouterOsItem[] {
  const items: RouterOsItem[] = [];
  for (const [rank, view] of interfacesOf(peer).entries()) {
    const gateway = view.interface.peerAddress;
    if (gateway === undefined) continue;
    for (const remote of view.peers) {
      for (const cidr of remote.allowedIps) {
        items.push({
          menu: '/ip/route', kind: 'route', key: `hub${rank + 1}:${safeCidr(cidr)}`,
          props: { 'dst-address': safeCidr(cidr), gateway: safeIp(gateway), distance: String(MONITORED_ROUTE_BASE_DISTANCE + rank + 1), 'check-gateway': 'ping' },
        });
      }
    }
  }
  return items;
}

/** The routing items of a peer with `routing`, in dependency order (lists, routes and filters before the sessions that use them); none without. */
export function routerOsRoutingItems(peer: CompiledPeer, prefix: string, wanId: string): RouterOsItem[] {
  if (!peer.routing) return [];
  if (peer.routing.protocol !== 'bgp') return monitoredItems(peer);
  const items = bgpItems(peer, routingNames(prefix, wanId));
  // A prefix both originated and routed to a spoke is listed once.
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = `${item.menu} ${item.kind}:${item.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
