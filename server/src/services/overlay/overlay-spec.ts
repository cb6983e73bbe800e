// Reads a WAN and everything in it from the database as the domain's OverlaySpec.
import type { Db } from '../../infra/db/client.js';
import type { SecretBox } from '../../infra/crypto/secret-box.js';
import type { OverlaySpec, PeerSpec } from '../../domain/model.js';
import { DomainError } from '../../domain/errors.js';

type Reader = Pick<Db, 'wan' | 'peer' | 'subnet' | 'publishedService' | 'presharedKey' | 'device'>;

export interface LoadOptions {
  /** Decrypt private and preshared keys (only for rendering a config a caller may download). */
  secrets?: SecretBox;
  /**
   * Every peer as a member, disabled ones too: the checks of a change (LANs, services) keep
   * room for a disabled peer, so enabling it again cannot make the overlay invalid.
   */
  withDisabled?: boolean;
}

const NO_BGP_KINDS: ReadonlySet<string> = new Set(['PFSENSE', 'OPNSENSE', 'OPENWRT']);

const WAN_FIELDS = {
  id: true, name: true, tunnelCidr: true, servicesCidr: true, natPool: true, topology: true, listenPort: true, mtu: true, keepalive: true, interfaceName: true, hubRedundancy: true,
  tunnelCidr6: true, servicesCidr6: true, natPool6: true,
} as const;
const PEER_FIELDS = {
  id: true, name: true, role: true, tunnelIp: true, tunnelIp6: true, publicKey: true, privateKeyEnc: true, endpointHost: true, endpointPort: true,
  listenPort: true, keepalive: true, portForwarded: true, deviceId: true, enabled: true,
} as const;
const SUBNET_FIELDS = { id: true, peerId: true, cidr: true, routed: true, natCidr: true, description: true } as const;
const SERVICE_FIELDS = { id: true, peerId: true, name: true, protocol: true, localIp: true, localPort: true, serviceIp: true, servicePort: true } as const;
const PSK_FIELDS = { id: true, peerAId: true, peerBId: true, keyEnc: true } as const;

/**
 * The columns of each table an overlay spec is made of. The database triggers that bump
 * Wan.overlayRevision (migration overlay_revision) must watch each of them, or a change to it
 * would leave cached views stale: test/overlay-revision.test.ts compares this with them.
 */
export const OVERLAY_COLUMNS: Readonly<Record<'Wan' | 'Peer' | 'Subnet' | 'PublishedService' | 'PresharedKey' | 'Device', readonly string[]>> = {
  Wan: Object.keys(WAN_FIELDS).filter((column) => column !== 'id'),
  Peer: Object.keys(PEER_FIELDS).filter((column) => column !== 'id'),
  Subnet: Object.keys(SUBNET_FIELDS).filter((column) => column !== 'id'),
  PublishedService: Object.keys(SERVICE_FIELDS).filter((column) => column !== 'id'),
  PresharedKey: Object.keys(PSK_FIELDS).filter((column) => column !== 'id'),
  // Only with redundant hubs (see loadOverlayRows).
  Device: ['kind'],
};

function loadPeerRows(db: Reader, wanId: string) {
  return db.peer.findMany({ where: { wanId }, select: PEER_FIELDS, orderBy: { tunnelIp: 'asc' } });
}

function loadSubnetRows(db: Reader, wanId: string) {
  return db.subnet.findMany({ where: { peer: { wanId } }, select: SUBNET_FIELDS, orderBy: [{ cidr: 'asc' }, { id: 'asc' }] });
}

/** The columns of a peer that its overlay spec is made of. */
export type OverlayPeerRow = Awaited<ReturnType<typeof loadPeerRows>>[number];
type OverlaySubnetRow = Awaited<ReturnType<typeof loadSubnetRows>>[number];

/**
 * Exactly the rows an OverlaySpec is made of (no timestamps or delivery state), which a cached
 * view keeps and patches from the change journal (see overlay-cache.ts).
 * Flat reads, one per table, grouped here: Prisma maps nested relations of 1,000 peers
 * several times slower than the same rows read flat.
 */
export async function loadOverlayRows(db: Reader, wanId: string) {
  // One read after another: callers may pass a transaction, which runs one statement at a time.
  const wan = await loadWanRow(db, wanId);
  if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found');
  const peers = await loadPeerRows(db, wanId);
  const subnets = await loadSubnetRows(db, wanId);
  const services = await db.publishedService.findMany({ where: { peer: { wanId } }, select: SERVICE_FIELDS, orderBy: [{ serviceIp: 'asc' }, { id: 'asc' }] });
  const presharedKeys = await db.presharedKey.findMany({ where: { wanId }, select: PSK_FIELDS, orderBy: { id: 'asc' } });
  const devices = await loadDeviceRows(db, wan);
  return sortOverlayRows({
    wan,
    peers,
    subnets,
    services,
    presharedKeys,
    devices,
  });
}

/**
 * With redundant hubs the kind of each device a peer is bound to decides what its platform can
 * run (BGP or not), so it is part of the rows a compiled view is made of; without them it
 * changes nothing, and is not read.
 */
function loadDeviceRows(db: Reader, wan: { id: string; hubRedundancy: boolean }): Promise<Array<{ id: string; kind: string }>> {
  return wan.hubRedundancy
    ? db.device.findMany({ where: { peers: { some: { wanId: wan.id } } }, select: { id: true, kind: true }, orderBy: { id: 'asc' } })
    : Promise.resolve([]);
}

type WanRow = NonNullable<Awaited<ReturnType<typeof loadWanRow>>>;

function loadWanRow(db: Reader, wanId: string) {
  return db.wan.findUnique({ where: { id: wanId }, select: WAN_FIELDS });
}

export interface OverlayRows {
  wan: WanRow;
  peers: OverlayPeerRow[];
  subnets: OverlaySubnetRow[];
  services: OverlayServiceRow[];
  presharedKeys: OverlayPskRow[];
  devices: Array<{ id: string; kind: string }>;
}
export type OverlayServiceRow = { [K in keyof typeof SERVICE_FIELDS]: K extends 'localPort' | 'servicePort' ? number : string };
export type OverlayPskRow = { [K in keyof typeof PSK_FIELDS]: string };
export type { OverlaySubnetRow };

/** Code-unit order, the order of SQLite and of PostgreSQL's C collation, and the same on every replica whatever the database's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The order the spec lists rows in (peers by tunnel address, subnets by range, services by
 * service address, keys by id), applied in JavaScript so a view patched from the change
 * journal and one read whole list them alike (Array.sort is stable: nearly sorted input is cheap).
 */
export function sortOverlayRows(rows: OverlayRows): OverlayRows {
  rows.peers.sort((a, b) => compareText(a.tunnelIp, b.tunnelIp));
  rows.subnets.sort((a, b) => compareText(a.cidr, b.cidr) || compareText(a.id, b.id));
  rows.services.sort((a, b) => compareText(a.serviceIp, b.serviceIp) || compareText(a.id, b.id));
  rows.presharedKeys.sort((a, b) => compareText(a.id, b.id));
  rows.devices.sort((a, b) => compareText(a.id, b.id));
  return rows;
}

const IN_CHUNK = 500;

async function inChunks<T>(ids: readonly string[], read: (chunk: string[]) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let i = 0; i < ids.length; i += IN_CHUNK) rows.push(...(await read(ids.slice(i, i + IN_CHUNK))));
  return rows;
}

/** Ids of rows named by the change journal, per table. */
export interface ChangedIds {
  peers: readonly string[];
  subnets: readonly string[];
  services: readonly string[];
  presharedKeys: readonly string[];
}

/**
 * The WAN's row and those of the named rows that are (still) in the WAN, with the columns
 * `loadOverlayRows` reads: a named row not returned was deleted or left the WAN.
 */
export async function loadChangedOverlayRows(db: Reader, wanId: string, ids: ChangedIds) {
  const wan = await loadWanRow(db, wanId);
  if (!wan) throw new DomainError('NOT_FOUND', 'WAN not found');
  const peers = await inChunks(ids.peers, (chunk) => db.peer.findMany({ where: { wanId, id: { in: chunk } }, select: PEER_FIELDS }));
  const subnets = await inChunks(ids.subnets, (chunk) => db.subnet.findMany({ where: { peer: { wanId }, id: { in: chunk } }, select: SUBNET_FIELDS }));
  const services = await inChunks(ids.services, (chunk) => db.publishedService.findMany({ where: { peer: { wanId }, id: { in: chunk } }, select: SERVICE_FIELDS }));
  const presharedKeys = await inChunks(ids.presharedKeys, (chunk) => db.presharedKey.findMany({ where: { wanId, id: { in: chunk } }, select: PSK_FIELDS }));
  return { wan, peers, subnets, services, presharedKeys, devices: await loadDeviceRows(db, wan) };
}

export async function loadOverlaySpec(db: Reader, wanId: string, options: LoadOptions = {}): Promise<OverlaySpec> {
  return overlaySpecFromRows(await loadOverlayRows(db, wanId), options);
}

/** Rows grouped by their peer, each group in the order of `rows`. */
export function byPeer<T extends { peerId: string }>(rows: readonly T[]): Map<string, T[]> {
  const grouped = new Map<string, T[]>();
  for (const row of rows) {
    const list = grouped.get(row.peerId);
    if (list) list.push(row);
    else grouped.set(row.peerId, [row]);
  }
  return grouped;
}

export function overlaySpecFromRows(rows: OverlayRows, options: LoadOptions = {}): OverlaySpec {
  const { secrets } = options;
  const { wan } = rows;
  const subnetsOf = byPeer(rows.subnets);
  const servicesOf = byPeer(rows.services);
  const kindOf = new Map(rows.devices.map((device) => [device.id, device.kind]));
  const specOf = (peer: OverlayPeerRow): PeerSpec => ({
    id: peer.id,
    name: peer.name,
    role: peer.role,
    tunnelIp: peer.tunnelIp,
    tunnelIp6: peer.tunnelIp6,
    publicKey: peer.publicKey,
    privateKey: secrets && peer.privateKeyEnc ? secrets.open(peer.privateKeyEnc) : null,
    endpointHost: peer.endpointHost,
    endpointPort: peer.endpointPort,
    listenPort: peer.listenPort,
    keepalive: peer.keepalive,
    portForwarded: peer.portForwarded,
    subnets: (subnetsOf.get(peer.id) ?? []).map((subnet) => ({ id: subnet.id, cidr: subnet.cidr, routed: subnet.routed, natCidr: subnet.natCidr, description: subnet.description })),
    services: (servicesOf.get(peer.id) ?? []).map((service) => ({
      id: service.id,
      name: service.name,
      protocol: service.protocol === 'udp' ? 'udp' : 'tcp',
      localIp: service.localIp,
      localPort: service.localPort,
      serviceIp: service.serviceIp,
      servicePort: service.servicePort,
    })),
    // pfSense's, OPNsense's and OpenWrt's APIs cannot configure a BGP daemon, so their peers
    // fail over by gateway monitoring (or are refused as redundant hubs by their drivers).
    ...(peer.deviceId !== null && NO_BGP_KINDS.has(kindOf.get(peer.deviceId) ?? '') ? { runsBgp: false } : {}),
  });
  // The one place a disabled peer leaves the overlay: every compile, rendering, tunnel,
  // reachability and conflict derives from `peers`, and sees only the enabled ones.
  const members = options.withDisabled ? rows.peers : rows.peers.filter((peer) => peer.enabled);
  const disabledPeers = options.withDisabled ? [] : rows.peers.filter((peer) => !peer.enabled).map(specOf);
  return {
    wan: {
      id: wan.id,
      name: wan.name,
      tunnelCidr: wan.tunnelCidr,
      servicesCidr: wan.servicesCidr,
      natPool: wan.natPool,
      topology: wan.topology,
      listenPort: wan.listenPort,
      mtu: wan.mtu,
      keepalive: wan.keepalive,
      interfaceName: wan.interfaceName,
      hubRedundancy: wan.hubRedundancy,
      tunnelCidr6: wan.tunnelCidr6,
      servicesCidr6: wan.servicesCidr6,
      natPool6: wan.natPool6,
    },
    peers: members.map(specOf),
    // Without the master key the preshared keys stay out: checks do not need their values.
    presharedKeys: secrets ? rows.presharedKeys.map((psk) => ({ peerAId: psk.peerAId, peerBId: psk.peerBId, key: secrets.open(psk.keyEnc) })) : [],
    ...(disabledPeers.length > 0 ? { disabledPeers } : {}),
  };
}
