// Pure: what a pfSense firewall already has, as one DeviceDiscovery, from the lists its REST
// API returns. pfSense keeps a tunnel's address on the interface it is assigned to (the
// tunnel's own list is then empty or null), so the assignment's addresses are the tunnel's.
// Secrets appear only where the REST API shows them: a tunnel's private key with sensitive
// fields exposed, a peer's preshared key the same way from package 2.10.0 (write-only before).
import { canonicalCidr } from '../../domain/ip.js';
import type {
  ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting,
} from '../../domain/adoption/discovery.js';
import { hostableNetwork } from '../../domain/adoption/discovery.js';
import type { DeviceObject } from './codec.js';
import { representInterface, type InterfaceRepresentation } from './snapshot.js';
import { adminText, parseDescr } from './tags.js';
import { compareVersions } from '../shared/versions.js';

/** What discover() reads, each list as its plural endpoint returned it. */
export interface PfSenseReading {
  tunnels: DeviceObject[];
  peers: DeviceObject[];
  interfaces: DeviceObject[];
  gateways: DeviceObject[];
  routes: DeviceObject[];
  /** GET routing/gateway/default; null when the package has no such endpoint. */
  defaultGateway: { defaultgw4?: unknown; defaultgw6?: unknown } | null;
  representation: InterfaceRepresentation;
  /** GET status/wireguard/tunnels (counters as decimal strings); null before package 2.9.0. */
  status: StatusTunnel[] | null;
  /** The REST API package version ("2.10.0"), when known. */
  version: string | null;
}

export interface StatusTunnel {
  name?: unknown;
  peers?: Array<{ public_key?: unknown; latest_handshake?: unknown; transfer_rx?: unknown; transfer_tx?: unknown }>;
}

/** Where the REST API shows secrets, in the words of its settings page. */
export const EXPOSE_SETTING = 'System > REST API > Settings: "Expose sensitive fields" (expose_sensitive_fields)';

const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));
const isTunnelPort = (port: unknown) => text(port).startsWith('tun_wg');

function cidrsOf(list: unknown): string[] {
  return (Array.isArray(list) ? list : []).map((entry: DeviceObject) => `${text(entry.address)}/${text(entry.mask)}`);
}

/** The static addresses of an assigned interface ("10.10.0.1/24"), IPv4 first. */
function interfaceAddresses(iface: DeviceObject): string[] {
  const addresses: string[] = [];
  if (iface.typev4 === 'static' && text(iface.ipaddr) !== '') addresses.push(`${text(iface.ipaddr)}/${text(iface.subnet)}`);
  if (iface.typev6 === 'staticv6' && text(iface.ipaddrv6) !== '') addresses.push(`${text(iface.ipaddrv6)}/${text(iface.subnetv6)}`);
  return addresses;
}

function interfaceLabel(iface: DeviceObject): string {
  const id = text(iface.id);
  return text(iface.descr) === '' ? id.toUpperCase() : text(iface.descr);
}

function decimal(value: unknown): string | null {
  const digits = text(value);
  return /^\d+$/.test(digits) ? digits.replace(/^0+(?=\d)/, '') : null;
}

/** The description a person wrote (on a tagged object, what follows the tag). */
function commentOf(descr: unknown, prefix: string): string | null {
  const comment = adminText(descr, prefix);
  return comment === '' ? null : comment;
}

function keyOf(descr: unknown, prefix: string): string | null {
  return parseDescr(descr, prefix).key;
}

/** Settings of the assignment Meshplane has no place for, when they are not pfSense's defaults. */
function assignmentExtras(iface: DeviceObject): UnmodelledSetting[] {
  const extras: UnmodelledSetting[] = [];
  const owner = 'interface';
  const where = `assigned interface ${text(iface.id)}`;
  if (iface.enable !== true) extras.push({ owner, name: `${where} enabled`, value: 'no (the tunnel carries no traffic while its interface is disabled)' });
  if (iface.mtu !== null && iface.mtu !== undefined) extras.push({ owner, name: `${where} MTU`, value: text(iface.mtu) });
  if (iface.mss !== null && iface.mss !== undefined && text(iface.mss) !== '') extras.push({ owner, name: `${where} MSS`, value: text(iface.mss) });
  if (iface.blockpriv === true) extras.push({ owner, name: `${where} block private networks`, value: 'yes' });
  if (iface.blockbogons === true) extras.push({ owner, name: `${where} block bogon networks`, value: 'yes' });
  if (text(iface.gateway) !== '') extras.push({ owner, name: `${where} upstream gateway`, value: text(iface.gateway) });
  for (const family of ['v4', 'v6'] as const) {
    const type = text(iface[`type${family}`]);
    if (type !== '' && type !== 'none' && type !== 'static' && type !== 'staticv6') extras.push({ owner, name: `${where} IP${family} type`, value: type });
  }
  return extras;
}

/** The interface ids of the default gateways (IPv4 and IPv6): the uplink. */
function uplinkIds(reading: PfSenseReading, ifaceOf: (value: unknown) => DeviceObject | undefined): Set<string> {
  const ids = new Set<string>();
  const enabled = reading.gateways.filter((gateway) => gateway.disabled !== true);
  for (const [field, protocol] of [['defaultgw4', 'inet'], ['defaultgw6', 'inet6']] as const) {
    const chosen = text(reading.defaultGateway?.[field]);
    if (chosen === '-') continue;
    // "" is pfSense's automatic choice: the first gateway of the family on a non-tunnel interface.
    const gateway = chosen === ''
      ? enabled.find((candidate) => candidate.ipprotocol === protocol && !isTunnelPort(ifaceOf(candidate.interface)?.if))
      : enabled.find((candidate) => candidate.name === chosen);
    const iface = gateway ? ifaceOf(gateway.interface) : undefined;
    if (iface) ids.add(text(iface.id));
  }
  if (ids.size === 0 && reading.defaultGateway === null && reading.interfaces.some((iface) => iface.id === 'wan')) ids.add('wan');
  return ids;
}

export function discoverPfSense(reading: PfSenseReading, prefix: string): DeviceDiscovery {
  const notes: string[] = [];
  const ifaceOf = (value: unknown) => reading.interfaces.find((iface) => representInterface(iface, reading.representation) === text(value));
  const statusOf = (tunnel: string, publicKey: string) => reading.status
    ?.find((entry) => entry.name === tunnel)?.peers?.find((peer) => peer.public_key === publicKey);

  let privateKeysHidden = false;
  let presharedKeysHidden = false;
  const interfaces: DiscoveredInterface[] = reading.tunnels.map((tunnel) => {
    const name = text(tunnel.name);
    const assignment = reading.interfaces.find((iface) => iface.if === name);
    const unmodelled: UnmodelledSetting[] = [];
    for (const entry of Array.isArray(tunnel.addresses) ? tunnel.addresses as DeviceObject[] : []) {
      if (text(entry.descr) !== '') unmodelled.push({ owner: 'interface', name: `address ${text(entry.address)}/${text(entry.mask)} description`, value: text(entry.descr) });
    }
    if (assignment) {
      unmodelled.push(...assignmentExtras(assignment));
      const where = interfaceAddresses(assignment);
      notes.push(`${name} is assigned as ${text(assignment.id)} (${interfaceLabel(assignment)})${where.length > 0 ? ` with ${where.join(', ')}` : ' without a static address'}`);
    }
    const hasPrivateKey = typeof tunnel.privatekey === 'string' && tunnel.privatekey !== '';
    if (!('privatekey' in tunnel)) privateKeysHidden = true;

    const peers: DiscoveredPeer[] = reading.peers.filter((peer) => peer.tun === name).map((peer) => {
      const ref = text(peer.id);
      const publicKey = text(peer.publickey);
      const shown = 'presharedkey' in peer;
      if (!shown) presharedKeysHidden = true;
      const presharedKey = shown && typeof peer.presharedkey === 'string' && peer.presharedkey !== '' ? peer.presharedkey : null;
      const status = statusOf(name, publicKey);
      const handshake = decimal(status?.latest_handshake);
      const endpoint = text(peer.endpoint);
      const keepalive = peer.persistentkeepalive;
      for (const entry of Array.isArray(peer.allowedips) ? peer.allowedips as DeviceObject[] : []) {
        if (text(entry.descr) !== '') unmodelled.push({ owner: ref, name: `allowed IP ${text(entry.address)}/${text(entry.mask)} description`, value: text(entry.descr) });
      }
      return {
        ref,
        publicKey,
        allowedIps: cidrsOf(peer.allowedips),
        endpointHost: endpoint === '' ? null : endpoint,
        endpointPort: endpoint === '' || text(peer.port) === '' ? null : Number(peer.port),
        persistentKeepalive: typeof keepalive === 'number' && keepalive > 0 ? keepalive : null,
        presharedKey,
        hasPresharedKey: presharedKey !== null,
        comment: commentOf(peer.descr, prefix),
        disabled: peer.enabled !== true,
        managedKey: keyOf(peer.descr, prefix),
        lastHandshake: handshake === null || handshake === '0' ? null : new Date(Number(handshake) * 1000),
        rxBytes: status ? decimal(status.transfer_rx) : null,
        txBytes: status ? decimal(status.transfer_tx) : null,
      };
    });

    return {
      ref: name,
      name,
      listenPort: text(tunnel.listenport) === '' ? null : Number(tunnel.listenport),
      mtu: typeof tunnel.mtu === 'number' ? tunnel.mtu : null,
      publicKey: text(tunnel.publickey) === '' ? null : text(tunnel.publickey),
      privateKey: hasPrivateKey ? tunnel.privatekey as string : null,
      addresses: [...cidrsOf(tunnel.addresses), ...(assignment ? interfaceAddresses(assignment) : [])],
      disabled: tunnel.enabled !== true,
      comment: commentOf(tunnel.descr, prefix),
      managedKey: keyOf(tunnel.descr, prefix),
      peers,
      unmodelled,
      source: `pfSense tunnel ${name}`,
    };
  });

  const unattached = reading.peers.filter((peer) => !reading.tunnels.some((tunnel) => tunnel.name === peer.tun));
  if (unattached.length > 0) {
    notes.push(`${unattached.length} peer(s) belong to no tunnel (tun "${[...new Set(unattached.map((peer) => text(peer.tun)))].join('", "')}"): ${unattached.map((peer) => text(peer.descr) || text(peer.publickey)).join(', ')}`);
  }
  if (privateKeysHidden) {
    notes.push(`tunnel private keys are hidden by the REST API: turn on ${EXPOSE_SETTING}, or add WireGuardTunnel:privatekey to override_sensitive_fields, to read them. Without them a tunnel is adopted with its public key only (bring your own key): Meshplane keeps the key that is on the firewall and can update the tunnel in place, but cannot create it anew`);
  }
  if (presharedKeysHidden) {
    notes.push(reading.version !== null && versionBefore(reading.version, '2.10.0')
      ? `preshared keys are write-only in REST API packages before 2.10.0 (this is ${reading.version}): whether a peer has one cannot be read; a key on the firewall stays as it is until Meshplane is given one to write`
      : `preshared keys are hidden by the REST API: turn on ${EXPOSE_SETTING}, or add WireGuardPeer:presharedkey to override_sensitive_fields, to read them; a hidden key stays as it is until Meshplane is given one to write`);
  }
  if (reading.status === null) notes.push('no handshake or traffic statistics: the REST API package is older than 2.9.0');

  const uplinks = uplinkIds(reading, ifaceOf);
  const connectedNetworks: ConnectedNetwork[] = [];
  for (const iface of reading.interfaces) {
    if (isTunnelPort(iface.if) || iface.enable !== true) continue;
    for (const address of interfaceAddresses(iface)) {
      const cidr = hostableNetwork(address);
      if (cidr === null) continue;
      connectedNetworks.push({ cidr, address, interfaceName: interfaceLabel(iface), uplink: uplinks.has(text(iface.id)) });
    }
    const dynamic = [iface.typev4, iface.typev6].map(text).filter((type) => type !== '' && type !== 'none' && type !== 'static' && type !== 'staticv6');
    if (dynamic.length > 0) notes.push(`${interfaceLabel(iface)} gets an address by ${dynamic.join(' and ')}: that network is not listed`);
  }

  const gatewayByName = (name: unknown) => reading.gateways.find((gateway) => gateway.name === name);
  const routes: DiscoveredRoute[] = reading.routes.map((route) => {
    const gateway = gatewayByName(route.gateway);
    const iface = gateway ? ifaceOf(gateway.interface) : undefined;
    return {
      ref: `static_route ${text(route.id)}`,
      destination: text(route.network),
      // A gateway group has no single address: its name stands for it.
      gateway: gateway ? text(gateway.gateway) : text(route.gateway) || null,
      interfaceName: iface ? interfaceLabel(iface) : null,
      static: true,
      disabled: route.disabled === true,
      comment: commentOf(route.descr, prefix),
      managedKey: keyOf(route.descr, prefix),
    };
  });
  for (const [field, destination] of [['defaultgw4', '0.0.0.0/0'], ['defaultgw6', '::/0']] as const) {
    const chosen = text(reading.defaultGateway?.[field]);
    const protocol = destination === '::/0' ? 'inet6' : 'inet';
    const gateway = chosen === '' ? reading.gateways.find((candidate) => candidate.disabled !== true && candidate.ipprotocol === protocol && uplinks.has(text(ifaceOf(candidate.interface)?.id)))
      : chosen === '-' ? undefined : gatewayByName(chosen);
    if (!gateway) continue;
    const iface = ifaceOf(gateway.interface);
    routes.push({
      ref: `gateway ${text(gateway.name)}`, destination, gateway: text(gateway.gateway), interfaceName: iface ? interfaceLabel(iface) : null,
      static: false, disabled: false, comment: `default gateway ${text(gateway.name)}${text(gateway.descr) ? ` (${text(gateway.descr)})` : ''}`, managedKey: null,
    });
  }
  return { interfaces, connectedNetworks, routes, notes };
}

function versionBefore(version: string, than: string): boolean {
  return compareVersions(version, than) < 0;
}
