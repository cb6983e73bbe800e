// The overlay as a graph for the dashboard: one node per peer, one edge per tunnel.
import type { CompiledOverlay } from './compiled.js';
import type { OverlaySpec, PeerRole } from './model.js';

export interface TopologyNode {
  peerId: string;
  name: string;
  role: PeerRole;
  tunnelIp: string;
  endpoint: string | null;
  cgnat: boolean;
}

export interface TopologyEdge {
  /** The smaller of the two peer ids. */
  from: string;
  to: string;
}

export interface TopologyGraph {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
}

export function topologyGraph(spec: OverlaySpec, compiled: CompiledOverlay): TopologyGraph {
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
    for (const remote of compiledPeer.peers) if (compiledPeer.peerId < remote.peerId) edges.push({ from: compiledPeer.peerId, to: remote.peerId });
  }
  edges.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0));
  return { nodes, edges };
}
