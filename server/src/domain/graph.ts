// The overlay as a graph for the dashboard: one node per peer, one edge per tunnel.
import { interfacesOf, type CompiledOverlay, type CompiledPeer } from './compiled.js';
import type { OverlaySpec, PeerRole } from './model.js';

export interface TopologyNode {
  peerId: string;
  name: string;
  role: PeerRole;
  tunnelIp: string;
  endpoint: string | null;
  cgnat: boolean;
}

/** What a tunnel is for in a WAN with redundant hubs (absent elsewhere). */
export type TunnelRole = 'PRIMARY' | 'BACKUP' | 'HUB_LINK';

export interface TopologyEdge {
  /** The smaller of the two peer ids. */
  from: string;
  to: string;
  /** Redundant hubs only: a spoke's tunnel to its primary hub, to a backup hub, or a hub-to-hub tunnel. */
  role?: TunnelRole;
  /** Redundant hubs only, spoke-to-hub tunnels: the hub's rank for that spoke (1 = primary). */
  hubRank?: number;
}

export interface TopologyGraph {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
}

/** An edge, with its role in a WAN with redundant hubs read from the spoke's (or a hub's) routing. */
function edgeOf(peer: CompiledPeer, otherId: string, byId: ReadonlyMap<string, CompiledPeer>): TopologyEdge {
  const edge: TopologyEdge = { from: peer.peerId, to: otherId };
  if (!peer.routing) return edge;
  const other = byId.get(otherId);
  const spoke = peer.routing.transit ? (other?.routing?.transit ? null : other) : peer;
  if (!spoke?.routing) return { ...edge, role: 'HUB_LINK' };
  const hubId = spoke === peer ? otherId : peer.peerId;
  const rank = spoke.routing.neighbours.find((entry) => entry.peerId === hubId)?.hubRank ?? null;
  return rank === null ? edge : { ...edge, role: rank === 1 ? 'PRIMARY' : 'BACKUP', hubRank: rank };
}

export function topologyGraph(spec: OverlaySpec, compiled: CompiledOverlay): TopologyGraph {
  const byId = new Map(compiled.peers.map((peer) => [peer.peerId, peer]));
  const specById = new Map(spec.peers.map((peer) => [peer.id, peer]));
  const nodes: TopologyNode[] = [];
  const edges: TopologyEdge[] = [];
  for (const compiledPeer of compiled.peers) {
    const peer = specById.get(compiledPeer.peerId);
    if (!peer) continue;
    const endpoint = peer.endpointHost === null ? null
      : `${peer.endpointHost.includes(':') ? `[${peer.endpointHost}]` : peer.endpointHost}:${peer.endpointPort ?? peer.listenPort ?? spec.wan.listenPort}`;
    nodes.push({ peerId: peer.id, name: peer.name, role: peer.role, tunnelIp: peer.tunnelIp, endpoint, cgnat: peer.endpointHost === null });
    // Each tunnel appears in both peers' configs; count it from the smaller id's side.
    for (const view of interfacesOf(compiledPeer)) {
      for (const remote of view.peers) if (compiledPeer.peerId < remote.peerId) edges.push(edgeOf(compiledPeer, remote.peerId, byId));
    }
  }
  edges.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  return { nodes, edges };
}
