// A dual-stack peer on Linux: the IPv6 half of each item goes through the same resources,
// readings and steps as the IPv4 one (ip -6, ip6tables, net.ipv6.conf.all.forwarding), and an
// IPv4-only peer keeps exactly the keys it had.
import { describe, expect, it } from 'vitest';
import { dualStack, fakeKey, subnet } from '../../domain/__fixtures__/overlay.js';
import type { ActualResource } from '../../domain/plan.js';
import { undoPlan } from '../../domain/undo.js';
import { DeviceError } from '../driver.js';
import { actualFrom, desiredFor } from './__fixtures__/desired.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { LinuxDriver } from './driver.js';
import { parseAddresses, parseRoutes } from './ip-json.js';
import { LINUX_UNDO, planLinux } from './planning.js';
import { linuxPreflight } from './preflight.js';
import { linuxDesiredResources } from './resources.js';
import { SecretStore } from '../shared/secrets.js';
import { stepsFor } from './steps.js';

/** The dual-stack mesh; c's IPv6 LAN overlaps a's and is translated (NPTv6). */
function spec() {
  const overlay = dualStack('MESH');
  overlay.peers[2]!.subnets.push(subnet('lanC6', '2001:db8:a::/64', { natCidr: 'fd10:aaaa:bbbb:8000::/64' }));
  return overlay;
}

/** The same overlay without anything IPv6. */
function ipv4Only() {
  const overlay = spec();
  overlay.wan = { ...overlay.wan, tunnelCidr6: null, servicesCidr6: null, natPool6: null };
  for (const peer of overlay.peers) {
    delete peer.tunnelIp6;
    peer.subnets = peer.subnets.filter((lan) => !lan.cidr.includes(':'));
    peer.services = peer.services.filter((service) => !service.serviceIp.includes(':'));
  }
  return overlay;
}

const secrets = new SecretStore();
const resourcesOf = (overlay: ReturnType<typeof spec>, peerId: string) => linuxDesiredResources(desiredFor(overlay, peerId), secrets, { manageFirewall: true });
const firewallArgs = (props: Record<string, string>) => (JSON.parse(props.args!) as string[]).filter((arg) => !arg.startsWith('meshplane:'));

describe('dual-stack Linux resources', () => {
  it('puts both tunnel addresses and the IPv6 service address on the interface, and routes IPv6 destinations', () => {
    const resources = resourcesOf(spec(), 'b');
    expect(resources.filter((r) => r.kind === 'address').map((r) => r.key)).toEqual([
      'wg-mesh/10.0.0.2/24', 'wg-mesh/fd10:aaaa:bbbb::2/64', 'wg-mesh/fd10:aaaa:bbbb:5::7/128',
    ]);
    expect(resources.filter((r) => r.kind === 'route').map((r) => r.key)).toEqual(['192.168.1.0/24', '192.168.3.0/24', '2001:db8:a::/64', 'fd10:aaaa:bbbb:8000::/64']);
  });

  it('twins every address-less rule in ip6tables, and renders IPv6 DNAT and NPTv6 in ip6tables only', () => {
    const rules = resourcesOf(spec(), 'b').filter((r) => r.kind === 'firewall');
    expect(rules.map((r) => [r.props.family, r.key.replace(/@[0-9a-f]{12}$/, '')])).toEqual([
      ['4', 'wg-mesh/input-udp'], ['6', 'wg-mesh/ip6-input-udp'],
      ['4', 'wg-mesh/forward-in'], ['6', 'wg-mesh/ip6-forward-in'],
      ['4', 'wg-mesh/forward-out'], ['6', 'wg-mesh/ip6-forward-out'],
      ['6', 'wg-mesh/ip6-service-tcp-[fd10:aaaa:bbbb:5::7]:80'],
    ]);
    // A twin has the same arguments and its own key.
    expect(firewallArgs(rules[1]!.props)).toEqual(firewallArgs(rules[0]!.props));
    expect(new Set(rules.map((r) => r.key)).size).toBe(rules.length);
    expect(firewallArgs(rules[6]!.props)).toEqual([
      '-i', 'wg-mesh', '-d', 'fd10:aaaa:bbbb:5::7/128', '-p', 'tcp', '--dport', '80', '-m', 'comment', '--comment', '-j', 'DNAT', '--to-destination', '[2001:db8:b::10]:8080',
    ]);
    const nat = resourcesOf(spec(), 'c').filter((r) => r.props.table === 'nat');
    expect(nat.map((r) => [r.props.family, r.props.chain, firewallArgs(r.props)])).toEqual([
      ['6', 'PREROUTING', ['-i', 'wg-mesh', '-d', 'fd10:aaaa:bbbb:8000::/64', '-m', 'comment', '--comment', '-j', 'NETMAP', '--to', '2001:db8:a::/64']],
      ['6', 'POSTROUTING', ['-s', '2001:db8:a::/64', '-o', 'wg-mesh', '-m', 'comment', '--comment', '-j', 'NETMAP', '--to', 'fd10:aaaa:bbbb:8000::/64']],
    ]);
  });

  it('keeps the keys of the IPv4 rules: a WAN that turns dual-stack only adds, and an IPv4-only one changes nothing', () => {
    const keys = (overlay: ReturnType<typeof spec>) => resourcesOf(overlay, 'a').filter((r) => r.kind === 'firewall' && r.props.family === '4').map((r) => r.key);
    expect(keys(spec())).toEqual(keys(ipv4Only()));
    expect(resourcesOf(ipv4Only(), 'a').some((r) => r.props.family === '6' || r.key.includes(':'))).toBe(false);
  });
});

describe('dual-stack readings', () => {
  it('reads IPv6 addresses without the link-local ones the kernel adds, and IPv6 routes with their family\'s host and default forms', () => {
    const addresses = parseAddresses(JSON.stringify([{ ifname: 'wg-mesh', addr_info: [
      { family: 'inet6', local: 'fd10:aaaa:bbbb::2', prefixlen: 64, scope: 'global' },
      { family: 'inet6', local: 'fe80::8d1:2ff:fe03:405', prefixlen: 64, scope: 'link' },
      { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
    ] }]));
    expect(addresses).toEqual([{ ifname: 'wg-mesh', cidr: 'fd10:aaaa:bbbb::2/64', peer: null }]);
    expect(parseRoutes(JSON.stringify([{ dst: 'default', dev: 'eth0', protocol: 'ra', metric: 1024 }, { dst: 'fd10:aaaa:bbbb:5::7', dev: 'wg-mesh', protocol: '77', metric: 1024 }]), 6)
      .map((route) => route.destination)).toEqual(['::/0', 'fd10:aaaa:bbbb:5::7/128']);
  });

  const LINKS = JSON.stringify([{ ifname: 'wg-mesh', flags: ['UP'], mtu: 1420, linkinfo: { info_kind: 'wireguard' }, ifalias: 'meshplane:wan1' }]);
  const hostRunner = (ip6tables: string | DeviceError) => new FakeRunner([
    ['ip -j -d link show', LINKS],
    ['wg show wg-mesh dump', `${fakeKey(1)}\t${fakeKey(2)}\t51820\toff\n`],
    ['ip -j -6 addr show', JSON.stringify([{ ifname: 'wg-mesh', addr_info: [
      { family: 'inet6', local: 'fd10:aaaa:bbbb::2', prefixlen: 64, scope: 'global' }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' },
    ] }])],
    ['ip -j -6 route show table main', JSON.stringify([
      { dst: 'fd10:aaaa:bbbb::/64', dev: 'wg-mesh', protocol: 'kernel', metric: 256 },
      { dst: 'fe80::/64', dev: 'wg-mesh', protocol: 'kernel', metric: 256 },
      { dst: '2001:db8:a::/64', dev: 'wg-mesh', protocol: '77', metric: 1024 },
    ])],
    ['ip6tables -w 5 -t filter -S', ip6tables],
    ['sysctl -n net.ipv6.conf.all.forwarding', '0\n'],
  ]);
  const FORWARD6 = '-A FORWARD -i wg-mesh -m comment --comment "meshplane:wg-mesh/ip6-forward-in@0123456789ab" -j ACCEPT';

  it('reads ip6tables rules as rules of their own family, IPv6 items and the IPv6 forwarding switch', async () => {
    const runner = hostRunner(`-P FORWARD ACCEPT\n${FORWARD6}\n`);
    const actual = await new LinuxDriver({ runner }).readState(desiredFor(spec(), 'b'));
    expect(actual.filter((r) => r.key !== null && r.kind !== 'link').map((r) => `${r.kind} ${r.key}`)).toEqual([
      'address wg-mesh/fd10:aaaa:bbbb::2/64', 'route 2001:db8:a::/64', 'firewall wg-mesh/ip6-forward-in@0123456789ab',
    ]);
    expect(actual.find((r) => r.kind === 'firewall')).toMatchObject({ id: `ip6 filter ${FORWARD6}`, props: { family: '6', table: 'filter', chain: 'FORWARD' } });
    expect(actual.filter((r) => r.kind === 'sysctl').map((r) => [r.id, r.props.value])).toEqual([['net.ipv4.ip_forward', ''], ['net.ipv6.conf.all.forwarding', '0']]);
  });

  it('reads IPv6 leftovers for an IPv4-only peer, and a host without ip6tables fails only a peer that needs it', async () => {
    const leftovers = await new LinuxDriver({ runner: hostRunner(`${FORWARD6}\n`) }).readState(desiredFor(ipv4Only(), 'b'));
    expect(leftovers.filter((r) => r.key !== null && r.kind !== 'link').map((r) => `${r.kind} ${r.key}`)).toHaveLength(3);
    expect(leftovers.some((r) => r.id === 'net.ipv6.conf.all.forwarding')).toBe(false);

    const missing = new DeviceError('UNREACHABLE', 'ip6tables is not installed or not on PATH (running: ip6tables -w 5 -t filter -S)');
    await expect(new LinuxDriver({ runner: hostRunner(missing) }).readState(desiredFor(ipv4Only(), 'b'))).resolves.toEqual(expect.any(Array));
    await expect(new LinuxDriver({ runner: hostRunner(missing) }).readState(desiredFor(spec(), 'b'))).rejects.toThrow(/ip6tables/);
  });
});

describe('dual-stack plans and steps', () => {
  const desired = desiredFor(spec(), 'b');
  const resources = resourcesOf(spec(), 'b');
  const forwardingOff: ActualResource[] = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'].map((id) => ({ kind: 'sysctl', id, key: null, props: { value: '0' } }));

  it('turns on forwarding in both families, and applies IPv6 items with ip -6 forms and ip6tables', () => {
    const plan = planLinux(desired, resources, forwardingOff);
    const commands = plan.operations.flatMap((operation) => stepsFor(operation, { routeProtocol: 77 }))
      .flatMap((step) => (step.type === 'run' ? [step.argv.map((arg) => (typeof arg === 'string' ? arg : '<secret>')).join(' ')] : []));
    expect(commands).toEqual(expect.arrayContaining([
      'ip address add fd10:aaaa:bbbb::2/64 dev wg-mesh',
      'ip address add fd10:aaaa:bbbb:5::7/128 dev wg-mesh',
      'ip route add 2001:db8:a::/64 dev wg-mesh proto 77',
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl -w net.ipv6.conf.all.forwarding=1',
    ]));
    const firewall = commands.filter((command) => command.includes('tables '));
    expect(firewall.filter((command) => command.startsWith('ip6tables -w 5 -t filter -I '))).toHaveLength(3);
    expect(firewall.filter((command) => command.startsWith('iptables -w 5 -t filter -I '))).toHaveLength(3);
    expect(firewall).toContainEqual(expect.stringMatching(/^ip6tables -w 5 -t nat -I PREROUTING -i wg-mesh -d fd10:aaaa:bbbb:5::7\/128 .* -j DNAT --to-destination \[2001:db8:b::10\]:8080$/));
  });

  it('converges: once applied, nothing is left to do', () => {
    const applied = [...actualFrom(resources), ...forwardingOff.map((r) => ({ ...r, props: { value: '1' } }))];
    expect(planLinux(desired, resources, applied).operations).toEqual([]);
  });

  it('deletes an ip6tables rule with ip6tables, exactly as it was printed', () => {
    const id = 'ip6 nat -A PREROUTING -d fd10::/64 -i wg-mesh -m comment --comment "meshplane:wg-mesh/ip6-netmap-in-fd10::/64@0123456789ab" -j NETMAP --to 2001:db8:a::/64';
    expect(stepsFor({ op: 'delete', kind: 'firewall', key: 'wg-mesh/ip6-netmap-in-fd10::/64@0123456789ab', id, props: {} }, { routeProtocol: 77 })).toEqual([{
      type: 'run',
      argv: ['ip6tables', '-w', '5', '-t', 'nat', '-D', 'PREROUTING', '-d', 'fd10::/64', '-i', 'wg-mesh', '-m', 'comment', '--comment', 'meshplane:wg-mesh/ip6-netmap-in-fd10::/64@0123456789ab', '-j', 'NETMAP', '--to', '2001:db8:a::/64'],
    }]);
  });

  it('warns before turning IPv6 forwarding on (router advertisements), and sees an IPv6 route clash at the IPv6 default metric', () => {
    const clash: ActualResource = { kind: 'route', id: '2001:db8:a::/64 dev eth1 metric 1024', key: null, props: { dev: 'eth1', protocol: 'static', metric: '1024' } };
    const issues = linuxPreflight(desired, resources, [...forwardingOff, clash], true);
    expect(issues.map((issue) => issue.resource)).toEqual(['route 2001:db8:a::/64', 'sysctl net.ipv4.ip_forward', 'sysctl net.ipv6.conf.all.forwarding']);
    expect(issues[2]!.message).toMatch(/accept_ra=2/);
  });

  it('reverts a refused deploy that removed IPv6 items: the address, route and ip6tables rule come back in their family', () => {
    const before = actualFrom(resources).filter((r) => r.kind !== 'link' && r.kind !== 'wg-peer')
      .map((r) => (r.kind === 'firewall' ? { ...r, id: `${r.props.family === '6' ? 'ip6 ' : ''}${r.props.table} -A ${r.props.chain} …` } : r));
    const removed = before.filter((r) => r.key !== null && (r.key.includes(':') || r.key.includes('/ip6-')));
    const attempted = planLinux(desired, [], removed).operations;
    const undo = undoPlan(before, [], attempted, LINUX_UNDO);
    expect(undo.unrestorable).toEqual([]);
    const commands = undo.plan.operations.flatMap((operation) => stepsFor(operation, { routeProtocol: 77 }))
      .flatMap((step) => (step.type === 'run' ? [step.argv.filter((arg): arg is string => typeof arg === 'string').slice(0, 5).join(' ')] : []));
    expect(commands).toEqual(expect.arrayContaining([
      'ip address add fd10:aaaa:bbbb::2/64 dev', 'ip route add 2001:db8:a::/64 dev', 'ip6tables -w 5 -t nat', 'ip6tables -w 5 -t filter',
    ]));
    expect(commands.filter((command) => command.startsWith('iptables'))).toEqual([]);
  });
});
