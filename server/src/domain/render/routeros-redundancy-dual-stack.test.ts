// The RouterOS rendering of a dual-stack WAN with redundant hubs: each neighbour gets a second
// BGP connection between the IPv6 tunnel addresses (address-families=ipv6, BFD on) carrying
// only IPv6 prefixes from IPv6 address lists and chains; point-to-point IPv6 addresses are
// /128s with a /128 route to the far end through the interface; the script tags exactly the
// items the driver deploys, each in its family's menu; no IPv6 value lands in an /ip menu.
import { describe, expect, it } from 'vitest';
import { redundantDualStackSpec, redundantState } from '../../devices/routeros/__fixtures__/redundant.js';
import { desiredResources } from '../../devices/routeros/resources.js';
import { compileOverlay } from '../compile.js';
import { DomainError } from '../errors.js';
import { renderCompiledPeerRouterOs, renderRouterOsScript } from './routeros.js';
import { findCompiledPeer } from '../compile.js';

const spec = redundantDualStackSpec();
const compiled = compileOverlay(spec);
const PEERS = ['hub1', 'hub2', 'site', 'branch', 'laptop'];
const state = (id: string) => redundantState(id, 'initial', {}, spec);

/** Every item the script upserts as "<menu> <tag>", in order. */
function scriptItems(text: string): string[] {
  return [...text.matchAll(/do=\{ (\/[a-z0-9/-]+)\/add .* comment="([^"]+)" \}/g)].map((match) => `${match[1]} ${match[2]}`);
}

/** The `key=value` pairs of the line that adds the item with this tag in this menu. */
function addedProps(text: string, menuPath: string, tag: string): Record<string, string> {
  const line = text.split('\n').find((entry) => entry.includes(`${menuPath}/add `) && entry.includes(`comment="${tag}"`)) ?? '';
  const add = /\/add (.*?) comment="/.exec(line)?.[1] ?? '';
  return Object.fromEntries([...add.matchAll(/([a-z.-]+)="?((?:[^"\\]|\\.)*?)"?(?= [a-z.-]+=|$)/g)].map((match) => [match[1] as string, match[2] as string]));
}

describe('RouterOS script of a dual-stack WAN with redundant hubs', () => {
  it.each(PEERS)('%s: the script tags exactly the items the driver deploys, each in the same menu', (id) => {
    const items = scriptItems(renderRouterOsScript(compiled, id));
    expect(new Set(items).size).toBe(items.length);
    expect([...items].sort()).toEqual(desiredResources(state(id)).map((resource) => `${resource.kind} ${resource.props.comment}`).sort());
  });

  it.each(PEERS)('%s: no IPv6 value in an /ip menu, no IPv4 value in an /ipv6 menu', (id) => {
    for (const line of renderRouterOsScript(compiled, id).split('\n')) {
      const add = /do=\{ (\/[a-z0-9/-]+)\/add (.*?) comment=/.exec(line);
      if (!add) continue;
      const values = [...add[2]!.matchAll(/(?:address|dst-address|gateway|network|src-address|to-address|to-addresses)="?([^" ]+)/g)].map((match) => match[1]!);
      if (add[1]!.startsWith('/ip/')) for (const value of values) expect(value, line).not.toContain(':');
      if (add[1]!.startsWith('/ipv6/')) for (const value of values) expect(value, line).not.toMatch(/^\d+\.\d+\.\d+\.\d+/);
    }
  });

  it('a spoke runs an IPv6 session per hub between the IPv6 tunnel addresses, preferring its primary as over IPv4', () => {
    const text = renderRouterOsScript(compiled, 'site');
    const v4 = addedProps(text, '/routing/bgp/connection', 'meshplane:wan1:bgp:10.0.0.1');
    const v6 = addedProps(text, '/routing/bgp/connection', 'meshplane:wan1:bgp:fd10:aaaa:bbbb::1');
    expect(v4['address-families']).toBeUndefined();
    expect(v6).toEqual({
      ...v4,
      name: 'meshplane-wan1-fd10:aaaa:bbbb::1',
      'local.address': 'fd10:aaaa:bbbb::5',
      'remote.address': 'fd10:aaaa:bbbb::1',
      'address-families': 'ipv6',
      'input.filter': 'meshplane-wan1-in6-200',
      'output.filter-chain': 'meshplane-wan1-out6',
      'output.network': 'meshplane-wan1-originate6',
    });
    expect(v6['use-bfd']).toBe('yes');
    expect(addedProps(text, '/routing/bgp/connection', 'meshplane:wan1:bgp:fd10:aaaa:bbbb::2')['input.filter']).toBe('meshplane-wan1-in6-190');
    expect(addedProps(text, '/routing/filter/rule', 'meshplane:wan1:routing-filter:in6-200').rule)
      .toBe('if (dst in meshplane-wan1-pinned6 && bgp-path-len > 1) { reject } else { set bgp-local-pref 200; accept }');
    expect(addedProps(text, '/routing/filter/rule', 'meshplane:wan1:routing-filter:out6').rule).toBe('if (dst in meshplane-wan1-originate6) { accept } else { reject }');
    // Pinned and announced IPv6 prefixes in the IPv6 address lists; hosts bare, as RouterOS lists them.
    expect(addedProps(text, '/ipv6/firewall/address-list', 'meshplane:wan1:address-list:pinned:fd10:aaaa:bbbb::2/128')).toEqual({ list: 'meshplane-wan1-pinned6', address: 'fd10:aaaa:bbbb::2' });
    expect(addedProps(text, '/ipv6/firewall/address-list', 'meshplane:wan1:address-list:originate:2001:db8:50::/64')).toEqual({ list: 'meshplane-wan1-originate6', address: '2001:db8:50::/64' });
    expect(addedProps(text, '/ipv6/route', 'meshplane:wan1:route:originate:2001:db8:50::/64')).toEqual({ 'dst-address': '2001:db8:50::/64', blackhole: 'yes', distance: '19' });
  });

  it('point-to-point IPv6: a /128 on each tunnel without router advertisements, and a /128 route to the far end through it', () => {
    const text = renderRouterOsScript(compiled, 'site');
    expect(addedProps(text, '/ipv6/address', 'meshplane:wan1:address:wg-mph2:fd10:aaaa:bbbb::5/128')).toEqual({ address: 'fd10:aaaa:bbbb::5/128', interface: 'wg-mph2', advertise: 'no' });
    expect(addedProps(text, '/ipv6/route', 'meshplane:wan1:route:peer:fd10:aaaa:bbbb::1/128')).toEqual({ 'dst-address': 'fd10:aaaa:bbbb::1/128', gateway: 'wg-mp', distance: '1' });
    expect(addedProps(text, '/ipv6/route', 'meshplane:wan1:route:wg-mph2:peer:fd10:aaaa:bbbb::2/128')).toEqual({ 'dst-address': 'fd10:aaaa:bbbb::2/128', gateway: 'wg-mph2', distance: '1' });
    // BGP and BFD are accepted over both families on every tunnel.
    expect(addedProps(text, '/ipv6/firewall/filter', 'meshplane:wan1:filter:wg-mph2:input-tcp-179-in')).toMatchObject({ chain: 'input', protocol: 'tcp', 'dst-port': '179', 'in-interface': 'wg-mph2' });
  });

  it('a hub routes and announces a BGP-less spoke\'s IPv6 LAN via its IPv6 tunnel address; the spoke monitors both families', () => {
    const hub = renderRouterOsScript(compiled, 'hub1');
    expect(addedProps(hub, '/ipv6/route', 'meshplane:wan1:route:2001:db8:60::/64')).toEqual({ 'dst-address': '2001:db8:60::/64', gateway: 'fd10:aaaa:bbbb::6', distance: '10' });
    expect(addedProps(hub, '/ipv6/firewall/address-list', 'meshplane:wan1:address-list:originate:2001:db8:60::/64').list).toBe('meshplane-wan1-originate6');
    expect(addedProps(hub, '/routing/bgp/connection', 'meshplane:wan1:bgp:fd10:aaaa:bbbb::5')).toMatchObject({ 'output.redistribute': 'bgp', 'local.address': 'fd10:aaaa:bbbb::1', 'address-families': 'ipv6' });
    expect(addedProps(hub, '/routing/filter/rule', 'meshplane:wan1:routing-filter:out6').rule).toBe('accept');
    const branch = renderRouterOsScript(compiled, 'branch');
    expect(addedProps(branch, '/ipv6/route', 'meshplane:wan1:route:hub2:2001:db8:10::/64')).toEqual({ 'dst-address': '2001:db8:10::/64', gateway: 'fd10:aaaa:bbbb::2', distance: '12', 'check-gateway': 'ping' });
    expect(branch).not.toContain('/routing/bgp/connection/add');
  });

  it('refuses a neighbour with an IPv6 session on a peer without an IPv6 tunnel address', () => {
    const site = findCompiledPeer(compiled, 'site');
    const v4Only = { ...site, interface: { ...site.interface, addresses: site.interface.addresses.filter((address) => !address.includes(':')) }, links: [] };
    expect(() => renderCompiledPeerRouterOs(compiled, v4Only)).toThrow(DomainError);
  });
});
