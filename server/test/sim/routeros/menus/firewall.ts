// `/ip/firewall/filter` and `/ip/firewall/nat` (routeros.md §3.8) and their IPv6 twins
// `/ipv6/firewall/filter` and `/ipv6/firewall/nat` (RouterOS v7 has IPv6 NAT), one
// definition per menu with the family as parameter: ordered rules (`place-before`, `move`),
// printed with `bytes`/`packets`/`dynamic`/`invalid` and only the matchers that were
// written — unset matchers are absent, never "". Address matchers take the menu's family
// only. IPv6 NAT names its target `to-address` where IPv4 has `to-addresses`, and has
// `netmap` among its actions [terraform-provider-routeros resource_ipv6_firewall_nat.go].
import type { Row } from '../query.js';
import { traps } from '../trap.js';
import {
  addressMatcher,
  bool,
  comment,
  disabled,
  interfaceName,
  listOf,
  oneOf,
  portList,
  text,
} from './properties.js';
import type { Item, MenuSpec, PropertySpec } from './types.js';
import { isIpAddress, withMask, type Family } from '../ip-prefix.js';
import { duration } from './properties.js';
import { formatDateTime } from './system.js';

export const FIREWALL_FILTER = '/ip/firewall/filter';
export const FIREWALL_NAT = '/ip/firewall/nat';
export const IPV6_FIREWALL_FILTER = '/ipv6/firewall/filter';
export const IPV6_FIREWALL_NAT = '/ipv6/firewall/nat';
export const FIREWALL_ADDRESS_LIST = '/ip/firewall/address-list';
export const IPV6_FIREWALL_ADDRESS_LIST = '/ipv6/firewall/address-list';

const PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'ipsec-esp', 'ipsec-ah', 'ospf', 'sctp', 'ipip', 'l2tp', 'igmp'];
const CONNECTION_STATES = ['established', 'related', 'new', 'invalid', 'untracked'];
const COMMON_ACTIONS = ['accept', 'drop', 'jump', 'log', 'passthrough', 'return', 'add-src-to-address-list', 'add-dst-to-address-list'];

const protocol: PropertySpec = {
  parse(value, name) {
    const bare = value.startsWith('!') ? value.slice(1) : value;
    if (PROTOCOLS.includes(bare) || (/^\d{1,3}$/.test(bare) && Number(bare) <= 255)) return value;
    throw traps.noMatch(name);
  },
};

function matchers(family: Family): Record<string, PropertySpec> {
  return {
    chain: text(),
    protocol,
    'src-address': addressMatcher({ family }),
    'dst-address': addressMatcher({ family }),
    'src-port': portList(),
    'dst-port': portList(),
    'in-interface': interfaceName({ negatable: true }),
    'out-interface': interfaceName({ negatable: true }),
    'in-interface-list': text(),
    'out-interface-list': text(),
    'src-address-list': text(),
    'dst-address-list': text(),
    'connection-state': listOf(CONNECTION_STATES),
    'ipsec-policy': text(),
    'jump-target': text(),
    log: bool(),
    'log-prefix': text(),
    comment: comment(),
    disabled: disabled(),
  };
}

function renderRule(item: Item): Row {
  const row: Record<string, string> = { chain: item.props.chain!, action: item.props.action! };
  for (const [key, value] of Object.entries(item.props)) {
    if (key !== 'chain' && key !== 'action' && value !== '') row[key] = value;
  }
  return { ...row, bytes: '0', packets: '0', dynamic: 'false', invalid: 'false' };
}

function filterMenu(family: Family): MenuSpec {
  return {
    path: family === 4 ? FIREWALL_FILTER : IPV6_FIREWALL_FILTER,
    kind: 'table',
    ordered: true,
    required: ['chain'],
    properties: {
      ...matchers(family),
      action: oneOf([...COMMON_ACTIONS, 'reject', 'fasttrack-connection', 'tarpit']),
      'reject-with': text(),
    },
    defaults: () => ({ action: 'accept' }),
    render: renderRule,
  };
}

function natMenu(family: Family): MenuSpec {
  return {
    path: family === 4 ? FIREWALL_NAT : IPV6_FIREWALL_NAT,
    kind: 'table',
    ordered: true,
    required: ['chain'],
    properties: {
      ...matchers(family),
      action: oneOf([...COMMON_ACTIONS, 'src-nat', 'dst-nat', 'masquerade', 'redirect', 'netmap', 'same', 'endpoint-independent-nat']),
      [family === 4 ? 'to-addresses' : 'to-address']: addressMatcher({ family }),
      'to-ports': portList(),
    },
    defaults: () => ({ action: 'accept' }),
    render: renderRule,
  };
}

export const firewallFilter = filterMenu(4);
export const firewallNat = natMenu(4);
export const ipv6FirewallFilter = filterMenu(6);
export const ipv6FirewallNat = natMenu(6);

/**
 * An address-list entry's address: a prefix, a range or a DNS name, of the menu's family. A
 * host prints without its mask (`/32`, `/128`), a prefix with it, IPv6 short (RFC 5952), as
 * RouterOS lists them.
 */
function listEntry(family: Family): PropertySpec {
  const hostMask = family === 4 ? '/32' : '/128';
  return {
    parse(value, name) {
      const v = value.trim();
      if (v.includes('-') && v.split('-').every((end) => isIpAddress(end, family))) return v;
      const prefix = withMask(v, family);
      if (prefix !== undefined) return prefix.endsWith(hostMask) ? prefix.slice(0, -hostMask.length) : prefix;
      // A DNS name (its last label not all digits, or it would be a mistyped address).
      if (/^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9-]*[a-zA-Z][a-zA-Z0-9-]*$/.test(v)) return v;
      throw traps.invalidValue(name, value);
    },
  };
}

/**
 * `/ip/firewall/address-list` and its twin `/ipv6/firewall/address-list` (same properties;
 * BGP's `output.network` of an IPv6 connection names a list of the IPv6 menu).
 */
function addressListMenu(family: Family): MenuSpec {
  const path = family === 4 ? FIREWALL_ADDRESS_LIST : IPV6_FIREWALL_ADDRESS_LIST;
  return {
    path,
    kind: 'table',
    required: ['list', 'address'],
    properties: { list: text(), address: listEntry(family), timeout: duration(35 * 86_400), comment: comment(), disabled: disabled() },
    defaults: () => ({ disabled: 'false' }),
    check(props, self, ctx) {
      // Unverified text: one entry per address and list.
      const duplicate = ctx.items(path).some((other) => other !== self && other.props.list === props.list && other.props.address === props.address);
      if (duplicate) throw traps.conflict('already have such entry');
    },
    render(item: Item, ctx): Row {
      const p = item.props;
      return {
        list: p.list!, address: p.address!, 'creation-time': formatDateTime(ctx.bootedAt),
        ...(p.timeout ? { timeout: p.timeout } : {}), ...(p.comment ? { comment: p.comment } : {}), dynamic: 'false', disabled: p.disabled!,
      };
    },
  };
}

export const firewallAddressList = addressListMenu(4);
export const ipv6FirewallAddressList = addressListMenu(6);
