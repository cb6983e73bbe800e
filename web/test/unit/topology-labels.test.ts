// The topology picture never draws a line through a peer's label: each peer is a box holding
// its name and address, lines end at the borders of the boxes they join, and no line crosses
// another box. Checked point by point along every drawn line (independently of the layout's
// own clipping), for hub-and-spoke, redundant hubs and full mesh pictures.
import { describe, expect, it } from 'vitest';
import { drawGraph, type Box, type GraphEdge, type GraphNode, type Point } from '../../src/routes/(app)/wans/[id]/graph-layout.js';

const SIZE = { width: 640, height: 400 };
let ip = 1;
const peer = (name: string, role: GraphNode['role'], cgnat = false): GraphNode => ({ peerId: name, name, role, tunnelIp: `10.0.0.${ip++}`, endpoint: cgnat ? null : `${name}.example.net:51820`, cgnat });

/** Points every half pixel along each segment of a drawn line. */
function along(line: readonly Point[]): Point[] {
  const points: Point[] = [];
  for (let k = 1; k < line.length; k++) {
    const [a, b] = [line[k - 1]!, line[k]!];
    const steps = Math.max(1, Math.ceil(Math.hypot(b.x - a.x, b.y - a.y) * 2));
    for (let i = 0; i <= steps; i++) points.push({ x: a.x + ((b.x - a.x) * i) / steps, y: a.y + ((b.y - a.y) * i) / steps });
  }
  return points;
}
const strictlyInside = (p: Point, box: Box) => Math.abs(p.x - box.x) < box.hw - 0.5 && Math.abs(p.y - box.y) < box.hh - 0.5;

function problemsOf(nodes: GraphNode[], edges: GraphEdge[]): string[] {
  const drawing = drawGraph(nodes, edges, SIZE);
  const problems: string[] = [];
  const name = new Map(nodes.map((n) => [n.peerId, n.name]));
  for (const edge of edges) {
    const line = drawing.lines.get(edge);
    if (!line) {
      problems.push(`${name.get(edge.from)}–${name.get(edge.to)} not drawn`);
      continue;
    }
    for (const [id, box] of drawing.boxes) {
      // Its own ends too: the line stops at their borders.
      if (along(line).some((p) => strictlyInside(p, box))) problems.push(`${name.get(edge.from)}–${name.get(edge.to)} crosses the label of ${name.get(id)}`);
    }
    const [start, end] = [line[0]!, line.at(-1)!];
    const onBorder = (p: Point, box: Box) => Math.abs(Math.max(Math.abs(p.x - box.x) - box.hw, Math.abs(p.y - box.y) - box.hh)) < 0.6;
    if (!onBorder(start, drawing.boxes.get(edge.from)!) || !onBorder(end, drawing.boxes.get(edge.to)!)) problems.push(`${name.get(edge.from)}–${name.get(edge.to)} does not end at the borders`);
  }
  const boxes = [...drawing.boxes.entries()];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i]![1], boxes[j]![1]];
      if (Math.abs(a.x - b.x) < a.hw + b.hw && Math.abs(a.y - b.y) < a.hh + b.hh) problems.push(`labels of ${name.get(boxes[i]![0])} and ${name.get(boxes[j]![0])} overlap`);
    }
  }
  expect(drawing.clashes).toBe(problems.length === 0 ? 0 : drawing.clashes);
  return problems;
}

const spokes = (n: number, role: GraphNode['role'] = 'SITE') => Array.from({ length: n }, (_, i) => peer(`branch-office-${i + 1}`, role, i % 3 === 2));

describe('topology picture: no line through a label', () => {
  it('hub and spoke with 10 spokes', () => {
    const hub = peer('headquarters', 'HUB');
    const sites = spokes(10);
    expect(problemsOf([hub, ...sites], sites.map((s) => ({ from: hub.peerId, to: s.peerId })))).toEqual([]);
  });

  it('two redundant hubs with 10 spokes: a primary, a bowed backup and the hub link', () => {
    const hubs = [peer('hub-fra', 'HUB'), peer('hub-ams', 'HUB')];
    const sites = spokes(10);
    const edges: GraphEdge[] = [{ from: hubs[0]!.peerId, to: hubs[1]!.peerId, role: 'HUB_LINK' }];
    sites.forEach((s, i) => {
      edges.push({ from: hubs[i % 2]!.peerId, to: s.peerId, role: 'PRIMARY' }, { from: hubs[(i + 1) % 2]!.peerId, to: s.peerId, role: 'BACKUP' });
    });
    expect(problemsOf([...hubs, ...sites], edges)).toEqual([]);
  });

  it('three redundant hubs with 6 spokes', () => {
    const hubs = [peer('hub-a', 'HUB'), peer('hub-b', 'HUB'), peer('hub-c', 'HUB')];
    const sites = spokes(6, 'CLIENT');
    const edges: GraphEdge[] = [
      { from: hubs[0]!.peerId, to: hubs[1]!.peerId, role: 'HUB_LINK' },
      { from: hubs[1]!.peerId, to: hubs[2]!.peerId, role: 'HUB_LINK' },
      { from: hubs[0]!.peerId, to: hubs[2]!.peerId, role: 'HUB_LINK' },
    ];
    for (const s of sites) hubs.forEach((h, rank) => edges.push({ from: h.peerId, to: s.peerId, role: rank === 0 ? 'PRIMARY' : 'BACKUP' }));
    expect(problemsOf([...hubs, ...sites], edges)).toEqual([]);
  });

  it('full mesh of 7 sites', () => {
    const sites = spokes(7);
    const edges: GraphEdge[] = [];
    for (let i = 0; i < sites.length; i++) for (let j = i + 1; j < sites.length; j++) edges.push({ from: sites[i]!.peerId, to: sites[j]!.peerId });
    expect(problemsOf(sites, edges)).toEqual([]);
  });

  it('a hub with two spokes and a mesh of three, as small WANs look', () => {
    const hub = peer('hq', 'HUB');
    const two = [peer('a', 'SITE'), peer('b', 'CLIENT', true)];
    expect(problemsOf([hub, ...two], two.map((s) => ({ from: hub.peerId, to: s.peerId })))).toEqual([]);
    const three = [peer('x', 'SITE'), peer('y', 'SITE'), peer('z', 'SITE')];
    expect(problemsOf(three, [{ from: 'x', to: 'y' }, { from: 'y', to: 'z' }, { from: 'x', to: 'z' }])).toEqual([]);
  });
});
