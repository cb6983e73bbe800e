// Pure: what one compiled peer looks like on a pfSense firewall. The tunnel is always
// assigned as an interface (pfSense adds no kernel routes for allowed IPs, and rules,
// gateways and 1:1 NAT all need an interface to hang on), so its address lives on the
// interface and the tunnel's own address list stays empty.
import type { DesiredResource } from '../../domain/plan.js';
import { familyOfValue, interfacesOf, type CompiledInterface, type CompiledRoute } from '../../domain/compiled.js';
import { formatAddress, overlaps, parseCidr, tryParseCidr, type IpFamily, type IpRange } from '../../domain/ip.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import { joinCidrs } from './codec.js';
import { KIND } from './kinds.js';
import { splitEndpoint, tunnelAddress6 } from '../shared/endpoints.js';

export { serviceAddresses, splitEndpoint, tunnelAddress6, type Endpoint } from '../shared/endpoints.js';
import { filterName, formatKey, hashedName, interfaceIdRef, peerDescr, ref, tagOf, type ManagedType } from './tags.js';

/** pfSense's ipprotocol for one family. */
export function ipProtocol(family: IpFamily): 'inet' | 'inet6' {
  return family === 6 ? 'inet6' : 'inet';
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

/** pfSense's own monitoring of a gateway, as a single-hub WAN leaves it (and a revert puts it back). */
const DEFAULT_MONITOR = {
  monitor: '', monitor_disable: 'false', interval: '500', loss_interval: '2000', time_period: '60000', alert_interval: '1000',
  latencylow: '200', latencyhigh: '500', losslow: '10', losshigh: '20',
} as const;

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
    return `${peer.name} is a hub of a WAN with redundant hubs: hubs route by BGP, and pfSense's REST API cannot configure FRR/BGP. Use a Linux or RouterOS device for hubs (pfSense cannot be a spoke of redundant hubs either: pfrest refuses its tunnel address on a second interface)`;
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

  const ifname = peer.interface.name;
  const tunnelTag = names.tag('tunnel', ifname);
  const tunnel: Record<string, string> = { mtu: String(peer.interface.mtu), enabled: 'true', addresses: '' };
  if (peer.interface.listenPort !== null) tunnel.listenport = String(peer.interface.listenPort);
  // With the private key known, it is compared through its public key (pfSense never echoes it).
  if (peer.interface.privateKey !== null) tunnel.privatekey = peer.interface.privateKey;
  else tunnel.publickey = peer.interface.publicKey;
  add(KIND.tunnel, 'tunnel', ifname, tunnel);

  for (const remote of peer.peers) {
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

  const [address = '', prefixLength = ''] = (peer.interface.addresses[0] ?? '').split('/');
  // A dual-stack interface carries its IPv6 tunnel address too, and its address-less
  // rules (listen port, overlay in) pass both families.
  const address6 = tunnelAddress6(peer.interface);
  const [ipaddrv6 = '', subnetv6 = ''] = (address6 ?? '').split('/');
  add(KIND.iface, 'iface', ifname, {
    descr: interfaceDescr(ifname), if: ref(tunnelTag), enable: 'true', typev4: 'static', ipaddr: address, subnet: prefixLength,
    ...(address6 === null ? { typev6: 'none' } : { typev6: 'staticv6', ipaddrv6, subnetv6 }),
  });
  const ipprotocol = address6 === null ? 'inet' : 'inet46';

  addStaticRoutes(desired, names, add, ifaceRefOf);
  // Rules follow the routing items, as the plan orders them.
  for (const rule of peer.firewall) {
    if (rule.chain !== 'input' || rule.protocol !== 'udp' || rule.dstPort === undefined) continue;
    add(KIND.rule, 'rule', `wan-udp-${rule.dstPort}`, {
      type: 'pass', interface: interfaceIdRef('wan'), ipprotocol, protocol: 'udp', source: 'any', destination: '(self)',
      destination_port: String(rule.dstPort), disabled: 'false',
    });
  }
  // Traffic arriving from the tunnel: pfSense blocks it on an assigned interface without a
  // rule. WireGuard's cryptokey routing already limits sources to the peers' allowed IPs.
  add(KIND.rule, 'rule', 'overlay-in', {
    type: 'pass', interface: ifaceRefOf(ifname), ipprotocol, protocol: '', source: 'any', destination: 'any', destination_port: '', disabled: 'false',
  });

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
