// Redundant hubs in a dual-stack WAN as BIRD, wg-quick and the Linux bundle render them: every
// IPv4 part gets its IPv6 twin, and an IPv4-only WAN renders as before (golden and hub tests).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileOverlay } from '../compile.js';
import type { CompiledOverlay } from '../compiled.js';
import { DUAL_STACK, overlay, peer, service, subnet } from '../__fixtures__/overlay.js';
import type { OverlaySpec } from '../model.js';
import { bgpProtocolName, renderBird, renderCompiledPeerBird } from './bird.js';
import { renderLinuxBundle } from './linux-bundle.js';
import { renderWgQuickInterfaces } from './wgquick.js';

const six = (last: number) => `fd10:aaaa:bbbb::${last.toString(16)}`;

/** Two hubs (h1 with an IPv6 LAN), a site with both LAN families and an IPv6 service, a client. */
function dualStackRedundantWan(s1RunsBgp = true): OverlaySpec {
  const spec = overlay([
    peer('h1', '10.0.0.1', { role: 'HUB', subnets: [subnet('l1', '192.168.101.0/24'), subnet('l1v6', '2001:db8:101::/64')] }),
    peer('h2', '10.0.0.2', { role: 'HUB' }),
    peer('s1', '10.0.0.11', {
      endpointHost: null, runsBgp: s1RunsBgp,
      subnets: [subnet('l11', '192.168.11.0/24'), subnet('l11v6', '2001:db8:11::/64')],
      services: [service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: '2001:db8:11::10' })],
    }),
    peer('c1', '10.0.0.21', { role: 'CLIENT', endpointHost: null }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wg0', ...DUAL_STACK });
  for (const entry of spec.peers) entry.tunnelIp6 = six(Number(entry.tunnelIp.split('.')[3]));
  return spec;
}

/** The block of `protocol <kind> <name> {` … `}` in a bird.conf. */
function block(conf: string, header: string): string {
  const start = conf.indexOf(`${header} {\n`);
  expect(start, header).toBeGreaterThanOrEqual(0);
  return conf.slice(start, conf.indexOf('\n}\n', start) + 3);
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-bird-ds-'));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));
const birdInstalled = spawnSync('bird', ['--version']).error === undefined;

/** `bird -p`: BIRD 2 parses the file and exits (no daemon, no socket). */
function birdParses(conf: string): { status: number | null; stderr: string } {
  const file = path.join(scratch, 'bird.conf');
  fs.writeFileSync(file, conf);
  const result = spawnSync('bird', ['-p', '-c', file], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

describe('BIRD for redundant hubs in a dual-stack WAN', () => {
  const compiled: CompiledOverlay = compileOverlay(dualStackRedundantWan());

  it('runs a second session per neighbour between the IPv6 tunnel addresses, carrying IPv6 only, same ASNs and preference', () => {
    const conf = renderBird(compiled, 's1');
    const v4 = block(conf, 'protocol bgp mp_10_0_0_2');
    const v6 = block(conf, 'protocol bgp mp6_fd10_aaaa_bbbb__2');
    expect(v6).toContain('  local fd10:aaaa:bbbb::b as 4200000011;\n  neighbor fd10:aaaa:bbbb::2 as 4200000002;\n  direct;\n  bfd on;\n');
    expect(v6).toContain([
      '  ipv6 {',
      '    preference 190;',
      '    import filter { if net ~ MP_PINNED6 && net != fd10:aaaa:bbbb::2/128 then reject; accept; };',
      '    export where proto = "mp_originate6";',
      '    next hop self;',
      '  };',
    ].join('\n'));
    expect(v6).not.toContain('ipv4');
    expect(v4).toContain('  local 10.0.0.11 as 4200000011;\n  neighbor 10.0.0.2 as 4200000002;');
    expect(v4).toContain('    preference 190;');
    expect(v4).not.toContain('ipv6');
    // Each neighbour: its IPv4 session, then its IPv6 one.
    expect(conf.match(/^protocol bgp \S+/gm)).toEqual([
      'protocol bgp mp_10_0_0_1', 'protocol bgp mp6_fd10_aaaa_bbbb__1', 'protocol bgp mp_10_0_0_2', 'protocol bgp mp6_fd10_aaaa_bbbb__2',
    ]);
    expect(conf).toContain('define MP_PINNED = [ 10.0.0.1/32, 10.0.0.2/32 ];\ndefine MP_PINNED6 = [ fd10:aaaa:bbbb::1/128, fd10:aaaa:bbbb::2/128 ];\n');
    expect(conf.match(/interface "\*"/g)).toHaveLength(1);
  });

  it('originates each family in its own static protocol and installs IPv6 routes from the own IPv6 tunnel address', () => {
    const conf = renderBird(compiled, 's1');
    expect(block(conf, 'protocol static mp_originate')).toBe('protocol static mp_originate {\n  ipv4;\n  route 10.0.0.11/32 blackhole;\n  route 192.168.11.0/24 blackhole;\n}\n');
    const originate6 = block(conf, 'protocol static mp_originate6');
    expect(originate6.split('\n').slice(0, 2)).toEqual(['protocol static mp_originate6 {', '  ipv6;']);
    expect(originate6).toContain('  route 2001:db8:11::/64 blackhole;\n');
    expect(originate6).toContain('  route fd10:aaaa:bbbb::b/128 blackhole;\n');
    expect(originate6).toContain('  route fd10:aaaa:bbbb:5::7/128 blackhole;\n');
    expect(originate6).not.toMatch(/\d+\.\d+\.\d+\.\d+/);
    const kernels = conf.split('protocol kernel {').slice(1);
    expect(kernels).toHaveLength(2);
    expect(kernels[0]).toContain('  ipv4 {');
    expect(kernels[0]).toContain('krt_prefsrc = 10.0.0.11;');
    expect(kernels[1]).toContain('  metric 4242;');
    expect(kernels[1]).toContain('  ipv6 {');
    // Neighbours' own /128s are never installed: the kernel refuses IPv6 routes resolved through a "/128 via itself".
    expect(kernels[1]).toContain('export filter { if net ~ MP_PINNED6 then reject; if source = RTS_BGP || proto = "mp_spokes6" then { krt_prefsrc = fd10:aaaa:bbbb::b; accept; } reject; };');
    // A hub passes on what it learns in both families, and originates both families' ranges.
    const hub = renderBird(compiled, 'h1');
    expect(hub).toContain('export where proto = "mp_originate6" || proto = "mp_spokes6" || source = RTS_BGP;');
    expect(block(hub, 'protocol static mp_originate6')).toContain('  route fd10:aaaa:bbbb::/64 blackhole;\n  route fd10:aaaa:bbbb:5::/64 blackhole;\n');
    expect(block(hub, 'protocol bgp mp6_fd10_aaaa_bbbb__2')).toContain('  local fd10:aaaa:bbbb::1 as 4200000001;');
  });

  it('routes a BGP-less spoke\'s IPv6 LAN and service via its IPv6 tunnel address in an IPv6 static protocol', () => {
    const hub = renderBird(compileOverlay(dualStackRedundantWan(false)), 'h2');
    expect(block(hub, 'protocol static mp_spokes')).toBe('protocol static mp_spokes {\n  ipv4;\n  route 192.168.11.0/24 via 10.0.0.11;\n}\n');
    expect(block(hub, 'protocol static mp_spokes6')).toBe('protocol static mp_spokes6 {\n  ipv6;\n  route 2001:db8:11::/64 via fd10:aaaa:bbbb::b;\n  route fd10:aaaa:bbbb:5::7/128 via fd10:aaaa:bbbb::b;\n}\n');
    expect(hub).not.toContain('mp6_fd10_aaaa_bbbb__b');
  });

  it.skipIf(!birdInstalled)('writes files BIRD 2 accepts, for hubs and sites, with and without BGP-less spokes', () => {
    for (const [spec, ids] of [[compiled, ['h1', 'h2', 's1']], [compileOverlay(dualStackRedundantWan(false)), ['h1', 'h2']]] as const) {
      for (const id of ids) expect(birdParses(renderBird(spec, id)), id).toMatchObject({ status: 0 });
    }
    // The check is real: IPv6 routes in a static protocol of the IPv4 channel are refused.
    const wrongChannel = birdParses(renderBird(compiled, 's1').replace('mp_originate6 {\n  ipv6;', 'mp_originate6 {\n  ipv4;'));
    expect(wrongChannel.status).not.toBe(0);
    expect(wrongChannel.stderr).toMatch(/incompatible with channel type/);
  });

  it('names IPv6 sessions after the canonical address, whatever spelling it was given in', () => {
    expect(bgpProtocolName({ address: 'FD10:AAAA:BBBB:0:0:0:0:2' })).toBe('mp6_fd10_aaaa_bbbb__2');
    expect(bgpProtocolName({ address: '10.0.0.2' })).toBe('mp_10_0_0_2');
  });

  it('refuses IPv6 neighbours on a peer without an IPv6 tunnel address, and a static route across families', () => {
    const s1 = compiled.peers.find((entry) => entry.peerId === 's1')!;
    const ipv4Only = { ...s1, interface: { ...s1.interface, addresses: s1.interface.addresses.filter((address) => !address.includes(':')) } };
    expect(() => renderCompiledPeerBird(compiled, ipv4Only)).toThrow(/no IPv6 tunnel address/);
    const hub = compileOverlay(dualStackRedundantWan(false)).peers.find((entry) => entry.peerId === 'h2')!;
    const mixed = { ...hub, routing: { ...hub.routing!, staticRoutes: [{ destination: '2001:db8:11::/64', gateway: '10.0.0.11', peerId: 's1' }] } };
    expect(() => renderCompiledPeerBird(compiled, mixed)).toThrow(/not of one address family/);
  });
});

describe('wg-quick and the bundle for redundant hubs in a dual-stack WAN', () => {
  const compiled = compileOverlay(dualStackRedundantWan());

  it('makes both tunnel addresses point-to-point on every hub interface, services as host addresses, with IPv6 forwarding and ip6tables twins', () => {
    const files = renderWgQuickInterfaces(compiled, 's1');
    expect(files.map((file) => file.name)).toEqual(['wg0', 'wg0h2']);
    for (const [index, file] of files.entries()) {
      const hub = index + 1;
      expect(file.text.match(/^PostUp = ip .*$/gm)).toEqual([
        `PostUp = ip -4 address add 10.0.0.11/32 peer 10.0.0.${hub}/32 dev %i`,
        `PostUp = ip -6 address add fd10:aaaa:bbbb::b/128 peer fd10:aaaa:bbbb::${hub}/128 dev %i`,
        'PostUp = ip -6 address add fd10:aaaa:bbbb:5::7/128 dev %i',
      ]);
      expect(file.text).not.toMatch(/^Address/m);
      expect(file.text).toContain('PostUp = sysctl -w net.ipv6.conf.all.forwarding=1');
      expect(file.text).toContain('PostUp = ip6tables -A FORWARD -i %i -j ACCEPT');
      expect(file.text).toContain('PostDown = ip6tables -D FORWARD -o %i -j ACCEPT');
      expect(file.text).toContain('ip6tables -t nat -A PREROUTING -i %i -d fd10:aaaa:bbbb:5::7/128 -p tcp --dport 80 -j DNAT --to-destination [2001:db8:11::10]:80');
    }
    // A hub's main interface keeps wg-quick's Address; its link to the other hub is point-to-point.
    const [main, link] = renderWgQuickInterfaces(compiled, 'h1');
    expect(main!.text).toContain('Address = 10.0.0.1/24, fd10:aaaa:bbbb::1/64\nTable = off\n');
    expect(link!.text).toContain('PostUp = ip -6 address add fd10:aaaa:bbbb::1/128 peer fd10:aaaa:bbbb::2/128 dev %i');
  });

  it('says the bundle needs ip6tables only for a dual-stack peer', () => {
    expect(renderLinuxBundle(compiled, 's1')).toContain('# Needs: wireguard-tools (wg-quick), iproute2, iptables and ip6tables, bird2 (BIRD 2).');
    const ipv4 = compileOverlay(overlay([peer('h1', '10.0.0.1', { role: 'HUB' }), peer('h2', '10.0.0.2', { role: 'HUB' }), peer('s1', '10.0.0.11', { endpointHost: null })],
      { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wg0' }));
    const bundle = renderLinuxBundle(ipv4, 's1');
    expect(bundle).toContain('# Needs: wireguard-tools (wg-quick), iproute2, iptables, bird2 (BIRD 2).');
    expect(bundle).not.toMatch(/ip6tables|ipv6|mp6_/);
  });
});
