import { describe, expect, it } from 'vitest';
import { overlay, peer, service, subnet } from './__fixtures__/overlay.js';
import { compileOverlay } from './compile.js';
import {
  analyzeConflicts, assertEndpointPort, assertManagementAddress, assertNoAllowedIpsOverlap, assertSubnetAllowed,
} from './conflicts.js';
import { suggestAutoNat } from './nat.js';
import { computeReachability } from './reachability.js';

const codes = (spec: Parameters<typeof analyzeConflicts>[0]): string[] => analyzeConflicts(spec).map((c) => `${c.severity}:${c.code}`);
/** The broken LAN directions, as "near source -> far target", sorted. */
const directions = (spec: Parameters<typeof analyzeConflicts>[0]): string[] => analyzeConflicts(spec)
  .filter((c) => c.code === 'LAN_UNREACHABLE')
  .map((c) => `${c.peerIds[0]} ${c.cidrs[0]} -> ${c.peerIds[1]} ${c.cidrs[1]}`)
  .sort();

describe('analyzeConflicts', () => {
  it('is quiet for a clean overlay', () => {
    expect(analyzeConflicts(overlay([peer('a', '10.0.0.1', { subnets: [subnet('l', '192.168.1.0/24')] }), peer('b', '10.0.0.2')]))).toEqual([]);
  });

  it('flags LANs in the tunnel or services range as critical', () => {
    const spec = overlay([peer('a', '10.0.0.1', { subnets: [subnet('l1', '10.0.0.128/25'), subnet('l2', '10.0.5.0/24')] })]);
    expect(codes(spec)).toEqual(['CRITICAL:SUBNET_IN_SERVICES_RANGE', 'CRITICAL:SUBNET_IN_TUNNEL_RANGE']);
  });

  it('warns about overlapping LANs of different peers until one side is translated', () => {
    const lanA = subnet('lanA', '192.168.1.0/24');
    const spec = overlay([peer('a', '10.0.0.1', { subnets: [lanA] }), peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.1.128/25')] })]);
    const found = analyzeConflicts(spec).find((c) => c.code === 'SUBNET_OVERLAP');
    expect(found).toMatchObject({ severity: 'WARNING', peerIds: ['a', 'b'], subnetIds: ['lanA', 'lanB'], cidrs: ['192.168.1.0/24', '192.168.1.128/25'], autoNatSubnetIds: ['lanA', 'lanB'] });
    expect(codes(spec)).toEqual(['WARNING:LAN_UNREACHABLE', 'WARNING:LAN_UNREACHABLE', 'WARNING:SUBNET_OVERLAP']);

    lanA.natCidr = suggestAutoNat(spec, 'lanA');
    expect(lanA.natCidr).toBe('172.16.0.0/24');
    // Translating one side is not enough: b's LAN is still local to a, both ways.
    expect(directions(spec)).toEqual(['a 172.16.0.0/24 -> b 192.168.1.128/25', 'b 192.168.1.128/25 -> a 172.16.0.0/24']);
  });

  describe('names every direction an overlap group breaks', () => {
    // a, b and c all host 192.168.1.0/24; b and c are translated, a is not.
    const group = (aNat: string | null) => overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24', { natCidr: aNat })] }),
      peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })], services: [service('web', '10.0.5.2')] }),
      peer('c', '10.0.0.3', { subnets: [subnet('lanC', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
      peer('d', '10.0.0.4', { subnets: [subnet('lanD', '192.168.9.0/24')] }),
    ]);

    it('a untranslated: a->b, a->c (dropped by b and c) and b->a, c->a (a\'s LAN is theirs)', () => {
      const spec = group(null);
      expect(directions(spec)).toEqual([
        'a 192.168.1.0/24 -> b 172.16.0.0/24',
        'a 192.168.1.0/24 -> c 172.16.1.0/24',
        'b 172.16.0.0/24 -> a 192.168.1.0/24',
        'c 172.16.1.0/24 -> a 192.168.1.0/24',
      ]);
      const aToB = analyzeConflicts(spec).find((c) => c.code === 'LAN_UNREACHABLE' && c.peerIds[0] === 'a' && c.peerIds[1] === 'b')!;
      expect(aToB).toMatchObject({ subnetIds: ['lanA', 'lanB'], cidrs: ['192.168.1.0/24', '172.16.0.0/24'], autoNatSubnetIds: ['lanA'] });
      expect(aToB.message).toMatch(/"Peer b" \(10\.0\.0\.2\) drops their packets/);
      const bToA = analyzeConflicts(spec).find((c) => c.code === 'LAN_UNREACHABLE' && c.peerIds[0] === 'b')!;
      expect(bToA.message).toMatch(/its own LAN 192\.168\.1\.0\/24, so it never sends it into the tunnel/);
    });

    it('all translated: nothing is broken', () => {
      expect(directions(group('172.16.2.0/24'))).toEqual([]);
      expect(codes(group('172.16.2.0/24'))).toEqual([]);
    });

    it('agrees with reachability, LAN to LAN, whichever members are translated', () => {
      const nats: Record<string, string> = { lanA: '172.16.2.0/24', lanB: '172.16.0.0/24', lanC: '172.16.1.0/24' };
      for (let mask = 0; mask < 8; mask++) {
        const spec = group(null);
        ['lanA', 'lanB', 'lanC'].forEach((id, bit) => {
          spec.peers.flatMap((p) => p.subnets).find((s) => s.id === id)!.natCidr = mask & (1 << bit) ? nats[id]! : null;
        });
        const lans = new Map(spec.peers.flatMap((p) => p.subnets.map((s) => [p.id, s.natCidr ?? s.cidr] as const)));
        const reached = new Set(computeReachability(compileOverlay(spec)).flatMap((entry) => entry.reaches
          .filter((r) => r.fromKind === 'LAN' && r.kind === 'LAN')
          .map((r) => `${entry.peerId} ${r.from} -> ${r.targetPeerId} ${r.target}`)));
        const expectedBroken: string[] = [];
        for (const [x, fromCidr] of lans) {
          for (const [y, toCidr] of lans) {
            const path = `${x} ${fromCidr} -> ${y} ${toCidr}`;
            // d's LAN overlaps nobody: its paths to the group break only when a member's LAN
            // loses its range to another untranslated member (LAN_UNROUTED, below).
            if (x !== y && x !== 'd' && y !== 'd' && !reached.has(path)) expectedBroken.push(path);
          }
        }
        expect(directions(spec), `translated mask ${mask}`).toEqual(expectedBroken.sort());
        const unrouted = analyzeConflicts(spec).filter((c) => c.code === 'LAN_UNROUTED').map((c) => c.peerIds[0]).sort();
        const cutOffFromD = [...lans.keys()].filter((x) => x !== 'd' && !reached.has(`d ${lans.get('d')} -> ${x} ${lans.get(x)}`));
        expect(unrouted, `translated mask ${mask}`).toEqual(cutOffFromD);
        for (const x of cutOffFromD) expect(reached.has(`${x} ${lans.get(x)} -> d ${lans.get('d')}`)).toBe(false);
      }
    });

    it('none translated: all six directions, and which LANs auto-NAT would translate', () => {
      const spec = group(null);
      for (const id of ['lanB', 'lanC']) spec.peers.flatMap((p) => p.subnets).find((s) => s.id === id)!.natCidr = null;
      expect(directions(spec)).toEqual([
        'a 192.168.1.0/24 -> b 192.168.1.0/24', 'a 192.168.1.0/24 -> c 192.168.1.0/24',
        'b 192.168.1.0/24 -> a 192.168.1.0/24', 'b 192.168.1.0/24 -> c 192.168.1.0/24',
        'c 192.168.1.0/24 -> a 192.168.1.0/24', 'c 192.168.1.0/24 -> b 192.168.1.0/24',
      ]);
    });
  });

  it('names paths a hub breaks by relaying between spokes whose LAN is its own', () => {
    const spec = overlay([
      peer('hub', '10.0.0.1', { role: 'HUB', subnets: [subnet('h', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })] }),
      peer('x', '10.0.0.2', { subnets: [subnet('xl', '192.168.1.0/24')] }),
      peer('y', '10.0.0.3', { subnets: [subnet('yl', '192.168.5.0/24')] }),
    ], { topology: 'HUB_SPOKE' });
    expect(directions(spec)).toEqual([
      'hub 172.16.0.0/24 -> x 192.168.1.0/24', 'x 192.168.1.0/24 -> hub 172.16.0.0/24',
      'x 192.168.1.0/24 -> y 192.168.5.0/24', 'y 192.168.5.0/24 -> x 192.168.1.0/24',
    ]);
    const viaHub = analyzeConflicts(spec).find((c) => c.code === 'LAN_UNREACHABLE' && c.peerIds[0] === 'y')!;
    expect(viaHub.message).toMatch(/the hub "Peer hub" \(10\.0\.0\.1\) relaying between them/);
    // Only x's LAN needs translating; y's overlaps nothing.
    expect(viaHub.autoNatSubnetIds).toEqual(['xl']);
  });

  it('agrees with reachability for every mix of one shared LAN in a mesh and through a hub', () => {
    const choices = [
      { cidr: '192.168.1.0/24', nat: false }, { cidr: '192.168.1.0/24', nat: true }, { cidr: '192.168.5.0/24', nat: false }, null,
    ];
    let broken = 0;
    for (const topology of ['MESH', 'HUB_SPOKE'] as const) {
      for (const [i, j, k] of choices.flatMap((_, i) => choices.flatMap((_, j) => choices.map((_, k) => [i, j, k] as const)))) {
        const spec = overlay([i, j, k].map((choice, n) => {
          const lan = choices[choice];
          return peer(['hub', 'x', 'y'][n]!, `10.0.0.${n + 1}`, {
            role: n === 0 ? 'HUB' : 'SITE',
            subnets: lan ? [subnet(`l${n}`, lan.cidr, { natCidr: lan.nat ? `172.16.${n}.0/24` : null })] : [],
          });
        }), { topology });
        const reached = new Set(computeReachability(compileOverlay(spec)).flatMap((entry) => entry.reaches
          .filter((r) => r.fromKind === 'LAN' && r.kind === 'LAN').map((r) => `${entry.peerId}>${r.targetPeerId}`)));
        const found = analyzeConflicts(spec);
        const unrouted = new Set(found.filter((c) => c.code === 'LAN_UNROUTED').map((c) => c.peerIds[0]));
        const named = new Set(found.filter((c) => c.code === 'LAN_UNREACHABLE').map((c) => `${c.peerIds[0]}>${c.peerIds[1]}`));
        const hosts = spec.peers.filter((p) => p.subnets.length > 0).map((p) => p.id);
        for (const x of hosts) {
          for (const y of hosts) {
            if (x === y) continue;
            const path = `${x}>${y}`;
            const context = `${topology} ${[i, j, k].join('')} ${path}`;
            // Named exactly when broken, unless the LAN lost its range to another untranslated one.
            expect(named.has(path) || (!reached.has(path) && (unrouted.has(x) || unrouted.has(y))), context).toBe(!reached.has(path));
            if (!reached.has(path)) broken++;
          }
        }
      }
    }
    expect(broken).toBeGreaterThan(50);
  });

  it('warns about clients hosting LANs, isolated CGNAT peers, port mismatches and missing hubs', () => {
    const spec = overlay([
      peer('c', '10.0.0.1', { role: 'CLIENT', endpointHost: null, subnets: [subnet('l', '192.168.9.0/24')] }),
      peer('d', '10.0.0.2', { endpointHost: null }),
      peer('e', '10.0.0.3', { endpointPort: 443 }),
    ], { topology: 'HUB_SPOKE' });
    expect(codes(spec)).toEqual(['CRITICAL:ENDPOINT_PORT_MISMATCH', 'WARNING:CLIENT_HOSTS_LAN', 'INFO:CGNAT_NO_DIRECT_PATH', 'INFO:CGNAT_NO_DIRECT_PATH', 'INFO:NO_HUB']);
    const lonely = overlay([peer('x', '10.0.0.1', { endpointHost: null }), peer('y', '10.0.0.2', { endpointHost: null })]);
    expect(codes(lonely)).toEqual(['WARNING:CGNAT_UNREACHABLE', 'WARNING:CGNAT_UNREACHABLE']);
  });

  it('keeps a hub-and-spoke WAN whose hubs are all disabled hub-and-spoke: the spokes lose their tunnels, not gain each other', () => {
    const hub = peer('h', '10.0.0.1', { role: 'HUB' });
    const spokes = [peer('s1', '10.0.0.2'), peer('s2', '10.0.0.3'), peer('s3', '10.0.0.4')];
    const running = overlay([hub, ...spokes], { topology: 'HUB_SPOKE' });
    expect(compileOverlay(running).peers.find((p) => p.peerId === 's1')?.peers.map((r) => r.peerId)).toEqual(['h']);

    const hubOff = { ...overlay(spokes, { topology: 'HUB_SPOKE' }), disabledPeers: [hub] };
    const compiled = compileOverlay(hubOff);
    for (const id of ['s1', 's2', 's3']) expect(compiled.peers.find((p) => p.peerId === id)?.peers, id).toEqual([]);
    const found = analyzeConflicts(hubOff);
    expect(found.map((c) => c.code)).not.toContain('NO_HUB');
    expect(found.find((c) => c.code === 'HUBS_DISABLED')).toMatchObject({ severity: 'WARNING', message: expect.stringContaining('(Peer h)') });
    // A WAN that never had a hub is still being built: it runs as a mesh, as before.
    expect(codes(overlay(spokes, { topology: 'HUB_SPOKE' }))).toContain('INFO:NO_HUB');
  });

  it('reports an invalid spec instead of throwing', () => {
    expect(codes(overlay([peer('a', '10.0.0.1', { publicKey: 'bad' })]))).toEqual(['CRITICAL:INVALID_SPEC']);
  });
});

describe('guards', () => {
  const spec = overlay([peer('a', '10.0.0.1', { subnets: [subnet('l', '192.168.1.0/24')] }), peer('b', '10.0.0.2')]);

  it('assertSubnetAllowed refuses the WAN ranges and duplicates on the same peer, allows other peers\' overlaps', () => {
    expect(() => assertSubnetAllowed(spec, 'b', '10.0.0.0/16')).toThrow(expect.objectContaining({ code: 'SUBNET_CONFLICT' }));
    expect(() => assertSubnetAllowed(spec, 'b', '10.0.5.9/32')).toThrow(/services range/);
    expect(() => assertSubnetAllowed(spec, 'a', '192.168.1.0/25')).toThrow(/already hosts/);
    expect(() => assertSubnetAllowed(spec, 'b', '192.168.1.0/24')).not.toThrow();
    expect(() => assertSubnetAllowed(spec, 'b', 'nonsense')).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
  });

  it('assertNoAllowedIpsOverlap names the peers and CIDRs that collide', () => {
    const shared = overlay([
      peer('a', '10.0.0.1', { services: [service('s1', '10.0.5.5')] }),
      peer('b', '10.0.0.2', { services: [service('s2', '10.0.5.5', { servicePort: 81 })] }),
      peer('c', '10.0.0.3'),
    ]);
    expect(() => assertNoAllowedIpsOverlap(shared)).toThrow(expect.objectContaining({
      code: 'ALLOWED_IPS_OVERLAP',
      message: expect.stringMatching(/10\.0\.5\.5\/32 \(peer a\) overlaps 10\.0\.5\.5\/32 \(peer b\)/),
    }));
    // The compiler still resolves it deterministically, so its output passes.
    expect(() => assertNoAllowedIpsOverlap(compileOverlay(shared))).not.toThrow();
    expect(codes(shared)).toContain('CRITICAL:SERVICE_IP_SHARED');

    const handMade = compileOverlay(spec);
    handMade.peers[0]!.peers[0]!.allowedIps = [...handMade.peers[0]!.peers[0]!.allowedIps, '192.168.0.0/16'];
    handMade.peers[0]?.peers.push({ ...handMade.peers[0].peers[0]!, peerId: 'z', allowedIps: ['192.168.3.0/24'] });
    expect(() => assertNoAllowedIpsOverlap(handMade)).toThrow(/192\.168\.0\.0\/16 \(peer b\) overlaps 192\.168\.3\.0\/24 \(peer z\)/);
    // LAN overlaps are a warning resolved by auto-NAT, not a reason to refuse a mutation.
    const lanOverlap = overlay([peer('a', '10.0.0.1', { subnets: [subnet('x', '192.168.1.0/24')] }), peer('b', '10.0.0.2', { subnets: [subnet('y', '192.168.1.0/24')] }), peer('c', '10.0.0.3')]);
    expect(() => assertNoAllowedIpsOverlap(lanOverlap)).not.toThrow();
  });

  it('assertEndpointPort and assertManagementAddress', () => {
    const wan = spec.wan;
    expect(() => assertEndpointPort(peer('p', '10.0.0.9', { endpointPort: 443 }), wan)).toThrow(expect.objectContaining({ code: 'ENDPOINT_PORT_MISMATCH' }));
    expect(() => assertEndpointPort(peer('p', '10.0.0.9', { endpointPort: 443, portForwarded: true }), wan)).not.toThrow();
    expect(() => assertEndpointPort(peer('p', '10.0.0.9', { endpointPort: 443, listenPort: 443 }), wan)).not.toThrow();
    expect(() => assertManagementAddress(wan, '10.0.0.7')).toThrow(expect.objectContaining({ code: 'MANAGEMENT_IN_TUNNEL' }));
    expect(() => assertManagementAddress(wan, '10.0.0.7:8729')).toThrow(expect.objectContaining({ code: 'MANAGEMENT_IN_TUNNEL' }));
    expect(() => assertManagementAddress(wan, '192.168.88.1')).not.toThrow();
    expect(() => assertManagementAddress(wan, 'router.lan')).not.toThrow();
  });
});
