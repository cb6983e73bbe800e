// The RouterOS menus Meshplane manages (plan kinds are menu paths), in dependency order,
// and the properties read from each (never private keys: the interface's key is checked
// through its public key).

export const MENU = {
  interface: '/interface/wireguard',
  peers: '/interface/wireguard/peers',
  address: '/ip/address',
  route: '/ip/route',
  filter: '/ip/firewall/filter',
  nat: '/ip/firewall/nat',
  addressList: '/ip/firewall/address-list',
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
  MENU.interface, MENU.peers, MENU.address, MENU.route, MENU.filter, MENU.nat, MENU.addressList, MENU.routingFilter, MENU.bfd, MENU.bgp, MENU.user,
];

const COMMON = ['comment', 'disabled', 'dynamic'];
const RULE = ['chain', 'action', 'protocol', 'src-address', 'dst-address', 'dst-port', 'in-interface', 'out-interface'];

export const PROPLISTS: Readonly<Record<string, readonly string[]>> = {
  [MENU.interface]: ['name', 'listen-port', 'mtu', 'public-key', ...COMMON],
  [MENU.peers]: ['interface', 'public-key', 'allowed-address', 'endpoint-address', 'endpoint-port', 'persistent-keepalive', 'preshared-key', ...COMMON],
  [MENU.address]: ['address', 'interface', 'network', ...COMMON],
  [MENU.route]: ['dst-address', 'gateway', 'distance', 'routing-table', 'blackhole', 'check-gateway', ...COMMON],
  [MENU.filter]: [...RULE, ...COMMON],
  [MENU.nat]: [...RULE, 'to-addresses', 'to-ports', ...COMMON],
  [MENU.addressList]: ['list', 'address', ...COMMON],
  [MENU.routingFilter]: ['chain', 'rule', ...COMMON],
  [MENU.bfd]: ['interfaces', 'min-rx', 'min-tx', 'multiplier', ...COMMON],
  [MENU.bgp]: [
    'name', 'as', 'router-id', 'local.role', 'local.address', 'remote.address', 'remote.as', 'multihop', 'use-bfd', 'hold-time', 'keepalive-time',
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
