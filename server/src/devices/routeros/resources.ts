// Pure: a CompiledPeer as RouterOS menu items (plan.ts DesiredResource), with the keys the
// .rsc script tags its items with. Every value passes the domain's render checks first. A
// dual-stack peer's addresses, routes, filter and NAT rules go to their family's menu
// (render/routeros-family.ts) under the same tag kinds.
import type { CompiledFirewallRule, CompiledPeer } from '../../domain/compiled.js';
import { formatAddress, parseCidr } from '../../domain/ip.js';
import { familiesOf, familyOfValue } from '../../domain/compiled.js';
import { FAMILY_MENUS, ruleAppliesTo } from '../../domain/render/routeros-family.js';
import { interfaceItemKey, routerOsInterfaces, routerOsRoutingItems } from '../../domain/render/routeros-routing.js';
import type { DesiredResource } from '../../domain/plan.js';
import {
  safeCidr, safeEndpoint, safeId, safeInteger, safeInterfaceName, safeIp, safeKey, safePort, safeProtocol,
} from '../../domain/render/safe-values.js';
import type { DesiredDeviceState } from '../driver.js';
import { MENU, ROUTE_DISTANCE } from './menus.js';
import { tagFor } from './tags.js';
import { formatDuration } from './values.js';

type Props = Record<string, string>;

/** Same key as the script's firewallKey (render/routeros.ts), e.g. "input-udp-51820", "forward-in". */
export function firewallKey(rule: CompiledFirewallRule): string {
  const parts = [rule.chain, rule.protocol, rule.dstPort, rule.src, rule.dst, rule.inInterface && 'in', rule.outInterface && 'out'];
  return parts.filter((part) => part !== undefined && part !== '').join('-');
}

function firewallProps(rule: CompiledFirewallRule, interfaceName: string): Props {
  const props: Props = { chain: rule.chain, action: rule.action };
  if (rule.protocol !== undefined) props.protocol = safeProtocol(rule.protocol);
  if (rule.dstPort !== undefined) props['dst-port'] = String(safePort(rule.dstPort));
  if (rule.src !== undefined) props['src-address'] = safeCidr(rule.src);
  if (rule.dst !== undefined) props['dst-address'] = safeCidr(rule.dst);
  if (rule.inInterface !== undefined) props['in-interface'] = interfaceName;
  if (rule.outInterface !== undefined) props['out-interface'] = interfaceName;
  return props;
}

function interfaceProps(peer: CompiledPeer): Props {
  const iface = peer.interface;
  // Enabled, stated: a disabled hand-made interface that was adopted is switched on by the next deploy.
  const props: Props = { name: iface.name, mtu: String(safeInteger(iface.mtu, 'MTU')), disabled: 'false' };
  if (iface.listenPort !== null) props['listen-port'] = String(safePort(iface.listenPort));
  // Bring-your-own key: the router keeps its own private key.
  if (iface.privateKey !== null) props['private-key'] = safeKey(iface.privateKey);
  return props;
}

function peerProps(peer: CompiledPeer, remote: CompiledPeer['peers'][number]): Props {
  const endpoint = remote.endpoint === null ? null : safeEndpoint(remote.endpoint);
  const props: Props = {
    interface: peer.interface.name,
    'public-key': safeKey(remote.publicKey),
    'allowed-address': remote.allowedIps.map(safeCidr).join(','),
    'endpoint-address': endpoint?.host ?? '',
    'endpoint-port': String(endpoint?.port ?? 0),
    'persistent-keepalive': formatDuration(safeInteger(remote.persistentKeepalive ?? 0, 'keepalive')),
    disabled: 'false',
  };
  if (remote.presharedKey !== null) props['preshared-key'] = safeKey(remote.presharedKey);
  return props;
}

function addressValue(address: string): string {
  const [ip = '', prefix] = address.split('/');
  return `${safeIp(ip)}/${safeInteger(Number(prefix), 'prefix length')}`;
}

/**
 * Every item of the peer: each interface (one, or one per hub link in a WAN with redundant
 * hubs) with its remotes, addresses, firewall and NAT rules; overlay routes; and the routing
 * items (routeros-routing.ts). The main interface's items keep their keys; a link's add its
 * name, exactly as the .rsc script tags them.
 */
export function desiredResources(desired: DesiredDeviceState): DesiredResource[] {
  const { peer } = desired;
  const wan = safeId(desired.overlay.wan.id);
  const resources: DesiredResource[] = [];
  const add = (kind: string, key: string, props: Props) => {
    const fullKey = `${wan}:${key}`;
    resources.push({ kind, key: fullKey, props: { ...props, comment: tagFor(desired.commentPrefix, fullKey) } });
  };

  const views = routerOsInterfaces(peer, desired.overlay.wan.listenPort);
  for (const view of views) add(MENU.interface, view === views[0] ? 'interface' : `interface:${safeInterfaceName(view.interface.name)}`, interfaceProps(view));
  for (const view of views) for (const remote of view.peers) add(MENU.peers, `peer:${safeId(remote.peerId)}`, peerProps(view, remote));
  for (const view of views) {
    const name = safeInterfaceName(view.interface.name);
    for (const address of view.interface.addresses) {
      const value = addressValue(address);
      const family = familyOfValue(value);
      const props: Props = { address: value, interface: name };
      if (family === 6) {
        // No router advertisements into the tunnel (RouterOS advertises a /64 by default).
        props.advertise = 'false';
      } else {
        // Point-to-point: the far end's tunnel IP is reached through this interface only. Otherwise
        // the network RouterOS derives itself, stated so an address that was point-to-point (the
        // WAN had redundant hubs) is set back instead of keeping its route to the old hub.
        props.network = view.interface.peerAddress !== undefined ? safeIp(view.interface.peerAddress) : formatAddress(parseCidr(value).start);
      }
      add(FAMILY_MENUS[family].address, `address:${interfaceItemKey(view, peer, value)}`, props);
    }
  }
  for (const route of peer.routes) {
    const destination = safeCidr(route.destination);
    add(FAMILY_MENUS[familyOfValue(destination)].route, `route:${destination}`, { 'dst-address': destination, gateway: safeInterfaceName(peer.interface.name), distance: String(ROUTE_DISTANCE) });
  }
  const routing = routerOsRoutingItems(peer, desired.commentPrefix, wan);
  const isRoute = (menu: string) => menu === MENU.route || menu === MENU.route6;
  for (const item of routing.filter((entry) => isRoute(entry.menu))) add(item.menu, `route:${item.key}`, item.props);
  for (const family of familiesOf(peer)) {
    const menus = FAMILY_MENUS[family];
    const target = menus.natTarget;
    for (const view of views) {
      const name = safeInterfaceName(view.interface.name);
      const key = (rest: string) => interfaceItemKey(view, peer, rest);
      for (const rule of view.firewall) if (ruleAppliesTo(rule, family)) add(menus.filter, `filter:${key(firewallKey(rule))}`, firewallProps(rule, name));
      for (const { translated, real } of view.nat) {
        if (familyOfValue(translated) !== family) continue;
        add(menus.nat, `nat:${key(`netmap-in:${safeCidr(translated)}`)}`, { chain: 'dstnat', action: 'netmap', 'in-interface': name, 'dst-address': translated, [target]: safeCidr(real) });
        add(menus.nat, `nat:${key(`netmap-out:${translated}`)}`, { chain: 'srcnat', action: 'netmap', 'out-interface': name, 'src-address': real, [target]: translated });
      }
      for (const service of view.services) {
        if (familyOfValue(service.serviceIp) !== family) continue;
        const protocol = safeProtocol(service.protocol);
        const serviceIp = safeIp(service.serviceIp);
        const port = String(safePort(service.servicePort));
        add(menus.nat, `nat:${key(`service:${protocol}:${serviceIp}:${port}`)}`, {
          chain: 'dstnat', action: 'dst-nat', 'in-interface': name, protocol, 'dst-address': serviceIp, 'dst-port': port,
          [target]: safeIp(service.localIp), 'to-ports': String(safePort(service.localPort)),
        });
      }
    }
  }
  for (const item of routing.filter((entry) => !isRoute(entry.menu))) add(item.menu, `${item.kind}:${item.key}`, item.props);
  return resources;
}
