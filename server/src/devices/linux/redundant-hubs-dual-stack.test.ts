// The Linux driver on peers of a dual-stack WAN with redundant hubs, without root: both tunnel
// addresses point-to-point on every hub interface, the ip6tables twins, the dual-stack bird.conf,
// what the host reports read back to the same keys, the commands, a clear, and the BGP sessions
// of both families as the monitor gets them (FakeRunner, a temporary state directory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DUAL_STACK, fakeKey, overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/index.js';
import type { ActualResource } from '../../domain/plan.js';
import { renderCompiledPeerBird } from '../../domain/render/bird.js';
import { ConfigStore, birdPaths } from './bird.js';
import { actualFrom, desiredFor } from './__fixtures__/desired.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { LinuxDriver } from './driver.js';
import { clearLinux, planLinux } from './planning.js';
import { linuxDesiredResources } from './resources.js';
import { SecretStore } from '../shared/secrets.js';
import { stepsFor } from './steps.js';

function dualStackRedundantSpec(): OverlaySpec {
  return overlay([
    peer('h1', '10.0.0.1', { role: 'HUB', endpointHost: '198.51.100.1', tunnelIp6: 'fd10:aaaa:bbbb::1', subnets: [subnet('lanH1', '192.168.1.0/24'), subnet('lanH16', '2001:db8:1::/64')] }),
    peer('h2', '10.0.0.2', { role: 'HUB', endpointHost: '198.51.100.2', tunnelIp6: 'fd10:aaaa:bbbb::2' }),
    peer('s1', '10.0.0.3', { endpointHost: null, tunnelIp6: 'fd10:aaaa:bbbb::3', subnets: [subnet('lanS1', '192.168.3.0/24'), subnet('lanS16', '2001:db8:3::/64')] }),
  ], { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wgx', ...DUAL_STACK });
}

const STATE = '/var/lib/meshplane-test';
const spec = dualStackRedundantSpec();
const spoke = desiredFor(spec, 's1');
const hub = desiredFor(spec, 'h1');
const paths = birdPaths(STATE, null, 'meshplane', 'wan1');
const resourcesOf = (desired = spoke, configs = new ConfigStore()) => linuxDesiredResources(desired, new SecretStore(), { manageFirewall: true, bird: { paths, configs } });
const addressKeys = (desired = spoke) => resourcesOf(desired).filter((resource) => resource.kind === 'address').map((resource) => resource.key);
const SPOKE_ADDRESSES = [
  'wgx/10.0.0.3/32 peer 10.0.0.1/32', 'wgx/fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::1/128',
  'wgxh2/10.0.0.3/32 peer 10.0.0.2/32', 'wgxh2/fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::2/128',
];

describe('a dual-stack peer of a WAN with redundant hubs as Linux resources', () => {
  it('makes both tunnel addresses point-to-point on every hub interface of a spoke, with ip6tables twins and the dual-stack bird.conf', () => {
    const configs = new ConfigStore();
    const resources = resourcesOf(spoke, configs);
    expect(addressKeys()).toEqual(SPOKE_ADDRESSES);
    expect(resources.filter((resource) => resource.kind === 'route')).toEqual([]);
    expect(resources.filter((resource) => resource.kind === 'firewall').map((resource) => resource.key.replace(/@.*/, ''))).toEqual([
      'wgx/forward-in', 'wgx/ip6-forward-in', 'wgx/forward-out', 'wgx/ip6-forward-out',
      'wgxh2/forward-in', 'wgxh2/ip6-forward-in', 'wgxh2/forward-out', 'wgxh2/ip6-forward-out',
    ]);
    const bird = resources.find((resource) => resource.kind === 'bird')!;
    const text = configs.text(bird.props.config!);
    expect(text).toBe(renderCompiledPeerBird(spoke.overlay, spoke.peer));
    expect(text.match(/^protocol bgp \S+/gm)).toEqual(['protocol bgp mp_10_0_0_1', 'protocol bgp mp6_fd10_aaaa_bbbb__1', 'protocol bgp mp_10_0_0_2', 'protocol bgp mp6_fd10_aaaa_bbbb__2']);
    expect(text).toContain('krt_prefsrc = fd10:aaaa:bbbb::3;');
  });

  it('keeps a hub\'s main addresses as they are and makes its link to the other hub point-to-point in both families', () => {
    expect(addressKeys(hub)).toEqual([
      'wgx/10.0.0.1/24', 'wgx/fd10:aaaa:bbbb::1/64', 'wgxh2/10.0.0.1/32 peer 10.0.0.2/32', 'wgxh2/fd10:aaaa:bbbb::1/128 peer fd10:aaaa:bbbb::2/128',
    ]);
  });

  it('adds, and on a clear deletes, the IPv6 point-to-point addresses with ip; turns IPv6 forwarding on', () => {
    const forwardingOff: ActualResource[] = ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding'].map((id) => ({ kind: 'sysctl', id, key: null, props: { value: '0' } }));
    const commands = (operations: ReturnType<typeof planLinux>['operations']) => operations.flatMap((operation) => stepsFor(operation, { routeProtocol: 77 }))
      .flatMap((step) => (step.type === 'run' ? [step.argv.map((arg) => (typeof arg === 'string' ? arg : '<secret>')).join(' ')] : []));
    const created = commands(planLinux(spoke, resourcesOf(), forwardingOff).operations);
    expect(created).toEqual(expect.arrayContaining([
      'ip address add fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::1/128 dev wgx',
      'ip address add fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::2/128 dev wgxh2',
      'sysctl -w net.ipv6.conf.all.forwarding=1',
    ]));
    expect(created.filter((command) => command.startsWith('ip6tables -w 5 -t filter -I FORWARD'))).toHaveLength(4);
    const cleared = commands(clearLinux(actualFrom(resourcesOf())).operations);
    expect(cleared).toEqual(expect.arrayContaining([
      'ip address del fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::1/128 dev wgx',
      'ip address del fd10:aaaa:bbbb::3/128 peer fd10:aaaa:bbbb::2/128 dev wgxh2',
    ]));
  });
});

describe('the driver on a host that holds a dual-stack spoke', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplane-bird-ds-'));
  afterAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  // As iproute2 prints an address added with `peer` (captured from `ip -j -6 addr show`).
  const ptp6 = (far: string) => ({ family: 'inet6', local: 'fd10:aaaa:bbbb::3', address: far, prefixlen: 128, scope: 'global', valid_life_time: 4294967295 });
  const ptp4 = (far: string) => ({ family: 'inet', local: '10.0.0.3', address: far, prefixlen: 32, scope: 'global' });
  const host = () => new FakeRunner([
    ['ip -j -d link show', JSON.stringify(['wgx', 'wgxh2'].map((ifname) => ({ ifname, flags: ['POINTOPOINT', 'NOARP', 'UP'], mtu: 1420, linkinfo: { info_kind: 'wireguard' }, ifalias: 'meshplane:wan1' })))],
    ['wg show wgx dump', `${fakeKey(9)}\t${fakeKey(10)}\t0\toff\n`],
    ['wg show wgxh2 dump', `${fakeKey(9)}\t${fakeKey(10)}\t0\toff\n`],
    ['ip -j -4 addr show', JSON.stringify([{ ifname: 'wgx', addr_info: [ptp4('10.0.0.1')] }, { ifname: 'wgxh2', addr_info: [ptp4('10.0.0.2')] }])],
    ['ip -j -6 addr show', JSON.stringify([
      { ifname: 'wgx', addr_info: [ptp6('fd10:aaaa:bbbb::1')] },
      { ifname: 'wgxh2', addr_info: [ptp6('fd10:aaaa:bbbb::2'), { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
    ])],
    // The kernel's routes to both ends, and a route BIRD installed (its own protocol and metric).
    ['ip -j -6 route show table main', JSON.stringify([
      { dst: 'fd10:aaaa:bbbb::1', dev: 'wgx', protocol: 'kernel', metric: 256 },
      { dst: 'fd10:aaaa:bbbb::3', dev: 'wgx', protocol: 'kernel', metric: 256 },
      { dst: '2001:db8:1::/64', gateway: 'fd10:aaaa:bbbb::1', dev: 'wgx', protocol: 'bird', metric: 4242 },
    ])],
    ['birdc', [
      'BIRD 2.0.12 ready.',
      'Name       Proto      Table      State  Since         Info',
      'mp_10_0_0_1 BGP        ---        up     13:44:56.513  Established   ',
      'mp6_fd10_aaaa_bbbb__1 BGP        ---        up     13:44:56.513  Established   ',
      'mp_10_0_0_2 BGP        ---        up     13:44:56.513  Established   ',
      'mp6_fd10_aaaa_bbbb__2 BGP        ---        start  13:44:56.083  Active        Socket: Connection refused',
      '',
    ].join('\n')],
  ]);

  it('reads the point-to-point addresses of both families back to the keys it plans, and a BIRD route as nobody\'s', async () => {
    const driver = new LinuxDriver({ runner: host(), stateDir, manageFirewall: false });
    const actual = await driver.readState(spoke);
    expect(actual.filter((resource) => resource.kind === 'address').map((resource) => resource.key).sort()).toEqual([...SPOKE_ADDRESSES].sort());
    expect(actual.find((resource) => resource.kind === 'route' && resource.id.startsWith('2001:db8:1::/64'))).toMatchObject({ key: null });
    const plan = driver.plan(spoke, actual);
    expect(plan.operations.filter((operation) => operation.kind === 'address' || operation.kind === 'route')).toEqual([]);
  });

  it('reports the IPv6 sessions next to the IPv4 ones, by canonical neighbour address', async () => {
    const runner = host();
    const driver = new LinuxDriver({ runner, stateDir, manageFirewall: false });
    expect(await driver.routingSessions('wan1', 'meshplane')).toBeNull();
    const files = driver.birdPaths(spoke);
    fs.mkdirSync(files.dir, { recursive: true });
    fs.writeFileSync(files.socket, '');
    expect(await driver.routingSessions('wan1', 'meshplane')).toEqual([
      { neighbourAddress: '10.0.0.1', established: true },
      { neighbourAddress: 'fd10:aaaa:bbbb::1', established: true },
      { neighbourAddress: '10.0.0.2', established: true },
      { neighbourAddress: 'fd10:aaaa:bbbb::2', established: false },
    ]);
    expect(runner.commands.at(-1)).toEqual(['birdc', '-s', files.socket, 'show', 'protocols']);
  });
});
