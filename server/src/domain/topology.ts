// Who gets a direct tunnel with whom, and through which hub everything else travels.
import type { Topology } from './model.js';
import type { OverlayFacts, PeerFacts } from './overlay-facts.js';

export interface TunnelPlan {
  /** The topology actually applied: hub-based topologies without a hub fall back to MESH. */
  readonly topology: Topology;
  /** For each peer (facts order), the peers it has a direct tunnel with, ascending. */
  readonly neighbours: readonly (readonly number[])[];
  /**
   * For each peer, the hub that carries traffic to everything it has no direct tunnel
   * with (the tunnel and services ranges, and the LANs of non-neighbours); null when the
   * peer talks to every other peer directly or no hub is in reach.
   */
  readonly relay: readonly (number | null)[];
}

/**
 * A hub-based WAN still being built (no hub yet) runs as a mesh. A WAN whose hubs are all
 * disabled keeps its topology: disabling a hub cuts the spokes off it, it must not connect
 * every spoke to every other.
 */
export function effectiveTopology(topology: Topology, peers: readonly PeerFacts[], hasDisabledHub = false): Topology {
  if (topology === 'MESH' || hasDisabledHub) return topology;
  return peers.some((peer) => peer.spec.role === 'HUB') ? topology : 'MESH';
}

/** Whether the topology asks for a tunnel between a and b (before endpoints are considered). */
function wantsTunnel(topology: Topology, a: PeerFacts, b: PeerFacts): boolean {
  if (topology === 'MESH') return true;
  const hub = a.spec.role === 'HUB' || b.spec.role === 'HUB';
  if (topology === 'HUB_SPOKE') return hub;
  // HYBRID: hubs and sites mesh; clients only talk to hubs.
  return hub || (a.spec.role !== 'CLIENT' && b.spec.role !== 'CLIENT');
}

/**
 * Two peers without endpoints cannot reach each other: neither knows where to send the
 * first handshake. Such pairs get no tunnel; a hub relays between them when there is one,
 * otherwise the conflict analysis reports them.
 */
export function planTunnels(facts: OverlayFacts): TunnelPlan {
  const peers = facts.peers;
  const topology = effectiveTopology(facts.wan.topology, peers, facts.disabledHubs.length > 0);
  const hubs = peers.filter((peer) => peer.spec.role === 'HUB');
  const nonClients = peers.filter((peer) => peer.spec.role !== 'CLIENT');
  // Candidates a peer could want a tunnel with; checking only these keeps a 5,000-spoke
  // hub-and-spoke WAN linear instead of testing every pair.
  const candidatesOf = (peer: PeerFacts): readonly PeerFacts[] => {
    if (topology === 'MESH' || peer.spec.role === 'HUB') return peers;
    if (topology === 'HYBRID' && peer.spec.role === 'SITE') return nonClients;
    return hubs;
  };

  const neighbours: number[][] = peers.map(() => []);
  for (const a of peers) {
    for (const b of candidatesOf(a)) {
      if (b.index <= a.index) continue;
      if (!(a.hasEndpoint || b.hasEndpoint) || !wantsTunnel(topology, a, b)) continue;
      (neighbours[a.index] as number[]).push(b.index);
      (neighbours[b.index] as number[]).push(a.index);
    }
  }
  // Every list is ascending: a peer first receives the smaller indices (earlier outer
  // iterations, in order), then appends its own larger ones in order.

  // A peer whose topology limits it to hubs always routes the whole overlay via its hub,
  // even while it is the only spoke: its config then stays the same as spokes come and go
  // (adding a spoke makes the hubs stale, never the other spokes).
  const hubOnly = (peer: PeerFacts): boolean => topology !== 'MESH' && candidatesOf(peer) === hubs && peer.spec.role !== 'HUB';
  const relay = peers.map((peer) => {
    const direct = neighbours[peer.index] as number[];
    if (direct.length === peers.length - 1 && !hubOnly(peer)) return null;
    return direct.find((index) => (peers[index] as PeerFacts).spec.role === 'HUB') ?? null;
  });
  return { topology, neighbours, relay };
}
