// What an OpenWrt router already has, as one DeviceDiscovery (read-only): every `proto
// wireguard` interface of /etc/config/network with its `wireguard_<if>` peer sections (UCI
// shows private and preshared keys in full: they are sealed by the service that stores them),
// handshakes and counters from `wg show <if> dump`, the networks netifd has up on other
// interfaces, the uplink (the interface holding the default route), and the static routes.
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { DeviceError } from '../driver.js';
import type {
  ConnectedNetwork, DeviceDiscovery, DiscoveredInterface, DiscoveredPeer, DiscoveredRoute, UnmodelledSetting,
} from '../../domain/adoption/discovery.js';
import { hostableNetwork } from '../../domain/adoption/discovery.js';
import { parseWgInterfaceKeys, type WgInterfaceKeys } from '../shared/wg-dump.js';
import { isAnonymous, keyOfTag, TAG_OPTION } from './names.js';
import type { InterfaceStatus } from './snapshot.js';
import { wgDumpCall } from './stats.js';
import type { UbusClient, UbusResult } from './ubus-client.js';

/** One section of `uci get {config}`: ".type", ".name", ".anonymous", then its options. */
export type UciSectionValues = Record<string, unknown>;

/** One interface of `network.interface dump`, with the next hop of its routes. */
export type NetifdInterface = InterfaceStatus & { route?: Array<{ target: string; mask: number; nexthop?: string }> };

export interface OpenWrtDiscoveryReading {
  /** `uci get {config:'network'}` values: section name → section. */
  network: Record<string, UciSectionValues>;
  interfaces: NetifdInterface[];
  /** `wg show <if> dump` stdout per WireGuard interface; null when the exec was refused or wg found no device. */
  dumps: ReadonlyMap<string, string | null>;
  /** Whether file.exec of /usr/bin/wg was allowed at all. */
  dumpsAllowed: boolean;
}

/** Interface options Meshplane has no place for, with what they mean. */
const UNMODELLED_INTERFACE = ['fwmark', 'nohostroute', 'tunlink', 'ip6prefix', 'metric', 'defaultroute', 'auto'];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const list = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : typeof value === 'string' && value !== '' ? value.split(/\s+/) : []);
const number = (value: unknown): number | null => (/^\d+$/.test(text(value)) ? Number(text(value)) : null);

function withPrefixLength(address: string): string {
  return address.includes('/') ? address : `${address}/${address.includes(':') ? 128 : 32}`;
}

function sectionsOf(network: Record<string, UciSectionValues>, type: string): UciSectionValues[] {
  return Object.values(network)
    .filter((section) => section['.type'] === type)
    .sort((a, b) => (Number(a['.index'] ?? 0) - Number(b['.index'] ?? 0)));
}

function derivedPublicKey(privateKey: string): string | null {
  try {
    return privateKey === '' ? null : publicKeyFromPrivate(privateKey);
  } catch {
    return null;
  }
}

function peerOf(section: UciSectionValues, dump: WgInterfaceKeys | null, prefix: string, unmodelled: UnmodelledSetting[]): DiscoveredPeer {
  const ref = text(section['.name']);
  const publicKey = text(section.public_key);
  const live = dump?.peers.find((peer) => peer.publicKey === publicKey) ?? null;
  const host = text(section.endpoint_host);
  const keepalive = number(section.persistent_keepalive);
  const presharedKey = text(section.preshared_key);
  if (text(section.route_allowed_ips) === '1') {
    unmodelled.push({ owner: ref, name: 'route_allowed_ips', value: "1 (netifd adds a route for every AllowedIP; Meshplane routes with its own route sections)" });
  }
  return {
    ref,
    publicKey,
    allowedIps: list(section.allowed_ips).map(withPrefixLength),
    endpointHost: host === '' ? null : host,
    // wireguard.sh: endpoint_host without a port dials 51820.
    endpointPort: host === '' ? null : number(section.endpoint_port) ?? 51820,
    persistentKeepalive: keepalive === null || keepalive === 0 ? null : keepalive,
    presharedKey: presharedKey === '' ? null : presharedKey,
    hasPresharedKey: presharedKey !== '',
    comment: text(section.description) === '' ? null : text(section.description),
    disabled: text(section.disabled) === '1',
    managedKey: keyOfTag(text(section[TAG_OPTION]) || undefined, prefix),
    lastHandshake: live === null || live.latestHandshake === 0 ? null : new Date(live.latestHandshake * 1000),
    rxBytes: live?.rxBytes ?? null,
    txBytes: live?.txBytes ?? null,
  };
}

function parseDump(textOut: string | null | undefined): WgInterfaceKeys | null {
  if (!textOut) return null;
  return parseWgInterfaceKeys(textOut);
}

/** Pure: the reading as a DeviceDiscovery; `prefix` tells Meshplane's tags from other text. */
export function discoverOpenWrt(reading: OpenWrtDiscoveryReading, prefix: string): DeviceDiscovery {
  const notes: string[] = [];
  let anonymousPeers = false;
  const interfaces: DiscoveredInterface[] = sectionsOf(reading.network, 'interface')
    .filter((section) => section.proto === 'wireguard')
    .map((section) => {
      const name = text(section['.name']);
      const dump = parseDump(reading.dumps.get(name));
      const unmodelled: UnmodelledSetting[] = [];
      for (const option of UNMODELLED_INTERFACE) {
        if (section[option] !== undefined) unmodelled.push({ owner: 'interface', name: option, value: list(section[option]).join(' ') });
      }
      const peerSections = sectionsOf(reading.network, `wireguard_${name}`);
      if (peerSections.some((peer) => peer['.anonymous'] === true || isAnonymous(text(peer['.name'])))) anonymousPeers = true;
      const privateKey = text(section.private_key);
      return {
        ref: name,
        name,
        listenPort: number(section.listen_port),
        mtu: number(section.mtu),
        publicKey: dump?.publicKey ?? derivedPublicKey(privateKey),
        privateKey: privateKey === '' ? null : privateKey,
        addresses: list(section.addresses).map(withPrefixLength),
        disabled: text(section.disabled) === '1',
        comment: null,
        managedKey: keyOfTag(text(section[TAG_OPTION]) || undefined, prefix),
        peers: peerSections.map((peer) => peerOf(peer, dump, prefix, unmodelled)),
        unmodelled,
        source: `OpenWrt interface ${name}`,
      };
    });
  if (anonymousPeers) {
    notes.push('peers LuCI created are anonymous UCI sections (cfgNNHHHH): their refs change when an earlier section of /etc/config/network is deleted; adoption finds them again by public key');
  }
  if (!reading.dumpsAllowed && interfaces.length > 0) {
    notes.push('no handshake or traffic figures: file.exec of /usr/bin/wg is not granted to this login (see the README ACL file)');
  }

  const uplinks = new Set(reading.interfaces
    .filter((iface) => iface.up && (iface.route ?? []).some((route) => route.mask === 0 && (route.target === '0.0.0.0' || route.target === '::')))
    .map((iface) => iface.interface));
  const connectedNetworks: ConnectedNetwork[] = [];
  for (const iface of reading.interfaces) {
    if (!iface.up || iface.proto === 'wireguard' || iface.interface === 'loopback') continue;
    for (const entry of [...(iface['ipv4-address'] ?? []), ...(iface['ipv6-address'] ?? [])]) {
      const address = `${entry.address}/${entry.mask}`;
      const cidr = hostableNetwork(address);
      if (cidr !== null) connectedNetworks.push({ cidr, address, interfaceName: iface.interface, uplink: uplinks.has(iface.interface) });
    }
  }

  const routes: DiscoveredRoute[] = [];
  for (const type of ['route', 'route6'] as const) {
    for (const section of sectionsOf(reading.network, type)) {
      const target = text(section.target);
      const netmask = text(section.netmask);
      routes.push({
        ref: `${type} ${text(section['.name'])}`,
        destination: target.includes('/') || type === 'route6' || netmask === '' ? withPrefixLength(target) : `${target}/${maskLength(netmask)}`,
        gateway: text(section.gateway) || null,
        interfaceName: text(section.interface) || null,
        static: true,
        disabled: text(section.disabled) === '1',
        comment: null,
        managedKey: keyOfTag(text(section[TAG_OPTION]) || undefined, prefix),
      });
    }
  }
  for (const iface of reading.interfaces) {
    for (const route of iface.route ?? []) {
      if (route.mask !== 0 || (route.target !== '0.0.0.0' && route.target !== '::')) continue;
      routes.push({
        ref: `netifd ${iface.interface} default`,
        destination: route.target === '::' ? '::/0' : '0.0.0.0/0',
        gateway: route.nexthop && route.nexthop !== '0.0.0.0' && route.nexthop !== '::' ? route.nexthop : null,
        interfaceName: iface.interface,
        static: false,
        disabled: false,
        comment: `default route of ${iface.interface}${iface.proto ? ` (${iface.proto})` : ''}`,
        managedKey: null,
      });
    }
  }
  return { interfaces, connectedNetworks, routes, notes };
}

function maskLength(netmask: string): number {
  return netmask.split('.').reduce((bits, octet) => bits + (Number(octet) >>> 0).toString(2).replace(/0/g, '').length, 0);
}

/** Reads what discoverOpenWrt needs: one batch for UCI and netifd, one for the WireGuard dumps. */
export async function readDiscovery(client: UbusClient): Promise<OpenWrtDiscoveryReading> {
  const [uci, dump] = await client.batch([
    { object: 'uci', method: 'get', args: { config: 'network' } },
    { object: 'network.interface', method: 'dump' },
  ]);
  const network = (uci!.status === 0 ? (uci!.data as { values?: Record<string, UciSectionValues> })?.values : undefined) ?? {};
  const interfaces = (dump!.status === 0 ? (dump!.data as { interface?: NetifdInterface[] })?.interface : undefined) ?? [];
  const wgNames = Object.values(network).filter((section) => section['.type'] === 'interface' && section.proto === 'wireguard').map((section) => text(section['.name']));
  const dumps = new Map<string, string | null>();
  let dumpsAllowed = true;
  if (wgNames.length > 0) {
    let results: UbusResult[] = [];
    try {
      results = await client.batch(wgNames.map((name) => wgDumpCall(name)));
    } catch (error) {
      // file.exec not granted at all, or rpcd-mod-file missing: the reading goes on without figures.
      if (!(error instanceof DeviceError) || (error.code !== 'AUTH_FAILED' && error.code !== 'REFUSED')) throw error;
    }
    for (const [index, name] of wgNames.entries()) {
      const result = results[index] ?? { status: 6, data: undefined };
      const reply = result.data as { code?: unknown; stdout?: unknown } | undefined;
      if (result.status !== 0) dumpsAllowed = false;
      dumps.set(name, result.status === 0 && reply?.code === 0 && typeof reply.stdout === 'string' ? reply.stdout : null);
    }
  }
  return { network, interfaces, dumps, dumpsAllowed };
}
