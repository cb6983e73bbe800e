// Where each peer sits in the topology picture: hubs in the middle (one hub at the centre,
// several on a small ring), everyone else on an outer ring. Each peer is drawn as a box that
// holds its own label (name and tunnel address), and every tunnel line ends at the border of
// the boxes it joins, so a line never runs through a label: the layout turns and widens the
// rings until no line crosses a box it does not end at (checked by the unit tests with the
// same geometry the picture draws). Pure, so it is unit-tested.
import type { PeerRole } from '$lib/gql/graphql';

export interface GraphNode {
  peerId: string;
  name: string;
  role: PeerRole;
  tunnelIp: string;
  endpoint: string | null;
  cgnat: boolean;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** With redundant hubs: BACKUP tunnels are drawn bowed (arc), the rest straight. */
  role?: 'PRIMARY' | 'BACKUP' | 'HUB_LINK' | null;
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

export interface Point {
  x: number;
  y: number;
}

/** A peer's box (centre x, y; half width and height): the label is inside it. */
export interface Box {
  x: number;
  y: number;
  hw: number;
  hh: number;
}

const ROLE_ORDER: Record<PeerRole, number> = { HUB: 0, SITE: 1, CLIENT: 2 };

/** More peers than this are drawn as small unlabelled marks (hubs keep their labels). */
export const CROWDED = 30;

const round = (n: number) => Math.round(n * 10) / 10;

/** Box size from the label's text (13 px bold name, 11 px monospace address), generous so real glyphs fit. */
export function boxOf(node: GraphNode, at: Point, crowded: boolean): Box {
  if (crowded && node.role !== 'HUB') return { x: at.x, y: at.y, hw: 9, hh: 9 };
  const label = `${node.tunnelIp}${node.cgnat ? ' · CGNAT' : ''}`;
  const width = Math.max(node.name.length * 8.2, label.length * 7, 40) + 34;
  return { x: at.x, y: at.y, hw: round(width / 2), hh: 20 };
}

function ring<N extends GraphNode>(nodes: N[], cx: number, cy: number, rx: number, ry: number, aroundCentre: boolean, turn: number): Placed<N>[] {
  // Start at the top and go clockwise; a lone node on a ring still sits at the top. Two nodes
  // around a central hub sit upper left and upper right, so the line between them misses the hub.
  const angleOf = (i: number) =>
    aroundCentre && nodes.length === 2 ? -Math.PI / 2 + (i === 0 ? -1 : 1) * (Math.PI / 3) : -Math.PI / 2 + (2 * Math.PI * (i + turn)) / nodes.length;
  return nodes.map((node, i) => {
    const angle = angleOf(i);
    return { node, x: round(cx + rx * Math.cos(angle)), y: round(cy + ry * Math.sin(angle)) };
  });
}

function place<N extends GraphNode>(nodes: readonly N[], { width, height }: Size, spread: number, turn: number, hubTurn = 0): Placed<N>[] {
  const sorted = [...nodes].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || a.tunnelIp.localeCompare(b.tunnelIp, undefined, { numeric: true }));
  const hubs = sorted.filter((n) => n.role === 'HUB');
  const others = sorted.filter((n) => n.role !== 'HUB');
  const cx = width / 2;
  const cy = height / 2;
  const outer = { rx: width * 0.4 * spread, ry: height * 0.36 * spread };
  if (hubs.length === 0) {
    if (others.length === 1) return [{ node: others[0] as N, x: cx, y: cy }];
    return ring(others, cx, cy, outer.rx, outer.ry, false, turn);
  }
  const placedHubs = hubs.length === 1 ? [{ node: hubs[0] as N, x: cx, y: cy }] : ring(hubs, cx, cy, width * 0.4 * 0.35 * Math.max(1, spread * 0.8), height * 0.36 * 0.35 * Math.max(1, spread * 0.8), false, hubTurn);
  return [...placedHubs, ...ring(others, cx, cy, outer.rx, outer.ry, hubs.length === 1 && turn === 0, turn)];
}

/** The line of a tunnel between two centres: straight, or a bowed arc (a backup tunnel), as points. */
export function edgeCurve(a: Point, b: Point, role?: GraphEdge['role']): Point[] {
  if (role !== 'BACKUP') return [a, b];
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const bow = 0.18;
  const c = { x: (a.x + b.x) / 2 - dy * bow, y: (a.y + b.y) / 2 + dx * bow };
  const steps = 24;
  return Array.from({ length: steps + 1 }, (_, i) => {
    const t = i / steps;
    return { x: (1 - t) ** 2 * a.x + 2 * (1 - t) * t * c.x + t ** 2 * b.x, y: (1 - t) ** 2 * a.y + 2 * (1 - t) * t * c.y + t ** 2 * b.y };
  });
}

const inside = (p: Point, box: Box) => Math.abs(p.x - box.x) < box.hw && Math.abs(p.y - box.y) < box.hh;

/** Where the segment from p (inside the box) to q (outside) leaves the box. */
function exitPoint(p: Point, q: Point, box: Box): Point {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 30; i++) {
    const mid = (lo + hi) / 2;
    if (inside({ x: p.x + (q.x - p.x) * mid, y: p.y + (q.y - p.y) * mid }, box)) lo = mid;
    else hi = mid;
  }
  return { x: round(p.x + (q.x - p.x) * hi), y: round(p.y + (q.y - p.y) * hi) };
}

/** The drawn line: the curve cut at the borders of the boxes at its ends (null when the boxes overlap). */
export function routeEdge(from: Box, to: Box, role?: GraphEdge['role']): Point[] | null {
  const curve = edgeCurve(from, to, role);
  if (curve.length === 2) {
    const start = exitPoint(from, to, from);
    const end = exitPoint(to, from, to);
    const forward = (end.x - start.x) * (to.x - from.x) + (end.y - start.y) * (to.y - from.y) > 0;
    return forward && !inside(start, to) && !inside(end, from) ? [start, end] : null;
  }
  const first = curve.findIndex((p) => !inside(p, from));
  let last = -1;
  for (let i = curve.length - 1; i >= 0; i--) if (!inside(curve[i]!, to)) { last = i; break; }
  if (first < 1 || last < 0 || last > curve.length - 2 || first > last) return null;
  return [exitPoint(curve[first - 1]!, curve[first]!, from), ...curve.slice(first, last + 1), exitPoint(curve[last + 1]!, curve[last]!, to)];
}

/** SVG path data of a routed line. */
export function pathOf(points: readonly Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${round(p.x)} ${round(p.y)}`).join(' ');
}

/** Whether the segment p–q passes through the box's interior (Liang–Barsky clipping). */
export function segmentHitsBox(p: Point, q: Point, box: Box): boolean {
  const dx = q.x - p.x;
  const dy = q.y - p.y;
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [[-dx, p.x - (box.x - box.hw)], [dx, box.x + box.hw - p.x], [-dy, p.y - (box.y - box.hh)], [dy, box.y + box.hh - p.y]];
  for (const [pk, qk] of edges) {
    if (pk === 0) {
      if (qk <= 0) return false;
      continue;
    }
    const t = qk / pk;
    if (pk < 0) t0 = Math.max(t0, t);
    else t1 = Math.min(t1, t);
    if (t0 >= t1) return false;
  }
  return t1 - t0 > 1e-6;
}

const boxesOverlap = (a: Box, b: Box, gap = 4) => Math.abs(a.x - b.x) < a.hw + b.hw + gap && Math.abs(a.y - b.y) < a.hh + b.hh + gap;

export interface Drawing<N extends GraphNode = GraphNode> {
  placed: Placed<N>[];
  boxes: Map<string, Box>;
  /** Each edge's drawn points (cut at its boxes); absent when its boxes overlap. */
  lines: Map<GraphEdge, Point[]>;
  /** Lines through another peer's box plus overlapping boxes: 0 for a clean picture. */
  clashes: number;
}

function draw<N extends GraphNode>(placed: Placed<N>[], edges: readonly GraphEdge[], crowded: boolean, stopAt = Infinity): Drawing<N> {
  const boxes = new Map(placed.map((p) => [p.node.peerId, boxOf(p.node, p, crowded)]));
  const all = [...boxes.entries()];
  const lines = new Map<GraphEdge, Point[]>();
  let clashes = 0;
  for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) if (boxesOverlap(all[i]![1], all[j]![1])) clashes++;
  for (const edge of edges) {
    const from = boxes.get(edge.from);
    const to = boxes.get(edge.to);
    if (!from || !to) continue;
    const line = routeEdge(from, to, edge.role);
    if (!line) continue;
    lines.set(edge, line);
    if (clashes >= stopAt) continue;
    for (const [id, box] of all) {
      if (id === edge.from || id === edge.to) continue;
      if (line.some((p, k) => k > 0 && segmentHitsBox(line[k - 1]!, p, box))) clashes++;
    }
  }
  return { placed, boxes, lines, clashes };
}

/**
 * The picture: peers placed and their lines routed. Tries the plain layout first, then turned
 * and wider rings, and keeps the first with no line through a label (or the one with fewest).
 * Large pictures (crowded) keep the plain layout: their peers have no labels to cross.
 */
export function drawGraph<N extends GraphNode>(nodes: readonly N[], edges: readonly GraphEdge[], size: Size): Drawing<N> {
  const crowded = nodes.length > CROWDED;
  let best: Drawing<N> | null = null;
  const spreads = crowded ? [1] : [1, 1.25, 1.5, 1.8, 2.2, 2.7, 3.3];
  const turns = crowded ? [0] : [0, 0.5, 0.25, 0.75];
  const hubTurns = crowded || nodes.filter((n) => n.role === 'HUB').length < 2 ? [0] : [0, 0.5, 0.25];
  for (const spread of spreads) {
    for (const hubTurn of hubTurns) {
      for (const turn of turns) {
        const drawing: Drawing<N> = draw(place(nodes, size, spread, turn, hubTurn), edges, crowded, best?.clashes ?? Infinity);
        if (best === null || drawing.clashes < best.clashes) best = drawing;
        if (drawing.clashes === 0) return drawing;
      }
    }
  }
  return best!;
}

export function layoutGraph<N extends GraphNode>(nodes: readonly N[], size: Size): Placed<N>[] {
  return place(nodes, size, 1, 0);
}
