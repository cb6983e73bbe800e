// A compiled peer as Linux resources (pure apart from remembering keys and configs for the apply):
//   link      each WireGuard interface: ifalias tag, MTU, up, listen port, key fingerprint
//             (and loose reverse-path filtering where a routing engine picks the interface)
//   address   each interface address, IPv4 and  key "<ifname>/<cidr>", point-to-point
//             (dual-stack) IPv6                 "<ifname>/<ip>/32 peer <far ip>/32" (/128 for IPv6)
//   wg-peer   each remote                       key "<ifname>/<public key>"
//   route     each routed destination           key = the destination (main table of its family)
//   firewall  iptables and ip6tables rules (firewall-rules.ts)
//   bird      the BIRD daemon of a peer with redundant hubs (bird.ts)  key = its bird.conf path
// A peer of a WAN with redundant hubs has one interface per hub (interfacesOf), each mapped
// like the single interface of any other peer; its routes come from BIRD, so none is a
// resource here. Forwarding (net.ipv4.ip_forward, and net.ipv6.conf.all.forwarding for a
// dual-stack peer) is not a resource: it is a host setting that planning.ts adjusts when the
// peer routes for others.
import { safeCidr, safeEndpoint, safeId, safeInteger, safeIp, safeKey, safePort } from '../../domain/render/safe-values.js';
import { interfacesOf, type CompiledPeer, type CompiledRemote } from '../../domain/compiled.js';
import { maxPrefix } from '../../domain/ip.js';
import { renderCompiledPeerBird } from '../../domain/render/bird.js';
import type { DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import type { BirdPaths, ConfigStore } from './bird.js';
import { firewallResource, firewallRuleSpecs } from './firewall-rules.js';
import { familyOfValue, KIND, linkAlias, linuxInterfaceName, memberKey } from './names.js';
import type { SecretStore } from '../shared/secrets.js';

export interface MappingOptions {
  /** Manage iptables rules (input accept, forwarding, NAT, services). */
  manageFirewall: boolean;
  /** Where this WAN's BIRD lives and where its rendered config is kept for the apply (peers with routing). */
  bird?: { paths: BirdPaths; configs: ConfigStore };
  /**
   * The host's rp_filter for new interfaces (net.ipv4.conf.default), once read: what an
   * interface without a routing engine is set back to, so one that was loose while its WAN had
   * redundant hubs does not stay loose. Unknown: left as it is.
   */
  defaultRpFilter?: string;
}

/** Loose reverse-path filtering: with a routing engine, replies may come back over another hub's interface. */
export const LOOSE_RP_FILTER = '2';

const PREFIX = /^[A-Za-z0-9_.-]{1,32}$/;

export function checkCommentPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new DeviceError('PROTOCOL', `comment prefix must be 1-32 characters from A-Z a-z 0-9 _ . -, got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** The tag a WAN's interface carries, from a desired state (validated). */
export function desiredLinkAlias(desired: DesiredDeviceState): string {
  return linkAlias(checkCommentPrefix(desired.commentPrefix), safeId(desired.overlay.wan.id));
}

/** "10.0.0.1/24", "fd00::1/64": an interface address (host address + prefix length), checked. */
export function interfaceAddress(value: string): string {
  const [ip, prefix, extra] = value.split('/');
  const length = Number(prefix);
  if (extra !== undefined || !/^\d{1,3}$/.test(prefix ?? '') || length > maxPrefix(familyOfValue(ip ?? ''))) {
    throw new DeviceError('PROTOCOL', `not an interface address: ${JSON.stringify(value)}`);
  }
  return `${safeIp(ip ?? '')}/${length}`;
}

const PEER_WORD = ' peer ';

/** An address's item in its member key: "10.0.0.1/24", or "10.0.0.5/32 peer 10.0.0.1/32" (point-to-point). */
export function addressItem(cidr: string, peer: string | null): string {
  return peer === null ? interfaceAddress(cidr) : `${interfaceAddress(cidr)}${PEER_WORD}${interfaceAddress(peer)}`;
}

export function parseAddressItem(item: string): { cidr: string; peer: string | null } {
  const at = item.indexOf(PEER_WORD);
  if (at === -1) return { cidr: interfaceAddress(item), peer: null };
  return { cidr: interfaceAddress(item.slice(0, at)), peer: interfaceAddress(item.slice(at + PEER_WORD.length)) };
}

/**
 * The addresses of one interface: point-to-point, its tunnel IP as a /32 leads to the far end's
 * only, and in a dual-stack WAN its IPv6 tunnel address (the first IPv6 one) as a /128 likewise.
 */
function addressItems(view: CompiledPeer): string[] {
  const { addresses, peerAddress, peerAddress6 } = view.interface;
  const local6 = peerAddress6 === undefined ? -1 : addresses.findIndex((address) => familyOfValue(address) === 6);
  const pointToPoint = (address: string, far: string, length: number): string => addressItem(`${safeIp(address.split('/')[0] ?? '')}/${length}`, `${safeIp(far)}/${length}`);
  const items = addresses.map((address, index) => {
    if (index === 0 && peerAddress !== undefined) return pointToPoint(address, peerAddress, 32);
    if (index === local6) return pointToPoint(address, peerAddress6 as string, 128);
    return addressItem(address, null);
  });
  return [...new Set(items)];
}

function linkResource(desired: DesiredDeviceState, view: CompiledPeer, secrets: SecretStore, defaultRpFilter: string | undefined): DesiredResource {
  const { interface: iface } = view;
  const props: Record<string, string> = {
    alias: desiredLinkAlias(desired),
    mtu: String(safeInteger(iface.mtu, 'MTU')),
    up: 'yes',
  };
  if (desired.peer.routing !== undefined) props['rp-filter'] = LOOSE_RP_FILTER;
  else if (defaultRpFilter !== undefined) props['rp-filter'] = defaultRpFilter;
  if (iface.listenPort !== null) props['listen-port'] = String(safePort(iface.listenPort));
  // Bring-your-own key: Meshplane cannot set the key, only check the host's matches.
  if (iface.privateKey !== null) props['private-key'] = secrets.remember(safeKey(iface.privateKey));
  else props['public-key'] = safeKey(iface.publicKey);
  return { kind: KIND.link, key: linuxInterfaceName(iface.name), props };
}

function peerResource(ifname: string, remote: CompiledRemote, secrets: SecretStore): DesiredResource {
  const props: Record<string, string> = {
    'allowed-ips': remote.allowedIps.map(safeCidr).join(','),
    'persistent-keepalive': remote.persistentKeepalive === null ? 'off' : String(safeInteger(remote.persistentKeepalive, 'keepalive')),
    'preshared-key': remote.presharedKey === null ? '(none)' : secrets.remember(safeKey(remote.presharedKey)),
  };
  // No endpoint: the remote dials in (CGNAT); whatever endpoint it roams from is left alone.
  if (remote.endpoint !== null) {
    const { host, port } = safeEndpoint(remote.endpoint);
    props.endpoint = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  }
  return { kind: KIND.peer, key: memberKey(ifname, safeKey(remote.publicKey)), props };
}

function interfaceResources(desired: DesiredDeviceState, view: CompiledPeer, secrets: SecretStore, options: MappingOptions): DesiredResource[] {
  const ifname = linuxInterfaceName(view.interface.name);
  const resources: DesiredResource[] = [linkResource(desired, view, secrets, options.defaultRpFilter)];
  for (const item of addressItems(view)) resources.push({ kind: KIND.address, key: memberKey(ifname, item), props: {} });
  for (const remote of view.peers) resources.push(peerResource(ifname, remote, secrets));
  // With a routing engine the routes are BIRD's: WireGuard's AllowedIPs route nothing (Table = off).
  if (desired.peer.routing === undefined) {
    for (const route of view.routes) resources.push({ kind: KIND.route, key: safeCidr(route.destination), props: { dev: ifname } });
  }
  if (options.manageFirewall) {
    const seen = new Set<string>();
    for (const rule of firewallRuleSpecs(view)) {
      const resource = firewallResource(desired.commentPrefix, ifname, rule);
      if (seen.has(resource.key)) continue;
      seen.add(resource.key);
      resources.push(resource);
    }
  }
  return resources;
}

/** Whether the peer runs BIRD: a WAN with redundant hubs, on a peer that speaks BGP. */
export function runsBird(desired: DesiredDeviceState): boolean {
  return desired.peer.routing?.protocol === 'bgp';
}

export function linuxDesiredResources(desired: DesiredDeviceState, secrets: SecretStore, options: MappingOptions): DesiredResource[] {
  const resources = interfacesOf(desired.peer).flatMap((view) => interfaceResources(desired, view, secrets, options));
  if (runsBird(desired) && options.bird) {
    const hash = options.bird.configs.remember(renderCompiledPeerBird(desired.overlay, desired.peer));
    resources.push({ kind: KIND.bird, key: options.bird.paths.config, props: { config: hash, running: 'yes', loaded: hash } });
  }
  return resources;
}
