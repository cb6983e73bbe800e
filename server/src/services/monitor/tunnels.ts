// Per-tunnel state for a WAN's topology edges, from what every replica's monitor state holds
// (the poller's readings reach the others through pub/sub): each end's device report and
// health decide UP / DOWN / UNKNOWN (domain/tunnel-state.ts).
import type { TopologyEdge } from '../../domain/graph.js';
import { tunnelStatus, type TunnelEnd, type TunnelStatus } from '../../domain/tunnel-state.js';
import { hubUsage, type HubUsage } from '../../domain/hub-usage.js';
import type { HandshakeMonitor } from './monitor.js';
import type { OverlayReader } from '../overlay/overlay-reader.js';
import type { OverlayView } from '../overlay/overlay-view.js';
import { ONLINE_THRESHOLD_SECONDS } from './monitor-readings.js';

/** A handshake within WireGuard's rekey window (the same one Peer.status.online uses) is fresh. */
export const TUNNEL_FRESH_MS = ONLINE_THRESHOLD_SECONDS * 1000;

export type TunnelEdge = TopologyEdge & Omit<TunnelStatus, 'a' | 'b'>;

interface PeerRow {
  id: string;
  name: string;
  deviceId: string | null;
}

function endOf(peer: PeerRow, monitor: Pick<HandshakeMonitor, 'deviceHealth' | 'tunnelReport'>): TunnelEnd {
  const end = { peerId: peer.id, name: peer.name };
  if (!peer.deviceId) return { ...end, managed: false, silent: null, report: null };
  const health = monitor.deviceHealth(peer.deviceId);
  const report = monitor.tunnelReport(peer.id);
  // A report from a device the peer was bound to before says nothing about the device it is on now.
  const current = report && report.deviceId === peer.deviceId ? report : null;
  let silent: string | null = null;
  if (health?.lastError) silent = `cannot be read now (${health.lastError.code})`;
  else if (health?.statsAvailable === false) silent = 'reports no handshake statistics';
  else if (!health || !current) silent = 'has not been read yet';
  return { ...end, managed: true, silent, report: current };
}

/** The state of every edge, as of `now`. */
export function tunnelEdges(edges: readonly TopologyEdge[], peers: readonly PeerRow[], monitor: Pick<HandshakeMonitor, 'deviceHealth' | 'tunnelReport'>, now: Date): TunnelEdge[] {
  const ends = new Map<string, TunnelEnd>();
  const byId = new Map(peers.map((peer) => [peer.id, peer]));
  const end = (peerId: string): TunnelEnd => {
    let found = ends.get(peerId);
    if (!found) {
      const peer = byId.get(peerId);
      found = peer ? endOf(peer, monitor) : { peerId, name: peerId, managed: false, silent: null, report: null };
      ends.set(peerId, found);
    }
    return found;
  };
  return edges.map((edge) => {
    const { a: _a, b: _b, ...status } = tunnelStatus(end(edge.from), end(edge.to), { now, freshMs: TUNNEL_FRESH_MS });
    return { ...edge, ...status };
  });
}

/** A WAN's hub usage now (domain/hub-usage.ts; empty lists without redundant hubs), with the view it was derived from. */
export async function wanHubUsage(reader: OverlayReader, monitor: Pick<HandshakeMonitor, 'deviceHealth' | 'tunnelReport'>, wanId: string, now = new Date()): Promise<{ usage: HubUsage; view: OverlayView }> {
  const view = await reader.view(wanId);
  if (!view.compiled.peers.some((peer) => peer.routing)) return { usage: { hubs: [], spokes: [] }, view };
  return { usage: hubUsage(view.compiled, tunnelEdges(view.graph().edges, await reader.peers(wanId), monitor, now)), view };
}
