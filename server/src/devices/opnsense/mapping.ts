// Pure: what one compiled peer looks like on an OPNsense firewall (design §2.1/§2.3). The
// instance carries every interface address and installs the routes to its peers' allowed
// IPs itself (disableroutes=0): each compiled route's destination lies inside the allowed
// IPs of the remote it goes through, so no gateway, static route or assignment is needed.
// Each peer is attached to the instance through its `servers` field.
import type { DesiredResource } from '../../domain/plan.js';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type { DesiredDeviceState } from '../driver.js';
import { DeviceError } from '../driver.js';
import { splitEndpoint, tunnelAddress6 } from '../shared/endpoints.js';
import { sortedList } from './codec.js';
import { KIND } from './kinds.js';
import { natResources } from './nat.js';
import { formatKey, namedKey, nameTag, ref, tagOf, type NamedType } from './tags.js';

export interface Naming {
  prefix: string;
  wanId: string;
  /** Key and `name` of an instance or peer. */
  named(type: NamedType, name: string): { key: string; name: string };
  /** Key and description tag of a description-tagged object (rules, NAT). */
  described(type: 'rule' | 'nat' | 'npt' | 'iface', name: string): { key: string; tag: string };
}

export function naming(desired: DesiredDeviceState): Naming {
  const prefix = desired.commentPrefix;
  const wanId = desired.overlay.wan.id;
  return {
    prefix,
    wanId,
    named: (type, name) => {
      const key = namedKey(prefix, wanId, type, name);
      return { key, name: nameTag(prefix, key) };
    },
    described: (type, name) => {
      const key = formatKey({ wanId, type, name });
      return { key, tag: tagOf(prefix, key) };
    },
  };
}

/**
 * Why this peer cannot be deployed to OPNsense, or null: with redundant hubs every hub and
 * spoke routes by BGP (or by monitored gateways on one interface per hub), which the
 * OPNsense API cannot configure; published services need port forwards (d_nat, 26.1+), not
 * built yet. Translated LANs depend on the version (nat.ts natRefusal).
 */
export function opnSenseRefusal(desired: DesiredDeviceState): string | null {
  const { peer } = desired;
  if (peer.routing) {
    return `${peer.name} is ${peer.role === 'HUB' ? 'a hub' : 'a spoke'} of a WAN with redundant hubs: those route by BGP or by monitored gateways on one interface per hub, which Meshplane cannot configure through the OPNsense API. Use a Linux or RouterOS device for it, or turn hub redundancy off for the WAN`;
  }
  if (peer.services.length > 0) {
    return `${peer.name} publishes services (${peer.services.map((service) => `${service.protocol}/${service.servicePort} on ${service.serviceIp}`).join(', ')}): Meshplane does not write port forwards on OPNsense yet. Move the services to another peer or remove them`;
  }
  return null;
}

export function desiredOpnSenseResources(desired: DesiredDeviceState): DesiredResource[] {
  const refusal = opnSenseRefusal(desired);
  if (refusal !== null) throw new DeviceError('REFUSED', refusal);
  const { peer } = desired;
  const names = naming(desired);
  const resources: DesiredResource[] = [];

  const instance = names.named('tunnel', peer.interface.name);
  const server: Record<string, string> = {
    name: instance.name,
    enabled: '1',
    port: peer.interface.listenPort === null ? '' : String(peer.interface.listenPort),
    mtu: String(peer.interface.mtu),
    tunneladdress: sortedList(peer.interface.addresses.join(',')),
    disableroutes: '0',
    gateway: '',
  };
  // OPNsense requires the private key and never derives the public one: both are written;
  // the private key is compared through its public key (a reading holds "pub:<key>").
  if (peer.interface.privateKey !== null) {
    server.privatekey = peer.interface.privateKey;
    server.pubkey = publicKeyFromPrivate(peer.interface.privateKey);
  } else {
    server.pubkey = peer.interface.publicKey;
  }
  resources.push({ kind: KIND.server, key: instance.key, props: server });

  for (const remote of peer.peers) {
    const endpoint = remote.endpoint === null ? null : splitEndpoint(remote.endpoint);
    const client = names.named('peer', remote.peerId);
    resources.push({
      kind: KIND.client,
      key: client.key,
      props: {
        name: client.name,
        enabled: '1',
        pubkey: remote.publicKey,
        psk: remote.presharedKey ?? '',
        tunneladdress: sortedList(remote.allowedIps.join(',')),
        serveraddress: endpoint?.host ?? '',
        serverport: endpoint?.port ?? '',
        keepalive: remote.persistentKeepalive === null ? '' : String(remote.persistentKeepalive),
        servers: ref(instance.name),
      },
    });
  }
  resources.push(...firewallRules(desired, names));
  resources.push(...natResources(desired, { prefix: names.prefix, tunnelKey: instance.key, instanceName: instance.name, described: names.described }));
  return resources;
}

/** Ours sit after the admin's rules (sequences are sorted within a priority group), at fixed places so plans compare stably. */
const RULE_SEQUENCE = { wanUdp: 90001, overlayIn: 90100 } as const;

/**
 * The WAN pass rule for each listen port, and one pass rule on the interface group
 * `wireguard` (every wgN is in it, assigned or not) for traffic from the tunnel, limited to
 * the remotes' allowed IPs (never a pass-all on a group the admin's own instances share).
 * A dual-stack interface's address-less rules pass both families.
 */
function firewallRules(desired: DesiredDeviceState, names: Naming): DesiredResource[] {
  const { peer } = desired;
  const ipprotocol = tunnelAddress6(peer.interface) === null ? 'inet' : 'inet46';
  const rule = (name: string, props: Record<string, string>): DesiredResource => {
    const { key, tag } = names.described('rule', name);
    return { kind: KIND.rule, key, props: { description: tag, enabled: '1', action: 'pass', quick: '1', direction: 'in', ipprotocol, ...props } };
  };
  const rules: DesiredResource[] = [];
  const ports = [...new Set(peer.firewall.filter((entry) => entry.chain === 'input' && entry.protocol === 'udp' && entry.dstPort !== undefined).map((entry) => entry.dstPort as number))];
  for (const [index, port] of ports.entries()) {
    rules.push(rule(`wan-udp-${port}`, {
      interface: 'wan', protocol: 'UDP', source_net: 'any', destination_net: '(self)', destination_port: String(port), sequence: String(RULE_SEQUENCE.wanUdp + index),
    }));
  }
  const sources = sortedList(peer.peers.flatMap((remote) => remote.allowedIps).filter((cidr, index, all) => all.indexOf(cidr) === index).join(','));
  if (sources !== '') {
    rules.push(rule('overlay-in', {
      interface: 'wireguard', protocol: 'any', source_net: sources, destination_net: 'any', destination_port: '', sequence: String(RULE_SEQUENCE.overlayIn),
    }));
  }
  return rules;
}
