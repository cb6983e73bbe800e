// The RouterOS menus Meshplane manages (plan kinds are menu paths), in dependency order,
// and the properties read from each (never private keys: the interface's key is checked
// through its public key). Addresses, routes, filter and NAT rules have a menu per family
// (render/routeros-family.ts); the IPv6 ones are read like the IPv4 ones.
import { FAMILY_MENUS } from '../../domain/render/routeros-family.js';
import { ROUTING_MENU } from '../../domain/render/routeros-routing.js';

export const MENU = {
  interface: '/interface/wireguard',
  peers: '/interface/wireguard/peers',
  address: FAMILY_MENUS[4].address,
  route: FAMILY_MENUS[4].route,
  filter: FAMILY_MENUS[4].filter,
  nat: FAMILY_MENUS[4].nat,
  address6: FAMILY_MENUS[6].address,
  route6: FAMILY_MENUS[6].route,
  filter6: FAMILY_MENUS[6].filter,
  nat6: FAMILY_MENUS[6].nat,
  /** Read only: IPv6 forwarding and whether IPv6 is on at all (preflight). */
  ipv6Settings: '/ipv6/settings',
  addressList: ROUTING_MENU.addressList,
  addressList6: ROUTING_MENU.addressList6,
  routingFilter: '/routing/filter/rule',
  bfd: '/routing/bfd/configuration',
  bgp: '/routing/bgp/connection',
  user: '/user',
} as const;

/**
 * Created/updated in this order, deleted in reverse (peers before their interface; BGP
 * sessions before the lists, filters and BFD settings they use).
 */
export const KIND_ORDER: readonly string[] = [
  MENU.interface, MENU.peers, MENU.address, MENU.address6, MENU.route, MENU.route6, MENU.filter, MENU.filter6, MENU.nat, MENU.nat6,
  MENU.addressList, MENU.addressList6, MENU.routingFilter, MENU.bfd, MENU.bgp, MENU.user,
];

/** The menus of each family's items, read for every WAN (a WAN that stops being dual-stack loses its IPv6 items). */
export const FAMILY_KINDS: readonly string[] = [MENU.address, MENU.route, MENU.filter, MENU.nat, MENU.address6, MENU.route6, MENU.filter6, MENU.nat6];
export const ROUTE_KINDS = new Set<string>([MENU.route, MENU.route6]);
export const FILTER_KINDS = new Set<string>([MENU.filter, MENU.filter6]);
export const RULE_KINDS = new Set<string>([MENU.filter, MENU.filter6, MENU.nat, MENU.nat6]);

const COMMON = ['comment', 'disabled', 'dynamic'];
const RULE = ['chain', 'action', 'protocol', 'src-address', 'dst-address', 'dst-port', 'in-interface', 'out-interface'];
/**
 * Matchers Meshplane never writes, read so that a hand-made rule narrowed by one of them is not
 * mistaken for Meshplane's (adoption.ts). Only names both families' filter and NAT menus have.
 */
export const FOREIGN_RULE_MATCHERS: readonly string[] = [
  'src-port', 'port', 'in-interface-list', 'out-interface-list', 'src-address-list', 'dst-address-list', 'src-address-type', 'dst-address-type',
  'connection-state', 'connection-nat-state', 'connection-mark', 'packet-mark', 'connection-type', 'tcp-flags', 'icmp-options',
  'ipsec-policy', 'jump-target', 'limit', 'dst-limit', 'nth', 'time', 'content', 'per-connection-classifier',
];

export const PROPLISTS: Readonly<Record<string, readonly string[]>> = {
  [MENU.interface]: ['name', 'listen-port', 'mtu', 'public-key', ...COMMON],
  [MENU.peers]: ['interface', 'public-key', 'allowed-address', 'endpoint-address', 'endpoint-port', 'persistent-keepalive', 'preshared-key', ...COMMON],
  [MENU.address]: ['address', 'interface', 'network', ...COMMON],
  [MENU.address6]: ['address', 'interface', 'advertise', ...COMMON],
  [MENU.route]: ['dst-address', 'gateway', 'distance', 'routing-table', 'blackhole', 'check-gateway', ...COMMON],
  [MENU.route6]: ['dst-address', 'gateway', 'distance', 'routing-table', 'blackhole', 'check-gateway', ...COMMON],
  [MENU.filter]: [...RULE, ...FOREIGN_RULE_MATCHERS, ...COMMON],
  [MENU.filter6]: [...RULE, ...FOREIGN_RULE_MATCHERS, ...COMMON],
  [MENU.nat]: [...RULE, FAMILY_MENUS[4].natTarget, 'to-ports', ...FOREIGN_RULE_MATCHERS, ...COMMON],
  [MENU.nat6]: [...RULE, FAMILY_MENUS[6].natTarget, 'to-ports', ...FOREIGN_RULE_MATCHERS, ...COMMON],
  [MENU.ipv6Settings]: ['forward', 'disable-ipv6'],
  [MENU.addressList]: ['list', 'address', ...COMMON],
  [MENU.addressList6]: ['list', 'address', ...COMMON],
  [MENU.routingFilter]: ['chain', 'rule', ...COMMON],
  [MENU.bfd]: ['interfaces', 'min-rx', 'min-tx', 'multiplier', ...COMMON],
  [MENU.bgp]: [
    'name', 'address-families', 'as', 'router-id', 'local.role', 'local.address', 'remote.address', 'remote.as', 'multihop', 'use-bfd', 'hold-time', 'keepalive-time',
    'nexthop-choice', 'input.filter', 'output.filter-chain', 'output.network', 'output.redistribute', ...COMMON,
  ],
  [MENU.user]: ['name', 'group', 'address', ...COMMON],
};

export const STATISTICS_PROPLIST = ['public-key', 'rx', 'tx', 'last-handshake', 'current-endpoint-address', 'current-endpoint-port'] as const;

/** Distance of overlay routes, and of unmanaged static routes that competed with them. */
export const ROUTE_DISTANCE = 10;
export const DEMOTED_ROUTE_DISTANCE = 11;

/** How RouterOS shows a secret to a user without the `sensitive` policy. */
export const MASKED = '*****';
