// What each peer can actually reach, read back from the compiled configuration the way
// packets would travel: at each hop the most specific AllowedIPs prefix covering the
// destination picks the next peer, until the owner is reached. A destination that falls
// through (no covering prefix, a loop, a hop that does not forward) is simply absent,
// which is how a misconfiguration shows.
import type { CompiledOverlay, CompiledPeer } from './compiled.js';
import { compareRanges, contains, tryParseIpv4OrCidr, type Ipv4Range } from './ipv4.js';

export type ReachKind = 'TUNNEL_IP' | 'LAN' | 'SERVICE';

export interface Reach {
  kind: ReachKind;
  target: string;
  targetPeerId: string;
  nextHopPeerId: string;
}

export interface PeerReachability {
  peerId: string;
  reaches: Reach[];
}

interface Destination {
  kind: ReachKind;
  target: string;
  range: Ipv4Range;
  ownerId: string;
}

interface TableEntry {
  range: Ipv4Range;
  remote: string;
}

/** Longest-prefix lookups over one peer's AllowedIPs. */
class ForwardingTable {
  private readonly entries: TableEntry[] = [];
  /** True for every compiled table (AllowedIPs never overlap); hand-made tables may differ. */
  private readonly disjoint: boolean;

  constructor(peer: CompiledPeer) {
    for (const remote of peer.peers) {
      for (const cidr of remote.allowedIps) {
        const range = tryParseIpv4OrCidr(cidr);
        if (range) this.entries.push({ range, remote: remote.peerId });
      }
    }
    this.entries.sort((a, b) => compareRanges(a.range, b.range));
    this.disjoint = this.entries.every((entry, i) => i === 0 || entry.range.start > (this.entries[i - 1] as TableEntry).range.end);
  }

  /** The remote whose most specific prefix contains the whole destination range. */
  lookup(destination: Ipv4Range): string | null {
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

function destinationsOf(peer: CompiledPeer): Destination[] {
  const [tunnelAddress, ...serviceAddresses] = peer.interface.addresses;
  const destinations: Destination[] = [];
  const tunnelIp = (tunnelAddress ?? '').split('/')[0] ?? '';
  const tunnelRange = tryParseIpv4OrCidr(tunnelIp);
  if (tunnelRange) destinations.push({ kind: 'TUNNEL_IP', target: `${tunnelIp}/32`, range: tunnelRange, ownerId: peer.peerId });
  for (const [kind, targets] of [['LAN', peer.lans], ['SERVICE', serviceAddresses]] as const) {
    for (const target of targets) {
      const range = tryParseIpv4OrCidr(target);
      if (range) destinations.push({ kind, target, range, ownerId: peer.peerId });
    }
  }
  return destinations;
}

/** Follows next hops from `source` until the owner answers; null when traffic gets lost. */
function firstHopTo(source: string, destination: Destination, tableOf: (peerId: string) => ForwardingTable | null, forwards: (peerId: string) => boolean): string | null {
  let current = source;
  let firstHop: string | null = null;
  const visited = new Set<string>([source]);
  for (;;) {
    const next = tableOf(current)?.lookup(destination.range) ?? null;
    if (next === null || visited.has(next)) return null;
    firstHop ??= next;
    if (next === destination.ownerId) return destination.kind === 'LAN' && !forwards(next) ? null : firstHop;
    if (!forwards(next)) return null;
    visited.add(next);
    current = next;
  }
}

/**
 * Reachability of every peer (or only of `peerIds`): each tunnel IP, routed LAN and
 * published service of the other peers that traffic would really arrive at, and the
 * first hop it takes. Whole-WAN results grow with the square of the peer count; pass
 * `peerIds` when only some peers are of interest.
 */
export function computeReachability(compiled: CompiledOverlay, peerIds?: readonly string[]): PeerReachability[] {
  const byId = new Map(compiled.peers.map((peer) => [peer.peerId, peer]));
  const tables = new Map<string, ForwardingTable>();
  const tableOf = (peerId: string): ForwardingTable | null => {
    const peer = byId.get(peerId);
    if (!peer) return null;
    let table = tables.get(peerId);
    if (!table) tables.set(peerId, (table = new ForwardingTable(peer)));
    return table;
  };
  const forwards = (peerId: string): boolean => byId.get(peerId)?.forwarding ?? false;
  const destinations = compiled.peers.flatMap(destinationsOf);
  const sources = peerIds ? compiled.peers.filter((peer) => peerIds.includes(peer.peerId)) : compiled.peers;

  return sources.map((source) => {
    const reaches: Reach[] = [];
    for (const destination of destinations) {
      if (destination.ownerId === source.peerId) continue;
      const nextHop = firstHopTo(source.peerId, destination, tableOf, forwards);
      if (nextHop !== null) reaches.push({ kind: destination.kind, target: destination.target, targetPeerId: destination.ownerId, nextHopPeerId: nextHop });
    }
    return { peerId: source.peerId, reaches };
  });
}
