// Where each peer sits in the topology picture: hubs in the middle (one hub at the centre,
// several on a small ring), everyone else on an outer ring. Pure, so it is unit-tested.
import type { PeerRole } from '$lib/gql/graphql';

export interface GraphNode {
  peerId: string;
  name: string;
  role: PeerRole;
  tunnelIp: string;
  endpoint: string | null;
  cgnat: boolean;
}

export interface Placed<N extends GraphNode = GraphNode> {
  node: N;
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

const ROLE_ORDER: Record<PeerRole, number> = { HUB: 0, SITE: 1, CLIENT: 2 };

function ring<N extends GraphNode>(nodes: N[], cx: number, cy: number, rx: number, ry: number, aroundCentre = false): Placed<N>[] {
  // Start at the top and go clockwise; a lone node on a ring still sits at the top. Two nodes
  // around a central hub sit upper left and upper right, so the line between them misses the hub.
  const angleOf = (i: number) =>
    aroundCentre && nodes.length === 2 ? -Math.PI / 2 + (i === 0 ? -1 : 1) * (Math.PI / 3) : -Math.PI / 2 + (2 * Math.PI * i) / nodes.length;
  return nodes.map((node, i) => {
    const angle = angleOf(i);
    return { node, x: round(cx + rx * Math.cos(angle)), y: round(cy + ry * Math.sin(angle)) };
  });
}

const round = (n: number) => Math.round(n * 10) / 10;

export function layoutGraph<N extends GraphNode>(nodes: readonly N[], { width, height }: Size): Placed<N>[] {
  const sorted = [...nodes].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.tunnelIp.localeCompare(b.tunnelIp, undefined, { numeric: true }));
  const hubs = sorted.filter((n) => n.role === 'HUB');
  const others = sorted.filter((n) => n.role !== 'HUB');
  const cx = width / 2;
  const cy = height / 2;
  const outer = { rx: width * 0.4, ry: height * 0.36 };
  if (hubs.length === 0) {
    if (others.length === 1) return [{ node: others[0] as N, x: cx, y: cy }];
    return ring(others, cx, cy, outer.rx, outer.ry);
  }
  const placedHubs = hubs.length === 1 ? [{ node: hubs[0] as N, x: cx, y: cy }] : ring(hubs, cx, cy, outer.rx * 0.35, outer.ry * 0.35);
  return [...placedHubs, ...ring(others, cx, cy, outer.rx, outer.ry, hubs.length === 1)];
}
