// Pure: what one compiled peer looks like on a pfSense firewall. The tunnel is always
// assigned as an interface (pfSense adds no kernel routes for allowed IPs, and rules,
// gateways and 1:1 NAT all need an interface to hang on), so its address lives on the
// interface and the tunnel's own address list stays empty.
import type { DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { joinCidrs } from './codec.js';
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

export function desiredPfSenseResources(desired: DesiredDeviceState): DesiredResource[] {
  const { peer } = desired;
  const names = naming(desired);
  const ifname = peer.interface.name;
  const tunnelTag = names.tag('tunnel', ifname);
  const ifaceRef = ref(names.tag('iface', ifname));
  const resources: DesiredResource[] = [];
  const add = (kind: string, type: ManagedType, name: string, props: Record<string, string>) => {
    resources.push({ kind, key: names.key(type, name), props: { descr: names.tag(type, name), ...props } });
  };

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
  add(KIND.iface, 'iface', ifname, {
    descr: interfaceDescr(ifname), if: ref(tunnelTag), enable: 'true', typev4: 'static', ipaddr: address, subnet: prefixLength, typev6: 'none',
  });

  const gateways = new Map<string, string>();
  for (const route of peer.routes) {
    if (gateways.has(route.via)) continue;
    const name = hashedName('MPGW_', names.tag('gateway', route.via));
    gateways.set(route.via, name);
    add(KIND.gateway, 'gateway', route.via, { name, interface: ifaceRef, ipprotocol: 'inet', gateway: route.gatewayTunnelIp, disabled: 'false' });
  }
  for (const route of peer.routes) {
    add(KIND.route, 'route', route.destination, { network: route.destination, gateway: gateways.get(route.via) as string, disabled: 'false' });
  }

  for (const rule of peer.firewall) {
    if (rule.chain !== 'input' || rule.protocol !== 'udp' || rule.dstPort === undefined) continue;
    add(KIND.rule, 'rule', `wan-udp-${rule.dstPort}`, {
      type: 'pass', interface: interfaceIdRef('wan'), ipprotocol: 'inet', protocol: 'udp', source: 'any', destination: '(self)',
      destination_port: String(rule.dstPort), disabled: 'false',
    });
  }
  // Traffic arriving from the tunnel: pfSense blocks it on an assigned interface without a
  // rule. WireGuard's cryptokey routing already limits sources to the peers' allowed IPs.
  add(KIND.rule, 'rule', 'overlay-in', {
    type: 'pass', interface: ifaceRef, ipprotocol: 'inet', protocol: '', source: 'any', destination: 'any', destination_port: '', disabled: 'false',
  });

  for (const netmap of peer.nat) {
    add(KIND.nat, 'nat', netmap.translated, {
      interface: ifaceRef, external: netmap.translated.split('/')[0] as string, source: netmap.real, destination: 'any', ipprotocol: 'inet', disabled: 'false',
    });
  }
  return resources;
}
