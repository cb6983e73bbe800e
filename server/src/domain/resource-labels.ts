// What a device resource IS, in the words of the overlay: "peer laptop (10.0.0.3)", "route to
// 192.168.10.0/24 via hub", "accept WireGuard on UDP 51820". Plans, drift, job logs and
// statistics of every device kind (RouterOS menus, pfSense and OPNsense endpoints, OpenWrt UCI
// sections, Linux items) are named here and only here, from the resource's kind, key and
// properties and the overlay's peers: Meshplane's ids (in keys, tags and tag references)
// never reach a reader.
import type { CompiledOverlay, CompiledPeer } from './compiled.js';
import { canonicalAddress, contains, tryParseAddressOrCidr } from './ip.js';
import { updateContext, type ActualResource, type Plan, type PlanOperation } from './plan.js';
import { isSecretProp } from './secret-masking.js';

/** What one peer is called and how it is recognised in a resource. */
export interface NamedPeer {
  id: string;
  name: string;
  /** Tunnel addresses without prefix length, IPv4 first. */
  addresses: string[];
  publicKey: string | null;
  lans: string[];
}

export interface ResourceNames {
  wanId: string;
  /** The peer's own (main) WireGuard interface, for items whose key does not name it. */
  interfaceName: string;
  self: NamedPeer;
  peers: NamedPeer[];
  /** Destination → the peer a route to it goes through (the compiled routes). */
  routeVia: ReadonlyMap<string, string>;
}

/** A Meshplane id (cuid) as it may appear in keys and tags. */
export const ID_SHAPED = /\bc[a-z0-9]{20,}\b/g;

const bare = (address: string) => address.split('/')[0] ?? address;

/**
 * The names a device's resources are labelled with: every peer of the overlay, plus the
 * remotes and BGP neighbours the peer's own compiled state names (a deployment stored for a
 * revert keeps only its own peer, whose remotes still carry their names).
 */
export function resourceNamesOf(overlay: CompiledOverlay, peer: CompiledPeer): ResourceNames {
  const byId = new Map<string, NamedPeer>();
  const named = (compiled: CompiledPeer): NamedPeer => ({
    id: compiled.peerId, name: compiled.name, publicKey: compiled.interface.publicKey, lans: compiled.lans,
    addresses: tunnelAddresses(compiled.interface.addresses),
  });
  byId.set(peer.peerId, named(peer));
  for (const other of overlay.peers) if (!byId.has(other.peerId)) byId.set(other.peerId, named(other));
  const remotes = [...peer.peers, ...(peer.links ?? []).flatMap((link) => link.peers)];
  for (const remote of remotes) {
    if (byId.has(remote.peerId)) continue;
    const hosts = remote.allowedIps.filter((cidr) => /\/(32|128)$/.test(cidr)).map(bare);
    byId.set(remote.peerId, { id: remote.peerId, name: remote.name, publicKey: remote.publicKey, addresses: hosts.slice(0, 1), lans: remote.allowedIps.filter((cidr) => !/\/(32|128)$/.test(cidr)) });
  }
  for (const neighbour of peer.routing?.neighbours ?? []) {
    const known = byId.get(neighbour.peerId);
    const addresses = [neighbour.address, ...(neighbour.address6 ? [neighbour.address6] : [])];
    if (known) known.addresses = [...new Set([...known.addresses, ...addresses])];
    else byId.set(neighbour.peerId, { id: neighbour.peerId, name: neighbour.name, publicKey: null, addresses, lans: [] });
  }
  const routeVia = new Map(peer.routes.map((route) => [route.destination, route.via]));
  return { wanId: overlay.wan.id, interfaceName: peer.interface.name, self: byId.get(peer.peerId)!, peers: [...byId.values()], routeVia };
}

/** The tunnel addresses of an interface: the first (IPv4) and a following IPv6 one; service /32s are not the peer's. */
function tunnelAddresses(addresses: readonly string[]): string[] {
  const [first, second] = addresses;
  const result = first ? [bare(first)] : [];
  if (second && second.includes(':') && !second.endsWith('/128')) result.push(bare(second));
  else if (second && second.includes(':') && first && !first.includes(':')) result.push(bare(second));
  return result;
}

/** "peer laptop (10.0.0.3)". */
export function peerLabel(peer: NamedPeer): string {
  return peer.addresses.length > 0 ? `peer ${peer.name} (${peer.addresses[0]})` : `peer ${peer.name}`;
}

function findPeer(names: ResourceNames, token: string | undefined): NamedPeer | undefined {
  if (!token) return undefined;
  return names.peers.find((peer) => peer.id === token || peer.publicKey === token);
}

/** The peer that owns an address or prefix: its tunnel address, or inside one of its LANs. */
function ownerOf(names: ResourceNames, value: string): { peer: NamedPeer; what: 'tunnel' | 'lan' } | null {
  const address = canonicalAddress(bare(value));
  for (const peer of names.peers) if (address !== null && peer.addresses.some((own) => canonicalAddress(own) === address) && /\/(32|128)$|^[^/]*$/.test(value)) return { peer, what: 'tunnel' };
  const range = tryParseAddressOrCidr(value);
  if (range === null) return null;
  for (const peer of names.peers) {
    for (const lan of peer.lans) {
      const outer = tryParseAddressOrCidr(lan);
      if (outer && outer.family === range.family && contains(outer, range)) return { peer, what: 'lan' };
    }
  }
  return null;
}

/** Ids in free text (a key, a tag, a tag reference) replaced by the peer's name, or by "a removed peer". */
export function withoutIds(text: string, names: ResourceNames): string {
  return text.replace(ID_SHAPED, (id) => (id === names.wanId ? 'this WAN' : findPeer(names, id)?.name ?? 'a removed peer'));
}

/** The groups a plan is shown in, in this order. */
export const RESOURCE_GROUPS = [
  'WireGuard interfaces', 'WireGuard peers', 'Interfaces', 'Addresses', 'Routes', 'Firewall rules', 'NAT rules', 'BGP', 'System settings', 'Applying changes', 'Other',
] as const;
export type ResourceGroup = (typeof RESOURCE_GROUPS)[number];

/**
 * Every kind a driver plans, by group: RouterOS menus, pfSense and OPNsense REST endpoints,
 * OpenWrt UCI section types (and its two markers), Linux items. A kind not listed is "Other"
 * (a unit test holds every driver's kinds against this table).
 */
const GROUP_OF_KIND: Readonly<Record<string, ResourceGroup>> = {
  '/interface/wireguard': 'WireGuard interfaces', 'vpn/wireguard/tunnel': 'WireGuard interfaces', link: 'WireGuard interfaces',
  'wireguard/server': 'WireGuard interfaces', 'network/interface': 'WireGuard interfaces',
  '/interface/wireguard/peers': 'WireGuard peers', 'vpn/wireguard/peer': 'WireGuard peers', 'wg-peer': 'WireGuard peers', 'wireguard/client': 'WireGuard peers', 'network/peer': 'WireGuard peers',
  interface: 'Interfaces', 'interfaces/assignment': 'Interfaces',
  '/ip/address': 'Addresses', '/ipv6/address': 'Addresses', address: 'Addresses',
  '/ip/route': 'Routes', '/ipv6/route': 'Routes', 'routing/static_route': 'Routes', 'routing/gateway': 'Routes', 'routing/gateway/group': 'Routes', route: 'Routes',
  'network/route': 'Routes', 'network/route6': 'Routes',
  '/ip/firewall/filter': 'Firewall rules', '/ipv6/firewall/filter': 'Firewall rules', 'firewall/rule': 'Firewall rules', firewall: 'Firewall rules', 'firewall/filter': 'Firewall rules',
  '/ip/firewall/nat': 'NAT rules', '/ipv6/firewall/nat': 'NAT rules', 'firewall/nat/one_to_one/mapping': 'NAT rules', 'firewall/nat/port_forward': 'NAT rules',
  'firewall/one_to_one': 'NAT rules', 'firewall/npt': 'NAT rules', 'firewall/include': 'NAT rules',
  '/ip/firewall/address-list': 'BGP', '/ipv6/firewall/address-list': 'BGP', '/routing/filter/rule': 'BGP', '/routing/bfd/configuration': 'BGP', '/routing/bgp/connection': 'BGP', bird: 'BGP', 'bird-binary': 'BGP',
  '/user': 'System settings', sysctl: 'System settings', 'vpn/wireguard/settings': 'System settings', '/ipv6/settings': 'System settings', 'wireguard/general': 'System settings',
  'vpn/wireguard/apply': 'Applying changes', 'interface/apply': 'Applying changes', 'routing/apply': 'Applying changes', 'firewall/apply': 'Applying changes',
  'opnsense/apply/wireguard': 'Applying changes', 'opnsense/apply/interfaces': 'Applying changes', 'opnsense/apply/firewall': 'Applying changes',
  'uci/apply': 'Applying changes', 'wireguard/runtime': 'Applying changes', 'file/leftovers': 'Applying changes',
};

export function groupOf(kind: string, props: Record<string, string> = {}): ResourceGroup {
  // Linux keeps NAT rules among its iptables items.
  if (kind === 'firewall' && props.table === 'nat') return 'NAT rules';
  // OpenWrt reads every network interface (lan, wan…); only `proto wireguard` ones are tunnels.
  if (kind === 'network/interface' && props.proto !== undefined && props.proto !== 'wireguard') return 'Interfaces';
  return GROUP_OF_KIND[kind] ?? 'Other';
}

/** The key's parts after the WAN id: "wan1:peer:abc" → ["peer", "abc"]. */
function keyParts(key: string | null, names: ResourceNames): string[] {
  if (key === null) return [];
  const parts = key.split(':');
  return parts[0] === names.wanId || (parts[0] !== undefined && /^c[a-z0-9]{20,}$/.test(parts[0]) && parts.length > 1 && !findPeer(names, parts[0])) ? parts.slice(1) : parts;
}

const first = (props: Record<string, string>, ...names: string[]) => names.map((name) => props[name]).find((value) => value !== undefined && value !== '');

/** A route's "to <destination>", with whose LAN or tunnel address it is, and the peer it goes through. */
function routeLabel(names: ResourceNames, destination: string, gateway: string | undefined, managed = true): string {
  const owner = ownerOf(names, destination);
  // Someone else's route goes wherever its gateway says, not where the overlay's would.
  const via = managed ? findPeer(names, names.routeVia.get(destination)) ?? (gateway ? ownerOf(names, gateway)?.peer : undefined) ?? owner?.peer : undefined;
  const whose = owner ? (owner.what === 'lan' ? ` (LAN of ${owner.peer.name})` : ` (${owner.peer.name}'s tunnel address)`) : '';
  return `route to ${destination}${whose}${via ? ` via ${via.name}` : ''}`;
}

interface RuleShape {
  chain: string;
  protocol?: string;
  port?: string;
  inInterface?: string;
  outInterface?: string;
}

function filterLabel(rule: RuleShape): string {
  const protocol = rule.protocol?.toUpperCase();
  if (/^input$/i.test(rule.chain) && protocol === 'TCP' && rule.port === '179') return 'accept BGP on TCP 179';
  if (/^input$/i.test(rule.chain) && protocol === 'UDP' && rule.port === '3784') return 'accept BFD on UDP 3784';
  if (/^input$/i.test(rule.chain) && protocol === 'UDP' && rule.port) return `accept WireGuard on UDP ${rule.port}`;
  if (/^input$/i.test(rule.chain)) return `accept ${protocol ?? 'traffic'}${rule.port ? ` ${rule.port}` : ''} to this device`;
  if (rule.inInterface) return `forward traffic leaving the tunnel ${rule.inInterface}`;
  if (rule.outInterface) return `forward traffic entering the tunnel ${rule.outInterface}`;
  return `accept ${rule.chain} traffic`;
}

/**
 * pfSense/OPNsense "rule:wan-udp-<port>", "rule:overlay-in"; OpenWrt (fw4 matches the tunnel
 * device) "rule:input-udp-<port>", "rule:overlay-in:<device>", "rule:forward-in|out:<device>".
 * A rule read without a key is told by its fields: to the device itself when its destination
 * is "(self)" (pfSense/OPNsense) or it has no `dest` zone (fw4).
 */
function ruleLabel(parts: string[], props: Record<string, string>): string {
  const name = parts[0] === 'rule' ? parts[1] ?? '' : '';
  const device = parts[2] ?? first(props, 'device');
  if (name === 'overlay-in') return `accept traffic from the tunnel${device ? ` ${device}` : ''}`;
  const fw4 = props.target !== undefined;
  const toSelf = /^(wan|input)-udp/.test(name) || props.destination === '(self)' || props.destination_net === '(self)' || (fw4 && !first(props, 'dest'));
  const direction = name.match(/^forward-(in|out)$/)?.[1] ?? (fw4 ? props.direction : undefined);
  return filterLabel({
    chain: toSelf ? 'input' : 'forward', protocol: first(props, 'protocol', 'proto') ?? (/udp/.test(name) ? 'udp' : undefined), port: first(props, 'destination_port', 'dest_port') ?? name.match(/(\d+)$/)?.[1],
    inInterface: direction === 'in' ? device : undefined, outInterface: direction === 'out' ? device : undefined,
  });
}

/** Linux: a rule's iptables arguments as a shape, and the target's "--to" values. */
function iptablesShape(props: Record<string, string>): RuleShape & { target?: string; to?: string; src?: string; dst?: string } {
  let args: string[] = [];
  try {
    const parsed = JSON.parse(props.args ?? '[]') as unknown;
    if (Array.isArray(parsed)) args = parsed.map(String);
  } catch {
    args = [];
  }
  const after = (flag: string) => { const index = args.indexOf(flag); return index === -1 ? undefined : args[index + 1]; };
  return {
    chain: (props.chain ?? '').toLowerCase(), protocol: after('-p'), port: after('--dport'), inInterface: after('-i'), outInterface: after('-o'),
    target: after('-j'), to: after('--to') ?? after('--to-destination'), src: after('-s'), dst: after('-d'),
  };
}

function natLabel(names: ResourceNames, nat: { direction: 'in' | 'out'; translated: string; real: string }): string {
  const owner = ownerOf(names, nat.translated)?.peer ?? names.self;
  return nat.direction === 'in'
    ? `map ${nat.translated} onto the real LAN ${nat.real} of ${owner.name} (incoming)`
    : `map the real LAN ${nat.real} of ${owner.name} to ${nat.translated} (outgoing)`;
}

function forwardLabel(protocol: string | undefined, serviceIp: string | undefined, servicePort: string | undefined, target: string | undefined, localPort: string | undefined): string {
  return `publish ${(protocol ?? 'tcp').toUpperCase()} ${serviceIp ?? '?'}:${servicePort ?? '?'} to ${target ?? '?'}:${localPort ?? '?'}`;
}

/** OpenWrt's nftables include: its spec ("netmap <device> <translated> <real>; service <device> …") says what it holds. */
function includeLabel(key: string | null, props: Record<string, string>): string {
  const spec = props.netmap ?? '';
  if (key === null && spec === '') return `firewall include ${first(props, 'path') ?? ''}`.trim();
  const holds = [/(^|; )netmap /.test(spec) ? 'translated LANs' : '', /(^|; )service /.test(spec) ? 'published services' : ''].filter(Boolean).join(' and ');
  const device = spec.match(/^\S+ (\S+)/)?.[1];
  return `NAT for ${holds || 'translated LANs'}${device ? ` on ${device}` : ''}`;
}

/**
 * What a resource is, in a few words: `props` are what is known of it (desired or read, an
 * update's values before and after merged). Never contains an id, a secret or a tag.
 */
export function labelResource(names: ResourceNames, kind: string, key: string | null, props: Record<string, string>): string {
  // A rule without addresses exists once per family: the IPv6 twin says so.
  const ipv6Rule = (kind.startsWith('/ipv6/firewall/') && !kind.endsWith('address-list')) || (kind === 'firewall' && props.family === '6');
  // A pending-apply marker is the device's state, nobody's resource.
  const unmanaged = key === null && groupOf(kind, props) !== 'Applying changes';
  return withoutIds(rawLabel(names, kind, key, props), names) + (ipv6Rule ? ' (IPv6)' : '') + (unmanaged ? ' (not managed by Meshplane)' : '');
}

function rawLabel(names: ResourceNames, kind: string, key: string | null, props: Record<string, string>): string {
  const parts = keyParts(key, names);
  const group = groupOf(kind, props);
  const tail = parts.at(-1) ?? '';
  switch (group) {
    case 'WireGuard interfaces': {
      // An OPNsense instance's `name` is its tag: the key's last part is the interface name, or a hash of a long one.
      const tagged = kind === 'wireguard/server' && key !== null;
      const name = (tagged ? (/^h[0-9a-f]{12}$/.test(tail) ? names.interfaceName : tail) : first(props, 'name'))
        ?? (kind === 'link' ? key : parts[0] === 'interface' || parts[0] === 'iface' ? parts[1] ?? names.interfaceName : tail) ?? names.interfaceName;
      return `WireGuard interface ${name}`;
    }
    case 'WireGuard peers': {
      // RouterOS/pfSense/OPNsense: "peer:<peerId>" (OPNsense: a hash of a long one); OpenWrt:
      // "peer:<ifname>/<peerId>"; Linux: "<ifname>/<public key>".
      const slash = key?.indexOf('/') ?? -1;
      const token = kind === 'wg-peer' && key !== null && slash > 0 ? key.slice(slash + 1) : parts[parts.indexOf('peer') + 1]?.split('/').at(-1);
      const peer = findPeer(names, token) ?? findPeer(names, first(props, 'public-key', 'publickey', 'pubkey', 'public_key'));
      if (peer) return peerLabel(peer);
      const allowed = first(props, 'allowed-address', 'allowedips', 'allowed-ips', 'tunneladdress', 'allowed_ips')?.split(',')[0];
      return `a peer no longer in the WAN${allowed ? ` (${allowed})` : ''}`;
    }
    case 'Interfaces':
      if (kind === 'network/interface') return `interface ${first(props, 'name') ?? tail}`;
      return `interface assignment of the tunnel ${tail || first(props, 'descr') || ''}`.trim();
    case 'Addresses': {
      if (kind === 'address' && key !== null) {
        const [ifname, ...rest] = key.split('/');
        const item = rest.join('/');
        return `address ${item.replace(/ peer .*/, '')} on ${ifname}${item.includes(' peer ') ? ` (point-to-point to ${item.replace(/.* peer /, '')})` : ''}`;
      }
      const address = first(props, 'address') ?? tail;
      return `address ${address}${props.interface ? ` on ${props.interface}` : ''}`;
    }
    case 'Routes':
      return routesLabel(names, kind, parts, key, props);
    case 'Firewall rules': {
      if (kind === 'firewall') return filterLabel(iptablesShape(props));
      if (kind === 'firewall/rule' || kind === 'firewall/filter') return ruleLabel(parts, props);
      const rule = parts.slice(1).join(':');
      return filterLabel({
        chain: first(props, 'chain') ?? rule.split('-')[0] ?? '', protocol: first(props, 'protocol') ?? rule.match(/-(udp|tcp)/)?.[1], port: first(props, 'dst-port') ?? rule.match(/-(udp|tcp)-(\d+)/)?.[2],
        inInterface: first(props, 'in-interface') ?? (/-in(-|$)/.test(rule) ? 'of this peer' : undefined), outInterface: first(props, 'out-interface') ?? (/-out(-|$)/.test(rule) ? 'of this peer' : undefined),
      });
    }
    case 'NAT rules':
      return natRuleLabel(names, kind, parts, key, props);
    case 'BGP':
      return bgpLabel(names, kind, parts, key, props);
    case 'System settings': {
      if (kind === 'wireguard/general') return 'WireGuard service';
      if (kind === 'sysctl') return key === 'net.ipv4.ip_forward' ? `IPv4 forwarding (${key})` : /ipv6.*forwarding/.test(key ?? '') ? `IPv6 forwarding (${key})` : `kernel setting ${key ?? ''}`;
      if (kind === '/user') return `user ${first(props, 'name') ?? tail}`;
      return kind === 'vpn/wireguard/settings' ? 'WireGuard service' : `setting ${tail || kind}`;
    }
    case 'Applying changes':
      if (kind === 'uci/apply') return 'confirm the pending UCI changes';
      if (kind === 'file/leftovers') return 'remove the files an interrupted run left';
      if (kind === 'wireguard/runtime') return `bring the running WireGuard peers${first(props, 'differs') ? ` of ${props.differs!.split(',').join(', ')}` : ''} in line with the configuration`;
      return `apply the pending ${kind.startsWith('opnsense/apply/') ? kind.slice('opnsense/apply/'.length) : tail || kind.split('/')[0]} changes`;
    default:
      return `${kind} ${parts.join(' ')}`.trim();
  }
}

function routesLabel(names: ResourceNames, kind: string, parts: string[], key: string | null, props: Record<string, string>): string {
  if (kind === 'routing/gateway' || kind === 'routing/gateway/group') {
    const peer = findPeer(names, parts[1]);
    const family = parts[2] === 'inet6' ? ' (IPv6)' : '';
    if (kind === 'routing/gateway/group') return `gateway group ${peer?.name ?? parts.slice(1).join(' ')}`;
    return peer ? `gateway to ${peer.name} (${first(props, 'gateway') ?? peer.addresses[0] ?? ''})${family}` : `gateway ${first(props, 'gateway') ?? ''}`.trim();
  }
  if (kind === 'route') return routeLabel(names, key ?? '', undefined);
  const destination = first(props, 'dst-address', 'network', 'target') ?? parts.at(-1) ?? '';
  if (props.blackhole === 'yes' || (parts[1] === 'originate')) return `anchor for announcing ${destination} over BGP`;
  const hub = parts[1]?.match(/^hub(\d+)$/);
  if (hub) return `${routeLabel(names, destination, first(props, 'gateway'))} (hub ${hub[1]} path)`;
  return routeLabel(names, destination, first(props, 'gateway'), key !== null);
}

function natRuleLabel(names: ResourceNames, kind: string, parts: string[], key: string | null, props: Record<string, string>): string {
  if (kind === 'firewall') {
    const rule = iptablesShape(props);
    if (rule.target === 'DNAT') return forwardLabel(rule.protocol, rule.dst?.split('/')[0], rule.port, rule.to?.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''), rule.to?.match(/:(\d+)$/)?.[1]);
    return rule.chain === 'prerouting'
      ? natLabel(names, { direction: 'in', translated: rule.dst ?? '', real: rule.to ?? '' })
      : natLabel(names, { direction: 'out', translated: rule.to ?? '', real: rule.src ?? '' });
  }
  // pfSense and OPNsense 1:1 NAT, OPNsense NPTv6: "nat:<translated>" / "npt:<translated>".
  if (kind === 'firewall/nat/one_to_one/mapping' || kind === 'firewall/one_to_one' || kind === 'firewall/npt') {
    const translated = parts.slice(1).join(':') || first(props, 'external', 'destination_net') || '';
    return natLabel(names, { direction: 'in', translated, real: first(props, 'source', 'source_net') ?? '' }).replace(' (incoming)', ' (both ways)');
  }
  if (kind === 'firewall/include') return includeLabel(key, props);
  if (kind === 'firewall/nat/port_forward') return forwardLabel(first(props, 'protocol'), first(props, 'destination'), first(props, 'destination_port'), first(props, 'target'), first(props, 'local_port'));
  // RouterOS: "nat:netmap-in:<translated>", "nat:netmap-out:<translated>", "nat:service:<proto>:<ip>:<port>".
  const rest = parts.slice(1);
  const index = rest.findIndex((part) => part === 'netmap-in' || part === 'netmap-out' || part === 'service');
  const what = rest[index];
  if (what === 'service') return forwardLabel(props.protocol ?? rest[index + 1], props['dst-address'] ?? rest[index + 2], props['dst-port'] ?? rest[index + 3], first(props, 'to-addresses', 'to-address'), props['to-ports']);
  const translated = rest.slice(index + 1).join(':');
  const target = first(props, 'to-addresses', 'to-address') ?? '';
  if (what === 'netmap-in') return natLabel(names, { direction: 'in', translated, real: target });
  if (what === 'netmap-out') return natLabel(names, { direction: 'out', translated, real: first(props, 'src-address') ?? '' });
  return `NAT rule ${rest.join(' ')}`;
}

function bgpLabel(names: ResourceNames, kind: string, parts: string[], key: string | null, props: Record<string, string>): string {
  if (kind === 'bird') return 'BIRD routing daemon (its configuration and whether it runs)';
  if (kind === 'bird-binary') return 'BIRD installed';
  const what = parts[0];
  const rest = parts.slice(1).join(':');
  if (what === 'bgp') {
    const address = first(props, 'remote.address') ?? rest;
    const peer = ownerOf(names, address)?.peer;
    return `BGP session with ${peer ? `${peer.name} (${bare(address)})` : bare(address)}`;
  }
  if (what === 'bfd') return 'BFD on the tunnels';
  if (what === 'routing-filter') {
    if (/^out6?$/.test(rest)) return `BGP export filter${rest.endsWith('6') ? ' (IPv6)' : ''}`;
    return `BGP import filter, preference ${rest.replace(/^in6?-/, '')}${rest.startsWith('in6') ? ' (IPv6)' : ''}`;
  }
  if (what === 'address-list') {
    const [list, ...cidr] = parts.slice(1);
    const prefix = cidr.join(':');
    if (list === 'pinned') {
      const peer = ownerOf(names, prefix)?.peer;
      return `neighbour address ${prefix}${peer ? ` of ${peer.name}` : ''} accepted only from that neighbour`;
    }
    return `announce ${prefix} over BGP`;
  }
  return `${kind} ${parts.join(' ')}`.trim();
}

/** How a value is shown in a field row: secrets masked, nothing in words. */
export type FieldSide = 'before' | 'after';

const NONE = new Set(['', '(none)', 'none', 'fp:', 'pub:']);

/**
 * A field's value as a reader sees it. A secret shows THAT it is set: "‹secret›" on the device
 * (none read: "not readable", since devices hide the secrets they hold; an explicit none:
 * "absent"), "new secret" when it will be written. An empty value is "absent".
 */
export function shownField(prop: string, value: string | undefined, side: FieldSide, names: ResourceNames): string {
  const text = value ?? '';
  if (isSecretProp(prop)) {
    if (side === 'after') return NONE.has(text.trim()) ? 'absent' : 'new secret';
    if (text.trim() === '') return 'not readable';
    return NONE.has(text.trim()) ? 'absent' : '‹secret›';
  }
  if (text === '') return 'absent';
  return shownReference(text, names);
}

/**
 * pfSense and OPNsense refer to other managed objects by their tag ("@meshplane:<wan>:tunnel:wg0"
 * shown as "tunnel wg0"), OPNsense to its instances and peers by their name tag
 * ("@meshplane.<wan>.i.wg0", "tunnel wg0").
 */
function shownReference(text: string, names: ResourceNames): string {
  const reference = text.match(/^@[^:]+:[^:]+:([^:]+):(.+)$/);
  if (reference) return withoutIds(`${reference[1]} ${reference[2]}`, names);
  const named = text.match(/^@[^.]+\.[^.]+\.([ip])\.(.+)$/);
  if (named) return withoutIds(`${named[1] === 'i' ? 'tunnel' : 'peer'} ${named[2]}`, names);
  return withoutIds(text, names);
}

/** Properties that only carry Meshplane's tag: shown nowhere (they are the keys, ids included). */
const TAG_PROPS = new Set(['comment', 'descr']);

/** A value that is Meshplane's tag, wherever a device keeps it: "<prefix>:<wan>:…" (OPNsense names: "<prefix>.<wan>.…"). */
function isTag(value: string, names: ResourceNames): boolean {
  const at = value.indexOf(names.wanId);
  return at > 0 && !value.startsWith('@') && /^[^\s/@]+[:.]$/.test(value.slice(0, at)) && /^[:.]/.test(value.slice(at + names.wanId.length));
}

export interface FieldChange {
  field: string;
  /** Null on a create (nothing before). */
  before: string | null;
  after: string | null;
}

export type PlanAction = 'create' | 'update' | 'remove';

export interface PlanItem {
  action: PlanAction;
  group: ResourceGroup;
  label: string;
  /** Update: one row per changed field; create: the values written. Secrets masked. */
  fields: FieldChange[];
  reason: string | null;
}

export interface PlanGroup {
  group: ResourceGroup;
  create: number;
  update: number;
  remove: number;
  items: PlanItem[];
}

export interface ReadablePlan {
  /** "2 to create, 1 to update, 1 to remove" (or "nothing to change"). */
  summary: string;
  create: number;
  update: number;
  remove: number;
  groups: PlanGroup[];
}

const ACTION: Record<PlanOperation['op'], PlanAction> = { create: 'create', update: 'update', delete: 'remove' };

/** One plan operation named and, for updates, broken into before → after rows. */
export function readableOperation(operation: PlanOperation, names: ResourceNames): PlanItem {
  const props = operation.op === 'update' ? { ...updateContext.get(operation), ...operation.before, ...operation.changes } : operation.props;
  const label = labelResource(names, operation.kind, operation.key, props);
  const fields: FieldChange[] = operation.op === 'update'
    ? Object.entries(operation.changes).map(([field, value]) => ({ field, before: shownField(field, operation.before[field], 'before', names), after: shownField(field, value, 'after', names) }))
    : operation.op === 'create'
      ? Object.entries(operation.props).filter(([field, value]) => !TAG_PROPS.has(field) && !isTag(value, names)).map(([field, value]) => ({ field, before: null, after: shownField(field, value, 'after', names) }))
      : [];
  return { action: ACTION[operation.op], group: groupOf(operation.kind, props), label, fields, reason: operation.op === 'update' && operation.reason ? withoutIds(operation.reason, names) : null };
}

export function countsSummary(counts: { create: number; update: number; remove: number }): string {
  const parts = [[counts.create, 'to create'], [counts.update, 'to update'], [counts.remove, 'to remove']].filter(([count]) => (count as number) > 0).map(([count, what]) => `${count} ${what}`);
  return parts.length === 0 ? 'nothing to change' : parts.join(', ');
}

/** A plan grouped by resource kind (groups in RESOURCE_GROUPS order, items in plan order) with counts. */
export function readablePlan(plan: Plan, names: ResourceNames): ReadablePlan {
  const groups = new Map<ResourceGroup, PlanGroup>();
  for (const operation of plan.operations) {
    const item = readableOperation(operation, names);
    const group = groups.get(item.group) ?? { group: item.group, create: 0, update: 0, remove: 0, items: [] };
    group[item.action]++;
    group.items.push(item);
    groups.set(item.group, group);
  }
  const ordered = RESOURCE_GROUPS.flatMap((name) => (groups.has(name) ? [groups.get(name)!] : []));
  const total = (action: PlanAction) => ordered.reduce((sum, group) => sum + group[action], 0);
  const counts = { create: total('create'), update: total('update'), remove: total('remove') };
  return { summary: countsSummary(counts), ...counts, groups: ordered };
}

/** One line per operation for a job log: "+ create peer laptop (10.0.0.3)", "~ update …: endpoint absent → b.example.net". */
export function namedPlanLines(plan: Plan, names: ResourceNames): string[] {
  return plan.operations.map((operation) => namedOperationLine(operation, names));
}

export function namedOperationLine(operation: PlanOperation, names: ResourceNames): string {
  const item = readableOperation(operation, names);
  if (item.action === 'create') return `+ create ${item.label}`;
  if (item.action === 'remove') return `- remove ${item.label}`;
  const rows = item.fields.map((row) => `${row.field} ${row.before} → ${row.after}`).join(', ');
  return `~ update ${item.label}: ${rows}${item.reason ? ` (${item.reason})` : ''}`;
}

/** What a preflight issue is about, as a driver reports it ("<kind> <device id>" or already in words). */
export interface IssueSubject {
  resource: string;
  message: string;
}

/**
 * A preflight issue in the overlay's words: a subject that is a resource read from the device
 * ("/ip/route *80000002") becomes its label ("route to 192.168.10.0/24 (not managed by
 * Meshplane)"), with the device's own reference kept apart as `deviceRef` for finding it there;
 * a subject the driver already put in words stays. Ids in either text become names.
 */
export function namedIssue<T extends IssueSubject>(issue: T, actual: readonly ActualResource[], names: ResourceNames): T & { deviceRef: string | null } {
  const subject = actual.find((item) => `${item.kind} ${item.id}` === issue.resource);
  const message = withoutIds(issue.message, names);
  if (!subject) return { ...issue, resource: withoutIds(issue.resource, names), message, deviceRef: null };
  return { ...issue, resource: labelResource(names, subject.kind, subject.key, subject.props), message, deviceRef: issue.resource };
}
