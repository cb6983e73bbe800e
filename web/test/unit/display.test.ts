// Pure display helpers: where the topology picture puts peers, and how times and sizes read.
import { describe, expect, it } from 'vitest';
import { layoutGraph, type GraphNode } from '../../src/routes/(app)/wans/[id]/graph-layout.js';
import { ago, bytes } from '../../src/lib/format.js';

const node = (name: string, role: GraphNode['role'], ip: string): GraphNode => ({ peerId: name, name, role, tunnelIp: ip, endpoint: null, cgnat: true });

describe('layoutGraph', () => {
  it('puts a lone hub in the centre and keeps the line between two spokes clear of it', () => {
    const placed = layoutGraph([node('a', 'SITE', '10.0.0.2'), node('hub', 'HUB', '10.0.0.1'), node('b', 'CLIENT', '10.0.0.3')], { width: 600, height: 400 });
    const at = new Map(placed.map((p) => [p.node.name, p]));
    expect(at.get('hub')).toMatchObject({ x: 300, y: 200 });
    const a = at.get('a')!;
    const b = at.get('b')!;
    // Both spokes sit above the hub, mirrored: the a–b line passes above it.
    expect(a.y).toBe(b.y);
    expect(a.y).toBeLessThan(200);
    expect(a.x + b.x).toBeCloseTo(600, 0);
  });

  it('spreads peers without a hub evenly on one ring, starting at the top', () => {
    const placed = layoutGraph(['1', '2', '3', '4'].map((n) => node(n, 'SITE', `10.0.0.${n}`)), { width: 500, height: 500 });
    expect(placed.map((p) => [p.x, p.y])).toEqual([[250, 70], [450, 250], [250, 430], [50, 250]]);
  });
});

describe('format', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('says how long ago, in the largest sensible unit', () => {
    expect(ago('2026-01-01T11:59:55Z', now)).toBe('5 s ago');
    expect(ago('2026-01-01T11:50:00Z', now)).toBe('10 min ago');
    expect(ago('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-01-01T12:00:03Z', now)).toBe('0 s ago');
  });
  it('reads byte counts in binary units', () => {
    expect(bytes('0')).toBe('0 B');
    expect(bytes('123456')).toBe('120.6 KiB');
    expect(bytes(String(5 * 1024 ** 3))).toBe('5.0 GiB');
  });
});
