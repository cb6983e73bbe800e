import { describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, peer, subnet } from './__fixtures__/overlay.js';
import { analyzeConflicts } from './conflicts.js';
import { completeOverlapGroup, overlapGroup } from './nat.js';

describe('overlap groups', () => {
  const spec = () => overlay([
    peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24'), subnet('other', '10.9.0.0/24')] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })] }),
    // Overlaps b's LAN only through a bigger range: still the same group.
    peer('c', '10.0.0.3', { subnets: [subnet('lanC', '192.168.0.0/23')] }),
    peer('d', '10.0.0.4', { subnets: [subnet('lanD', '192.168.9.0/24'), subnet('off', '192.168.1.0/24', { routed: false })] }),
  ]);

  it('links routed LANs of different peers whose real ranges overlap, transitively', () => {
    expect(overlapGroup(spec(), 'lanA').map((s) => s.id)).toEqual(['lanA', 'lanB', 'lanC']);
    expect(overlapGroup(spec(), 'lanD').map((s) => s.id)).toEqual(['lanD']);
  });

  it('translates every untranslated member once one is translated, from free ranges of the pool', () => {
    const current = spec();
    const translations = completeOverlapGroup(current, 'lanA', false);
    // 172.16.0.0/24 is b's; the /23 of c needs an aligned /23.
    expect(translations).toEqual([{ subnetId: 'lanA', natCidr: '172.16.1.0/24' }, { subnetId: 'lanC', natCidr: '172.16.2.0/23' }]);
    for (const { subnetId, natCidr } of translations) current.peers.flatMap((p) => p.subnets).find((s) => s.id === subnetId)!.natCidr = natCidr;
    expect(analyzeConflicts(current).filter((c) => c.code === 'LAN_UNREACHABLE' || c.code === 'SUBNET_OVERLAP' || c.code === 'LAN_UNROUTED')).toEqual([]);
    expect(completeOverlapGroup(current, 'lanC', false)).toEqual([]);
  });

  it('leaves a group without translations alone unless asked to translate it', () => {
    const untouched = overlay([peer('a', '10.0.0.1', { subnets: [subnet('x', '192.168.1.0/24')] }), peer('b', '10.0.0.2', { subnets: [subnet('y', '192.168.1.0/24')] })]);
    expect(completeOverlapGroup(untouched, 'x', false)).toEqual([]);
    expect(completeOverlapGroup(untouched, 'y', true)).toEqual([{ subnetId: 'x', natCidr: '172.16.0.0/24' }, { subnetId: 'y', natCidr: '172.16.1.0/24' }]);
  });

  it('fails with POOL_EXHAUSTED when the pool cannot hold the whole group', () => {
    const small = overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('x', '192.168.1.0/24')] }),
      peer('b', '10.0.0.2', { subnets: [subnet('y', '192.168.1.0/24')] }),
    ], { natPool: '172.16.0.0/24' });
    expect(() => completeOverlapGroup(small, 'x', true)).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
  });
});

describe('IPv6 overlap groups (NPTv6)', () => {
  const spec = () => overlay([
    peer('a', '10.0.0.1', { tunnelIp6: 'fd10:aaaa:bbbb::1', subnets: [subnet('a6', '2001:db8:1::/64'), subnet('a4', '192.168.1.0/24')] }),
    peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', subnets: [subnet('b6', '2001:db8:1::/64'), subnet('b4', '192.168.1.0/24')] }),
    peer('c', '10.0.0.3', { tunnelIp6: 'fd10:aaaa:bbbb::3', subnets: [subnet('c6', '2001:db8:1::/56')] }),
  ], DUAL_STACK);

  it('groups IPv6 LANs by overlap, never with IPv4 ones, and translates them from the IPv6 pool', () => {
    expect(overlapGroup(spec(), 'a6').map((s) => s.id)).toEqual(['a6', 'b6', 'c6']);
    expect(overlapGroup(spec(), 'a4').map((s) => s.id)).toEqual(['a4', 'b4']);
    const current = spec();
    const translations = completeOverlapGroup(current, 'a6', true);
    expect(translations).toEqual([
      { subnetId: 'a6', natCidr: 'fd10:aaaa:bbbb:8000::/64' },
      { subnetId: 'b6', natCidr: 'fd10:aaaa:bbbb:8001::/64' },
      { subnetId: 'c6', natCidr: 'fd10:aaaa:bbbb:8100::/56' },
    ]);
    for (const { subnetId, natCidr } of translations) current.peers.flatMap((p) => p.subnets).find((s) => s.id === subnetId)!.natCidr = natCidr;
    expect(analyzeConflicts(current).filter((c) => c.code === 'LAN_UNREACHABLE' || c.code === 'SUBNET_OVERLAP' || c.code === 'LAN_UNROUTED')
      .map((c) => c.message).filter((message) => message.includes('2001:db8'))).toEqual([]);
  });
});
