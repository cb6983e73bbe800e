import { describe, expect, it } from 'vitest';
import { dualStack, DUAL_STACK, overlay, peer, subnet } from './__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer } from './compile.js';
import { analyzeConflicts, assertManagementAddress, assertNoAllowedIpsOverlap, assertSubnetAllowed } from './conflicts.js';
import { computeReachability } from './reachability.js';

describe('dual-stack compile', () => {
  it('gives each peer both tunnel addresses and its IPv6 service address', () => {
    const compiled = compileOverlay(dualStack());
    expect(findCompiledPeer(compiled, 'a').interface.addresses).toEqual(['10.0.0.1/24', 'fd10:aaaa:bbbb::1/64']);
    expect(findCompiledPeer(compiled, 'b').interface.addresses).toEqual(['10.0.0.2/24', 'fd10:aaaa:bbbb::2/64', 'fd10:aaaa:bbbb:5::7/128']);
  });

  it('carries both families in AllowedIPs, IPv4 first, and routes IPv6 via the IPv6 tunnel address', () => {
    const compiled = compileOverlay(dualStack());
    const a = findCompiledPeer(compiled, 'a');
    expect(a.peers.find((remote) => remote.peerId === 'b')?.allowedIps).toEqual([
      '10.0.0.2/32', '2001:db8:b::/64', 'fd10:aaaa:bbbb::2/128', 'fd10:aaaa:bbbb:5::7/128',
    ]);
    expect(a.routes).toEqual([
      { destination: '192.168.3.0/24', via: 'c', gatewayTunnelIp: '10.0.0.3' },
      { destination: '2001:db8:b::/64', via: 'b', gatewayTunnelIp: 'fd10:aaaa:bbbb::2' },
      { destination: 'fd10:aaaa:bbbb:5::7/128', via: 'b', gatewayTunnelIp: 'fd10:aaaa:bbbb::2' },
    ]);
    assertNoAllowedIpsOverlap(compiled);
  });

  it('lets a hub carry both families\' tunnel and services ranges for its spokes', () => {
    const compiled = compileOverlay(dualStack('HUB_SPOKE'));
    const toHub = findCompiledPeer(compiled, 'c').peers.find((remote) => remote.peerId === 'a')?.allowedIps;
    expect(toHub).toEqual([
      '10.0.0.0/24', '10.0.5.0/24', '192.168.1.0/24', '2001:db8:a::/64', '2001:db8:b::/64', 'fd10:aaaa:bbbb::/64', 'fd10:aaaa:bbbb:5::/64',
    ]);
  });

  it('keeps AllowedIPs disjoint in both families in every topology, a relay carving direct peers out of both tunnel ranges', () => {
    for (const topology of ['MESH', 'HUB_SPOKE', 'HYBRID'] as const) {
      const spec = dualStack(topology);
      // d dials everyone directly, so in HYBRID the relay carries both tunnel ranges minus d's addresses.
      spec.peers.push(peer('d', '10.0.0.4', { tunnelIp6: 'fd10:aaaa:bbbb::4', endpointHost: 'd.example.net', subnets: [subnet('lanD6', '2001:db8:d::/64')] }));
      assertNoAllowedIpsOverlap(compileOverlay(spec));
    }
  });

  it('translates an overlapping IPv6 LAN like an IPv4 one (NPTv6 on the owning peer)', () => {
    const spec = overlay([
      peer('a', '10.0.0.1', { tunnelIp6: 'fd10:aaaa:bbbb::1', subnets: [subnet('l1', '2001:db8:1::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' })] }),
      peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', subnets: [subnet('l2', '2001:db8:1::/64', { natCidr: 'fd10:aaaa:bbbb:8001::/64' })] }),
    ], DUAL_STACK);
    const compiled = compileOverlay(spec);
    expect(findCompiledPeer(compiled, 'a').nat).toEqual([{ kind: 'netmap', translated: 'fd10:aaaa:bbbb:8000::/64', real: '2001:db8:1::/64' }]);
    expect(findCompiledPeer(compiled, 'b').peers[0]?.allowedIps).toEqual(['10.0.0.1/32', 'fd10:aaaa:bbbb::1/128', 'fd10:aaaa:bbbb:8000::/64']);
  });

  it('refuses IPv6 where the WAN has no IPv6 range, and a translation across families', () => {
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1', { subnets: [subnet('l', '2001:db8::/64')] })])))
      .toThrow(/IPv6 LAN but the WAN has no IPv6 tunnel range/);
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1', { tunnelIp6: 'fd10::1' })]))).toThrow(/no IPv6 tunnel range/);
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1')], DUAL_STACK))).toThrow(/tunnelIp6/);
    expect(() => compileOverlay(overlay([
      peer('a', '10.0.0.1', { tunnelIp6: 'fd10:aaaa:bbbb::1', subnets: [subnet('l', '2001:db8::/64', { natCidr: '172.16.0.0/24' })] }),
    ], DUAL_STACK))).toThrow(/natCidr.*IPv6 CIDR/);
  });
});

describe('dual-stack reachability and conflicts', () => {
  it('reports reachability per family: IPv6 sources reach IPv6 targets only, through the same tunnels', () => {
    for (const topology of ['MESH', 'HUB_SPOKE'] as const) {
      const compiled = compileOverlay(dualStack(topology));
      const c = computeReachability(compiled, ['c'])[0]!;
      const from6 = c.reaches.filter((reach) => reach.from === 'fd10:aaaa:bbbb::3/128');
      expect(from6.map((reach) => reach.target).sort()).toEqual([
        '2001:db8:a::/64', '2001:db8:b::/64', 'fd10:aaaa:bbbb:5::7/128', 'fd10:aaaa:bbbb::1/128', 'fd10:aaaa:bbbb::2/128',
      ]);
      expect(c.reaches.every((reach) => reach.from.includes(':') === reach.target.includes(':'))).toBe(true);
      const from4 = c.reaches.filter((reach) => reach.from === '10.0.0.3/32').map((reach) => reach.target).sort();
      expect(from4).toEqual(['10.0.0.1/32', '10.0.0.2/32', '192.168.1.0/24']);
      // c's IPv4 LAN reaches IPv4 only; it has no IPv6 LAN to start from.
      expect(c.reaches.filter((reach) => reach.fromKind === 'LAN').every((reach) => !reach.target.includes(':'))).toBe(true);
      if (topology === 'HUB_SPOKE') expect(from6.find((reach) => reach.target === '2001:db8:b::/64')?.nextHopPeerId).toBe('a');
    }
  });

  it('flags IPv6 LANs inside the IPv6 tunnel or services range, and overlapping IPv6 LANs', () => {
    const spec = overlay([
      peer('a', '10.0.0.1', { tunnelIp6: 'fd10:aaaa:bbbb::1', subnets: [subnet('in-tunnel', 'fd10:aaaa:bbbb::/80'), subnet('l', '2001:db8::/64')] }),
      peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', subnets: [subnet('l2', '2001:db8::/48')] }),
    ], DUAL_STACK);
    const codes = analyzeConflicts(spec).map((conflict) => conflict.code);
    expect(codes).toContain('SUBNET_IN_TUNNEL_RANGE');
    expect(codes).toContain('SUBNET_OVERLAP');
    expect(() => assertSubnetAllowed(spec, 'a', 'fd10:aaaa:bbbb:5::/64')).toThrow(/IPv6 services range/);
    expect(() => assertSubnetAllowed(spec, 'a', '2001:DB8:0:0:1::/80')).toThrow(/overlaps 2001:db8::\/64/);
    expect(() => assertSubnetAllowed(spec, 'a', '2001:db9::/64')).not.toThrow();
  });

  it('refuses managing a device over an address inside either tunnel range, bracketed or not', () => {
    expect(() => assertManagementAddress(DUAL_STACK_WAN, '[fd10:aaaa:bbbb::9]:443')).toThrow(expect.objectContaining({ code: 'MANAGEMENT_IN_TUNNEL' }));
    expect(() => assertManagementAddress(DUAL_STACK_WAN, 'fd10:aaaa:bbbb::9')).toThrow(expect.objectContaining({ code: 'MANAGEMENT_IN_TUNNEL' }));
    expect(() => assertManagementAddress(DUAL_STACK_WAN, '10.0.0.9:8728')).toThrow(expect.objectContaining({ code: 'MANAGEMENT_IN_TUNNEL' }));
    expect(() => assertManagementAddress(DUAL_STACK_WAN, '[2001:db8::1]:443')).not.toThrow();
    expect(() => assertManagementAddress(DUAL_STACK_WAN, 'router.example.net:443')).not.toThrow();
  });
});

const DUAL_STACK_WAN = { tunnelCidr: '10.0.0.0/24', ...DUAL_STACK };
