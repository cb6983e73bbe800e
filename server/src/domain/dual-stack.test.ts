import { describe, expect, it } from 'vitest';
import { dualStack, DUAL_STACK, overlay, peer, subnet } from './__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer } from './compile.js';
import { assertNoAllowedIpsOverlap } from './conflicts.js';

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
