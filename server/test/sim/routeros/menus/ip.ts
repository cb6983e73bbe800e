// `/ip/address`, `/ip/route` (routeros.md §3.6–3.7) and their IPv6 twins `/ipv6/address`,
// `/ipv6/route`, built from one definition per menu with the family as parameter: an /ip
// menu refuses IPv6 values and an /ipv6 menu IPv4 values. Routes print the v7 shapes from
// the lab survey: an enabled static route has `static`/`active`/`inactive` and no
// `disabled` key; a disabled one shrinks and loses `dynamic` (so `?dynamic=false` misses it).
//
// IPv6 addresses have no `network`; they carry `advertise` (on by default for a /64, which
// makes the router send router advertisements for the prefix), `eui-64`, `no-dad` and
// `from-pool`, and print `link-local`/`global` [terraform-provider-routeros
// resource_ipv6_address.go, a 7.x print in its header comment].
import { familyOf, networkOf, networkPrefix, type Family } from '../ip-prefix.js';
import type { Row } from '../query.js';
import { traps } from '../trap.js';
import { bool, comment, disabled, gateway, integer, interfaceName, oneOf, prefix, text } from './properties.js';
import type { Item, MenuContext, MenuSpec, PropertySpec } from './types.js';

export const IP_ADDRESS = '/ip/address';
export const IP_ROUTE = '/ip/route';
export const IPV6_ADDRESS = '/ipv6/address';
export const IPV6_ROUTE = '/ipv6/route';

/** The address menu of a family. */
export const ADDRESS_MENU: Readonly<Record<Family, string>> = { 4: IP_ADDRESS, 6: IPV6_ADDRESS };

function addressMenu(family: Family): MenuSpec {
  const path = ADDRESS_MENU[family];
  const properties: Record<string, PropertySpec> = family === 4
    ? { address: prefix({ family }), interface: interfaceName(), network: text(), comment: comment(), disabled: disabled() }
    : {
      address: prefix({ family }), interface: interfaceName(), advertise: bool(), 'eui-64': bool(), 'no-dad': bool(),
      'from-pool': text(), comment: comment(), disabled: disabled(),
    };
  return {
    path,
    kind: 'table',
    required: ['address', 'interface'],
    properties,
    defaults: (props): Record<string, string> => (family === 4
      ? { disabled: 'false' }
      : { disabled: 'false', advertise: props.address?.endsWith('/64') ? 'true' : 'false', 'eui-64': 'false', 'no-dad': 'false' }),
    check(props, self, ctx) {
      const duplicate = ctx
        .items(path)
        .some((other) => other !== self && other.props.address === props.address && other.props.interface === props.interface);
      if (duplicate) throw traps.addressExists();
    },
    render(item: Item, ctx: MenuContext): Row {
      const p = item.props;
      const present = ctx.interfaceNames().includes(p.interface!);
      const common = { interface: p.interface!, 'actual-interface': p.interface!, ...(p.comment ? { comment: p.comment } : {}), invalid: present ? 'false' : 'true', dynamic: 'false' };
      if (family === 4) return { address: p.address!, network: p.network || networkOf(p.address!), ...common, disabled: p.disabled ?? 'false' };
      const linkLocal = p.address!.toLowerCase().startsWith('fe80:');
      return {
        address: p.address!, 'from-pool': p['from-pool'] ?? '', ...common,
        'eui-64': p['eui-64']!, advertise: p.advertise!, 'no-dad': p['no-dad']!,
        'link-local': linkLocal ? 'true' : 'false', global: linkLocal ? 'false' : 'true', disabled: p.disabled ?? 'false',
      };
    },
  };
}

export const ipAddresses = addressMenu(4);
export const ipv6Addresses = addressMenu(6);

/** Connected prefix of an address row, e.g. `10.0.0.1/24` → `10.0.0.0/24`. */
export function connectedPrefix(item: Item): string {
  return networkPrefix(item.props.address!);
}

function routeMenu(family: Family): MenuSpec {
  const path = family === 4 ? IP_ROUTE : IPV6_ROUTE;
  return {
    path,
    kind: 'table',
    // Static routes count from *80000001 on v7 (routeros.md §3.1); assumed for IPv6 too.
    firstId: 0x80000001,
    properties: {
      'dst-address': prefix({ family }),
      gateway: gateway({ family }),
      distance: integer(1, 255),
      'routing-table': oneOf(['main']),
      scope: integer(0, 255),
      'target-scope': integer(0, 255),
      'pref-src': prefSource(family),
      'check-gateway': oneOf(['arp', 'bfd', 'bfd-multihop', 'none', 'ping']),
      blackhole: bool(),
      comment: comment(),
      disabled: disabled(),
    },
    defaults: () => ({ 'dst-address': family === 4 ? '0.0.0.0/0' : '::/0', distance: '1', 'routing-table': 'main', scope: '30', 'target-scope': '10' }),
    check(props) {
      // A route goes somewhere or nowhere: a gateway, or a blackhole (unverified text).
      if (props.blackhole === 'true' ? props.gateway !== undefined && props.gateway !== '' : props.gateway === undefined) {
        throw props.blackhole === 'true' ? traps.conflict('blackhole route cannot have a gateway') : traps.missing('gateway');
      }
    },
    render(item: Item, ctx: MenuContext): Row {
      const p = item.props;
      const remark: Record<string, string> = p.comment ? { comment: p.comment } : {};
      const target: Record<string, string> = p.blackhole === 'true' ? { blackhole: 'true' } : { gateway: p.gateway! };
      if (p.disabled === 'true') {
        return { 'dst-address': p['dst-address']!, ...target, ...remark, disabled: 'true', inactive: 'false', static: 'true' };
      }
      const active = isActiveRoute(path, item, ctx);
      return {
        'dst-address': p['dst-address']!,
        ...target,
        distance: p.distance!,
        scope: p.scope!,
        'target-scope': p['target-scope']!,
        'routing-table': p['routing-table']!,
        ...(p['check-gateway'] ? { 'check-gateway': p['check-gateway'] } : {}),
        ...(p['pref-src'] ? { 'pref-src': p['pref-src'] } : {}),
        ...remark,
        dynamic: 'false',
        active: active ? 'true' : 'false',
        inactive: active ? 'false' : 'true',
        static: 'true',
      };
    },
  };
}

/** `pref-src`: an address of the route's family, or empty. */
function prefSource(family: Family): PropertySpec {
  return {
    parse(value, name) {
      const v = value.trim();
      if (v === '' || (familyOf(v) === family && !v.includes('/'))) return v;
      throw traps.invalidValue(name, value);
    },
  };
}

export const ipRoutes = routeMenu(4);
export const ipv6Routes = routeMenu(6);

/**
 * The route the router would use for its destination: among enabled routes to the same
 * prefix in the same table, the lowest distance wins, the older route on a tie. This is
 * what makes demoting a conflicting static route (raising its distance) observable.
 */
function isActiveRoute(path: string, route: Item, ctx: MenuContext): boolean {
  const rivals = ctx
    .items(path)
    .filter(
      (r) =>
        r.props.disabled !== 'true' &&
        r.props['dst-address'] === route.props['dst-address'] &&
        r.props['routing-table'] === route.props['routing-table'],
    );
  const best = rivals.reduce<Item | undefined>((winner, r) => {
    if (!winner) return r;
    const d = Number(r.props.distance) - Number(winner.props.distance);
    return d < 0 || (d === 0 && r.id < winner.id) ? r : winner;
  }, undefined);
  return best === route;
}

export const IPV6_SETTINGS = '/ipv6/settings';

/**
 * `/ipv6/settings`: IPv6 forwarding is on by default; `disable-ipv6` turns the stack off
 * [terraform-provider-routeros resource_ipv6_settings.go, a 7.x print in its header comment].
 */
export const ipv6Settings: MenuSpec = {
  path: IPV6_SETTINGS,
  kind: 'singleton',
  properties: {
    forward: bool(),
    'accept-redirects': oneOf(['no', 'yes-if-forwarding-disabled']),
    'accept-router-advertisements': oneOf(['no', 'yes', 'yes-if-forwarding-disabled']),
    'disable-ipv6': bool(),
    'max-neighbor-entries': integer(0, 4_294_967_295),
  },
  render: (item: Item): Row => {
    const p = item.props;
    return {
      'accept-redirects': p['accept-redirects'] ?? 'yes-if-forwarding-disabled',
      'accept-router-advertisements': p['accept-router-advertisements'] ?? 'yes-if-forwarding-disabled',
      'disable-ipv6': p['disable-ipv6'] ?? 'false',
      forward: p.forward ?? 'true',
      'max-neighbor-entries': p['max-neighbor-entries'] ?? '16384',
    };
  },
};
