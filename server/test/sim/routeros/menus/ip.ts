// `/ip/address` and `/ip/route` (routeros.md §3.6–3.7). Routes print the v7 shapes from
// the lab survey: an enabled static route has `static`/`active`/`inactive` and no
// `disabled` key; a disabled one shrinks and loses `dynamic` (so `?dynamic=false` misses it).
import { networkOf, networkPrefix } from '../ip-prefix.js';
import type { Row } from '../query.js';
import { traps } from '../trap.js';
import { comment, disabled, gateway, integer, interfaceName, oneOf, prefix, text, bool } from './properties.js';
import type { Item, MenuContext, MenuSpec } from './types.js';

export const IP_ADDRESS = '/ip/address';
export const IP_ROUTE = '/ip/route';

export const ipAddresses: MenuSpec = {
  path: IP_ADDRESS,
  kind: 'table',
  required: ['address', 'interface'],
  properties: {
    address: prefix(),
    interface: interfaceName(),
    network: text(),
    comment: comment(),
    disabled: disabled(),
  },
  defaults: () => ({ disabled: 'false' }),
  check(props, self, ctx) {
    const duplicate = ctx
      .items(IP_ADDRESS)
      .some((other) => other !== self && other.props.address === props.address && other.props.interface === props.interface);
    if (duplicate) throw traps.addressExists();
  },
  render(item: Item, ctx: MenuContext): Row {
    const p = item.props;
    const present = ctx.interfaceNames().includes(p.interface!);
    return {
      address: p.address!,
      network: p.network || networkOf(p.address!),
      interface: p.interface!,
      'actual-interface': p.interface!,
      ...(p.comment ? { comment: p.comment } : {}),
      invalid: present ? 'false' : 'true',
      dynamic: 'false',
      disabled: p.disabled ?? 'false',
    };
  },
};

/** Connected prefix of an address row, e.g. `10.0.0.1/24` → `10.0.0.0/24`. */
export function connectedPrefix(item: Item): string {
  return networkPrefix(item.props.address!);
}

export const ipRoutes: MenuSpec = {
  path: IP_ROUTE,
  kind: 'table',
  // Static routes count from *80000001 on v7 (routeros.md §3.1).
  firstId: 0x80000001,
  properties: {
    'dst-address': prefix(),
    gateway: gateway(),
    distance: integer(1, 255),
    'routing-table': oneOf(['main']),
    scope: integer(0, 255),
    'target-scope': integer(0, 255),
    'pref-src': text(),
    'check-gateway': oneOf(['arp', 'bfd', 'bfd-multihop', 'none', 'ping']),
    blackhole: bool(),
    comment: comment(),
    disabled: disabled(),
  },
  defaults: () => ({ 'dst-address': '0.0.0.0/0', distance: '1', 'routing-table': 'main', scope: '30', 'target-scope': '10' }),
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
    const active = isActiveRoute(item, ctx);
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

/**
 * The route the router would use for its destination: among enabled routes to the same
 * prefix in the same table, the lowest distance wins, the older route on a tie. This is
 * what makes demoting a conflicting static route (raising its distance) observable.
 */
function isActiveRoute(route: Item, ctx: MenuContext): boolean {
  const rivals = ctx
    .items(IP_ROUTE)
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
