// A compiled peer as Linux resources (pure apart from remembering keys for the apply):
//   link      the WireGuard interface: ifalias tag, MTU, up, listen port, key fingerprint
//   address   each interface address            key "<ifname>/<cidr>"
//   wg-peer   each remote                       key "<ifname>/<public key>"
//   route     each routed destination           key = the destination (main table)
//   firewall  iptables rules (firewall-rules.ts)
// Forwarding (net.ipv4.ip_forward) is not a resource: it is a host setting that planning.ts
// adjusts when the peer routes for others.
import { safeCidr, safeEndpoint, safeId, safeInteger, safeIp, safeKey, safePort } from '../../domain/render/safe-values.js';
import type { CompiledRemote } from '../../domain/compiled.js';
import type { DesiredResource } from '../../domain/plan.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import { firewallResource, firewallRuleSpecs } from './firewall-rules.js';
import { KIND, linkAlias, linuxInterfaceName, memberKey } from './names.js';
import type { SecretStore } from './secrets.js';

export interface MappingOptions {
  /** Manage iptables rules (input accept, forwarding, NAT, services). */
  manageFirewall: boolean;
}

const PREFIX = /^[A-Za-z0-9_.-]{1,32}$/;

export function checkCommentPrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new DeviceError('PROTOCOL', `comment prefix must be 1-32 characters from A-Z a-z 0-9 _ . -, got ${JSON.stringify(prefix)}`);
  return prefix;
}

/** The tag a WAN's interface carries, from a desired state (validated). */
export function desiredLinkAlias(desired: DesiredDeviceState): string {
  return linkAlias(checkCommentPrefix(desired.commentPrefix), safeId(desired.overlay.wan.id));
}

/** "10.0.0.1/24": an interface address (host address + prefix length), checked. */
export function interfaceAddress(value: string): string {
  const [ip, prefix, extra] = value.split('/');
  const length = Number(prefix);
  if (extra !== undefined || !/^\d{1,2}$/.test(prefix ?? '') || length > 32) throw new DeviceError('PROTOCOL', `not an interface address: ${JSON.stringify(value)}`);
  return `${safeIp(ip ?? '')}/${length}`;
}

function linkResource(desired: DesiredDeviceState, secrets: SecretStore): DesiredResource {
  const { interface: iface } = desired.peer;
  const props: Record<string, string> = {
    alias: desiredLinkAlias(desired),
    mtu: String(safeInteger(iface.mtu, 'MTU')),
    up: 'yes',
  };
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

export function linuxDesiredResources(desired: DesiredDeviceState, secrets: SecretStore, options: MappingOptions): DesiredResource[] {
  const { peer } = desired;
  const ifname = linuxInterfaceName(peer.interface.name);
  const resources: DesiredResource[] = [linkResource(desired, secrets)];
  for (const address of new Set(peer.interface.addresses.map(interfaceAddress))) {
    resources.push({ kind: KIND.address, key: memberKey(ifname, address), props: {} });
  }
  for (const remote of peer.peers) resources.push(peerResource(ifname, remote, secrets));
  for (const route of peer.routes) resources.push({ kind: KIND.route, key: safeCidr(route.destination), props: { dev: ifname } });
  if (options.manageFirewall) {
    const seen = new Set<string>();
    for (const rule of firewallRuleSpecs(peer)) {
      const resource = firewallResource(desired.commentPrefix, ifname, rule);
      if (seen.has(resource.key)) continue;
      seen.add(resource.key);
      resources.push(resource);
    }
  }
  return resources;
}
