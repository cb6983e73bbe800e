// The .rsc script of dual-stack peers: IPv6 twins of the address, route, filter and NAT
// sections (NPTv6 as /ipv6/firewall/nat netmap, service DNAT with `to-address`), pinned byte
// for byte; IPv4-only peers get no IPv6 line; values are checked as strictly as IPv4's.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { dualStack, fakeKey, subnet } from '../__fixtures__/overlay.js';
import type { CompiledPeer } from '../compiled.js';
import { compileOverlay } from '../compile.js';
import { DomainError } from '../errors.js';
import type { OverlaySpec } from '../model.js';
import { renderCompiledPeerRouterOs, renderRouterOsScript } from './routeros.js';

/** The dual-stack fixture with keys from positions; in the mesh c's IPv6 LAN overlaps a's and is translated (NPTv6). */
function pinned(topology: 'MESH' | 'HUB_SPOKE'): OverlaySpec {
  const spec = dualStack(topology);
  spec.peers.forEach((entry, index) => Object.assign(entry, { publicKey: fakeKey(7000 + 2 * index), privateKey: fakeKey(7001 + 2 * index) }));
  if (topology === 'MESH') spec.peers[2]!.subnets.push(subnet('lanC6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' }));
  return spec;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const hashes = (byPeer: Record<string, string>) => Object.fromEntries(Object.entries(byPeer).map(([id, text]) => [id, sha256(text)]));

function scripts(spec: OverlaySpec): Record<string, string> {
  const compiled = compileOverlay(spec);
  return Object.fromEntries(compiled.peers.map((peer) => [peer.peerId, renderRouterOsScript(compiled, peer.peerId)]));
}

/** The lines of one menu section: from its path line up to the next section's path line. */
function section(script: string, path: string): string[] {
  const lines = script.split('\n');
  const start = lines.indexOf(path);
  if (start === -1) return [];
  const end = lines.findIndex((line, index) => index > start && /^\/[a-z]/.test(line) && !line.startsWith(`${path}/`));
  return lines.slice(start + 1, end === -1 ? undefined : end);
}

describe('RouterOS script of a dual-stack peer', () => {
  it('is pinned byte for byte (mesh with NPTv6 and an IPv6 service; hub-and-spoke)', () => {
    const mesh = scripts(pinned('MESH'));
    const hub = scripts(pinned('HUB_SPOKE'));
    expect({ mesh: hashes(mesh), hubSpoke: hashes(hub) }).toEqual(PINNED);
  });

  it('writes the IPv6 tunnel and service addresses to /ipv6/address with advertise off, and only IPv4 ones to /ip/address', () => {
    const b = scripts(pinned('MESH')).b!;
    const v4 = section(b, '/ip/address').join('\n');
    const v6 = section(b, '/ipv6/address').join('\n');
    expect(v4).toContain('address="10.0.0.2/24" interface="wg-mesh" comment="meshplane:wan1:address:10.0.0.2/24"');
    expect(v4).not.toMatch(/fd10:/);
    expect(v6).toContain('/ipv6/address/add address="fd10:aaaa:bbbb::2/64" interface="wg-mesh" advertise="no" comment="meshplane:wan1:address:fd10:aaaa:bbbb::2/64"');
    expect(v6).toContain('/ipv6/address/add address="fd10:aaaa:bbbb:5::7/128" interface="wg-mesh" advertise="no"');
    // Stale tagged IPv6 addresses are removed; the list names exactly the two.
    expect(v6).toContain(':foreach i in=[/ipv6/address/find where comment~"^meshplane:wan1:address:"] do={ :if ([:typeof [:find {"meshplane:wan1:address:fd10:aaaa:bbbb::2/64";"meshplane:wan1:address:fd10:aaaa:bbbb:5::7/128"}');
  });

  it('routes IPv6 prefixes through the interface like IPv4, demoting competing static IPv6 routes', () => {
    const b = scripts(pinned('MESH')).b!;
    const v6 = section(b, '/ipv6/route');
    expect(v6).toContain(':foreach r in=[/ipv6/route/find where dst-address="2001:db8:a::/64" and !dynamic and distance<=10 and !(comment~"^meshplane:")] do={ /ipv6/route/set $r distance=11 }');
    expect(v6.join('\n')).toContain('/ipv6/route/add dst-address="2001:db8:a::/64" gateway="wg-mesh" distance=10 comment="meshplane:wan1:route:2001:db8:a::/64"');
    // The translated (NPTv6) prefix of c, not c's real LAN.
    expect(v6.join('\n')).toContain('dst-address="fd10:aaaa:bbbb:8000::/64" gateway="wg-mesh"');
    expect(section(b, '/ip/route').join('\n')).not.toMatch(/dst-address="[0-9a-f]*:/);
  });

  it('repeats the address-less filter rules in /ipv6/firewall/filter, placed before existing rules', () => {
    const b = scripts(pinned('MESH')).b!;
    const v4 = section(b, '/ip/firewall/filter');
    const v6 = section(b, '/ipv6/firewall/filter');
    expect(v6).toEqual(v4.map((line) => line.replaceAll('/ip/firewall/filter', '/ipv6/firewall/filter')));
    expect(v6.join('\n')).toContain('place-before=([/ipv6/firewall/filter/find where !dynamic]->0)');
  });

  it('translates an overlapping IPv6 LAN with netmap both ways (NPTv6, host bits kept) and publishes an IPv6 service with dst-nat, all with to-address', () => {
    const { b, c } = scripts(pinned('MESH'));
    const nat6 = section(c!, '/ipv6/firewall/nat').join('\n');
    expect(nat6).toContain('/ipv6/firewall/nat/add chain="dstnat" action="netmap" in-interface="wg-mesh" dst-address="fd10:aaaa:bbbb:8000::/64" to-address="2001:db8:a::/64" comment="meshplane:wan1:nat:netmap-in:fd10:aaaa:bbbb:8000::/64"');
    expect(nat6).toContain('/ipv6/firewall/nat/add chain="srcnat" action="netmap" out-interface="wg-mesh" src-address="2001:db8:a::/64" to-address="fd10:aaaa:bbbb:8000::/64"');
    const service = section(b!, '/ipv6/firewall/nat').join('\n');
    expect(service).toContain('/ipv6/firewall/nat/add chain="dstnat" action="dst-nat" in-interface="wg-mesh" protocol="tcp" dst-address="fd10:aaaa:bbbb:5::7" dst-port=80 to-address="2001:db8:b::10" to-ports=8080');
    expect(`${nat6}\n${service}`).not.toContain('to-addresses');
    // The IPv4 NAT section has no IPv6 item: b publishes nothing on IPv4.
    expect(section(b!, '/ip/firewall/nat')[0]).toBe('/ip/firewall/nat/remove [/ip/firewall/nat/find where comment~"^meshplane:wan1:nat:"]');
  });

  it('an IPv4-only peer (same overlay without IPv6) has no IPv6 line at all', () => {
    const spec = pinned('MESH');
    const v4only: OverlaySpec = {
      ...spec,
      wan: { ...spec.wan, tunnelCidr6: null, servicesCidr6: null, natPool6: null },
      peers: spec.peers.map((peer) => ({ ...peer, tunnelIp6: null, subnets: peer.subnets.filter((entry) => !entry.cidr.includes(':')), services: peer.services.filter((entry) => !entry.serviceIp.includes(':')) })),
    };
    for (const text of Object.values(scripts(v4only))) {
      expect(text).not.toContain('/ipv6');
      expect(text).not.toMatch(/IPv6/);
    }
  });

  it('refuses unsafe IPv6 values in a hand-made compiled peer instead of writing them', () => {
    const compiled = compileOverlay(pinned('MESH'));
    const b = compiled.peers.find((peer) => peer.peerId === 'b')!;
    const hostile = (patch: Partial<CompiledPeer>) => () => renderCompiledPeerRouterOs(compiled, { ...b, ...patch });
    expect(hostile({ interface: { ...b.interface, addresses: ['10.0.0.2/24', 'fd10::2"; /system reset-configuration; "/64'] } })).toThrow(DomainError);
    expect(hostile({ routes: [{ destination: '2001:db8:a::/64" ]', via: 'a', gatewayTunnelIp: 'fd10:aaaa:bbbb::1' }] })).toThrow(DomainError);
    expect(hostile({ nat: [{ kind: 'netmap', translated: 'fd10:aaaa:bbbb:8000::/64', real: '2001:db8:a::1/64' }] })).toThrow(DomainError);
    expect(hostile({ services: [{ serviceIp: 'fd10:aaaa:bbbb:5::7', servicePort: 80, protocol: 'tcp', localIp: '2001:db8:b::10$x', localPort: 8080 }] })).toThrow(DomainError);
  });

  it('a dual-stack peer with links writes its IPv6 tunnel address only into /ipv6 menus', () => {
    const compiled = compileOverlay(pinned('MESH'));
    const b = compiled.peers.find((peer) => peer.peerId === 'b')!;
    const withLinks: CompiledPeer = { ...b, links: [{ interface: { ...b.interface, name: 'wg-mesh-h2' }, peers: [], firewall: [] }] };
    const text = renderCompiledPeerRouterOs(compiled, withLinks);
    const lines = text.split('\n').filter((line) => line.includes('fd10:aaaa:bbbb::2/64'));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).toContain('/ipv6/address/');
      expect(line).not.toContain('/ip/');
    }
  });
});

const PINNED = {
  mesh: {
    a: '69572ccf7bd9754603516628d415590a6e0030cf04a8835b8e892f2497c599fb',
    b: 'f24e1f4ac84e30a1b1c84d29b34f9969d6867ae75716583520c7e5cac0e382f5',
    c: '62daf4b570e55432c992f78a730c7b0a9bfed62458f2832df8857ce00d5ea24c',
  },
  hubSpoke: {
    a: 'bd1624b420587cd1ad41cb9b6bec8e3e2cb48d4f7cb2d38cd41d76420883101b',
    b: 'c339cba11abde2339d16f88272cee4e03739a35a3abfe16d0ab1c001e29f6190',
    c: '3b01f139f1a23aff228f89e80297eafa090b4ab663be7f8f177a33d36fafa5e3',
  },
};
