// What the server has for one WAN, read through the API, and the same WAN written as a file
// (export): sorted by name (LANs by CIDR), values equal to the defaults left out, no secrets.
import { CliError, type Api } from './client.js';
import type { LanSpec, PeerSpec, ServiceSpec, WanFile, WanSettings } from './schema.js';

export interface ServerLan {
  id: string;
  cidr: string;
  description: string;
  routed: boolean;
  natCidr: string | null;
}

export interface ServerService {
  id: string;
  name: string;
  protocol: string;
  localIp: string;
  localPort: number;
  serviceIp: string;
  servicePort: number;
}

export interface ServerPeer {
  id: string;
  name: string;
  role: 'CLIENT' | 'HUB' | 'SITE';
  tunnelIp: string;
  tunnelIp6: string | null;
  keyCustody: 'SERVER' | 'USER';
  publicKey: string;
  endpointHost: string | null;
  endpointPort: number | null;
  listenPort: number | null;
  keepalive: number | null;
  portForwarded: boolean;
  autoDeploy: boolean;
  enabled: boolean;
  expiresAt: string | null;
  device: { id: string; name: string } | null;
  subnets: ServerLan[];
  services: ServerService[];
}

export type ServerWanSettings = Required<Omit<WanSettings, 'tunnelCidr6' | 'servicesCidr6' | 'natPool6'>> & {
  id: string;
  tunnelCidr6: string | null;
  servicesCidr6: string | null;
  natPool6: string | null;
};

export interface ServerWan {
  wan: ServerWanSettings;
  peers: ServerPeer[];
  presharedKeys: Array<{ a: ServerPeer; b: ServerPeer }>;
}

export const WAN_SETTINGS = ['topology', 'tunnelCidr', 'tunnelCidr6', 'servicesCidr', 'servicesCidr6', 'natPool', 'natPool6', 'listenPort', 'mtu', 'keepalive', 'interfaceName', 'hubRedundancy', 'selfService', 'selfServicePeerLimit'] as const;

const PEER_FIELDS = `id name role tunnelIp tunnelIp6 keyCustody publicKey endpointHost endpointPort listenPort keepalive portForwarded autoDeploy enabled expiresAt
  device { id name }
  subnets { id cidr description routed natCidr }
  services { id name protocol localIp localPort serviceIp servicePort }`;

const PAGE = 200;

/** The WAN's id for a name or an id; null when there is none. */
export async function findWan(api: Api, nameOrId: string): Promise<{ id: string; name: string } | null> {
  let after: string | null = null;
  for (;;) {
    const data: { wans: { edges: Array<{ node: { id: string; name: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await api.query(
      `query ($after: String) { wans(first: 1000, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    const found = data.wans.edges.find(({ node }) => node.name === nameOrId) ?? data.wans.edges.find(({ node }) => node.id === nameOrId);
    if (found) return found.node;
    if (!data.wans.pageInfo.hasNextPage) return null;
    after = data.wans.pageInfo.endCursor;
  }
}

export async function requireWan(api: Api, nameOrId: string): Promise<{ id: string; name: string }> {
  const wan = await findWan(api, nameOrId);
  if (!wan) throw new CliError('NOT_FOUND', `WAN "${nameOrId}" not found (by name or id)`);
  return wan;
}

export async function readWan(api: Api, wanId: string): Promise<ServerWan> {
  const peers: ServerPeer[] = [];
  let settings: ServerWanSettings | null = null;
  let pairs: Array<{ peerAName: string; peerBName: string; peerAId: string; peerBId: string }> = [];
  let after: string | null = null;
  for (;;) {
    const data: {
      wan: ServerWanSettings & {
        presharedKeyPairs: typeof pairs;
        peers: { edges: Array<{ node: ServerPeer }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
      };
    } = await api.query(
      `query ($id: ID!, $after: String, $first: Int) { wan(id: $id) {
        id name ${WAN_SETTINGS.join(' ')}
        presharedKeyPairs { peerAId peerAName peerBId peerBName }
        peers(first: $first, after: $after) { edges { node { ${PEER_FIELDS} } } pageInfo { hasNextPage endCursor } }
      } }`,
      { id: wanId, after, first: PAGE },
    );
    const { peers: page, presharedKeyPairs, ...wan } = data.wan;
    settings ??= wan;
    pairs = presharedKeyPairs;
    peers.push(...page.edges.map(({ node }) => node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  const byId = new Map(peers.map((peer) => [peer.id, peer]));
  const presharedKeys = pairs.flatMap(({ peerAId, peerBId }) => {
    const a = byId.get(peerAId);
    const b = byId.get(peerBId);
    return a && b ? [{ a, b }] : [];
  });
  return { wan: settings!, peers, presharedKeys };
}

/** The devices on the server by name (peers are bound to devices by name in the file). */
export async function readDevices(api: Api): Promise<Map<string, string>> {
  const devices = new Map<string, string>();
  let after: string | null = null;
  for (;;) {
    const data: { devices: { edges: Array<{ node: { id: string; name: string } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await api.query(
      `query ($after: String) { devices(first: 1000, after: $after) { edges { node { id name } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    for (const { node } of data.devices.edges) devices.set(node.name, node.id);
    if (!data.devices.pageInfo.hasNextPage) return devices;
    after = data.devices.pageInfo.endCursor;
  }
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The WAN as a file: what export writes and what plan compares against. */
export function toFile(state: ServerWan): WanFile {
  const wan: WanSettings = { name: state.wan.name };
  for (const key of WAN_SETTINGS) {
    const value = state.wan[key];
    if (value !== null && value !== undefined) (wan as Record<string, unknown>)[key] = value;
  }
  const peers = [...state.peers].sort(byName).map(peerToFile);
  const presharedKeys = state.presharedKeys
    .map(({ a, b }) => [a.name, b.name].sort() as [string, string])
    .sort((x, y) => (x.join('\0') < y.join('\0') ? -1 : 1));
  return { wan, peers, ...(presharedKeys.length ? { presharedKeys } : {}) };
}

function peerToFile(peer: ServerPeer): PeerSpec {
  const spec: PeerSpec = { name: peer.name, role: peer.role, tunnelIp: peer.tunnelIp };
  if (peer.tunnelIp6) spec.tunnelIp6 = peer.tunnelIp6;
  // A key Meshplane made is the server's own: another server makes its own. A key the peer
  // brought is part of what the peer is, and public.
  if (peer.keyCustody === 'USER') spec.publicKey = peer.publicKey;
  if (peer.endpointHost !== null) spec.endpointHost = peer.endpointHost;
  if (peer.endpointPort !== null) spec.endpointPort = peer.endpointPort;
  if (peer.listenPort !== null) spec.listenPort = peer.listenPort;
  if (peer.keepalive !== null) spec.keepalive = peer.keepalive;
  if (peer.portForwarded) spec.portForwarded = true;
  if (peer.autoDeploy) spec.autoDeploy = true;
  if (!peer.enabled) spec.enabled = false;
  if (peer.expiresAt) spec.expiresAt = new Date(peer.expiresAt).toISOString();
  if (peer.device) spec.device = peer.device.name;
  const lans = [...peer.subnets].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0)).map(lanToFile);
  if (lans.length) spec.lans = lans;
  const services = [...peer.services].sort(byName).map(serviceToFile);
  if (services.length) spec.services = services;
  return spec;
}

function lanToFile(lan: ServerLan): LanSpec {
  const spec: LanSpec = { cidr: lan.cidr };
  if (lan.description) spec.description = lan.description;
  if (!lan.routed) spec.routed = false;
  if (lan.natCidr) spec.natCidr = lan.natCidr;
  return spec;
}

function serviceToFile(service: ServerService): ServiceSpec {
  return {
    name: service.name,
    protocol: service.protocol.toUpperCase() as 'TCP' | 'UDP',
    localIp: service.localIp,
    localPort: service.localPort,
    serviceIp: service.serviceIp,
    servicePort: service.servicePort,
  };
}
