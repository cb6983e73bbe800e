// Finding peers in a WAN: a search text, filters and an order over what the peer table shows,
// applied in memory to the WAN's peers. Several criteria depend on state no SQL column holds
// (the tunnel as the monitor reads it, staleness from the compiled overlay), so the list is
// read once and cut here; the number of statements a request runs does not grow with the WAN.
//
// Paging is keyset: a position is (the order's key, the tunnel address, the id) of a row, so a
// page after it starts at the next row in that order even when rows were added, removed or
// changed in between, and never skips or repeats a row that stayed where it was.
import { tryParseAddress, tryParseCidr, contains, hostRange, overlaps, type IpRange } from './ip.js';

export type PeerOrderField = 'NAME' | 'TUNNEL_STATE' | 'ROLE' | 'TUNNEL_IP' | 'ENDPOINT' | 'DEVICE' | 'CONFIG_STATUS' | 'LAST_SEEN';
export type OrderDirection = 'ASC' | 'DESC';
export type PeerTunnelState = 'UP' | 'DOWN' | 'UNKNOWN';
export type PeerConfigStatus = 'CURRENT' | 'STALE' | 'NEVER_DELIVERED';
export type PeerRoleName = 'HUB' | 'SITE' | 'CLIENT';

/** What the table shows of a peer, plus what the filters ask. */
export interface PeerFacts {
  id: string;
  name: string;
  role: PeerRoleName;
  tunnelIp: string;
  tunnelIp6: string | null;
  endpointHost: string | null;
  endpointPort: number | null;
  enabled: boolean;
  deviceId: string | null;
  deviceName: string | null;
  /** The peer's LANs as stored (cidr) and, when translated, as the WAN sees them (natCidr). */
  lans: readonly string[];
  tunnelState: PeerTunnelState;
  configStatus: PeerConfigStatus;
  /** Epoch ms of the latest handshake a device reported, null: never or not reported. */
  lastSeen: number | null;
  /** The self-service user who added and owns the peer; null (or absent): an operator's peer. */
  ownerId?: string | null;
}

export interface PeerFilter {
  roles?: readonly PeerRoleName[] | null;
  tunnel?: readonly PeerTunnelState[] | null;
  stale?: boolean | null;
  configStatus?: readonly PeerConfigStatus[] | null;
  enabled?: boolean | null;
  deviceIds?: readonly string[] | null;
  /** true: peers without a device (alone, or besides deviceIds); false: only peers with one. */
  manual?: boolean | null;
  /** Peers these users added through self-service. */
  ownerIds?: readonly string[] | null;
  /** true: peers added through self-service (they have an owner); false: the others. */
  selfService?: boolean | null;
}

export interface PeerOrder {
  field: PeerOrderField;
  direction: OrderDirection;
}

export const DEFAULT_PEER_ORDER: PeerOrder = { field: 'TUNNEL_IP', direction: 'ASC' };

/** A row's place in an order: the order's key (null sorts last either way), tunnel address, id. */
export interface PeerPosition {
  key: string | number | null;
  /** The tunnel address as a position on the address line (ip.ts), in decimal. */
  tunnel: string;
  id: string;
}

// The enums' declared order; a table sorted by them groups like rows together.
const TUNNEL_RANK: Record<PeerTunnelState, number> = { UP: 0, DOWN: 1, UNKNOWN: 2 };
const ROLE_RANK: Record<PeerRoleName, number> = { HUB: 0, SITE: 1, CLIENT: 2 };
const STATUS_RANK: Record<PeerConfigStatus, number> = { STALE: 0, NEVER_DELIVERED: 1, CURRENT: 2 };

/**
 * Text in natural order ("site-2" before "site-10"), ignoring case and accents: the text cut
 * into runs of digits (compared as numbers) and of other characters, once per row rather than
 * in each of the n·log n comparisons (Intl.Collator's numeric compare was most of a sort's time).
 */
type Natural = ReadonlyArray<string | number>;

function naturalOf(text: string): Natural {
  const folded = (/^[\x20-\x7e]*$/.test(text) ? text : text.normalize('NFD').replace(/[\u0300-\u036f]/g, '')).toLowerCase();
  return folded.match(/\d+|\D+/g)?.map((run) => (/^\d/.test(run) ? Number(run) : run)) ?? [];
}

function compareNatural(a: Natural, b: Natural): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (x === y) continue;
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** `host:port` as the table prints it (an IPv6 host in brackets). */
export function endpointText(peer: Pick<PeerFacts, 'endpointHost' | 'endpointPort'>): string | null {
  if (!peer.endpointHost) return null;
  const host = peer.endpointHost.includes(':') ? `[${peer.endpointHost}]` : peer.endpointHost;
  return peer.endpointPort ? `${host}:${peer.endpointPort}` : host;
}

/** Whether a key of this order is text (compared by collation) rather than a number. */
const textKey = (field: PeerOrderField) => field === 'NAME' || field === 'ENDPOINT' || field === 'DEVICE';

export function keyOf(peer: PeerFacts, field: PeerOrderField): string | number | null {
  switch (field) {
    case 'NAME': return peer.name;
    case 'TUNNEL_STATE': return TUNNEL_RANK[peer.tunnelState];
    case 'ROLE': return ROLE_RANK[peer.role];
    // The position's decimal text, compared as a number (an IPv6 position passes 2^53).
    case 'TUNNEL_IP': return tunnelPosition(peer);
    case 'ENDPOINT': return endpointText(peer);
    case 'DEVICE': return peer.deviceName;
    case 'CONFIG_STATUS': return STATUS_RANK[peer.configStatus];
    case 'LAST_SEEN': return peer.lastSeen;
  }
}

function tunnelPosition(peer: Pick<PeerFacts, 'tunnelIp'>): string {
  return String(tryParseAddress(peer.tunnelIp) ?? 0n);
}

export function positionOf(peer: PeerFacts, field: PeerOrderField): PeerPosition {
  return { key: keyOf(peer, field), tunnel: tunnelPosition(peer), id: peer.id };
}

/** A position made comparable: text keys cut for natural order, the tunnel address as a bigint. */
interface Sortable {
  key: Natural | number | bigint | null;
  /** The raw key for ties between texts equal in natural order ("Site" and "site"). */
  raw: string | number | null;
  tunnel: bigint;
  id: string;
}

function sortableOf(position: PeerPosition, field: PeerOrderField): Sortable {
  const raw = position.key;
  const key = raw === null ? null : textKey(field) ? naturalOf(String(raw)) : field === 'TUNNEL_IP' ? BigInt(raw) : Number(raw);
  return { key, raw, tunnel: BigInt(position.tunnel), id: position.id };
}

const compareScalar = <T extends string | number | bigint>(a: T, b: T) => (a < b ? -1 : a > b ? 1 : 0);

/** Total order: the key in the asked direction, then tunnel address and id ascending. */
function compareSortable(a: Sortable, b: Sortable, order: PeerOrder): number {
  // Rows without a value last, in either direction.
  if (a.key === null || b.key === null) {
    if (a.key !== b.key) return a.key === null ? 1 : -1;
  } else {
    const base = Array.isArray(a.key) ? compareNatural(a.key, b.key as Natural) || compareScalar(String(a.raw), String(b.raw)) : compareScalar(a.key as number | bigint, b.key as number | bigint);
    if (base !== 0) return order.direction === 'DESC' ? -base : base;
  }
  return compareScalar(a.tunnel, b.tunnel) || compareScalar(a.id, b.id);
}

/** A search text prepared once: lower case, and what it is as an address or a prefix. */
interface Needle {
  text: string;
  address: bigint | null;
  range: IpRange | null;
}

function needleOf(search: string): Needle | null {
  const text = search.trim().toLowerCase();
  if (!text) return null;
  const address = tryParseAddress(text);
  return { text, address, range: address !== null ? hostRange(address) : tryParseCidr(text) };
}

function lanMatches(lan: string, needle: Needle): boolean {
  if (lan.toLowerCase().includes(needle.text)) return true;
  if (!needle.range) return false;
  const range = tryParseCidr(lan);
  if (!range) return false;
  // An address: inside the LAN. A prefix: the LAN overlaps it.
  return needle.address !== null ? contains(range, needle.range) : overlaps(range, needle.range);
}

function tunnelMatches(address: string | null, needle: Needle): boolean {
  if (!address) return false;
  if (address.startsWith(needle.text)) return true;
  const position = needle.range ? tryParseAddress(address) : null;
  if (position === null || !needle.range) return false;
  // Another spelling of the same address (fd00:0::1 for fd00::1), or a prefix that holds it.
  return needle.address !== null ? position === needle.address : contains(needle.range, hostRange(position));
}

function searchMatches(peer: PeerFacts, needle: Needle): boolean {
  return peer.name.toLowerCase().includes(needle.text)
    || tunnelMatches(peer.tunnelIp, needle) || tunnelMatches(peer.tunnelIp6, needle)
    || (endpointText(peer)?.toLowerCase().includes(needle.text) ?? false)
    || peer.lans.some((lan) => lanMatches(lan, needle));
}

const has = <T>(list: readonly T[] | null | undefined, value: T) => !list || list.includes(value);

function filterMatches(peer: PeerFacts, filter: PeerFilter): boolean {
  if (!has(filter.roles, peer.role) || !has(filter.tunnel, peer.tunnelState) || !has(filter.configStatus, peer.configStatus)) return false;
  if (filter.stale != null && (peer.configStatus === 'STALE') !== filter.stale) return false;
  if (filter.enabled != null && peer.enabled !== filter.enabled) return false;
  const owner = peer.ownerId ?? null;
  if (filter.selfService != null && (owner !== null) !== filter.selfService) return false;
  if (filter.ownerIds && (owner === null || !filter.ownerIds.includes(owner))) return false;
  const devices = filter.deviceIds ?? null;
  if (filter.manual === false && !peer.deviceId) return false;
  if (devices || filter.manual === true) {
    const byDevice = !!devices && peer.deviceId !== null && devices.includes(peer.deviceId);
    const manual = filter.manual === true && peer.deviceId === null;
    if (!byDevice && !manual) return false;
  }
  return true;
}

/** The peers that match the search and filter, in the order asked (ties: tunnel address, id). */
export function findPeers(peers: readonly PeerFacts[], query: { search?: string | null; filter?: PeerFilter | null; order?: PeerOrder | null }): PeerFacts[] {
  const needle = query.search ? needleOf(query.search) : null;
  const filter = query.filter ?? {};
  const order = query.order ?? DEFAULT_PEER_ORDER;
  const kept = peers.filter((peer) => (!needle || searchMatches(peer, needle)) && filterMatches(peer, filter));
  return kept
    .map((peer) => ({ peer, sortable: sortableOf(positionOf(peer, order.field), order.field) }))
    .sort((a, b) => compareSortable(a.sortable, b.sortable, order))
    .map(({ peer }) => peer);
}

export interface PeerWindowAsked {
  first?: number | null;
  last?: number | null;
  after?: PeerPosition | null;
  before?: PeerPosition | null;
}

export interface PeerSlice {
  rows: PeerFacts[];
  hasPreviousPage: boolean;
  hasNextPage: boolean;
}

/**
 * The page of `sorted` (findPeers' result) a relay window asks: `first` rows after a position,
 * or `last` rows before one; with neither size, `defaultSize` rows forward.
 */
export function slicePeers(sorted: readonly PeerFacts[], order: PeerOrder, window: PeerWindowAsked, defaultSize: number): PeerSlice {
  // The first index whose row comes after the position (binary search: the rows are in order).
  const firstAfter = (position: PeerPosition, inclusive: boolean) => {
    const at = sortableOf(position, order.field);
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      const compared = compareSortable(sortableOf(positionOf(sorted[middle]!, order.field), order.field), at, order);
      if (compared > 0 || (inclusive && compared === 0)) high = middle;
      else low = middle + 1;
    }
    return low;
  };
  let start = window.after ? firstAfter(window.after, false) : 0;
  let end = window.before ? firstAfter(window.before, true) : sorted.length;
  end = Math.max(start, end);
  const backward = typeof window.last === 'number' || (!!window.before && typeof window.first !== 'number');
  if (backward) start = Math.max(start, end - (typeof window.last === 'number' ? window.last : defaultSize));
  else end = Math.min(end, start + (typeof window.first === 'number' ? window.first : defaultSize));
  return { rows: sorted.slice(start, end), hasPreviousPage: start > 0, hasNextPage: end < sorted.length };
}
