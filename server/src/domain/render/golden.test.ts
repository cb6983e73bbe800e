// Pins the exact bytes of every rendering (.conf and .rsc with several option sets) and
// every config hash of varied overlays. Renderer and compiler optimisations must keep
// these hashes; a deliberate output change updates them in the same commit, with the
// reason.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dualStack, fakeKey, overlay, service, subnet, wan } from '../__fixtures__/overlay.js';
import { compileOverlay } from '../compile.js';
import type { OverlaySpec, PeerSpec } from '../model.js';
import { configHash } from '../staleness.js';
import { renderCompiledPeerRouterOs, type RouterOsScriptOptions } from './routeros.js';
import { renderCompiledPeerWgQuick, renderWgQuick } from './wgquick.js';

const HOSTILE = 'a"; /system reset-configuration; "$x\n# [y] é';

/** Keys from the peer's position, so the pinned bytes do not depend on test order. */
function site(n: number, tunnelIp: string, overrides: Partial<PeerSpec> = {}): PeerSpec {
  return {
    id: `p${n}`, name: `Site ${n}`, role: 'SITE', tunnelIp, publicKey: fakeKey(1000 + 2 * n), privateKey: fakeKey(1001 + 2 * n),
    endpointHost: `p${n}.example.net`, endpointPort: null, listenPort: null, keepalive: null, portForwarded: false,
    subnets: [], services: [], ...overrides,
  };
}

function psk(a: string, b: string, seed: number): OverlaySpec['presharedKeys'][number] {
  return { peerAId: a, peerBId: b, key: fakeKey(5000 + seed) };
}

function mixedMesh(): OverlaySpec {
  const peers = [
    site(1, '10.0.0.1', { subnets: [subnet('l1', '192.168.1.0/24'), subnet('l1b', '192.168.50.0/24', { routed: false })] }),
    site(2, '10.0.0.2', { endpointHost: '2001:db8::2', listenPort: 51000, subnets: [subnet('l2', '192.168.1.0/24', { natCidr: '172.16.4.0/24' })] }),
    site(3, '10.0.0.3', { endpointHost: '198.51.100.3', endpointPort: 443, portForwarded: true, keepalive: 0 }),
    site(4, '10.0.0.4', { endpointHost: null, keepalive: 15, services: [service('s4', '10.0.5.4', { localIp: '192.168.4.4', localPort: 8443, servicePort: 443 })] }),
    site(5, '10.0.0.5', { endpointHost: null, privateKey: null, role: 'CLIENT' }),
    site(6, '10.0.0.6', { name: HOSTILE, subnets: [subnet('l6', '10.20.0.0/16'), subnet('l6b', '10.20.5.0/24')] }),
    site(7, '10.0.0.7', { services: [service('s7', '10.0.5.7', { protocol: 'udp', servicePort: 53, localPort: 53 }), service('s7b', '10.0.5.4', { servicePort: 8080 })] }),
    site(8, '10.0.0.8', { subnets: [subnet('l8', '192.168.1.128/25')], listenPort: 40000 }),
    site(9, '10.0.0.9', { subnets: [subnet('l9', '10.0.5.128/25')] }),
  ];
  return { wan: wan({ name: HOSTILE }), peers, presharedKeys: [psk('p1', 'p2', 1), psk('p4', 'p1', 2), psk('p6', 'p7', 3)] };
}

function hubs(topology: 'HUB_SPOKE' | 'HYBRID', count: number, lans: boolean): OverlaySpec {
  const peers = [
    site(0, '10.0.0.1', { role: 'HUB', endpointHost: '2001:db8::1' }),
    site(1, '10.0.0.2', { role: 'HUB', subnets: lans ? [subnet('h1', '10.99.0.0/16')] : [] }),
  ];
  for (let i = 2; i < count; i++) {
    const octet = i + 1;
    const role = i % 5 === 0 ? 'CLIENT' : 'SITE';
    peers.push(site(i, `10.0.${octet >> 8}.${octet & 255}`, {
      role,
      endpointHost: i % 3 === 0 ? `s${i}.example.org` : null,
      keepalive: i % 7 === 0 ? 30 : null,
      privateKey: i % 11 === 0 ? null : fakeKey(1001 + 2 * i),
      subnets: lans && i % 2 === 0 ? [subnet(`l${i}`, `192.168.${i & 255}.0/24`, i % 8 === 0 ? { natCidr: `172.17.${i & 255}.0/24` } : {})] : [],
      services: i % 9 === 0 ? [service(`s${i}`, `10.1.5.${i & 255}`)] : [],
    }));
  }
  return {
    wan: wan({ id: 'wan-2', topology, tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24', interfaceName: 'wg.hub-0' }),
    peers,
    presharedKeys: [psk('p0', 'p4', 4), psk('p1', 'p6', 5)],
  };
}

/** Shaped like bench/render.ts's scenarios, smaller. */
function benchLike(topology: 'MESH' | 'HUB_SPOKE', count: number): OverlaySpec {
  const peers = Array.from({ length: count }, (_, i) => site(i, `10.0.${(i + 1) >> 8}.${(i + 1) & 255}`, topology === 'MESH'
    ? { subnets: [subnet(`l${i}`, `10.${100 + (i >> 8)}.${i & 255}.0/24`, { description: 'office' })] }
    : i === 0 ? { role: 'HUB', name: 'Hub' } : { endpointHost: null }));
  return { wan: wan({ id: 'benchwan', topology, tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24', interfaceName: 'wg-bench' }), peers, presharedKeys: [] };
}

const OPTIONS: RouterOsScriptOptions[] = [
  {},
  { commentPrefix: 'mp_2' },
  { apiUserName: HOSTILE, apiAllowedAddresses: ['192.168.88.0/24', '10.9.9.9'] },
];

/** sha256 over every rendering of every peer, twice over (the second pass may hit caches). */
function digest(spec: OverlaySpec): string {
  const hash = createHash('sha256');
  const compiled = compileOverlay(spec);
  for (let pass = 0; pass < 2; pass++) {
    for (const peer of compiled.peers) {
      hash.update(configHash(compiled, peer.peerId)).update(renderCompiledPeerWgQuick(compiled, peer));
      for (const options of OPTIONS) hash.update(renderCompiledPeerRouterOs(compiled, peer, options));
    }
  }
  return hash.digest('hex');
}

describe('rendered bytes are pinned', () => {
  it.each([
    ['mixed mesh: NAT, overlaps, services, PSKs, CGNAT, hostile names', mixedMesh, '3501ae13e2612c529089df426eaa8e7ebe0bded0e032aaced58fd6a4297b3a9c'],
    ['hub-spoke with two hubs and LANs', () => hubs('HUB_SPOKE', 40, true), 'bdee24b5cabdaa7e740ed234195343eec90f47f8751b0c7a9a822225161035a8'],
    ['hub-spoke with two hubs, no LANs', () => hubs('HUB_SPOKE', 40, false), '87c956bfc4a853c604a7742fac17b8f1cab0c317d55214ddadf63890c0ea75dd'],
    ['hybrid', () => hubs('HYBRID', 30, true), '94e7e2f75a6561c7e4dbc6349868f5b5a94200fe91b89c90500c658766d6ecd7'],
    ['hub-spoke without a hub (mesh fallback)', () => ({ ...benchLike('MESH', 12), wan: wan({ topology: 'HUB_SPOKE' }) }), '7c586c6e9cd69a5e54056728912d0f7e7c70949e50e6f69aaa209869c73f9bfe'],
    ['bench-like mesh', () => benchLike('MESH', 40), 'b677b41d4dc13e10b7dcb72e0cc560c705813a5d239e87fe2c7abdb81bcd8f26'],
    ['bench-like hub-spoke', () => benchLike('HUB_SPOKE', 300), '32d97672c69a0068dd6fd431ad92515a1fec014f79b58bc9dc35f6b93f975485'],
    ['render test overlay', () => overlay([
      site(1, '10.0.0.1', { role: 'HUB', endpointHost: '2001:db8::1' }),
      site(2, '10.0.0.2', { endpointHost: null, subnets: [subnet('lan', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })], services: [service('web', '10.0.5.10')] }),
      site(3, '10.0.0.3', { role: 'CLIENT', privateKey: null, endpointHost: null }),
    ], { topology: 'HUB_SPOKE' }), '3c46970e8b50989b057c35677a3814dd72ed396c48afbe8cc15615a4f65afbdd'],
  ])('%s', (_name, build, expected) => {
    expect(digest(build())).toBe(expected);
  });
});

/**
 * The dual-stack fixture with keys from the peers' positions (not from how many fixtures ran
 * before) and, in the mesh, an IPv6 LAN of c that overlaps a's and is translated (NPTv6).
 */
function dualStackPinned(topology: 'MESH' | 'HUB_SPOKE'): OverlaySpec {
  const spec = dualStack(topology);
  spec.peers.forEach((entry, index) => Object.assign(entry, { publicKey: fakeKey(7000 + 2 * index), privateKey: fakeKey(7001 + 2 * index) }));
  if (topology === 'MESH') spec.peers[2]!.subnets.push(subnet('lanC6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' }));
  return spec;
}

/** Every peer's wg-quick file, one after the other. */
function allConfs(spec: OverlaySpec): string {
  const compiled = compileOverlay(spec);
  return compiled.peers.map((entry) => `### ${entry.peerId}\n${renderWgQuick(compiled, entry.peerId)}`).join('\n');
}

function confOf(spec: OverlaySpec, peerId: string): string[] {
  return renderWgQuick(compileOverlay(spec), peerId).split('\n');
}

describe('dual-stack wg-quick renderings are pinned', () => {
  it('mesh: both families, ip6tables twins, IPv6 forwarding, NPTv6, IPv6 service DNAT', async () => {
    const spec = dualStackPinned('MESH');
    await expect(allConfs(spec)).toMatchFileSnapshot('./__snapshots__/dual-stack-mesh.conf');

    const b = confOf(spec, 'b');
    expect(b).toContain('Address = 10.0.0.2/24, fd10:aaaa:bbbb::2/64, fd10:aaaa:bbbb:5::7/128');
    expect(b.filter((line) => line.startsWith('PostUp = ')).slice(0, 6)).toEqual([
      'PostUp = sysctl -w net.ipv4.ip_forward=1',
      'PostUp = sysctl -w net.ipv6.conf.all.forwarding=1',
      'PostUp = iptables -A FORWARD -i %i -j ACCEPT',
      'PostUp = ip6tables -A FORWARD -i %i -j ACCEPT',
      'PostUp = iptables -A FORWARD -o %i -j ACCEPT',
      'PostUp = ip6tables -A FORWARD -o %i -j ACCEPT',
    ]);
    // The address in brackets: unbracketed, ip6tables takes ":8080" as the address's last group.
    expect(b).toContain('PostUp = ip6tables -t nat -A PREROUTING -i %i -d fd10:aaaa:bbbb:5::7/128 -p tcp --dport 80 -j DNAT --to-destination [2001:db8:b::10]:8080');
    expect(b).toContain('PostDown = ip6tables -t nat -D PREROUTING -i %i -d fd10:aaaa:bbbb:5::7/128 -p tcp --dport 80 -j DNAT --to-destination [2001:db8:b::10]:8080');
    expect(b).toContain('AllowedIPs = 10.0.0.1/32, 192.168.1.0/24, 2001:db8:a::/64, fd10:aaaa:bbbb::1/128');

    const c = confOf(spec, 'c');
    expect(c).toContain('PostUp = ip6tables -t nat -A PREROUTING -i %i -d fd10:aaaa:bbbb:8000::/64 -j NETMAP --to 2001:db8:a::/64');
    expect(c).toContain('PostUp = ip6tables -t nat -A POSTROUTING -s 2001:db8:a::/64 -o %i -j NETMAP --to fd10:aaaa:bbbb:8000::/64');
    // Every rule that goes up comes down again, IPv6 ones included.
    for (const conf of [b, c]) {
      const ups = conf.filter((line) => /^PostUp = ip6?tables /.test(line)).map((line) => line.slice('PostUp = '.length).replace(' -A ', ' -D '));
      const downs = conf.filter((line) => line.startsWith('PostDown = ')).map((line) => line.slice('PostDown = '.length));
      expect(downs).toEqual([...ups].reverse());
    }
  });

  it('hub-and-spoke: the spokes route both families through the hub', async () => {
    const spec = dualStackPinned('HUB_SPOKE');
    await expect(allConfs(spec)).toMatchFileSnapshot('./__snapshots__/dual-stack-hub-spoke.conf');
    expect(confOf(spec, 'c')).toContain('AllowedIPs = 10.0.0.0/24, 10.0.5.0/24, 192.168.1.0/24, 2001:db8:a::/64, 2001:db8:b::/64, fd10:aaaa:bbbb::/64, fd10:aaaa:bbbb:5::/64');
    expect(confOf(spec, 'a')).toContain('PostUp = ip6tables -A FORWARD -i %i -j ACCEPT');
  });

  it('an IPv4-only peer in the same shapes gets no IPv6 line', () => {
    for (const topology of ['MESH', 'HUB_SPOKE'] as const) {
      const spec = dualStackPinned(topology);
      spec.wan = wan({ topology });
      for (const entry of spec.peers) {
        delete entry.tunnelIp6;
        entry.subnets = entry.subnets.filter((lan) => !lan.cidr.includes(':'));
        entry.services = [];
      }
      expect(allConfs(spec)).not.toMatch(/ip6tables|ipv6|:[0-9a-f]*:/);
    }
  });
});
