// Pure: what an OPNsense firewall already has, as one DeviceDiscovery. Instances and peers
// come from getServer/getClient (OPNsense shows an instance's private key and a peer's PSK to
// the API: they go into the discovery, which the services seal), membership from each
// instance's `peers` (canonical), live figures from service/show (keys left out by
// OPNsense). An instance's or peer's `name` is the only text OPNsense has for it: it is the
// comment here, and adoption replaces it by Meshplane's tag. Static routes and gateways from
// their APIs; interface addresses only from 26.7's assignment API (no read before it).
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type {
  ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting,
} from '../../domain/adoption/discovery.js';
import { hostableNetwork } from '../../domain/adoption/discovery.js';
import { sortedList } from './codec.js';
import type { Row } from './reading.js';
import type { ShowRow } from './stats.js';
import { adminText, keyOfName, parseDescr } from './tags.js';

/** What discover() reads; a list is null when the firewall (version or the key's privileges) does not show it. */
export interface OpnSenseDiscoveryReading {
  /** getServer forms, flattened, with `uuid` (privkey included). */
  servers: Row[];
  /** Peers (search rows or getClient forms), flattened, with `uuid` (psk included). */
  clients: Row[];
  /** Instance uuid → its peers' uuids (server.peers). */
  membership: Map<string, string[]>;
  /** service/show peer rows, counters as decimal strings; null when not readable. */
  show: ShowRow[] | null;
  /** routes/routes/searchroute rows; null when not readable. */
  routes: Row[] | null;
  /** routing/settings/searchGateway rows; null when not readable. */
  gateways: Row[] | null;
  /** interfaces/assignment/searchItem rows keyed `uuid` = ident (26.7+); null before 26.7 or when not readable. */
  assignments: Row[] | null;
  /** Whether this version has the assignment API (26.7+). */
  assignmentApi: boolean;
  /** Why a list is null, in words, for the notes. */
  unreadable: string[];
}

const isOn = (value: string | undefined) => value === '1';

function number(value: string | undefined): number | null {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

function decimal(value: unknown): string | null {
  const text = value === null || value === undefined ? '' : String(value);
  return /^\d+$/.test(text) ? text.replace(/^0+(?=\d)/, '') : null;
}

function derivedPublicKey(privateKey: string): string | null {
  try {
    return privateKey === '' ? null : publicKeyFromPrivate(privateKey);
  } catch {
    return null;
  }
}

/** The device an instance runs as (wgN). */
export function deviceOf(server: Row): string {
  return server.interface || `wg${server.instance ?? ''}`;
}

/** A name that is not Meshplane's tag: the admin's only text for the item. */
function commentOf(name: string | undefined, prefix: string): string | null {
  return name && keyOfName(name, prefix) === null ? name : null;
}

/** "NAME - 10.0.0.1" (labels before 25.7.1) or "NAME": the gateway's name. */
function gatewayName(value: string | undefined): string {
  return (value ?? '').split(' - ')[0]?.trim() ?? '';
}

function family(gateway: Row): 'inet' | 'inet6' {
  const protocol = (gateway.ipprotocol ?? '').toLowerCase();
  return protocol === 'inet6' || protocol === 'ipv6' || (gateway.gateway ?? '').includes(':') ? 'inet6' : 'inet';
}

/** Settings of an instance Meshplane has no place for, when they differ from OPNsense's defaults. */
function instanceExtras(server: Row): UnmodelledSetting[] {
  const extras: UnmodelledSetting[] = [];
  const owner = 'interface';
  if (isOn(server.disableroutes)) {
    extras.push({ owner, name: 'disable routes', value: 'yes: the instance installs no routes to its peers\' allowed IPs (static routes or a gateway do); a deploy after adoption turns instance routes on' });
  }
  if ((server.gateway ?? '') !== '') extras.push({ owner, name: 'gateway', value: server.gateway as string });
  if ((server.dns ?? '') !== '') extras.push({ owner, name: 'DNS servers', value: server.dns as string });
  if ((server.carp_depend_on ?? '') !== '') extras.push({ owner, name: 'depend on (CARP)', value: server.carp_depend_on as string });
  if (isOn(server.debug)) extras.push({ owner, name: 'debug', value: 'yes' });
  return extras;
}

function peerOf(client: Row, server: Row, others: readonly Row[], show: ShowRow[] | null, prefix: string, unmodelled: UnmodelledSetting[]): DiscoveredPeer {
  const ref = client.uuid as string;
  const publicKey = client.pubkey ?? '';
  const psk = client.psk ?? '';
  const status = show?.find((row) => row.if === deviceOf(server) && row['public-key'] === publicKey);
  const handshake = decimal(status?.['latest-handshake']);
  if (others.length > 0) {
    unmodelled.push({ owner: ref, name: 'also a peer of', value: `${others.map((other) => `${other.name || other.uuid} (${deviceOf(other)})`).join(', ')}: one peer, several instances; Meshplane keeps those memberships and manages only this one` });
  }
  return {
    ref,
    publicKey,
    allowedIps: (client.tunneladdress ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''),
    endpointHost: (client.serveraddress ?? '') === '' ? null : client.serveraddress as string,
    // OPNsense writes port 51820 when an address has none (wireguard-server.conf).
    endpointPort: (client.serveraddress ?? '') === '' ? null : number(client.serverport) ?? 51820,
    persistentKeepalive: number(client.keepalive),
    presharedKey: psk === '' ? null : psk,
    hasPresharedKey: psk !== '',
    comment: commentOf(client.name, prefix),
    disabled: !isOn(client.enabled),
    managedKey: keyOfName(client.name, prefix),
    lastHandshake: handshake === null || handshake === '0' ? null : new Date(Number(handshake) * 1000),
    rxBytes: status ? decimal(status['transfer-rx']) : null,
    txBytes: status ? decimal(status['transfer-tx']) : null,
  };
}

/** Interface identifiers (wan, lan, optN) and descriptions of the default gateways' interfaces: the uplink. */
function uplinks(gateways: readonly Row[]): Set<string> {
  return new Set(gateways.filter((gateway) => isOn(gateway.defaultgw) && !isOn(gateway.disabled)).map((gateway) => (gateway.interface ?? '').toLowerCase()));
}

function interfaceLabel(assignment: Row): string {
  return (assignment.descr ?? '') === '' ? (assignment.uuid as string).toUpperCase() : assignment.descr as string;
}

function connectedNetworks(assignments: readonly Row[], gateways: readonly Row[] | null, wgDevices: ReadonlySet<string>, notes: string[]): ConnectedNetwork[] {
  const up = uplinks(gateways ?? []);
  const isUplink = (assignment: Row) => up.has((assignment.uuid as string).toLowerCase()) || up.has(interfaceLabel(assignment).toLowerCase()) || (gateways === null && assignment.uuid === 'wan');
  const networks: ConnectedNetwork[] = [];
  for (const assignment of assignments) {
    if (wgDevices.has(assignment.if ?? '') || !isOn(assignment.enable)) continue;
    const addresses: string[] = [];
    if (assignment.type4 === 'staticv4' && (assignment.ipaddr ?? '') !== '') addresses.push(`${assignment.ipaddr}/${assignment.subnet}`);
    if (assignment.type6 === 'staticv6' && (assignment.ipaddrv6 ?? '') !== '') addresses.push(`${assignment.ipaddrv6}/${assignment.subnetv6}`);
    for (const address of addresses) {
      const cidr = hostableNetwork(address);
      if (cidr !== null) networks.push({ cidr, address, interfaceName: interfaceLabel(assignment), uplink: isUplink(assignment) });
    }
    const dynamic = [assignment.type4, assignment.type6].filter((type): type is string => type !== undefined && type !== '' && type !== 'none' && type !== 'staticv4' && type !== 'staticv6');
    if (dynamic.length > 0) notes.push(`${interfaceLabel(assignment)} gets an address by ${dynamic.join(' and ')}: that network is not listed`);
  }
  return networks;
}

function routesOf(reading: OpnSenseDiscoveryReading, prefix: string): DiscoveredRoute[] {
  const gateways = reading.gateways ?? [];
  const byName = (name: string) => gateways.find((gateway) => gateway.name === name);
  const labelOf = (iface: string | undefined) => {
    const assignment = reading.assignments?.find((item) => item.uuid === iface);
    return assignment ? interfaceLabel(assignment) : iface || null;
  };
  const routes: DiscoveredRoute[] = (reading.routes ?? []).map((route) => {
    const name = gatewayName(route.gateway);
    const gateway = byName(name);
    // ≤ 26.1 the flag is `disabled`, from 26.7 `enabled`.
    const disabled = 'enabled' in route ? !isOn(route.enabled) : isOn(route.disabled);
    const comment = adminText(route.descr, prefix);
    return {
      ref: `route ${route.uuid}`,
      destination: route.network ?? '',
      gateway: gateway?.gateway || name || null,
      interfaceName: gateway ? labelOf(gateway.interface) : null,
      static: true,
      disabled,
      comment: comment === '' ? null : comment,
      managedKey: parseDescr(route.descr, prefix).key,
    };
  });
  for (const gateway of gateways.filter((item) => isOn(item.defaultgw) && !isOn(item.disabled))) {
    routes.push({
      ref: `gateway ${gateway.name}`, destination: family(gateway) === 'inet6' ? '::/0' : '0.0.0.0/0', gateway: gateway.gateway || null,
      interfaceName: labelOf(gateway.interface), static: false, disabled: false,
      comment: `default gateway ${gateway.name}${gateway.descr ? ` (${gateway.descr})` : ''}`, managedKey: null,
    });
  }
  return routes;
}

export function discoverOpnSense(reading: OpnSenseDiscoveryReading, prefix: string): DeviceDiscovery {
  const notes = [...reading.unreadable];
  const serverByUuid = new Map(reading.servers.map((server) => [server.uuid as string, server]));
  const instancesOf = (clientUuid: string) => [...reading.membership].filter(([, peers]) => peers.includes(clientUuid)).map(([uuid]) => serverByUuid.get(uuid)).filter((server): server is Row => server !== undefined);

  const interfaces: DiscoveredInterface[] = reading.servers.map((server) => {
    const uuid = server.uuid as string;
    const device = deviceOf(server);
    const privateKey = server.privkey ?? '';
    const derived = derivedPublicKey(privateKey);
    const unmodelled = instanceExtras(server);
    if ((server.pubkey ?? '') !== '' && derived !== null && server.pubkey !== derived) {
      unmodelled.push({ owner: 'interface', name: 'stored public key', value: `${server.pubkey} does not belong to the private key (its public key is ${derived}); OPNsense never derives it, Meshplane writes the right one` });
    }
    // In the firewall's own order of peers (a get form lists an instance's peers as a map).
    const members = new Set(reading.membership.get(uuid) ?? []);
    const peers = reading.clients.filter((client) => members.has(client.uuid as string))
      .map((client) => peerOf(client, server, instancesOf(client.uuid as string).filter((other) => other.uuid !== uuid), reading.show, prefix, unmodelled));
    return {
      ref: uuid,
      name: device,
      listenPort: number(server.port),
      mtu: number(server.mtu),
      publicKey: derived ?? ((server.pubkey ?? '') === '' ? null : server.pubkey as string),
      privateKey: derived === null ? null : privateKey,
      addresses: sortedList(server.tunneladdress ?? '').split(',').filter((address) => address !== ''),
      disabled: !isOn(server.enabled),
      comment: commentOf(server.name, prefix),
      managedKey: keyOfName(server.name, prefix),
      peers,
      unmodelled,
      source: `OPNsense instance ${server.name || uuid} (${device})`,
    };
  });

  const detached = reading.clients.filter((client) => instancesOf(client.uuid as string).length === 0);
  if (detached.length > 0) notes.push(`${detached.length} peer(s) belong to no instance: ${detached.map((client) => client.name || client.pubkey || client.uuid).join(', ')}`);
  const routed = reading.servers.filter((server) => isOn(server.disableroutes));
  if (routed.length > 0) {
    notes.push(`${routed.map((server) => `${server.name || server.uuid} (${deviceOf(server)})`).join(', ')} ha${routed.length === 1 ? 's' : 've'} "Disable routes" on: its traffic follows static routes or a gateway. Meshplane runs an instance with its own routes to the peers' allowed IPs; adopting it turns those on and leaves the static routes as they are (delete them afterwards if they duplicate the instance's)`);
  }
  if (reading.show === null) notes.push('no handshake or traffic figures: service/show could not be read');

  const wgDevices = new Set(reading.servers.map(deviceOf));
  const networks = reading.assignments === null ? [] : connectedNetworks(reading.assignments, reading.gateways, wgDevices, notes);
  if (reading.assignments === null && !reading.assignmentApi) {
    notes.push('interface addresses cannot be read through the API before OPNsense 26.7 (no assignment API): the networks this firewall is connected to are not listed, add its LANs by hand');
  }
  return { interfaces, connectedNetworks: networks, routes: routesOf(reading, prefix), notes };
}
