// An idempotent RouterOS v7 script (.rsc) for one peer. Every item it manages carries
// the comment "<prefix>:<wanId>:<kind>:<key>"; a re-run finds items by that tag and
// updates them in place (so WireGuard sessions survive), adds what is missing and
// removes tagged items that are no longer wanted. Untagged items are never touched,
// except that static routes competing with ours are demoted to distance 11.
//
// A dual-stack peer (an IPv6 address on its interface) gets the IPv6 twins of the address,
// route, filter and NAT sections after the IPv4 ones, from the same writers with the family
// as parameter: /ipv6/address (advertise off: no router advertisements into the tunnel),
// /ipv6/route through the interface like IPv4, the address-less filter rules again in
// /ipv6/firewall/filter, and NPTv6 as /ipv6/firewall/nat netmap, which RouterOS v7 maps
// 1:1 keeping the host bits like IPv4 netmap (its target is `to-address` there, not
// `to-addresses`). An IPv4-only peer's script has no IPv6 line, byte for byte as before; so
// a WAN that stops being dual-stack leaves the script's IPv6 items on the router (the
// device driver removes them).
import { familiesOf, familyOfValue as familyOf, type CompiledFirewallRule, type CompiledOverlay, type CompiledPeer, type CompiledRemote } from '../compiled.js';
import { findCompiledPeer } from '../compile.js';
import { DomainError } from '../errors.js';
import { KeyedFragments, RemoteFragments } from './fragments.js';
import { rosValue } from './routeros-quote.js';
import {
  menu, MenuWriter, properties, quotedTag, RepeatedSection, Script, upsertLine, upsertParts, type Menu, type Properties, type RenderedItem, type UpsertParts,
} from './routeros-script.js';
import { FAMILY_MENUS, ruleAppliesTo, type RouterOsFamily } from './routeros-family.js';
import { interfaceItemKey, ROUTING_MENU, routerOsInterfaces, routerOsRoutingItems, type RouterOsItem } from './routeros-routing.js';
import {
  commentText, disabledNotice, safeCidr, safeEndpoint, safeId, safeInteger, safeInterfaceAddress, safeInterfaceName, safeIp, safeKey, safePort, safeProtocol,
} from './safe-values.js';

export interface RouterOsScriptOptions {
  /** Tag prefix of managed items; default "meshplane". Letters, digits, _ and - only. */
  commentPrefix?: string;
  /** RouterOS user the device driver logs in with; its allowed addresses are set when given. */
  apiUserName?: string;
  apiAllowedAddresses?: string[];
}

export const ROUTE_DISTANCE = 10;
export const DEMOTED_ROUTE_DISTANCE = 11;

function validatedPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) {
    throw new DomainError('INVALID_INPUT', 'commentPrefix: use 1-32 characters from A-Z a-z 0-9 _ -', { field: 'commentPrefix' });
  }
  return prefix;
}

/** A stable tag key from what the rule matches, e.g. "input-udp-51820" or "forward-in". */
function firewallKey(rule: CompiledFirewallRule): string {
  const parts = [rule.chain, rule.protocol, rule.dstPort, rule.src, rule.dst, rule.inInterface && 'in', rule.outInterface && 'out'];
  return parts.filter((part) => part !== undefined && part !== '').join('-');
}

function firewallProperties(rule: CompiledFirewallRule, interfaceName: string): Properties {
  const props: Properties = { chain: rule.chain, action: rule.action };
  if (rule.protocol !== undefined) props.protocol = safeProtocol(rule.protocol);
  if (rule.dstPort !== undefined) props['dst-port'] = safePort(rule.dstPort);
  if (rule.src !== undefined) props['src-address'] = safeCidr(rule.src);
  if (rule.dst !== undefined) props['dst-address'] = safeCidr(rule.dst);
  if (rule.inInterface !== undefined) props['in-interface'] = interfaceName;
  if (rule.outInterface !== undefined) props['out-interface'] = interfaceName;
  return props;
}

/** The menus whose sections a script writes through a MenuWriter. */
type MenuName = 'peers' | 'addresses' | 'routes' | 'filter' | 'nat';
/** The menus a family has its own of: `/ip/...` and `/ipv6/...`. */
type FamilyMenuName = Exclude<MenuName, 'peers'>;
type Family = RouterOsFamily;

const FAMILY_PATHS: Readonly<Record<Family, Readonly<Record<FamilyMenuName, string>>>> = {
  4: { addresses: FAMILY_MENUS[4].address, routes: FAMILY_MENUS[4].route, filter: FAMILY_MENUS[4].filter, nat: FAMILY_MENUS[4].nat },
  6: { addresses: FAMILY_MENUS[6].address, routes: FAMILY_MENUS[6].route, filter: FAMILY_MENUS[6].filter, nat: FAMILY_MENUS[6].nat },
};
/** Tag kinds are the same in both families: the menu tells the items apart. */
const TAG_KIND: Readonly<Record<FamilyMenuName, string>> = { addresses: 'address', routes: 'route', filter: 'filter', nat: 'nat' };

/**
 * What every script of one overlay shares for one tag base and interface name (both
 * validated): the menus, and the items that many scripts carry (remote peers, routes).
 */
interface ScriptContext {
  /** What the context was made for, exactly as given (each validated then). */
  readonly commentPrefix: string;
  readonly wanId: string;
  readonly interfaceName: string;
  readonly interfaceValue: string;
  /** The interface's upsert line around its body (the same item in every script). */
  readonly interfaceUpsert: UpsertParts;
  /** The script's second line. */
  readonly scope: string;
  readonly menus: Readonly<Record<'wireguard' | 'peers', Menu>>;
  readonly peerSection: RepeatedSection;
  /** Per family: its menus and the sections repeated from the previous script. */
  readonly families: Readonly<Record<Family, { readonly menus: Readonly<Record<FamilyMenuName, Menu>>; readonly sections: Readonly<Record<FamilyMenuName, RepeatedSection>> }>>;
  readonly peers: RemoteFragments<RenderedItem>;
  readonly routes: KeyedFragments<RenderedItem>;
}

/** A context for values that passed validatedPrefix, safeId and safeInterfaceName. */
function createContext(prefix: string, wanId: string, interfaceName: string): ScriptContext {
  const tagBase = `${prefix}:${wanId}`;
  const interfaceValue = rosValue(interfaceName);
  const menus = {
    wireguard: menu('/interface/wireguard', tagBase),
    peers: menu('/interface/wireguard/peers', `${tagBase}:peer`),
  };
  const family = (paths: Readonly<Record<FamilyMenuName, string>>) => ({
    menus: {
      addresses: menu(paths.addresses, `${tagBase}:${TAG_KIND.addresses}`),
      routes: menu(paths.routes, `${tagBase}:${TAG_KIND.routes}`),
      filter: menu(paths.filter, `${tagBase}:${TAG_KIND.filter}`),
      nat: menu(paths.nat, `${tagBase}:${TAG_KIND.nat}`),
    },
    sections: { addresses: new RepeatedSection(), routes: new RepeatedSection(), filter: new RepeatedSection(), nat: new RepeatedSection() },
  });
  const families = { 4: family(FAMILY_PATHS[4]), 6: family(FAMILY_PATHS[6]) };
  return {
    commentPrefix: prefix, wanId, interfaceName, interfaceValue, menus, families,
    peerSection: new RepeatedSection(),
    interfaceUpsert: upsertParts(menus.wireguard, quotedTag(menus.wireguard, 'interface')),
    scope: `# Idempotent: items tagged ${tagBase}:... are created, updated or removed, nothing else is changed.`,
    peers: new RemoteFragments((remote) => peerItem(menus.peers, interfaceValue, remote)),
    // Destinations of both families share one memo: a key is one family's prefix.
    routes: new KeyedFragments((destination) => routeItem(prefix, families[familyOf(destination)].menus.routes, interfaceName, destination)),
  };
}

/** Per compiled overlay: its script contexts, and the last one used (consecutive scripts nearly always share it). */
const contexts = new WeakMap<CompiledOverlay, { last: ScriptContext; byKey: Map<string, ScriptContext> }>();

function scriptContext(compiled: CompiledOverlay, commentPrefix: string, interfaceName: string): ScriptContext {
  const wanId = compiled.wan.id;
  const known = contexts.get(compiled);
  const { last } = known ?? {};
  // The same strings as when the context was made, so already validated.
  if (last && last.commentPrefix === commentPrefix && last.wanId === wanId && last.interfaceName === interfaceName) return last;
  const prefix = validatedPrefix(commentPrefix);
  safeId(wanId);
  safeInterfaceName(interfaceName);
  // A newline cannot occur in a valid prefix, id or interface name: the key is unambiguous.
  const key = `${prefix}\n${wanId}\n${interfaceName}`;
  const context = known?.byKey.get(key) ?? createContext(prefix, wanId, interfaceName);
  if (known) {
    known.last = context;
    known.byKey.set(key, context);
  } else {
    contexts.set(compiled, { last: context, byKey: new Map([[key, context]]) });
  }
  return context;
}

function writerFor(script: Script, context: ScriptContext, family: Family, name: FamilyMenuName): MenuWriter {
  const { menus, sections } = context.families[family];
  return new MenuWriter(script, menus[name], sections[name]);
}

function writeInterface(script: Script, context: ScriptContext, peer: CompiledPeer): void {
  const iface = peer.interface;
  // The properties written by hand, in the order properties() would give them.
  let body = `name=${context.interfaceValue} mtu=${rosValue(safeInteger(iface.mtu, 'MTU'))}`;
  if (iface.listenPort !== null) body += ` listen-port=${rosValue(safePort(iface.listenPort))}`;
  if (iface.privateKey !== null) body += ` private-key=${rosValue(safeKey(iface.privateKey))}`;
  else if (iface.privateKeyWithheld) script.line(`# Private key held by Meshplane: left out of this preview (download the script to get it); public key ${safeKey(iface.publicKey)}.`);
  else script.line(`# Bring-your-own key: the router keeps its own private key; its public key must be ${safeKey(iface.publicKey)}.`);
  // One interface per WAN: nothing of this menu is ever stale, so no MenuWriter.
  script.line(context.menus.wireguard.path);
  const { head, middle } = context.interfaceUpsert;
  script.line(`${head}${body}${middle}${body} }`);
}

/** One remote's peer item: the same in every script of the overlay with this tag base and interface. */
function peerItem(peers: Menu, interfaceValue: string, remote: CompiledRemote): RenderedItem {
  const comment = `# ${commentText(remote.name)}`;
  const endpoint = remote.endpoint === null ? null : safeEndpoint(remote.endpoint);
  // The properties written by hand, in the order properties() would give them.
  let body = `interface=${interfaceValue} public-key=${rosValue(safeKey(remote.publicKey))}`
    + ` allowed-address=${rosValue(remote.allowedIps.map(safeCidr).join(','))}`
    + ` endpoint-address=${rosValue(endpoint?.host ?? '')} endpoint-port=${rosValue(endpoint?.port ?? 0)}`
    + ` persistent-keepalive=${rosValue(`${safeInteger(remote.persistentKeepalive ?? 0, 'keepalive')}s`)}`;
  if (remote.presharedKey !== null) body += ` preshared-key=${rosValue(safeKey(remote.presharedKey))}`;
  const tag = quotedTag(peers, safeId(remote.peerId));
  // Joined, not concatenated: one flat string that every script copies cheaply.
  return { tag, lines: [comment, upsertLine(peers, tag, body)].join('\n') };
}

/** One route's items: the same in every script of the overlay with this tag base and interface. */
function routeItem(prefix: string, routes: Menu, interfaceName: string, route: string): RenderedItem {
  const destination = safeCidr(route);
  const tag = quotedTag(routes, destination);
  // Unmanaged static routes to the same destination that would win over or tie with
  // ours (distance <= 10, so no accidental ECMP) are demoted, never removed.
  const demote = `:foreach r in=[${routes.path}/find where dst-address=${rosValue(destination)} and !dynamic and distance<=${ROUTE_DISTANCE} and !(comment~${rosValue(`^${prefix}:`)})] do={ ${routes.path}/set $r distance=${DEMOTED_ROUTE_DISTANCE} }`;
  const body = properties({ 'dst-address': destination, gateway: interfaceName, distance: ROUTE_DISTANCE });
  return { tag, lines: [demote, upsertLine(routes, tag, body)].join('\n') };
}

function writePeers(script: Script, context: ScriptContext, peer: CompiledPeer): void {
  const writer = new MenuWriter(script, context.menus.peers, context.peerSection);
  for (const remote of peer.peers) writer.write(context.peers.get(remote));
  writer.end();
}

function writeAddresses(script: Script, context: ScriptContext, peer: CompiledPeer, family: Family): void {
  const writer = writerFor(script, context, family, 'addresses');
  // No router advertisements into the tunnel: RouterOS advertises a /64 unless told not to.
  const extra = family === 6 ? ` advertise=${rosValue('no')}` : '';
  for (const address of peer.interface.addresses) {
    if (familyOf(address) !== family) continue;
    const value = safeInterfaceAddress(address);
    writer.upsert(value, `address=${rosValue(value)} interface=${context.interfaceValue}${extra}`);
  }
  writer.end();
}

function writeRoutes(script: Script, context: ScriptContext, peer: CompiledPeer, family: Family): void {
  const writer = writerFor(script, context, family, 'routes');
  for (const route of peer.routes) if (familyOf(route.destination) === family) writer.write(context.routes.get(route.destination));
  writer.end();
}

function writeFirewall(script: Script, context: ScriptContext, peer: CompiledPeer, family: Family): void {
  const writer = writerFor(script, context, family, 'filter');
  for (const rule of peer.firewall) {
    if (!ruleAppliesTo(rule, family)) continue;
    writer.upsertFirst(firewallKey(rule), firewallProperties(rule, context.interfaceName), `# ${commentText(rule.comment)}`);
  }
  writer.end();
}

/** The NAT items of one interface and family: NETMAP / NPTv6 both ways per translated LAN, DNAT per service. */
function natItems(view: Pick<CompiledPeer, 'nat' | 'services'>, iface: string, family: Family, upsert: (key: string, props: Properties) => void): void {
  const target = FAMILY_MENUS[family].natTarget;
  for (const { translated, real } of view.nat) {
    if (familyOf(translated) !== family) continue;
    upsert(`netmap-in:${safeCidr(translated)}`, { chain: 'dstnat', action: 'netmap', 'in-interface': iface, 'dst-address': translated, [target]: safeCidr(real) });
    upsert(`netmap-out:${translated}`, { chain: 'srcnat', action: 'netmap', 'out-interface': iface, 'src-address': real, [target]: translated });
  }
  for (const service of view.services) {
    if (familyOf(service.serviceIp) !== family) continue;
    const protocol = safeProtocol(service.protocol);
    const key = `service:${protocol}:${safeIp(service.serviceIp)}:${safePort(service.servicePort)}`;
    upsert(key, {
      chain: 'dstnat', action: 'dst-nat', 'in-interface': iface, protocol,
      'dst-address': service.serviceIp, 'dst-port': service.servicePort,
      [target]: safeIp(service.localIp), 'to-ports': safePort(service.localPort),
    });
  }
}

function writeNat(script: Script, context: ScriptContext, peer: CompiledPeer, family: Family): void {
  const writer = writerFor(script, context, family, 'nat');
  natItems(peer, context.interfaceName, family, (key, props) => writer.upsert(key, props));
  writer.end();
}

function writeApiUser(script: Script, options: RouterOsScriptOptions): void {
  if (options.apiUserName === undefined || options.apiAllowedAddresses === undefined) return;
  const allowed = options.apiAllowedAddresses.map((entry) => (entry.includes('/') ? safeCidr(entry) : safeIp(entry))).join(',');
  const user = `[/user/find where name=${rosValue(options.apiUserName)}]`;
  script.line('/user');
  script.line(`:if ([:len ${user}] > 0) do={ /user/set ${user} address=${rosValue(allowed)} }`);
}

/** A section of a script for a peer with several interfaces: fresh, so never shared with another script. */
function sectionWriter(script: Script, path: string, tagBase: string): MenuWriter {
  return new MenuWriter(script, menu(path, tagBase), new RepeatedSection());
}

function interfaceBody(view: CompiledPeer): string {
  const iface = view.interface;
  let body = `name=${rosValue(safeInterfaceName(iface.name))} mtu=${rosValue(safeInteger(iface.mtu, 'MTU'))}`;
  if (iface.listenPort !== null) body += ` listen-port=${rosValue(safePort(iface.listenPort))}`;
  if (iface.privateKey !== null) body += ` private-key=${rosValue(safeKey(iface.privateKey))}`;
  return body;
}

/** Routing items by menu, each menu one section (its stale tagged items removed). */
function writeRoutingSections(script: Script, tagBase: string, items: readonly RouterOsItem[], families: readonly Family[]): void {
  const menus: [string, string][] = [
    [ROUTING_MENU.addressList, 'address-list'],
    // Only a dual-stack peer's script has IPv6 sections: an IPv4-only one stays as it was.
    ...(families.includes(6) ? [[ROUTING_MENU.addressList6, 'address-list'] as [string, string]] : []),
    [ROUTING_MENU.filterRule, 'routing-filter'], [ROUTING_MENU.bfd, 'bfd'], [ROUTING_MENU.bgp, 'bgp'],
  ];
  for (const [path, kind] of menus) {
    const writer = sectionWriter(script, path, `${tagBase}:${kind}`);
    const itemMenu = menu(path, `${tagBase}:${kind}`);
    for (const item of items.filter((entry) => entry.menu === path)) {
      const tag = quotedTag(itemMenu, item.key);
      const line = upsertLine(itemMenu, tag, properties(item.props));
      writer.write({ tag, lines: item.note === undefined ? line : `# ${commentText(item.note)}\n${line}` });
    }
    writer.end();
  }
}

/**
 * A peer of a WAN with redundant hubs: an interface per hub (or per other hub), each with
 * its remote, point-to-point address and firewall rules, and eBGP with BFD choosing among
 * them (routeros-routing.ts). Items of the main interface keep the keys a one-interface
 * script uses; a link's items add the link's name.
 */
function renderWithLinks(compiled: CompiledOverlay, peer: CompiledPeer, options: RouterOsScriptOptions): string {
  const prefix = validatedPrefix(options.commentPrefix ?? 'meshplane');
  const wanId = safeId(compiled.wan.id);
  const tagBase = `${prefix}:${wanId}`;
  const views = routerOsInterfaces(peer, compiled.wan.listenPort);
  const routing = routerOsRoutingItems(peer, prefix, wanId);
  const script = new Script();
  script.line(`# Meshplane: peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)} (RouterOS v7).`);
  script.line(`# Idempotent: items tagged ${tagBase}:... are created, updated or removed, nothing else is changed.`);
  script.line(peer.routing?.protocol === 'bgp'
    ? `# Redundant hubs: one WireGuard interface per hub link; eBGP with BFD over each moves traffic within about ${Math.ceil((peer.routing.bfd.intervalMs * peer.routing.bfd.multiplier) / 1000)} s of a link failing.`
    : '# Redundant hubs: one WireGuard interface per hub; routes through the first hub whose tunnel IP answers pings.');
  const interfaces = sectionWriter(script, '/interface/wireguard', tagBase);
  for (const view of views) {
    const iface = view.interface;
    if (iface.privateKey === null) {
      script.line(iface.privateKeyWithheld
        ? `# ${safeInterfaceName(iface.name)}: private key held by Meshplane, left out of this preview (download the script to get it); public key ${safeKey(iface.publicKey)}.`
        : `# ${safeInterfaceName(iface.name)}: bring-your-own key, the router keeps its own private key; its public key must be ${safeKey(iface.publicKey)}.`);
    }
    interfaces.upsert(view === views[0] ? 'interface' : `interface:${safeInterfaceName(iface.name)}`, interfaceBody(view));
  }
  interfaces.end();
  const peers = sectionWriter(script, '/interface/wireguard/peers', `${tagBase}:peer`);
  for (const view of views) for (const remote of view.peers) peers.write(peerItem(menu('/interface/wireguard/peers', `${tagBase}:peer`), rosValue(safeInterfaceName(view.interface.name)), remote));
  peers.end();
  const families = familiesOf(peer);
  for (const family of families) {
    const menus = FAMILY_MENUS[family];
    if (family === 6 && peer.forwarding) script.line('# IPv6: the routed traffic below needs /ipv6/settings forward=yes (the RouterOS default).');
    const addresses = sectionWriter(script, menus.address, `${tagBase}:address`);
    for (const view of views) {
      const name = rosValue(safeInterfaceName(view.interface.name));
      for (const address of view.interface.addresses) {
        if (familyOf(address) !== family) continue;
        const value = safeInterfaceAddress(address);
        // IPv4 point-to-point: `network` is the far end. IPv6 has no `network` (a /128 route to
        // the far end is among the routes) and no router advertisements into the tunnel.
        const extra = family === 6 ? ` advertise=${rosValue('no')}` : view.interface.peerAddress === undefined ? '' : ` network=${rosValue(safeIp(view.interface.peerAddress))}`;
        addresses.upsert(interfaceItemKey(view, peer, value), `address=${rosValue(value)} interface=${name}${extra}`);
      }
    }
    addresses.end();
    const routes = sectionWriter(script, menus.route, `${tagBase}:route`);
    for (const item of routing.filter((entry) => entry.menu === menus.route)) routes.upsert(item.key, item.props);
    routes.end();
    const filter = sectionWriter(script, menus.filter, `${tagBase}:filter`);
    for (const view of views) {
      const name = safeInterfaceName(view.interface.name);
      for (const rule of view.firewall) {
        if (ruleAppliesTo(rule, family)) filter.upsertFirst(interfaceItemKey(view, peer, firewallKey(rule)), firewallProperties(rule, name), `# ${commentText(rule.comment)}`);
      }
    }
    filter.end();
    const nat = sectionWriter(script, menus.nat, `${tagBase}:nat`);
    for (const view of views) {
      natItems(view, safeInterfaceName(view.interface.name), family, (key, props) => nat.upsert(interfaceItemKey(view, peer, key), props));
    }
    nat.end();
  }
  writeRoutingSections(script, tagBase, routing, families);
  writeApiUser(script, options);
  return script.text();
}

export function renderCompiledPeerRouterOs(compiled: CompiledOverlay, peer: CompiledPeer, options: RouterOsScriptOptions = {}): string {
  if (peer.routing !== undefined || (peer.links !== undefined && peer.links.length > 0)) return renderWithLinks(compiled, peer, options);
  const context = scriptContext(compiled, options.commentPrefix ?? 'meshplane', peer.interface.name);
  const script = new Script();
  for (const line of disabledNotice(peer)) script.line(line);
  script.line(`# Meshplane: peer ${commentText(peer.name)} on WAN ${commentText(compiled.wan.name)} (RouterOS v7).`);
  script.line(context.scope);
  writeInterface(script, context, peer);
  writePeers(script, context, peer);
  for (const family of familiesOf(peer)) {
    if (family === 6 && peer.forwarding) script.line('# IPv6: the routed traffic below needs /ipv6/settings forward=yes (the RouterOS default).');
    writeAddresses(script, context, peer, family);
    writeRoutes(script, context, peer, family);
    writeFirewall(script, context, peer, family);
    writeNat(script, context, peer, family);
  }
  writeApiUser(script, options);
  return script.text();
}

export function renderRouterOsScript(compiled: CompiledOverlay, peerId: string, options: RouterOsScriptOptions = {}): string {
  return renderCompiledPeerRouterOs(compiled, findCompiledPeer(compiled, peerId), options);
}
