// What each peer can actually reach, read back from the compiled configuration the way
// packets would travel. A path starts at a source (the peer's tunnel IP, or a host of one of
// its routed LANs as the overlay sees it, i.e. translated when NATed) and ends at a
// destination (another peer's tunnel IP, routed LAN or service IP). At each hop the most
// specific AllowedIPs prefix covering the destination picks the next peer, and that peer must
// accept the packet: WireGuard drops a packet whose SOURCE is not inside the AllowedIPs of the
// peer it arrived from (cryptokey routing). Because one AllowedIPs list both routes and
// accepts, a path whose every hop accepts its source also carries the replies back the same
// way. A path that falls through (no covering prefix, a hop dropping the source, a loop, a hop
// that does not forward) is absent, which is how a misconfiguration shows.
import { familyOfValue, interfacesOf, type CompiledOverlay, type CompiledPeer, type CompiledRemote } from './compiled.js';
import { compareRanges, contains, tryParseAddressOrCidr, type IpRange } from './ip.js';
import { pairKey } from './overlay-facts.js';

export type ReachKind = 'TUNNEL_IP' | 'LAN' | 'SERVICE';
/** Where a path starts at its peer: the peer itself (its tunnel IP) or a host on one of its LANs. */
export type ReachSourceKind = 'TUNNEL_IP' | 'LAN';

export interface Reach {
  kind: ReachKind;
  target: string;
  targetPeerId: string;
  nextHopPeerId: string;
  /**
   * WANs with redundant hubs: the first hop once the tunnel to `nextHopPeerId` fails (that hub
   * lost, or the link to it), null when nothing carries the path then; absent elsewhere.
   */
  backupNextHopPeerId?: string | null;
  /** The source range as the rest of the overlay sees it: the tunnel IP (/32) or a routed LAN (translated when NATed). */
  from: string;
  fromKind: ReachSourceKind;
}

export interface PeerReachability {
  peerId: string;
  reaches: Reach[];
}

interface Endpoint {
  kind: ReachKind;
  target: string;
  range: IpRange;
  ownerId: string;
}

interface TableEntry {
  range: IpRange;
  remote: string;
}

/** Parses each distinct CIDR once per computation (AllowedIPs strings repeat across peers). */
class RangeCache {
  private readonly ranges = new Map<string, IpRange | null>();

  get(cidr: string): IpRange | null {
    let range = this.ranges.get(cidr);
    if (range === undefined) this.ranges.set(cidr, (range = tryParseAddressOrCidr(cidr)));
    return range;
  }
}

/** Longest-prefix lookups over one peer's AllowedIPs. */
class ForwardingTable {
  private readonly entries: TableEntry[] = [];
  /** True for every compiled table (AllowedIPs never overlap); hand-made tables may differ. */
  private readonly disjoint: boolean;

  constructor(peer: CompiledPeer, ranges: RangeCache) {
    for (const remote of peer.peers) {
      for (const cidr of remote.allowedIps) {
        const range = ranges.get(cidr);
        if (range) this.entries.push({ range, remote: remote.peerId });
      }
    }
    this.entries.sort((a, b) => compareRanges(a.range, b.range));
    this.disjoint = this.entries.every((entry, i) => i === 0 || entry.range.start > (this.entries[i - 1] as TableEntry).range.end);
  }

  /** The remote whose most specific prefix contains the whole destination range. */
  lookup(destination: IpRange): string | null {
    // Binary search for the last entry starting at or before the destination.
    let low = 0;
    let high = this.entries.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if ((this.entries[middle] as TableEntry).range.start <= destination.start) low = middle + 1;
      else high = middle - 1;
    }
    if (this.disjoint) {
      const candidate = this.entries[high];
      return candidate && contains(candidate.range, destination) ? candidate.remote : null;
    }
    let best: TableEntry | null = null;
    for (let i = high; i >= 0; i--) {
      const entry = this.entries[i] as TableEntry;
      if (contains(entry.range, destination) && (!best || entry.range.prefix > best.range.prefix)) best = entry;
    }
    return best?.remote ?? null;
  }
}

/**
 * Whether a compiled AllowedIPs list (sorted by address, disjoint) contains the whole range.
 * A binary search parsing only the entries it probes: checking what a far end accepts must
 * not cost a pass over its whole list (a spoke's list carries every other spoke's LAN).
 */
function listContains(allowedIps: readonly string[], range: IpRange, ranges: RangeCache): boolean {
  let low = 0;
  let high = allowedIps.length - 1;
  let candidate: IpRange | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = ranges.get(allowedIps[middle] as string);
    if (entry && entry.start <= range.start) {
      candidate = entry;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return candidate !== null && contains(candidate, range);
}

/**
 * The peer's tunnel addresses as host prefixes: the IPv4 one (first interface address) and, in
 * a dual-stack WAN, the IPv6 one, which always comes second (before any service address, and a
 * /128 itself on a point-to-point interface).
 */
function tunnelEndpoints(peer: CompiledPeer, ranges: RangeCache): Endpoint[] {
  const [first, second] = peer.interface.addresses;
  const tunnelIps = [first, second !== undefined && familyOfValue(second) === 6 ? second : undefined];
  const endpoints: Endpoint[] = [];
  for (const address of tunnelIps) {
    const tunnelIp = (address ?? '').split('/')[0] ?? '';
    const range = ranges.get(tunnelIp);
    if (range) endpoints.push({ kind: 'TUNNEL_IP', target: `${tunnelIp}/${range.prefix}`, range, ownerId: peer.peerId });
  }
  return endpoints;
}

function destinationsOf(peer: CompiledPeer, ranges: RangeCache): Endpoint[] {
  const destinations = tunnelEndpoints(peer, ranges);
  const services = peer.interface.addresses.slice(destinations.length);
  for (const [kind, targets] of [['LAN', peer.lans], ['SERVICE', services]] as const) {
    for (const target of targets) {
      const range = ranges.get(target);
      if (range) destinations.push({ kind, target, range, ownerId: peer.peerId });
    }
  }
  return destinations;
}

/** Where traffic of a peer can start: its tunnel IPs and, when it forwards, its routed LANs. */
function sourcesOf(peer: CompiledPeer, ranges: RangeCache): Endpoint[] {
  const sources = tunnelEndpoints(peer, ranges);
  // A LAN host's packets (and the replies to them) cross the peer's router.
  if (!peer.forwarding) return sources;
  for (const target of peer.lans) {
    const range = ranges.get(target);
    if (range) sources.push({ kind: 'LAN', target, range, ownerId: peer.peerId });
  }
  return sources;
}

/** Everything a path walk looks up, built lazily and shared by all walks of one computation. */
class Network {
  private readonly byId: Map<string, CompiledPeer>;
  /** Position in compiled order; each peer's remotes come in the same order. */
  private readonly order: Map<string, number>;
  private readonly tables = new Map<string, ForwardingTable>();
  private readonly linkRemotes = new Map<string, Map<string, CompiledRemote>>();
  readonly ranges = new RangeCache();

  constructor(readonly compiled: CompiledOverlay) {
    this.byId = new Map(compiled.peers.map((peer) => [peer.peerId, peer]));
    this.order = new Map(compiled.peers.map((peer, i) => [peer.peerId, i]));
  }

  forwards(peerId: string): boolean {
    return this.byId.get(peerId)?.forwarding ?? false;
  }

  /**
   * The remote `peerId` sends a destination range (owned by `ownerId`) to, or null when it is
   * not routed into the tunnel. With a routing engine (redundant hubs) the peer has several
   * interfaces whose AllowedIPs overlap, and the engine chooses as BGP would: a spoke its
   * best-ranked live hub (a neighbour's own tunnel IP directly); a hub the owner itself over a
   * live tunnel, else the hub that has the owner on a live tunnel of its own.
   */
  nextHop(peerId: string, destination: IpRange, ownerId: string, kind: ReachKind, failed: FailedTunnels): string | null {
    const peer = this.byId.get(peerId);
    if (!peer) return null;
    if (!peer.routing) {
      const next = this.tableOf(peer).lookup(destination);
      return next !== null && failed.has(pairKey(peerId, next)) ? null : next;
    }
    const candidates: string[] = [];
    for (const view of interfacesOf(peer)) {
      const next = this.tableOf(view, `${peer.peerId}\u0000${view.interface.name}`).lookup(destination);
      if (next !== null && !failed.has(pairKey(peerId, next))) candidates.push(next);
    }
    const neighbours = peer.routing.neighbours;
    // A neighbour's own tunnel IP is reached on its own tunnel (pinned); everything else a
    // spoke sends to its best-ranked live hub, whose preference outranks any path length.
    if (candidates.includes(ownerId) && (peer.routing.transit || kind === 'TUNNEL_IP')) return ownerId;
    if (!peer.routing.transit) {
      const rank = (id: string) => neighbours.find((entry) => entry.peerId === id)?.hubRank ?? Number.MAX_SAFE_INTEGER;
      return candidates.sort((a, b) => rank(a) - rank(b))[0] ?? null;
    }
    return candidates.find((hubId) => this.byId.get(hubId)?.routing?.transit && this.hasTunnel(hubId, ownerId) && !failed.has(pairKey(hubId, ownerId))) ?? null;
  }

  private hasTunnel(a: string, b: string): boolean {
    return this.remotesOf(a)?.has(b) ?? false;
  }

  /** Every remote of a peer with links, on whichever interface, by peer id. */
  private remotesOf(peerId: string): Map<string, CompiledRemote> | null {
    let remotes = this.linkRemotes.get(peerId);
    if (!remotes) {
      const peer = this.byId.get(peerId);
      if (!peer) return null;
      remotes = new Map(interfacesOf(peer).flatMap((view) => view.peers.map((remote) => [remote.peerId, remote] as const)));
      this.linkRemotes.set(peerId, remotes);
    }
    return remotes;
  }

  private tableOf(view: CompiledPeer, key: string = view.peerId): ForwardingTable {
    let table = this.tables.get(key);
    if (!table) this.tables.set(key, (table = new ForwardingTable(view, this.ranges)));
    return table;
  }

  /** Whether `receiverId` accepts packets from `senderId` with a source in `source` (and routes replies back to it). */
  accepts(receiverId: string, senderId: string, source: IpRange): boolean {
    const receiver = this.byId.get(receiverId);
    if (receiver?.links && receiver.links.length > 0) {
      // The packet arrives on the interface that has the sender as its remote.
      const remote = this.remotesOf(receiverId)?.get(senderId);
      return remote !== undefined && listContains(remote.allowedIps, source, this.ranges);
    }
    const remote = this.remoteOf(receiverId, senderId);
    return remote !== null && listContains(remote.allowedIps, source, this.ranges);
  }

  /** The receiver's [Peer] entry for the sender: a binary search over compiled order, a scan for hand-made overlays. */
  private remoteOf(receiverId: string, senderId: string): CompiledRemote | null {
    const receiver = this.byId.get(receiverId);
    const position = this.order.get(senderId);
    if (!receiver || position === undefined) return null;
    const remotes = receiver.peers;
    let low = 0;
    let high = remotes.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const remote = remotes[middle] as CompiledRemote;
      const at = this.order.get(remote.peerId) ?? -1;
      if (at === position) return remote;
      if (at < position) low = middle + 1;
      else high = middle - 1;
    }
    return remotes.find((remote) => remote.peerId === senderId) ?? null;
  }
}

/** Tunnels taken out of service for a "what if" walk, as pairKey(a, b). */
type FailedTunnels = ReadonlySet<string>;
const NO_FAILURES: FailedTunnels = new Set();


/** Follows a packet from `source` until the owner accepts it; the first hop, or null when it is lost or dropped. */
function firstHopOf(network: Network, source: Endpoint, destination: Endpoint, failed: FailedTunnels = NO_FAILURES): string | null {
  let current = source.ownerId;
  let firstHop: string | null = null;
  const visited = new Set<string>([current]);
  for (;;) {
    const next = network.nextHop(current, destination.range, destination.ownerId, destination.kind, failed);
    if (next === null || visited.has(next)) return null;
    if (!network.accepts(next, current, source.range)) return null;
    firstHop ??= next;
    if (next === destination.ownerId) return destination.kind === 'LAN' && !network.forwards(next) ? null : firstHop;
    if (!network.forwards(next)) return null;
    visited.add(next);
    current = next;
  }
}

/**
 * Reachability of every peer (or only of `peerIds`): for each source of the peer (its tunnel
 * IP first, then its routed LANs), each tunnel IP, routed LAN and published service of the
 * other peers that traffic would really arrive at and be answered from, and the first hop it
 * takes. One peer costs O(sources × destinations × hops × log n); whole-WAN results grow with
 * the square of the peer count, so pass `peerIds` when only some peers are of interest.
 */
export function computeReachability(compiled: CompiledOverlay, peerIds?: readonly string[]): PeerReachability[] {
  const network = new Network(compiled);
  const destinations = compiled.peers.flatMap((peer) => destinationsOf(peer, network.ranges));
  const wanted = peerIds ? new Set(peerIds) : null;
  const sources = wanted ? compiled.peers.filter((peer) => wanted.has(peer.peerId)) : compiled.peers;

  return sources.map((peer) => {
    const reaches: Reach[] = [];
    for (const source of sourcesOf(peer, network.ranges)) {
      for (const destination of destinations) {
        // A packet keeps its family: an IPv4 source reaches IPv4 destinations only.
        if (destination.ownerId === peer.peerId || destination.range.family !== source.range.family) continue;
        const nextHop = firstHopOf(network, source, destination);
        if (nextHop === null) continue;
        const backup = peer.routing ? { backupNextHopPeerId: firstHopOf(network, source, destination, new Set([pairKey(peer.peerId, nextHop)])) } : {};
        reaches.push({
          ...backup,
          kind: destination.kind,
          target: destination.target,
          targetPeerId: destination.ownerId,
          nextHopPeerId: nextHop,
          from: source.target,
          fromKind: source.kind === 'LAN' ? 'LAN' : 'TUNNEL_IP',
        });
      }
    }
    return { peerId: peer.peerId, reaches };
  });
}
