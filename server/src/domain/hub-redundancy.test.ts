import { describe, expect, it } from 'vitest';
import { compileOverlay, compileOverlayDetailed } from './compile.js';
import { interfacesOf, type CompiledPeer } from './compiled.js';
import { topologyGraph } from './graph.js';
import { hubUsage, type TunnelReading } from './hub-usage.js';
import { interfaceNamesOf, PRIVATE_ASN_BASE, redundancyProblem } from './hub-redundancy.js';
import { configHash } from './staleness.js';
import { DUAL_STACK, overlay, peer, subnet } from './__fixtures__/overlay.js';
import type { OverlaySpec } from './model.js';
import { renderBird } from './render/bird.js';
import { computeReachability } from './reachability.js';
import { renderLinuxBundle } from './render/linux-bundle.js';
import { renderWgQuick } from './render/wgquick.js';

/** Three hubs (two with LANs), two sites with LANs, a client behind CGNAT. */
function redundantWan(overrides: Partial<OverlaySpec['wan']> = {}): OverlaySpec {
  return overlay([
    peer('h1', '10.0.0.1', { role: 'HUB', subnets: [subnet('l1', '192.168.101.0/24')] }),
    peer('h2', '10.0.0.2', { role: 'HUB', subnets: [subnet('l2', '192.168.102.0/24')] }),
    peer('h3', '10.0.0.3', { role: 'HUB' }),
    peer('s1', '10.0.0.11', { endpointHost: null, subnets: [subnet('l11', '192.168.11.0/24')] }),
    peer('s2', '10.0.0.12', { endpointHost: null, subnets: [subnet('l12', '192.168.12.0/24', { natCidr: '172.16.12.0/24' })] }),
    peer('c1', '10.0.0.21', { role: 'CLIENT', endpointHost: null }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wg0', ...overrides });
}

const byId = (peers: CompiledPeer[], id: string): CompiledPeer => peers.find((entry) => entry.peerId === id) as CompiledPeer;

describe('redundant hubs', () => {
  it('gives each spoke one point-to-point interface per hub carrying the whole overlay, primary first', () => {
    const compiled = compileOverlay(redundantWan());
    const s1 = byId(compiled.peers, 's1');
    const views = interfacesOf(s1);
    expect(views.map((view) => [view.interface.name, view.interface.peerAddress, view.interface.addresses[0], view.peers.map((remote) => remote.peerId)])).toEqual([
      ['wg0', '10.0.0.1', '10.0.0.11/32', ['h1']],
      ['wg0h2', '10.0.0.2', '10.0.0.11/32', ['h2']],
      ['wg0h3', '10.0.0.3', '10.0.0.11/32', ['h3']],
    ]);
    for (const view of views) {
      const remote = view.peers[0]!;
      // The whole overlay, the other LANs as the overlay sees them (s2's translated), never its own.
      expect(remote.allowedIps).toEqual(['10.0.0.0/24', '10.0.5.0/24', '172.16.12.0/24', '192.168.101.0/24', '192.168.102.0/24']);
      expect(remote.persistentKeepalive).toBe(25);
      expect(remote.endpoint).not.toBeNull();
    }
    expect(s1.routes).toEqual([]);
    expect(s1.routing?.neighbours.map((entry) => [entry.address, entry.hubRank, entry.preference, entry.interfaceName])).toEqual([
      ['10.0.0.1', 1, 200, 'wg0'], ['10.0.0.2', 2, 190, 'wg0h2'], ['10.0.0.3', 3, 180, 'wg0h3'],
    ]);
    expect(s1.routing?.originate).toEqual(['10.0.0.11/32', '192.168.11.0/24']);
    expect(s1.routing?.transit).toBe(false);
    expect(s1.routing?.asn).toBe(PRIVATE_ASN_BASE + 11);
  });

  it('connects every hub to every other on its own interface, on its port + the other hub\'s number', () => {
    const compiled = compileOverlay(redundantWan());
    const h2 = byId(compiled.peers, 'h2');
    expect(h2.peers.map((remote) => remote.peerId)).toEqual(['s1', 's2', 'c1']);
    // A spoke's own prefixes; only the primary hub knows where the spoke listens.
    expect(h2.peers.map((remote) => [remote.allowedIps, remote.endpoint])).toEqual([
      [['10.0.0.11/32', '192.168.11.0/24'], null], [['10.0.0.12/32', '172.16.12.0/24'], null], [['10.0.0.21/32'], null],
    ]);
    expect(h2.links?.map((link) => [link.interface.name, link.interface.listenPort, link.interface.peerAddress, link.peers[0]!.peerId, link.peers[0]!.endpoint])).toEqual([
      ['wg0h1', 51821, '10.0.0.1', 'h1', 'h1.example.net:51822'],
      ['wg0h3', 51823, '10.0.0.3', 'h3', 'h3.example.net:51822'],
    ]);
    const h1 = byId(compiled.peers, 'h1');
    // Each hub-to-hub tunnel meets itself: h1 dials h2 where h2 listens for h1, and back.
    expect(h1.links?.find((link) => link.peers[0]!.peerId === 'h2')?.peers[0]!.endpoint).toBe('h2.example.net:51821');
    expect(h1.links?.find((link) => link.peers[0]!.peerId === 'h2')?.interface.listenPort).toBe(51822);
    expect(h2.routing?.transit).toBe(true);
    expect(h2.routing?.originate).toEqual(['10.0.0.2/32', '192.168.102.0/24', '10.0.0.0/24', '10.0.5.0/24']);
    expect(h2.routing?.pinned).toEqual(['10.0.0.11/32', '10.0.0.12/32', '10.0.0.21/32', '10.0.0.1/32', '10.0.0.3/32']);
  });

  it('leaves a WAN that did not opt in, or cannot run it, exactly as before', () => {
    const plain = redundantWan({ hubRedundancy: false });
    const before = compileOverlay(plain);
    expect(before.peers.some((entry) => entry.links || entry.routing)).toBe(false);
    const withoutField = { ...plain, wan: { ...plain.wan } };
    delete withoutField.wan.hubRedundancy;
    expect(before.peers.map((entry) => configHash(before, entry.peerId))).toEqual(compileOverlay(withoutField).peers.map((entry) => configHash(compileOverlay(withoutField), entry.peerId)));

    const oneHub = redundantWan();
    oneHub.peers = oneHub.peers.filter((entry) => entry.id !== 'h2' && entry.id !== 'h3');
    const { facts, plan, compiled } = compileOverlayDetailed(oneHub);
    expect(redundancyProblem(facts, plan)).toBe('hub redundancy needs at least two hubs');
    expect(compiled.peers.some((entry) => entry.routing)).toBe(false);

    const noEndpoint = redundantWan();
    noEndpoint.peers = noEndpoint.peers.map((entry) => (entry.id === 'h3' ? { ...entry, endpointHost: null } : entry));
    const detailed = compileOverlayDetailed(noEndpoint);
    expect(redundancyProblem(detailed.facts, detailed.plan)).toMatch(/hub Peer h3 has no endpoint/);
    const longName = compileOverlayDetailed(redundantWan({ interfaceName: 'meshplane-wan1' }));
    expect(redundancyProblem(longName.facts, longName.plan)).toMatch(/leaves no room/);
    expect(longName.compiled.peers.some((entry) => entry.routing)).toBe(false);
  });

  it('routes spokes that run no BGP statically on every hub and lets them fail over by gateway monitoring', () => {
    const spec = redundantWan();
    spec.peers = spec.peers.map((entry) => (entry.id === 's1' ? { ...entry, runsBgp: false } : entry));
    const compiled = compileOverlay(spec);
    const s1 = byId(compiled.peers, 's1');
    expect(s1.routing?.protocol).toBe('gateway-monitor');
    for (const hubId of ['h1', 'h2', 'h3']) {
      const hub = byId(compiled.peers, hubId);
      expect(hub.routing?.neighbours.some((entry) => entry.peerId === 's1')).toBe(false);
      expect(hub.routing?.staticRoutes).toEqual([{ destination: '192.168.11.0/24', gateway: '10.0.0.11', peerId: 's1' }]);
    }
    expect(() => renderBird(compiled, 's1')).toThrow(/runs no BGP/);
    expect(renderBird(compiled, 'h1')).toContain('route 192.168.11.0/24 via 10.0.0.11;');
  });

  it('knows each peer\'s interfaces from the WAN\'s settings and hubs alone', () => {
    const spec = redundantWan();
    const hubs = spec.peers.filter((entry) => entry.role === 'HUB');
    const compiled = compileOverlay(spec);
    for (const entry of spec.peers) {
      expect(interfaceNamesOf(spec.wan, hubs, entry)).toEqual(interfacesOf(byId(compiled.peers, entry.id)).map((view) => view.interface.name));
    }
    expect(interfaceNamesOf({ ...spec.wan, hubRedundancy: false }, hubs, spec.peers[3]!)).toEqual(['wg0']);
  });

  it('draws primary, backup and hub-to-hub tunnels', () => {
    const spec = redundantWan();
    const compiled = compileOverlay(spec);
    const edges = topologyGraph(spec, compiled).edges;
    expect(edges).toHaveLength(3 + 3 * 3);
    const role = (a: string, b: string) => edges.find((edge) => (edge.from === a && edge.to === b) || (edge.from === b && edge.to === a));
    expect(role('s1', 'h1')).toMatchObject({ role: 'PRIMARY', hubRank: 1 });
    expect(role('c1', 'h3')).toMatchObject({ role: 'BACKUP', hubRank: 3 });
    expect(role('h1', 'h2')).toMatchObject({ role: 'HUB_LINK' });
    expect(role('h1', 'h2')?.hubRank).toBeUndefined();
  });

  it('renders point-to-point interfaces without routes, and a standalone client config through the primary hub', () => {
    const compiled = compileOverlay(redundantWan());
    const site = renderWgQuick(compiled, 's1');
    expect(site).toContain('Table = off');
    expect(site).toContain('PostUp = ip -4 address add 10.0.0.11/32 peer 10.0.0.1/32 dev %i');
    expect(site).not.toMatch(/^Address/m);
    const client = renderWgQuick(compiled, 'c1');
    expect(client).not.toContain('Table = off');
    expect(client).toContain('Address = 10.0.0.21/32');
    expect(client).toMatch(/always goes through Peer h1/);
    const bundle = renderLinuxBundle(compiled, 's2');
    expect(bundle.match(/cat > "\$DIR\/wireguard\/[a-z0-9]+\.conf"/g)).toEqual(['cat > "$DIR/wireguard/wg0.conf"', 'cat > "$DIR/wireguard/wg0h2.conf"', 'cat > "$DIR/wireguard/wg0h3.conf"']);
    expect(bundle).toContain("cat > \"$DIR/bird.conf\" <<'MESHPLANE_END_OF_FILE'");
    // NAT rules apply on every interface: traffic for the translated LAN may arrive on any.
    expect(bundle.match(/NETMAP --to 192\.168\.12\.0\/24/g)).toHaveLength(2 * 3);
  });
});

describe('hub usage', () => {
  const compiled = compileOverlay(redundantWan());
  const tunnels = (states: Record<string, TunnelReading['state']>): TunnelReading[] => topologyGraph(redundantWan(), compiled).edges.map((edge) => ({
    from: edge.from, to: edge.to, reason: 'test', state: states[`${edge.from}-${edge.to}`] ?? states[`${edge.to}-${edge.from}`] ?? states['*'] ?? 'UNKNOWN',
  }));

  it('puts a spoke on a backup only when the devices report every better-ranked hub down', () => {
    const usage = hubUsage(compiled, tunnels({ 's1-h1': 'DOWN', 's1-h2': 'UP', 's2-h1': 'UNKNOWN', 's2-h2': 'UP', 'c1-h1': 'UP', '*': 'DOWN' }));
    expect(usage.spokes.map((spoke) => [spoke.spokeId, spoke.state, spoke.hubId])).toEqual([
      ['s1', 'BACKUP', 'h2'], ['s2', 'UNKNOWN', null], ['c1', 'PRIMARY', 'h1'],
    ]);
    expect(usage.hubs.map((hub) => [hub.hubId, hub.state, hub.spokesUsing])).toEqual([['h1', 'UP', 1], ['h2', 'UP', 1], ['h3', 'LOST', 0]]);
  });

  it('calls a hub lost only when every one of its tunnels is reported down', () => {
    const all = (state: TunnelReading['state']) => hubUsage(compiled, tunnels({ '*': state }));
    expect(all('UNKNOWN').hubs.every((hub) => hub.state === 'UNKNOWN')).toBe(true);
    expect(all('DOWN').spokes.every((spoke) => spoke.state === 'CUT_OFF')).toBe(true);
    const h1Gone = hubUsage(compiled, tunnels({ 's1-h1': 'DOWN', 's2-h1': 'DOWN', 'c1-h1': 'DOWN', 'h1-h2': 'DOWN', 'h1-h3': 'DOWN', '*': 'UP' }));
    expect(h1Gone.hubs.find((hub) => hub.hubId === 'h1')?.state).toBe('LOST');
    expect(h1Gone.spokes.every((spoke) => spoke.state === 'BACKUP' && spoke.hubId === 'h2')).toBe(true);
    expect(hubUsage(compileOverlay(redundantWan({ hubRedundancy: false })), [])).toEqual({ hubs: [], spokes: [] });
  });
});

describe('reachability with redundant hubs', () => {
  const compiled = compileOverlay(redundantWan());
  const reach = computeReachability(compiled);
  const path = (from: string, target: string, fromKind: 'TUNNEL_IP' | 'LAN' = 'LAN') => reach.find((entry) => entry.peerId === from)?.reaches
    .find((entry) => entry.target === target && entry.fromKind === fromKind);

  it('reaches every LAN from every LAN and the client, through the primary hub, with the backup hub named', () => {
    const lans = ['192.168.101.0/24', '192.168.102.0/24', '192.168.11.0/24', '172.16.12.0/24'];
    const owners: Record<string, string> = { '192.168.101.0/24': 'h1', '192.168.102.0/24': 'h2', '192.168.11.0/24': 's1', '172.16.12.0/24': 's2' };
    for (const from of ['h1', 'h2', 's1', 's2']) {
      for (const target of lans) {
        if (owners[target] === from) continue;
        expect(path(from, target), `${from} -> ${target}`).toBeDefined();
      }
    }
    for (const target of lans) expect(path('c1', target, 'TUNNEL_IP'), `c1 -> ${target}`).toBeDefined();
    // A spoke goes through hub 1; without it, through hub 2.
    expect(path('s1', '172.16.12.0/24')).toMatchObject({ nextHopPeerId: 'h1', backupNextHopPeerId: 'h2' });
    expect(path('c1', '192.168.102.0/24', 'TUNNEL_IP')).toMatchObject({ nextHopPeerId: 'h1', backupNextHopPeerId: 'h2' });
    expect(path('s2', '172.16.12.0/24')).toBeUndefined();
    // A spoke prefers its primary hub even for another hub's LAN (hub 1 passes it on), and
    // reaches hub 1's LAN through hub 2 and the hub-to-hub tunnel when only its own link fails.
    expect(path('c1', '10.0.0.2/32', 'TUNNEL_IP')).toMatchObject({ nextHopPeerId: 'h2' });
    expect(path('s1', '192.168.101.0/24')).toMatchObject({ nextHopPeerId: 'h1', backupNextHopPeerId: 'h2' });
    // A hub reaches a spoke directly; without that tunnel, through another hub.
    expect(path('h2', '192.168.11.0/24')).toMatchObject({ nextHopPeerId: 's1', backupNextHopPeerId: 'h1' });
    expect(path('h1', '192.168.102.0/24')).toMatchObject({ nextHopPeerId: 'h2', backupNextHopPeerId: 'h3' });
  });
});

describe('redundant hubs in a dual-stack WAN', () => {
  const six = (last: number) => `fd10:aaaa:bbbb::${last.toString(16)}`;
  function dualStackRedundantWan(): OverlaySpec {
    const spec = redundantWan(DUAL_STACK);
    for (const entry of spec.peers) entry.tunnelIp6 = six(Number(entry.tunnelIp.split('.')[3]));
    spec.peers.find((entry) => entry.id === 's1')!.subnets.push(subnet('l11v6', '2001:db8:11::/64'));
    spec.peers.find((entry) => entry.id === 'h1')!.subnets.push(subnet('l1v6', '2001:db8:101::/64'));
    return spec;
  }

  it('gives every point-to-point interface both tunnel addresses as host prefixes and both far ends', () => {
    const s1 = byId(compileOverlay(dualStackRedundantWan()).peers, 's1');
    expect(interfacesOf(s1).map((view) => [view.interface.name, view.interface.addresses, view.interface.peerAddress, view.interface.peerAddress6])).toEqual([
      ['wg0', ['10.0.0.11/32', 'fd10:aaaa:bbbb::b/128'], '10.0.0.1', 'fd10:aaaa:bbbb::1'],
      ['wg0h2', ['10.0.0.11/32', 'fd10:aaaa:bbbb::b/128'], '10.0.0.2', 'fd10:aaaa:bbbb::2'],
      ['wg0h3', ['10.0.0.11/32', 'fd10:aaaa:bbbb::b/128'], '10.0.0.3', 'fd10:aaaa:bbbb::3'],
    ]);
    // Each hub tunnel may carry the whole overlay of both families; BGP picks.
    expect(s1.peers[0]!.allowedIps).toEqual([
      '10.0.0.0/24', '10.0.5.0/24', '172.16.12.0/24', '192.168.101.0/24', '192.168.102.0/24',
      '2001:db8:101::/64', 'fd10:aaaa:bbbb::/64', 'fd10:aaaa:bbbb:5::/64',
    ]);
  });

  it('runs a second BGP session per tunnel between the IPv6 tunnel addresses, pinned like the IPv4 one', () => {
    const compiled = compileOverlay(dualStackRedundantWan());
    const s1 = byId(compiled.peers, 's1').routing!;
    expect(s1.neighbours.map((entry) => [entry.address, entry.address6, entry.interfaceName, entry.preference])).toEqual([
      ['10.0.0.1', 'fd10:aaaa:bbbb::1', 'wg0', 200], ['10.0.0.2', 'fd10:aaaa:bbbb::2', 'wg0h2', 190], ['10.0.0.3', 'fd10:aaaa:bbbb::3', 'wg0h3', 180],
    ]);
    expect(s1.originate).toEqual(['10.0.0.11/32', '192.168.11.0/24', '2001:db8:11::/64', 'fd10:aaaa:bbbb::b/128']);
    expect(s1.pinned).toEqual(['10.0.0.1/32', 'fd10:aaaa:bbbb::1/128', '10.0.0.2/32', 'fd10:aaaa:bbbb::2/128', '10.0.0.3/32', 'fd10:aaaa:bbbb::3/128']);
    const h1 = byId(compiled.peers, 'h1').routing!;
    expect(h1.originate).toEqual(expect.arrayContaining(['fd10:aaaa:bbbb::/64', 'fd10:aaaa:bbbb:5::/64', '10.0.0.0/24', '10.0.5.0/24', '2001:db8:101::/64']));
  });

  it('routes an IPv6 LAN of a spoke without BGP via the spoke\'s IPv6 tunnel address', () => {
    const spec = dualStackRedundantWan();
    spec.peers.find((entry) => entry.id === 's1')!.runsBgp = false;
    const h2 = byId(compileOverlay(spec).peers, 'h2').routing!;
    expect(h2.staticRoutes).toEqual([
      { destination: '192.168.11.0/24', gateway: '10.0.0.11', peerId: 's1' },
      { destination: '2001:db8:11::/64', gateway: 'fd10:aaaa:bbbb::b', peerId: 's1' },
    ]);
  });

  it('reaches every IPv6 LAN through the primary hub with the backup named, as for IPv4', () => {
    const compiled = compileOverlay(dualStackRedundantWan());
    const s1 = computeReachability(compiled, ['s1'])[0]!;
    const toHubLan6 = s1.reaches.find((reach) => reach.target === '2001:db8:101::/64' && reach.fromKind === 'LAN');
    expect(toHubLan6).toMatchObject({ from: '2001:db8:11::/64', nextHopPeerId: 'h1', backupNextHopPeerId: 'h2' });
    // The IPv6 tunnel address (a /128 on every point-to-point interface) is a source and a tunnel target, not a service.
    const fromTunnel6 = s1.reaches.filter((reach) => reach.from === 'fd10:aaaa:bbbb::b/128');
    expect(fromTunnel6.find((reach) => reach.target === 'fd10:aaaa:bbbb::1/128')).toMatchObject({ kind: 'TUNNEL_IP', nextHopPeerId: 'h1' });
    expect(s1.reaches.some((reach) => reach.kind === 'SERVICE')).toBe(false);
  });
});
