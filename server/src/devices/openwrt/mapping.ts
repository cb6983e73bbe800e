// Pure: what one compiled peer looks like on an OpenWrt router. The tunnel is a netifd
// `proto wireguard` interface named after the WAN's interface, its remotes `wireguard_<if>`
// sections, routed prefixes `route`/`route6` sections through it. There is no firewall zone:
// fw4 rules match the tunnel device itself (`device` + `direction`, `proto all`, since fw4's
// default `tcpudp` would miss ICMP), which avoids "interface already in zone lan" conflicts.
// NETMAP and published services go into one nftables include (netmap-nft.ts).
import type { DesiredResource } from '../../domain/plan.js';
import { familyOfValue, interfacesOf } from '../../domain/compiled.js';
import { safeEndpoint, safeKey } from '../../domain/render/safe-values.js';
import { canonicalCidr, tryParseCidr } from '../../domain/ip.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { SecretStore } from '../shared/secrets.js';
import { KIND } from './kinds.js';
import { includePath, naming, uciInterfaceName, type Naming } from './names.js';
import { renderInclude, specText, type NatSpec } from './netmap-nft.js';

/** A UCI list as plan props hold it: sorted, comma-joined. */
export function joinList(values: readonly string[]): string {
  return [...values].sort().join(',');
}

export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(',').filter(Boolean);
}

/**
 * Why this peer cannot be deployed to OpenWrt, or null. A WAN with redundant hubs needs BGP
 * (hubs) or a gateway monitor choosing among hub tunnels (spokes); neither is reachable
 * through ubus, so both roles are refused like on pfSense.
 */
export function redundancyRefusal(desired: DesiredDeviceState): string | null {
  const { peer } = desired;
  if (!peer.routing && (peer.links?.length ?? 0) === 0) return null;
  if (peer.role === 'HUB') {
    return `${peer.name} is a hub of a WAN with redundant hubs: hubs route by BGP, which Meshplane does not configure on OpenWrt (no BGP daemon through ubus). Use a Linux or RouterOS device for hubs`;
  }
  return `${peer.name} is a spoke of a WAN with redundant hubs: failing over between hub tunnels needs BGP or a gateway monitor, neither of which Meshplane configures on OpenWrt. Use a Linux or RouterOS device for this spoke, or turn hub redundancy off for the WAN`;
}

/** The nat spec of a peer: its NETMAPs and published services, all on the tunnel device. */
export function natSpec(desired: DesiredDeviceState): NatSpec {
  const ifname = uciInterfaceName(desired.peer.interface.name);
  return {
    netmaps: desired.peer.nat.map((netmap) => ({ ifname, translated: netmap.translated, real: netmap.real })),
    services: desired.peer.services.map((service) => ({
      ifname, protocol: service.protocol, serviceIp: service.serviceIp, servicePort: service.servicePort, localIp: service.localIp, localPort: service.localPort,
    })),
  };
}

/** Addresses and prefixes as written (an interface address keeps its host bits), each checked. */
function cidrs(values: readonly string[]): string {
  for (const value of values) {
    if (tryParseCidr(value) === null) throw new DeviceError('REFUSED', `${value.slice(0, 64)} is not an address with a prefix length`);
  }
  return joinList(values);
}

function rules(desired: DesiredDeviceState, names: Naming, ifname: string): DesiredResource[] {
  const rule = (name: string, props: Record<string, string>): DesiredResource => ({
    kind: KIND.rule, key: names.key('rule', name),
    props: { name: names.tag('rule', name), src: '*', dest: '', device: '', direction: '', proto: 'all', dest_port: '', target: 'ACCEPT', enabled: '1', ...props },
  });
  const resources: DesiredResource[] = [];
  for (const compiled of desired.peer.firewall) {
    if (compiled.chain !== 'input' || compiled.protocol !== 'udp' || compiled.dstPort === undefined) continue;
    resources.push(rule(`input-udp-${compiled.dstPort}`, { proto: 'udp', dest_port: String(compiled.dstPort) }));
  }
  // Traffic from the tunnel to the router itself (fw4's input policy is REJECT on wan).
  resources.push(rule(`overlay-in:${ifname}`, { device: ifname, direction: 'in' }));
  if (desired.peer.forwarding) {
    resources.push(rule(`forward-in:${ifname}`, { dest: '*', device: ifname, direction: 'in' }));
    resources.push(rule(`forward-out:${ifname}`, { dest: '*', device: ifname, direction: 'out' }));
  }
  return resources;
}

export function desiredOpenWrtResources(desired: DesiredDeviceState, secrets: SecretStore): DesiredResource[] {
  const refusal = redundancyRefusal(desired);
  if (refusal !== null) throw new DeviceError('REFUSED', refusal);
  const names = naming(desired.commentPrefix, desired.overlay.wan.id);
  const { peer } = desired;
  const own = interfacesOf(peer)[0]!.interface;
  const ifname = uciInterfaceName(own.name);
  const resources: DesiredResource[] = [];

  const iface: Record<string, string> = {
    mp_tag: names.tag('iface', own.name), name: ifname, proto: 'wireguard', listen_port: own.listenPort === null ? '' : String(own.listenPort),
    addresses: cidrs(own.addresses), mtu: String(own.mtu), disabled: '0',
  };
  if (own.privateKey !== null) iface.private_key = secrets.remember(safeKey(own.privateKey));
  resources.push({ kind: KIND.iface, key: names.key('iface', own.name), props: iface });

  for (const remote of peer.peers) {
    const endpoint = remote.endpoint === null ? null : safeEndpoint(remote.endpoint);
    const name = `${ifname}/${remote.peerId}`;
    resources.push({
      kind: KIND.peer, key: names.key('peer', name),
      props: {
        mp_tag: names.tag('peer', name), interface: ifname, public_key: safeKey(remote.publicKey),
        preshared_key: remote.presharedKey === null ? '' : secrets.remember(safeKey(remote.presharedKey)),
        allowed_ips: cidrs(remote.allowedIps), endpoint_host: endpoint?.host ?? '', endpoint_port: endpoint === null ? '' : String(endpoint.port),
        persistent_keepalive: remote.persistentKeepalive === null ? '' : String(remote.persistentKeepalive), route_allowed_ips: '0',
        description: remote.name.replace(/[^\x20-\x7e]/g, '_').slice(0, 64),
      },
    });
  }

  for (const route of peer.routes) {
    const target = canonicalCidr(route.destination);
    if (target === null) throw new DeviceError('REFUSED', `route destination ${route.destination} is not a prefix`);
    resources.push({
      kind: familyOfValue(target) === 6 ? KIND.route6 : KIND.route, key: names.key('route', target),
      props: { mp_tag: names.tag('route', target), interface: ifname, target },
    });
  }

  resources.push(...rules(desired, names, ifname));

  const spec = natSpec(desired);
  if (spec.netmaps.length > 0 || spec.services.length > 0) {
    const tag = names.tag('nat', ifname);
    const text = specText(spec);
    resources.push({
      kind: KIND.include, key: names.key('nat', ifname),
      props: { type: 'nftables', position: 'table-append', path: includePath(tag, renderInclude(tag, text)), netmap: text },
    });
  }
  return resources;
}
