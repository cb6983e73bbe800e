import { describe, expect, it } from 'vitest';
import { fakeKey, hubAndSpokes, peer } from './__fixtures__/overlay.js';
import { compileOverlay } from './compile.js';
import type { OverlaySpec } from './model.js';
import { configHash } from './staleness.js';

function hashes(spec: OverlaySpec): Map<string, string> {
  const compiled = compileOverlay(spec);
  return new Map(compiled.peers.map((p) => [p.peerId, configHash(compiled, p.peerId)]));
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before.keys()].filter((id) => after.has(id) && before.get(id) !== after.get(id)).sort();
}

describe('configHash', () => {
  it('is stable for the same spec, whatever order the peers come in', () => {
    const spec = hubAndSpokes(3);
    const shuffled = structuredClone(spec);
    shuffled.peers.reverse();
    expect(hashes(shuffled)).toEqual(hashes(spec));
  });

  it('adding a LAN-less spoke changes the hub only', () => {
    const spec = hubAndSpokes(3, false);
    const before = hashes(spec);
    spec.peers.push(peer('new', '10.0.0.50', { endpointHost: null }));
    expect(changed(before, hashes(spec))).toEqual(['hub']);
  });

  it('adding a spoke with a LAN changes the hub and the spokes that route to that LAN', () => {
    const spec = hubAndSpokes(3);
    const before = hashes(spec);
    spec.peers.push(peer('new', '10.0.0.50', { endpointHost: null, subnets: [{ id: 'l', cidr: '192.168.200.0/24', routed: true, natCidr: null, description: '' }] }));
    expect(changed(before, hashes(spec))).toEqual(['hub', 's2', 's3', 's4']);
  });

  it('rotating a key changes exactly the configs that contain it', () => {
    const spec = hubAndSpokes(3);
    const before = hashes(spec);
    spec.peers[2]!.publicKey = fakeKey(9999);
    expect(changed(before, hashes(spec))).toEqual(['hub', 's3']);
    const hubRotated = hashes(spec);
    spec.peers[0]!.publicKey = fakeKey(9998);
    expect(changed(hubRotated, hashes(spec))).toEqual(['hub', 's2', 's3', 's4']);
  });
});
