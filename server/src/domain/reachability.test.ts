import { describe, expect, it } from 'vitest';
import { hubAndSpokes, overlay, peer, service, subnet } from './__fixtures__/overlay.js';
import { compileOverlay } from './compile.js';
import { topologyGraph } from './graph.js';
import { computeReachability } from './reachability.js';

describe('computeReachability', () => {
  it('routes spoke-to-spoke traffic through the hub', () => {
    const compiled = compileOverlay(hubAndSpokes(2));
    const [fromS2] = computeReachability(compiled, ['s2']);
    const fromTunnel = { from: '10.0.0.2/32', fromKind: 'TUNNEL_IP' };
    const fromLan = { from: '192.168.2.0/24', fromKind: 'LAN' };
    expect(fromS2?.reaches).toEqual([
      { kind: 'TUNNEL_IP', target: '10.0.0.1/32', targetPeerId: 'hub', nextHopPeerId: 'hub', ...fromTunnel },
      { kind: 'TUNNEL_IP', target: '10.0.0.3/32', targetPeerId: 's3', nextHopPeerId: 'hub', ...fromTunnel },
      { kind: 'LAN', target: '192.168.3.0/24', targetPeerId: 's3', nextHopPeerId: 'hub', ...fromTunnel },
      { kind: 'TUNNEL_IP', target: '10.0.0.1/32', targetPeerId: 'hub', nextHopPeerId: 'hub', ...fromLan },
      { kind: 'TUNNEL_IP', target: '10.0.0.3/32', targetPeerId: 's3', nextHopPeerId: 'hub', ...fromLan },
      { kind: 'LAN', target: '192.168.3.0/24', targetPeerId: 's3', nextHopPeerId: 'hub', ...fromLan },
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
    // a's LAN speaks from its translated range, which b accepts from a.
    const fromA = computeReachability(compiled, ['a'])[0];
    expect(fromA?.reaches.map((r) => `${r.from} -> ${r.kind}`)).toEqual(['10.0.0.1/32 -> TUNNEL_IP', '10.0.0.1/32 -> SERVICE', '172.16.1.0/24 -> TUNNEL_IP', '172.16.1.0/24 -> SERVICE']);
  });

  it('shows what is missing: two CGNAT peers without a hub cannot reach each other', () => {
    const compiled = compileOverlay(overlay([peer('a', '10.0.0.1'), peer('b', '10.0.0.2', { endpointHost: null }), peer('c', '10.0.0.3', { endpointHost: null })]));
    expect(computeReachability(compiled, ['b'])[0]?.reaches.map((r) => r.targetPeerId)).toEqual(['a']);
  });

  it('notices a hop that does not forward', () => {
    const compiled = compileOverlay(hubAndSpokes(2));
    compiled.peers.find((p) => p.peerId === 'hub')!.forwarding = false;
    expect(computeReachability(compiled, ['s2'])[0]?.reaches.map((r) => r.targetPeerId)).toEqual(['hub', 'hub']);
  });
});

describe('computeReachability: the far end must accept the source', () => {
  // The case: a, b and c all host 192.168.1.0/24; b and c are translated, a is not.
  const sameLan = (aNat: string | null) => overlay([
    peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24', { natCidr: aNat })] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })], services: [service('web', '10.0.5.2')] }),
    peer('c', '10.0.0.3', { subnets: [subnet('lanC', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
  ]);
  const paths = (compiled: ReturnType<typeof compileOverlay>, id: string) =>
    computeReachability(compiled, [id])[0]!.reaches.map((r) => `${r.from} -> ${r.target}`);

  it('a untranslated: b and c route back only to its tunnel IP, so its LAN reaches nothing', () => {
    const compiled = compileOverlay(sameLan(null));
    const bSideOfA = compiled.peers.find((p) => p.peerId === 'b')!.peers.find((r) => r.peerId === 'a')!;
    expect(bSideOfA.allowedIps).toEqual(['10.0.0.1/32']);
    // a routes b's translated LAN and service into the tunnel, but only its own tunnel IP gets answers.
    expect(compiled.peers.find((p) => p.peerId === 'a')!.peers.find((r) => r.peerId === 'b')!.allowedIps).toEqual(['10.0.0.2/32', '10.0.5.2/32', '172.16.0.0/24']);
    expect(paths(compiled, 'a')).toEqual([
      '10.0.0.1/32 -> 10.0.0.2/32', '10.0.0.1/32 -> 172.16.0.0/24', '10.0.0.1/32 -> 10.0.5.2/32',
      '10.0.0.1/32 -> 10.0.0.3/32', '10.0.0.1/32 -> 172.16.1.0/24',
    ]);
    // b cannot send to a's LAN (it is b's own range), from its router or its LAN.
    expect(paths(compiled, 'b')).toEqual([
      '10.0.0.2/32 -> 10.0.0.1/32', '10.0.0.2/32 -> 10.0.0.3/32', '10.0.0.2/32 -> 172.16.1.0/24',
      '172.16.0.0/24 -> 10.0.0.1/32', '172.16.0.0/24 -> 10.0.0.3/32', '172.16.0.0/24 -> 172.16.1.0/24',
    ]);
    expect(paths(compiled, 'c')).toEqual([
      '10.0.0.3/32 -> 10.0.0.1/32', '10.0.0.3/32 -> 10.0.0.2/32', '10.0.0.3/32 -> 172.16.0.0/24', '10.0.0.3/32 -> 10.0.5.2/32',
      '172.16.1.0/24 -> 10.0.0.1/32', '172.16.1.0/24 -> 10.0.0.2/32', '172.16.1.0/24 -> 172.16.0.0/24', '172.16.1.0/24 -> 10.0.5.2/32',
    ]);
  });

  it('all three translated: every source reaches every destination', () => {
    const compiled = compileOverlay(sameLan('172.16.2.0/24'));
    const all = computeReachability(compiled);
    // Sources (tunnel IP + LAN) × the other peers' destinations (tunnel IPs, LANs, b's service).
    const destinations = { a: 2, b: 3, c: 2 };
    for (const entry of all) {
      const others = Object.entries(destinations).filter(([id]) => id !== entry.peerId).reduce((sum, [, n]) => sum + n, 0);
      expect(entry.reaches, entry.peerId).toHaveLength(2 * others);
    }
    expect(paths(compiled, 'a').filter((path) => path.startsWith('172.16.2.0/24'))).toEqual([
      '172.16.2.0/24 -> 10.0.0.2/32', '172.16.2.0/24 -> 172.16.0.0/24', '172.16.2.0/24 -> 10.0.5.2/32',
      '172.16.2.0/24 -> 10.0.0.3/32', '172.16.2.0/24 -> 172.16.1.0/24',
    ]);
  });

  it('a relay must accept the source too: a spoke LAN the hub does not carry is dropped there', () => {
    const compiled = compileOverlay(hubAndSpokes(2));
    const hub = compiled.peers.find((p) => p.peerId === 'hub')!;
    // As if the hub's [Peer] s2 listed only s2's tunnel IP.
    hub.peers = hub.peers.map((remote) => (remote.peerId === 's2' ? { ...remote, allowedIps: ['10.0.0.2/32'] } : remote));
    expect(paths(compiled, 's2')).toEqual(['10.0.0.2/32 -> 10.0.0.1/32', '10.0.0.2/32 -> 10.0.0.3/32', '10.0.0.2/32 -> 192.168.3.0/24']);
    // And the reply direction: s3 reaches s2's tunnel IP but not its LAN (the hub no longer routes it).
    expect(paths(compiled, 's3')).toEqual([
      '10.0.0.3/32 -> 10.0.0.1/32', '10.0.0.3/32 -> 10.0.0.2/32',
      '192.168.3.0/24 -> 10.0.0.1/32', '192.168.3.0/24 -> 10.0.0.2/32',
    ]);
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
