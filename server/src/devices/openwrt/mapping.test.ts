// Pure mapping: compiled peer → OpenWrt sections, and the nftables include's text.
import { describe, expect, it } from 'vitest';
import { SecretStore } from '../shared/secrets.js';
import { siteSpec, stateOf } from './test-fixtures.js';
import { KIND } from './kinds.js';
import { desiredOpenWrtResources } from './mapping.js';
import { includePath, sectionName, uciInterfaceName } from './names.js';
import { redundantWan } from '../../../test/contract/redundant-wan.js';
import { dstChain, parseSpecText, readIncludeHeader, renderInclude, specText } from './netmap-nft.js';

describe('desiredOpenWrtResources', () => {
  const secrets = new SecretStore();
  const state = stateOf(siteSpec());
  const desired = desiredOpenWrtResources(state, secrets);
  const ifname = uciInterfaceName(state.peer.interface.name);

  it('maps the peer to a tagged interface, peers, routes, rules on the tunnel device and one include', () => {
    expect(desired.map((resource) => `${resource.kind} ${resource.key}`)).toEqual([
      `network/interface wan1:iface:${state.peer.interface.name}`,
      `network/peer wan1:peer:${ifname}/b`,
      `network/peer wan1:peer:${ifname}/c`,
      'network/route wan1:route:192.168.2.0/24',
      'firewall/rule wan1:rule:input-udp-51820',
      `firewall/rule wan1:rule:overlay-in:${ifname}`,
      `firewall/rule wan1:rule:forward-in:${ifname}`,
      `firewall/rule wan1:rule:forward-out:${ifname}`,
      `firewall/include wan1:nat:${ifname}`,
    ]);
    for (const resource of desired.filter((item) => item.kind.startsWith('network/'))) expect(resource.props.mp_tag).toBe(`meshplane:${resource.key}`);
    for (const resource of desired.filter((item) => item.kind === KIND.rule)) expect(resource.props.name).toBe(`meshplane:${resource.key}`);
  });

  it('keeps keys out of the props (fingerprints only) and turns off route_allowed_ips', () => {
    const text = JSON.stringify(desired);
    expect(text).not.toContain(state.peer.interface.privateKey);
    const iface = desired[0]!;
    expect(iface.props.private_key).toMatch(/^sha256:/);
    expect(secrets.reveal(iface.props.private_key!)).toBe(state.peer.interface.privateKey);
    expect(desired[1]!.props).toMatchObject({ interface: ifname, route_allowed_ips: '0', endpoint_port: '51820', allowed_ips: '10.0.0.2/32,192.168.2.0/24' });
    expect(desired[2]!.props).toMatchObject({ endpoint_host: '', endpoint_port: '', persistent_keepalive: '' });
  });

  it('matches the tunnel device for every protocol (fw4 defaults to tcpudp)', () => {
    expect(desired.find((item) => item.key === `wan1:rule:overlay-in:${ifname}`)?.props).toMatchObject({ src: '*', device: ifname, direction: 'in', proto: 'all', target: 'ACCEPT' });
    expect(desired.find((item) => item.key === 'wan1:rule:input-udp-51820')?.props).toMatchObject({ src: '*', device: '', proto: 'udp', dest_port: '51820' });
  });

  it('addresses the include by content: another spec is another path', () => {
    const include = desired.at(-1)!;
    expect(include.props.netmap).toBe(`netmap ${ifname} 172.16.1.0/24 192.168.1.0/24`);
    expect(include.props.path).toMatch(/^\/etc\/meshplane\/[0-9a-f]{8}-[0-9a-f]{12}\.nft$/);
    const dual = desiredOpenWrtResources(stateOf(siteSpec(true)), secrets).find((item) => item.kind === KIND.include)!;
    expect(dual.props.path!).not.toBe(include.props.path!);
    expect(dual.props.path!.slice(0, 24)).toBe(include.props.path!.slice(0, 24));
  });

  it('refuses both roles in a WAN with redundant hubs', () => {
    const redundant = redundantWan({ ...siteSpec().peers[0]!, endpointHost: null, runsBgp: false });
    expect(() => desiredOpenWrtResources(redundant('hub', false), secrets)).toThrow(/hub of a WAN with redundant hubs.*Use a Linux or RouterOS device/);
    expect(() => desiredOpenWrtResources(redundant('spoke', true), secrets)).toThrow(/spoke of a WAN with redundant hubs/);
  });
});

describe('the nftables include', () => {
  const tag = 'meshplane:wan1:nat:wg0';
  const spec = specText({
    netmaps: [{ ifname: 'wg0', translated: '172.16.1.0/24', real: '192.168.1.0/24' }, { ifname: 'wg0', translated: 'fd10:aaaa:bbbb:8000::/64', real: '2001:db8:a::/64' }],
    services: [{ ifname: 'wg0', protocol: 'tcp', serviceIp: '10.0.5.7', servicePort: 80, localIp: '192.168.1.10', localPort: 8080 }, { ifname: 'wg0', protocol: 'udp', serviceIp: 'fd10:aaaa:bbbb:5::7', servicePort: 53, localIp: '2001:db8:a::10', localPort: 53 }],
  });

  it('maps prefixes both ways with host bits kept, IPv4 and IPv6, and DNATs services', () => {
    const text = renderInclude(tag, spec);
    expect(text).toContain('iifname "wg0" ip daddr 172.16.1.0/24 dnat ip prefix to ip daddr map { 172.16.1.0/24 : 192.168.1.0/24 }');
    expect(text).toContain('oifname "wg0" ip saddr 192.168.1.0/24 snat ip prefix to ip saddr map { 192.168.1.0/24 : 172.16.1.0/24 }');
    expect(text).toContain('iifname "wg0" ip6 daddr fd10:aaaa:bbbb:8000::/64 dnat ip6 prefix to ip6 daddr map { fd10:aaaa:bbbb:8000::/64 : 2001:db8:a::/64 }');
    expect(text).toContain('iifname "wg0" ip daddr 10.0.5.7 tcp dport 80 dnat ip to 192.168.1.10:8080');
    expect(text).toContain('iifname "wg0" ip6 daddr fd10:aaaa:bbbb:5::7 udp dport 53 dnat ip6 to [2001:db8:a::10]:53');
    expect(text).toMatch(/chain mp_[0-9a-f]{8}_[0-9a-f]{8}_dst \{\n\t\ttype nat hook prerouting priority dstnat - 1; policy accept;/);
    expect(text).toMatch(/chain mp_[0-9a-f]{8}_[0-9a-f]{8}_src \{\n\t\ttype nat hook postrouting priority srcnat - 1; policy accept;/);
    expect(text).toContain(`chain ${dstChain(tag, spec)} {`);
  });

  it('names its chains by tag and content: a changed spec loads under new names, so the old ruleset cannot pass for it', () => {
    const other = specText({ netmaps: [{ ifname: 'wg0', translated: '172.16.2.0/24', real: '192.168.1.0/24' }], services: [] });
    expect(dstChain(tag, other)).not.toBe(dstChain(tag, spec));
    expect(dstChain(tag, other).slice(0, 12)).toBe(dstChain(tag, spec).slice(0, 12));
    expect(dstChain('meshplane:wan2:nat:wg0', spec)).not.toBe(dstChain(tag, spec));
  });

  it('reads its tag and spec back from the header', () => {
    expect(readIncludeHeader(renderInclude(tag, spec))).toEqual({ tag, spec });
    expect(readIncludeHeader('table inet x {}')).toBeNull();
    expect(includePath(tag, renderInclude(tag, spec))).toMatch(/^\/etc\/meshplane\//);
    expect(sectionName(tag)).toMatch(/^mp_[0-9a-f]{16}$/);
  });

  it('refuses anything that is not an address, prefix, port or interface name before it reaches nft text', () => {
    for (const item of ['netmap wg0 172.16.1.0/24 "; flush ruleset', 'netmap wg0; 172.16.1.0/24', 'service wg0 tcp 10.0.0.1 80 10.0.0.2 99999', 'netmap wg0} 172.16.1.0/24 192.168.1.0/24', 'netmap wg0 172.16.1.0/24 2001:db8::/24']) {
      expect(() => parseSpecText(item), item).toThrow(/invalid/);
    }
    expect(() => renderInclude('x" }', spec)).toThrow(/invalid tag/);
  });
});
