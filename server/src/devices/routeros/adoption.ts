// Pure: which hand-made RouterOS item "is" which of Meshplane's (domain/adoption/adoption-plan.ts
// does the taking). Identities are the ones a person reading the router would use:
//   - a WireGuard interface by its name (RouterOS refuses two of one name);
//   - a peer by its interface and public key (RouterOS refuses two of one key on an interface);
//   - an address (either family) by address and interface;
//   - a route (either family, main table) by destination, when its gateway is the tunnel: one
//     of this peer's WireGuard interfaces, or an address inside the WAN's tunnel range. A
//     route to the same LAN through anything else is another path (the plan demotes it if it
//     competes), never Meshplane's;
//   - a firewall filter or NAT rule when chain, action, every matcher and target equal ours
//     and it has no matcher of its own besides (the hand-made "accept udp dst-port=<listen
//     port>" input rule is the common case). Taking it over changes nothing it does, and saves
//     a second copy; a rule that also matches on an interface list, a connection state or an
//     address list is narrower than ours and stays the admin's. Two such rules are ambiguous
//     and neither is taken (the deploy then adds Meshplane's own, as it would without them).
// Never: the routing machinery (BGP, BFD, routing filters, address lists: Meshplane's own
// shapes), the API user, dynamic items, and items another WAN's tag marks.
import { planAdoption, type AdoptionPlan, type AdoptionRules } from '../../domain/adoption/adoption-plan.js';
import { interfacesOf } from '../../domain/compiled.js';
import { contains, tryParseAddress, tryParseCidr, hostRange } from '../../domain/ip.js';
import type { ActualResource, DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { KIND_ORDER, MENU, RULE_KINDS, FOREIGN_RULE_MATCHERS } from './menus.js';
import { normalizeValue } from './normalize.js';
import { desiredResources } from './resources.js';
import { isMeshplaneComment } from './tags.js';
import { isTrue } from './values.js';

const ADDRESS_KINDS = new Set<string>([MENU.address, MENU.address6]);
const ROUTE_KINDS = new Set<string>([MENU.route, MENU.route6]);
/** What a firewall or NAT rule does and matches, as resources.ts writes it. */
const RULE_IDENTITY = ['chain', 'action', 'protocol', 'dst-port', 'src-address', 'dst-address', 'in-interface', 'out-interface', 'to-addresses', 'to-address', 'to-ports'];

type Props = Readonly<Record<string, string>>;

function present(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '';
}

/** Whether a route's gateway is the tunnel: one of `names`, an address scoped to one of them ("fe80::1%wg0"), or an address in one of `ranges`. */
function viaTunnel(gateway: string | undefined, names: ReadonlySet<string>, ranges: readonly string[]): boolean {
  if (!present(gateway)) return false;
  const [target = '', scope] = (gateway as string).trim().split('%');
  // "fe80::1%wireguard1": a next hop on the tunnel interface, whatever its address.
  if (scope !== undefined) return names.has(scope);
  if (names.has(target)) return true;
  const address = tryParseAddress(target);
  if (address === null) return false;
  const host = hostRange(address);
  return ranges.some((range) => {
    const parsed = tryParseCidr(range);
    return parsed !== null && contains(parsed, host);
  });
}

export function routerOsAdoptionRules(desired: DesiredDeviceState): AdoptionRules {
  const names = new Set(interfacesOf(desired.peer).map((view) => view.interface.name));
  const wan = desired.overlay.wan;
  const ranges = [wan.tunnelCidr, wan.tunnelCidr6].filter((range): range is string => typeof range === 'string' && range !== '');
  const value = (kind: string, props: Props, prop: string) => normalizeValue(kind, prop, props[prop] ?? '');
  return {
    kindOrder: KIND_ORDER,
    tagProps: (resource: DesiredResource) => ({ comment: resource.props.comment ?? '' }),
    identity(kind, props) {
      if (isTrue(props.dynamic)) return null;
      // A switched-off address, route or rule is left as it is: Meshplane adds its own working one.
      // A disabled interface or peer is still taken (RouterOS refuses a second of one name or key);
      // the deploy after adoption switches it on in place (resources.ts states disabled=false).
      if (isTrue(props.disabled) && kind !== MENU.interface && kind !== MENU.peers) return null;
      if (kind === MENU.interface) return present(props.name) ? `name=${props.name}` : null;
      if (kind === MENU.peers) return present(props.interface) && present(props['public-key']) ? `${props.interface} ${props['public-key']}` : null;
      if (ADDRESS_KINDS.has(kind)) return present(props.address) && present(props.interface) ? `${value(kind, props, 'address')} on ${props.interface}` : null;
      if (ROUTE_KINDS.has(kind)) {
        const table = props['routing-table'];
        if ((present(table) && table !== 'main') || isTrue(props.blackhole) || !present(props['dst-address'])) return null;
        return viaTunnel(props.gateway, names, ranges) ? `${value(kind, props, 'dst-address')} via the tunnel` : null;
      }
      if (RULE_KINDS.has(kind)) {
        if (FOREIGN_RULE_MATCHERS.some((matcher) => present(props[matcher]))) return null;
        return JSON.stringify(RULE_IDENTITY.map((prop) => value(kind, props, prop)));
      }
      return null;
    },
  };
}

/**
 * Only hand-made items are candidates: an item another Meshplane WAN tagged reads as
 * unmanaged here (its key is of the other WAN) but belongs to that WAN.
 */
export function adoptionPlanRouterOs(desired: DesiredDeviceState, actual: readonly ActualResource[]): AdoptionPlan {
  const candidates = actual.filter((item) => item.key !== null || !isMeshplaneComment(item.props.comment, desired.commentPrefix));
  return planAdoption(desiredResources(desired), candidates, routerOsAdoptionRules(desired));
}
