import { describe, expect, it } from 'vitest';
import { hubAndSpokes, overlay, peer, service, subnet } from './__fixtures__/overlay.js';
import { compileOverlay } from './compile.js';
import { topologyGraph } from './graph.js';
import { computeReachability } from './reachability.js';

describe('computeReachability', () => {
  it('routes spoke-to-spoke traffic through the hub', () => {
    const compiled = compileOverlay(hubAndSpokes(2));
    const [fromS2] = computeReachability(compiled, ['s2']);
    expect(fromS2?.reaches).toEqual([
      { kind: 'TUNNEL_IP', target: '10.0.0.1/32', targetPeerId: 'hub', nextHopPeerId: 'hub' },
      { kind: 'TUNNEL_IP', target: '10.0.0.3/32', targetPeerId: 's3', nextHopPeerId: 'hub' },
      { kind: 'LAN', target: '192.168.3.0/24', targetPeerId: 's3', nextHopPeerId: 'hub' },
    ]);
  });

  it('reaches everyone directly in a mesh, services and translated LANs included', () => {
    const compiled = compileOverlay(overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('l', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
      peer('b', '10.0.0.2', { services: [service('s', '10.0.5.2')] }),
    ]));
    const fromB = computeReachability(compiled).find((entry) => entry.peerId === 'b');
    expect(fromB?.reaches.map((r) => `${r.kind} ${r.target} via ${r.nextHopPeerId}`)).toEqual([
      'TUNNEL_IP 10.0.0.1/32 via a',
      'LAN 172.16.1.0/24 via a',
    ]);
    const fromA = computeReachability(compiled, ['a'])[0];
    expect(fromA?.reaches.map((r) => r.kind)).toEqual(['TUNNEL_IP', 'SERVICE']);
  });

  it('shows what is missing: two CGNAT peers without a hub cannot reach each other', () => {
    const compiled = compileOverlay(overlay([peer('a', '10.0.0.1'), peer('b', '10.0.0.2', { endpointHost: null }), peer('c', '10.0.0.3', { endpointHost: null })]));
    expect(computeReachability(compiled, ['b'])[0]?.reaches.map((r) => r.targetPeerId)).toEqual(['a']);
  });

  it('notices a hop that does not forward', () => {
    const compiled = compileOverlay(hubAndSpokes(2));
    compiled.peers.find((p) => p.peerId === 'hub')!.forwarding = false;
    expect(computeReachability(compiled, ['s2'])[0]?.reaches.map((r) => r.targetPeerId)).toEqual(['hub']);
  });
});

describe('topologyGraph', () => {
  it('has one undirected edge per tunnel', () => {
    const spec = hubAndSpokes(2);
    const graph = topologyGraph(spec, compileOverlay(spec));
    expect(graph.nodes.map((n) => [n.peerId, n.cgnat, n.endpoint])).toEqual([
      ['hub', false, 'hub.example.net:51820'], ['s2', true, null], ['s3', true, null],
    ]);
    expect(graph.edges).toEqual([{ from: 'hub', to: 's2' }, { from: 'hub', to: 's3' }]);
  });
});
