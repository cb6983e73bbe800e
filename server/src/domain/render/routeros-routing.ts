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
//
// Dual-stack (neighbours with `address6`): a second connection per neighbour between the IPv6
// tunnel addresses with `address-families=ipv6`, so each session carries one family (a
// connection's default is `ip`). IPv6 prefixes are announced and pinned from lists of
// /ipv6/firewall/address-list (an IPv6 connection's `output.network` names one there) under
// their own names, with their own import and export chains, so no rule depends on whether
// RouterOS looks a list name up in one family's menu or in both. Blackhole anchors and static
// routes go to /ipv6/route. A point-to-point interface's IPv6 address is a /128 (RouterOS has
// no `network` for IPv6), plus a /128 route to the far end through the interface: what
// `network=<far end>` does for IPv4.
import { familyOfValue, interfacesOf, type CompiledFirewallRule, type CompiledPeer } from '../compiled.js';
import { DomainError } from '../errors.js';
import { safeCidr, safeId, safeInteger, safeInterfaceName, safeIp } from './safe-values.js';

export const ROUTING_MENU = {
  addressList: '/ip/firewall/address-list',
  addressList6: '/ipv6/firewall/address-list',
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
/**
 * A point-to-point interface's route to the far end's IPv6 tunnel address: below every other
 * static or learned route (what a connected route is for IPv4's `network=`), so the session's
 * own packets never leave by another tunnel.
 */
export const PEER_HOST_ROUTE_DISTANCE = 1;
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
    originate6: `${base}-originate6`,
    pinned6: `${base}-pinned6`,
    importChain6: (preference: number) => `${base}-in6-${safeInteger(preference, 'preference')}`,
    exportChain6: `${base}-out6`,
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

/** A host route's address as RouterOS lists it in an address list (a bare address for a /32 or /128). */
function listAddress(cidr: string): string {
  const value = safeCidr(cidr);
  const host = familyOfValue(value) === 4 ? '/32' : '/128';
  return value.endsWith(host) ? value.slice(0, -host.length) : value;
}

/** The menus of a family's routing items. */
const ROUTING_FAMILY = {
  4: { addressList: ROUTING_MENU.addressList, route: '/ip/route' },
  6: { addressList: ROUTING_MENU.addressList6, route: '/ipv6/route' },
} as const;

/** The peer's own IPv6 tunnel address (the first IPv6 interface address; services follow it), or undefined. */
export function ownAddress6(peer: CompiledPeer): string | undefined {
  const found = peer.interface.addresses.find((address) => familyOfValue(address) === 6);
  return found === undefined ? undefined : safeIp(found.split('/')[0] ?? '');
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
  const menus = (cidr: string) => ROUTING_FAMILY[familyOfValue(cidr)];
  const list = (cidr: string, ipv4: string, ipv6: string) => (familyOfValue(cidr) === 4 ? ipv4 : ipv6);
  for (const cidr of routing.originate) {
    items.push({ menu: menus(cidr).addressList, kind: 'address-list', key: `originate:${safeCidr(cidr)}`, props: { list: list(cidr, names.originate, names.originate6), address: listAddress(cidr) } });
  }
  for (const route of routing.staticRoutes) {
    // Announced like the own prefixes: output.network finds the static route.
    const cidr = route.destination;
    items.push({ menu: menus(cidr).addressList, kind: 'address-list', key: `originate:${safeCidr(cidr)}`, props: { list: list(cidr, names.originate, names.originate6), address: listAddress(cidr) } });
  }
  for (const cidr of routing.pinned) {
    items.push({ menu: menus(cidr).addressList, kind: 'address-list', key: `pinned:${safeCidr(cidr)}`, props: { list: list(cidr, names.pinned, names.pinned6), address: listAddress(cidr) } });
  }
  for (const cidr of routing.originate) {
    items.push({ menu: menus(cidr).route, kind: 'route', key: `originate:${safeCidr(cidr)}`, props: { 'dst-address': safeCidr(cidr), blackhole: 'yes', distance: String(ORIGINATE_DISTANCE) } });
  }
  for (const route of routing.staticRoutes) {
    items.push({ menu: menus(route.destination).route, kind: 'route', key: safeCidr(route.destination), props: { 'dst-address': safeCidr(route.destination), gateway: safeIp(route.gateway), distance: String(SPOKE_ROUTE_DISTANCE) } });
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
  const dualStack = routing.neighbours.some((neighbour) => neighbour.address6 !== undefined);
  if (dualStack) {
    for (const preference of preferences) {
      items.push({
        menu: ROUTING_MENU.filterRule, kind: 'routing-filter', key: `in6-${preference}`,
        note: `IPv6, preference ${preference}: a neighbour IPv6 tunnel address is taken only from that neighbour`,
        props: { chain: names.importChain6(preference), rule: `if (dst in ${names.pinned6} && bgp-path-len > 1) { reject } else { set bgp-local-pref ${preference}; accept }` },
      });
    }
    items.push({
      menu: ROUTING_MENU.filterRule, kind: 'routing-filter', key: 'out6',
      note: routing.transit ? 'IPv6: a hub passes on everything it learned and its own prefixes' : 'IPv6: a spoke announces only its own prefixes',
      props: { chain: names.exportChain6, rule: routing.transit ? 'accept' : `if (dst in ${names.originate6}) { accept } else { reject }` },
    });
  }
  const interfaces = [...new Set(routing.neighbours.map((neighbour) => safeInterfaceName(neighbour.interfaceName)))];
  if (interfaces.length > 0) {
    items.push({
      menu: ROUTING_MENU.bfd, kind: 'bfd', key: 'tunnels',
      props: { interfaces: interfaces.join(','), 'min-rx': milliseconds(routing.bfd.intervalMs), 'min-tx': milliseconds(routing.bfd.intervalMs), multiplier: String(safeInteger(routing.bfd.multiplier, 'BFD multiplier')) },
    });
  }
  const { timers } = routing;
  const local6 = ownAddress6(peer);
  for (const neighbour of routing.neighbours) {
    const address = safeIp(neighbour.address);
    const role = neighbour.hubRank === null ? neighbour.role.toLowerCase() : `hub ${neighbour.hubRank}${neighbour.hubRank === 1 ? ' (primary)' : ' (backup)'}`;
    const session = (remote: string, local: string) => ({
      name: names.connection(remote),
      as: String(safeInteger(routing.asn, 'asn')),
      'router-id': safeIp(routing.routerId),
      'local.role': 'ebgp',
      'local.address': local,
      'remote.address': remote,
      'remote.as': String(safeInteger(neighbour.asn, 'asn')),
      multihop: yes(false),
      'use-bfd': yes(true),
      'hold-time': `${safeInteger(timers.holdSeconds, 'hold time')}s`,
      'keepalive-time': `${safeInteger(timers.keepaliveSeconds, 'keepalive time')}s`,
      // A hub's main interface is a /24 shared with every spoke: without this a hub would
      // pass one spoke's routes on with that spoke as next hop (RFC 4271 third-party
      // next hop), which the other spokes reach only through the hub (BIRD: next hop self).
      'nexthop-choice': 'force-self',
    });
    items.push({
      menu: ROUTING_MENU.bgp, kind: 'bgp', key: address,
      note: `${neighbour.name}: ${role}, behind ${neighbour.interfaceName}`,
      props: {
        ...session(address, safeIp(routing.routerId)),
        'input.filter': names.importChain(neighbour.preference),
        'output.filter-chain': names.exportChain,
        'output.network': names.originate,
        'output.redistribute': routing.transit ? 'bgp' : '',
      },
    });
    if (neighbour.address6 === undefined) continue;
    if (local6 === undefined) throw new DomainError('INVALID_INPUT', `RouterOS: ${neighbour.name} has an IPv6 session but this peer has no IPv6 tunnel address`, { field: 'tunnelIp6' });
    const address6 = safeIp(neighbour.address6);
    // Same router id, ASNs, timers and BFD as the IPv4 session; only IPv6 prefixes.
    items.push({
      menu: ROUTING_MENU.bgp, kind: 'bgp', key: address6,
      note: `${neighbour.name} over IPv6: ${role}, behind ${neighbour.interfaceName}`,
      props: {
        ...session(address6, local6),
        'address-families': 'ipv6',
        'input.filter': names.importChain6(neighbour.preference),
        'output.filter-chain': names.exportChain6,
        'output.network': names.originate6,
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
    for (const remote of view.peers) {
      for (const cidr of remote.allowedIps) {
        // Each family through the hub's tunnel address of that family.
        const family = familyOfValue(cidr);
        const gateway = family === 4 ? view.interface.peerAddress : view.interface.peerAddress6;
        if (gateway === undefined) continue;
        items.push({
          menu: ROUTING_FAMILY[family].route, kind: 'route', key: `hub${rank + 1}:${safeCidr(cidr)}`,
          props: { 'dst-address': safeCidr(cidr), gateway: safeIp(gateway), distance: String(MONITORED_ROUTE_BASE_DISTANCE + rank + 1), 'check-gateway': 'ping' },
        });
      }
    }
  }
  return items;
}

/**
 * The far end's IPv6 tunnel address through each point-to-point interface: the IPv6 address
 * there is a /128 and RouterOS has no `network` for IPv6, so without this route the far end
 * (BGP's next hop, the gateway monitor's target) would be unreachable.
 */
function peerHostRoutes(peer: CompiledPeer): RouterOsItem[] {
  return interfacesOf(peer).flatMap((view) => {
    if (view.interface.peerAddress6 === undefined) return [];
    const destination = `${safeIp(view.interface.peerAddress6)}/128`;
    return [{
      menu: ROUTING_FAMILY[6].route, kind: 'route', key: interfaceItemKey(view, peer, `peer:${destination}`),
      props: { 'dst-address': destination, gateway: safeInterfaceName(view.interface.name), distance: String(PEER_HOST_ROUTE_DISTANCE) },
    }];
  });
}

/** The routing items of a peer with `routing`, in dependency order (lists, routes and filters before the sessions that use them); none without. */
export function routerOsRoutingItems(peer: CompiledPeer, prefix: string, wanId: string): RouterOsItem[] {
  if (!peer.routing) return [];
  if (peer.routing.protocol !== 'bgp') return [...peerHostRoutes(peer), ...monitoredItems(peer)];
  const items = [...peerHostRoutes(peer), ...bgpItems(peer, routingNames(prefix, wanId))];
  // A prefix both originated and routed to a spoke is listed once.
  const seen = new Set<string>();
  return items.filter((item) => {
    const id = `${item.menu} ${item.kind}:${item.key}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
