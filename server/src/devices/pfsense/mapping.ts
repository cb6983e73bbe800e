// Pure: what one compiled peer looks like on a pfSense firewall. The tunnel is always
// assigned as an interface (pfSense adds no kernel routes for allowed IPs, and rules,
// gateways and 1:1 NAT all need an interface to hang on), so its address lives on the
// interface and the tunnel's own address list stays empty.
import type { DesiredResource } from '../../domain/plan.js';
import { familyOfValue, interfacesOf, type CompiledInterface, type CompiledRoute } from '../../domain/compiled.js';
import { familyOf, formatAddress, overlaps, parseCidr, tryParseAddress, tryParseCidr, type IpFamily, type IpRange } from '../../domain/ip.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import { joinCidrs, joinPriorities } from './codec.js';
import { KIND } from './kinds.js';
import { filterName, formatKey, hashedName, interfaceIdRef, peerDescr, ref, tagOf, type ManagedType } from './tags.js';

export interface Endpoint {
  host: string;
  port: string;
}

/** "host:port" or "[v6]:port" as the domain renders endpoints. */
export function splitEndpoint(endpoint: string): Endpoint {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] as string };
  const colon = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, colon), port: endpoint.slice(colon + 1) };
}

/** pfSense's ipprotocol for one family. */
export function ipProtocol(family: IpFamily): 'inet' | 'inet6' {
  return family === 6 ? 'inet6' : 'inet';
}

/**
 * A dual-stack interface's IPv6 tunnel address ("address/prefix"): the IPv6 entry right
 * after the IPv4 one, never a /128 (a service address). null on an IPv4-only interface.
 */
export function tunnelAddress6(iface: CompiledInterface): string | null {
  const second = iface.addresses[1];
  const range = second === undefined ? null : tryParseCidr(second);
  return range !== null && range.family === 6 && range.prefix < 128 ? (second as string) : null;
}

/** Addresses of the interface beyond its tunnel addresses: the services it publishes (/32, /128). */
export function serviceAddresses(iface: CompiledInterface): string[] {
  return iface.addresses.slice(tunnelAddress6(iface) === null ? 1 : 2);
}

/** The pfSense interface name (descr) Meshplane gives a tunnel's assignment. */
export function interfaceDescr(interfaceName: string): string {
  return filterName('MP_', interfaceName, 32);
}

export interface Naming {
  prefix: string;
  wanId: string;
  key(type: ManagedType, name: string): string;
  tag(type: ManagedType, name: string): string;
}

export function naming(desired: DesiredDeviceState): Naming {
  const prefix = desired.commentPrefix;
  const wanId = desired.overlay.wan.id;
  const key = (type: ManagedType, name: string) => formatKey({ wanId, type, name });
  return { prefix, wanId, key, tag: (type, name) => tagOf(prefix, key(type, name)) };
}

/**
 * dpinger settings for the hub gateways of a spoke with redundant hubs: a probe every 250 ms,
 * lost after 750 ms, loss averaged over the probes of the last 2.25 s older than that (6), and
 * the gateway down above 40 % loss: three probes in a row, so the third lost probe (sent 0.5 s
 * after the hub died) is counted at 1.25 s and seen by the next alert check (every 0.5 s):
 * about 1.25-1.75 s, while two lost probes alone (33 %) never fail over. pfrest requires
 * latencyhigh <= loss_interval, time_period > 2 x interval + loss_interval and
 * alert_interval > interval.
 */
export const HUB_MONITOR = {
  interval: 250, loss_interval: 750, time_period: 2250, alert_interval: 500, latencylow: 400, latencyhigh: 700, losslow: 20, losshigh: 40,
} as const;
/** pfSense's own monitoring of a gateway, as a single-hub WAN leaves it (and a revert puts it back). */
const DEFAULT_MONITOR = {
  monitor: '', monitor_disable: 'false', interval: '500', loss_interval: '2000', time_period: '60000', alert_interval: '1000',
  latencylow: '200', latencyhigh: '500', losslow: '10', losshigh: '20',
} as const;

/** pfSense gateway groups know five tiers; hubs ranked beyond share the last. */
export const MAX_TIER = 5;

/**
 * Why this peer cannot be deployed to pfSense, or null. With redundant hubs every hub runs
 * BGP and FRR is out of reach of the REST API; a spoke compiled for BGP (not marked as a
 * pfSense peer) would wait for sessions pfSense never opens; and a spoke's hub tunnels would
 * each need an interface with the same tunnel address, which pfSense refuses.
 */
export function redundancyRefusal(desired: DesiredDeviceState): string | null {
  const { peer } = desired;
  if (!peer.routing) return null;
  if (peer.role === 'HUB') {
    return `${peer.name} is a hub of a WAN with redundant hubs: hubs route by BGP, and pfSense's REST API cannot configure FRR/BGP. Use a Linux or RouterOS device for hubs; pfSense can be a spoke of this WAN (it fails over between hubs by gateway monitoring)`;
  }
  if (peer.routing.protocol !== 'gateway-monitor') {
    return `${peer.name} is compiled to run BGP, which pfSense's REST API cannot configure; bind the peer to this pfSense device so it fails over by gateway monitoring`;
  }
  const shared = sharedInterfaceAddresses(peer);
  if (shared.length > 0) {
    const addresses = shared.map((entry) => entry.address).join(' and ');
    const ids = shared.map((entry) => entry.responseId).join(', ');
    return `${peer.name} is a spoke of a WAN with redundant hubs: each of its ${interfacesOf(peer).length} hub tunnels needs its own assigned interface (a monitored gateway hangs on an interface with an address of its family) carrying its tunnel address ${addresses}, and pfSense refuses a static interface address that another interface already has or whose network overlaps another's (${ids}). Use a Linux or RouterOS device for this spoke, or turn hub redundancy off for the WAN`;
  }
  return null;
}

/**
 * The static addresses pfSense would refuse on an interface of this peer, one per family (the
 * first that overlaps an address of an earlier interface of the peer), IPv4 first. pfrest's
 * NetworkInterface::validate_ipaddr() and validate_ipaddrv6() call
 * where_is_ipaddr_configured($ip, $this->id, true, true, $prefix), which compares the network
 * with every other enabled interface of the saved config, so the refusal comes while the plan
 * is written, before any apply: with redundant hubs a spoke's every hub tunnel is an interface
 * with the spoke's own tunnel address(es) as host prefixes.
 */
function sharedInterfaceAddresses(peer: DesiredDeviceState['peer']): Array<{ address: string; responseId: string }> {
  const seen: IpRange[] = [];
  const shared: Array<{ address: string; responseId: string }> = [];
  for (const view of interfacesOf(peer)) {
    const mine: IpRange[] = [];
    for (const address of pfSenseInterfaceAddresses(view.interface)) {
      const range = tryParseCidr(address);
      if (range === null) continue;
      mine.push(range);
      if (shared.some((entry) => familyOfValue(entry.address) === range.family)) continue;
      if (seen.some((other) => other.family === range.family && overlaps(other, range))) {
        shared.push({ address, responseId: range.family === 6 ? 'INTERFACE_IPADDRV6_ALREADY_IN_USE' : 'INTERFACE_IPADDR_ALREADY_IN_USE' });
      }
    }
    seen.push(...mine);
  }
  return shared.sort((a, b) => familyOfValue(a.address) - familyOfValue(b.address));
}

/** The static addresses ("address/prefix") the assigned interface of one tunnel gets: IPv4 `ipaddr`, and `ipaddrv6` when dual-stack (a /128 on a point-to-point one). */
function pfSenseInterfaceAddresses(iface: CompiledInterface): string[] {
  const address6 = iface.peerAddress6 !== undefined ? iface.addresses[1] ?? null : tunnelAddress6(iface);
  return [iface.addresses[0] ?? '', ...(address6 === null ? [] : [address6])];
}

export function desiredPfSenseResources(desired: DesiredDeviceState): DesiredResource[] {
  const refusal = redundancyRefusal(desired);
  if (refusal !== null) throw new DeviceError('REFUSED', refusal);
  const { peer } = desired;
  const names = naming(desired);
  const resources: DesiredResource[] = [];
  const add = (kind: string, type: ManagedType, name: string, props: Record<string, string>) => {
    resources.push({ kind, key: names.key(type, name), props: { descr: names.tag(type, name), ...props } });
  };
  const ifaceRefOf = (ifname: string) => ref(names.tag('iface', ifname));
  // Rules follow the routing items, as the plan orders them.
  const rules: Array<Parameters<typeof add>> = [];

  // One tunnel, assigned interface and overlay rule per interface: a spoke with redundant
  // hubs has one per hub, everything else just its main one.
  for (const view of interfacesOf(peer)) {
    const ifname = view.interface.name;
    const tunnelTag = names.tag('tunnel', ifname);
    const tunnel: Record<string, string> = { mtu: String(view.interface.mtu), enabled: 'true', addresses: '' };
    const listenPort = view.interface.listenPort ?? linkListenPort(desired, ifname);
    if (listenPort !== null) tunnel.listenport = String(listenPort);
    // With the private key known, it is compared through its public key (pfSense never echoes it).
    if (view.interface.privateKey !== null) tunnel.privatekey = view.interface.privateKey;
    else tunnel.publickey = view.interface.publicKey;
    add(KIND.tunnel, 'tunnel', ifname, tunnel);

    for (const remote of view.peers) {
      const endpoint = remote.endpoint === null ? null : splitEndpoint(remote.endpoint);
      const presharedKey = remote.presharedKey ?? '';
      add(KIND.peer, 'peer', remote.peerId, {
        descr: peerDescr(names.tag('peer', remote.peerId), presharedKey),
        tun: ref(tunnelTag),
        publickey: remote.publicKey,
        endpoint: endpoint?.host ?? '',
        port: endpoint?.port ?? '',
        persistentkeepalive: remote.persistentKeepalive === null ? '' : String(remote.persistentKeepalive),
        enabled: 'true',
        allowedips: joinCidrs(remote.allowedIps),
        presharedkey: presharedKey,
      });
    }

    const [address = '', prefixLength = ''] = (view.interface.addresses[0] ?? '').split('/');
    // A dual-stack interface carries its IPv6 tunnel address too, and its address-less
    // rules (listen port, overlay in) pass both families.
    const address6 = tunnelAddress6(view.interface);
    const [ipaddrv6 = '', subnetv6 = ''] = (address6 ?? '').split('/');
    add(KIND.iface, 'iface', ifname, {
      descr: interfaceDescr(ifname), if: ref(tunnelTag), enable: 'true', typev4: 'static', ipaddr: address, subnet: prefixLength,
      ...(address6 === null ? { typev6: 'none' } : { typev6: 'staticv6', ipaddrv6, subnetv6 }),
    });
    const ipprotocol = address6 === null ? 'inet' : 'inet46';

    for (const rule of view.firewall) {
      if (rule.chain !== 'input' || rule.protocol !== 'udp' || rule.dstPort === undefined) continue;
      rules.push([KIND.rule, 'rule', `wan-udp-${rule.dstPort}`, {
        type: 'pass', interface: interfaceIdRef('wan'), ipprotocol, protocol: 'udp', source: 'any', destination: '(self)',
        destination_port: String(rule.dstPort), disabled: 'false',
      }]);
    }
    // Traffic arriving from the tunnel: pfSense blocks it on an assigned interface without a
    // rule. WireGuard's cryptokey routing already limits sources to the peers' allowed IPs.
    rules.push([KIND.rule, 'rule', ifname === peer.interface.name ? 'overlay-in' : `overlay-in:${ifname}`, {
      type: 'pass', interface: ifaceRefOf(ifname), ipprotocol, protocol: '', source: 'any', destination: 'any', destination_port: '', disabled: 'false',
    }]);
  }

  if (peer.routing) addHubFailover(desired, names, add, ifaceRefOf, rules);
  else addStaticRoutes(desired, names, add, ifaceRefOf);
  for (const rule of rules) add(...rule);

  // 1:1 NAT of the real prefix onto the translated one, host bits kept: NETMAP for IPv4,
  // NPTv6 for IPv6 (pfSense's REST API has no NPt endpoint; binat of a prefix is the same map).
  for (const netmap of peer.nat) {
    const translated = parseCidr(netmap.translated, 'translated');
    add(KIND.nat, 'nat', netmap.translated, {
      interface: ifaceRefOf(peer.interface.name), external: formatAddress(translated.start), source: netmap.real, destination: 'any',
      ipprotocol: ipProtocol(translated.family), disabled: 'false',
    });
  }
  // Published services: a port forward on the tunnel's interface per service, in its family.
  // The overlay-in rule passes the forwarded traffic (pfSense filters after the redirect).
  for (const service of peer.services) {
    add(KIND.forward, 'forward', `${service.protocol}:${service.servicePort}@${service.serviceIp}`, {
      interface: ifaceRefOf(peer.interface.name), ipprotocol: ipProtocol(familyOfValue(service.serviceIp)), protocol: service.protocol, source: 'any',
      destination: service.serviceIp, destination_port: String(service.servicePort), target: service.localIp, local_port: String(service.localPort), disabled: 'false',
    });
  }
  return resources;
}

/**
 * Every pfSense tunnel listens, on 51820 unless told, and no two on one port: a spoke's link
 * to hub j (which only dials out) listens on the main tunnel's port + j - 1.
 */
function linkListenPort({ peer, overlay }: DesiredDeviceState, ifname: string): number | null {
  const hub = ifname === peer.interface.name ? undefined : peer.routing?.neighbours.find((neighbour) => neighbour.interfaceName === ifname);
  if (!hub || hub.hubRank === null) return null;
  return (peer.interface.listenPort ?? overlay.wan.listenPort) + hub.hubRank - 1;
}

type Add = (kind: string, type: ManagedType, name: string, props: Record<string, string>) => void;

/**
 * One gateway per remote and family (its tunnel address of that family on our interface), and
 * each route through the gateway of its own family, as pfSense requires of a static route.
 */
function addStaticRoutes({ peer }: DesiredDeviceState, names: Naming, add: Add, ifaceRefOf: (ifname: string) => string): void {
  const gateways = new Map<string, string>();
  const gatewayKey = (route: CompiledRoute) => (familyOfValue(route.gatewayTunnelIp) === 4 ? route.via : `${route.via}:inet6`);
  for (const route of peer.routes) {
    const key = gatewayKey(route);
    if (gateways.has(key)) continue;
    const name = hashedName('MPGW_', names.tag('gateway', key));
    gateways.set(key, name);
    add(KIND.gateway, 'gateway', key, {
      name, interface: ifaceRefOf(peer.interface.name), ipprotocol: ipProtocol(familyOfValue(route.gatewayTunnelIp)), gateway: route.gatewayTunnelIp, disabled: 'false', ...DEFAULT_MONITOR,
    });
  }
  for (const route of peer.routes) {
    add(KIND.route, 'route', route.destination, { network: route.destination, gateway: gateways.get(gatewayKey(route)) as string, disabled: 'false' });
  }
}

/** The gateway group's name on the device (a filter name of at most 31 characters). */
export function groupName(names: Naming): string {
  return hashedName('MPGG_', names.tag('group', 'hubs'));
}

/**
 * A spoke with redundant hubs: one monitored gateway per hub tunnel (gateway and monitor =
 * the hub's tunnel IP, reached through that tunnel only), a gateway group ranking them by
 * hub (primary on tier 1), and the overlay prefixes routed through it. pfSense installs a
 * static route only through a single gateway (a group name finds no gateway IP and the route
 * is skipped), so the kernel routes go through the primary hub and the failover is policy
 * routing: a floating rule per LAN and overlay prefix sends LAN traffic to the group, which
 * leaves out a hub whose monitor is down.
 */
function addHubFailover({ peer }: DesiredDeviceState, names: Naming, add: Add, ifaceRefOf: (ifname: string) => string, rules: Array<Parameters<Add>>): void {
  const routing = peer.routing as NonNullable<typeof peer.routing>;
  const hubs = [...routing.neighbours].sort((a, b) => (a.hubRank ?? 0) - (b.hubRank ?? 0));
  const gatewayName = (peerId: string) => hashedName('MPGW_', names.tag('gateway', peerId));
  for (const hub of hubs) {
    add(KIND.gateway, 'gateway', hub.peerId, {
      name: gatewayName(hub.peerId), interface: ifaceRefOf(hub.interfaceName), ipprotocol: 'inet', gateway: hub.address, disabled: 'false',
      monitor: hub.address, monitor_disable: 'false', ...Object.fromEntries(Object.entries(HUB_MONITOR).map(([name, value]) => [name, String(value)])),
    });
  }
  const group = groupName(names);
  add(KIND.group, 'group', 'hubs', {
    name: group, trigger: 'down',
    priorities: joinPriorities(hubs.map((hub, rank) => ({ gateway: gatewayName(hub.peerId), tier: Math.min(hub.hubRank ?? rank + 1, MAX_TIER) }))),
  });
  const primary = hubs[0];
  const overlay = peer.peers[0]?.allowedIps ?? [];
  if (primary) {
    for (const prefix of overlay) add(KIND.route, 'route', prefix, { network: prefix, gateway: gatewayName(primary.peerId), disabled: 'false' });
  }
  const realLans = peer.lans.map((lan) => peer.nat.find((netmap) => netmap.translated === lan)?.real ?? lan);
  for (const lan of realLans) {
    for (const prefix of overlay) {
      rules.push([KIND.rule, 'rule', `failover:${lan}>${prefix}`, {
        type: 'pass', interface: 'any', ipprotocol: 'inet', protocol: '', source: lan, destination: prefix, destination_port: '', disabled: 'false',
        gateway: group, floating: 'true', quick: 'true', direction: 'in',
      }]);
    }
  }
}
