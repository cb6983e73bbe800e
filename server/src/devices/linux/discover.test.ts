import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { LinuxDriver } from './driver.js';
import { splitEndpoint } from './discover.js';

const HUB_PRIVATE = 'OBdrS1KCo+LvmvqPm8xaJQwOaw/PZ5hDRjenRQx7mkU=';
const HUB_PUBLIC = 'DVxt9j4X99SwSm0RaV8P0GcjfuX5yxnBv73w7rpWmV0=';
const SITE1 = 'U3NCWimCCfl1rzD1smkY3HOve5gClNgbfBhQyDr/yGc=';
const SITE2 = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const PSK = 'FpCyhws9cxwWoV4xELtfJvjJN+zQVRPISllRWgeopVE=';
const MESH_PRIVATE = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';
const MESH_PUBLIC = 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=';

// `ip -j -d link show` etc. as iproute2 prints them on a hub brought up by wg-quick (wg0,
// wireguard-go: a tun), beside an interface Meshplane made for a WAN (wg-mesh, tagged).
const LINKS = [
  { ifindex: 1, ifname: 'lo', flags: ['LOOPBACK', 'UP'], mtu: 65536, linkinfo: undefined },
  { ifindex: 2, ifname: 'ul0', flags: ['BROADCAST', 'UP'], mtu: 1500, linkinfo: { info_kind: 'veth' } },
  { ifindex: 3, ifname: 'lan0', flags: ['BROADCAST', 'UP'], mtu: 1500, linkinfo: { info_kind: 'veth' } },
  { ifindex: 7, ifname: 'wg0', flags: ['POINTOPOINT', 'UP'], mtu: 1420, linkinfo: { info_kind: 'tun' }, ifalias: 'office tunnel' },
  { ifindex: 8, ifname: 'wg-mesh', flags: ['POINTOPOINT'], mtu: 1380, linkinfo: { info_kind: 'wireguard' }, ifalias: 'meshplane:wan1' },
];
const ADDR4 = [
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'ul0', addr_info: [{ family: 'inet', local: '100.64.0.2', prefixlen: 24 }] },
  { ifname: 'lan0', addr_info: [{ family: 'inet', local: '192.168.1.1', prefixlen: 24 }, { family: 'inet', local: '192.168.1.254', prefixlen: 32 }] },
  { ifname: 'wg0', addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }] },
  { ifname: 'wg-mesh', addr_info: [{ family: 'inet', local: '10.9.0.5', address: '10.9.0.1', prefixlen: 32 }] },
];
const ADDR6 = [
  { ifname: 'lan0', addr_info: [{ family: 'inet6', local: 'fd00:1::1', prefixlen: 64 }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
];
const ROUTE4 = [
  { dst: 'default', gateway: '100.64.0.1', dev: 'ul0', protocol: 'static' },
  { dst: '10.0.0.0/24', dev: 'wg0', protocol: 'kernel', scope: 'link', prefsrc: '10.0.0.1' },
  { dst: '192.168.2.0/24', dev: 'wg0', scope: 'link' },
  { dst: '192.168.3.0/24', dev: 'wg0', protocol: 'static', metric: 20 },
  { dst: '172.20.0.0/16', dev: 'wg-mesh', protocol: '77' },
  { dst: '203.0.113.0/24', type: 'blackhole', protocol: 'boot' },
];
const WG0_DUMP = [
  `${HUB_PRIVATE}\t${HUB_PUBLIC}\t51820\t0xca6c`,
  `${SITE1}\t${PSK}\t100.64.0.3:40001\t10.0.0.2/32,192.168.2.0/24\t1763774400\t18446744073709551615\t92\t25`,
  `${SITE2}\t(none)\t[fd64::4]:51820\t10.0.0.3/32,192.168.3.0/24\t0\t0\t0\toff`,
  '',
].join('\n');
const MESH_DUMP = `${MESH_PRIVATE}\t${MESH_PUBLIC}\t0\toff\n`;

function host(overrides: ReadonlyArray<readonly [string, string | DeviceError]> = []): FakeRunner {
  return new FakeRunner([
    ...overrides,
    ['ip -j -d link show', JSON.stringify(LINKS)],
    // ul0 here shares its name with a userspace interface of another namespace: not read.
    ['wg show interfaces', 'wg0 wg-mesh mpq0 ul0\n'],
    ['wg show wg0 dump', WG0_DUMP],
    ['wg show wg-mesh dump', MESH_DUMP],
    ['ip -j -4 addr show', JSON.stringify(ADDR4)],
    ['ip -j -6 addr show', JSON.stringify(ADDR6)],
    ['ip -j -4 route show table main', JSON.stringify(ROUTE4)],
    ['ip -j -6 route show table main', JSON.stringify([{ dst: 'default', gateway: 'fd00:1::fe', dev: 'lan0', protocol: 'ra', metric: 1024 }])],
  ]);
}

describe('LinuxDriver.discover', () => {
  it('reads every WireGuard interface with its keys as root sees them, its peers and their sessions', async () => {
    const runner = host();
    const discovery = await new LinuxDriver({ runner, deviceName: 'hub' }).discover();
    expect(discovery.interfaces.map((item) => item.name)).toEqual(['wg0', 'wg-mesh']);
    const [wg0, mesh] = discovery.interfaces as [typeof discovery.interfaces[0], typeof discovery.interfaces[0]];
    expect(wg0).toEqual({
      ref: 'wg0', name: 'wg0', listenPort: 51820, mtu: 1420, publicKey: HUB_PUBLIC, privateKey: HUB_PRIVATE,
      addresses: ['10.0.0.1/24'], disabled: false, comment: 'office tunnel', managedKey: null,
      peers: [
        {
          ref: `wg0/${SITE1}`, publicKey: SITE1, allowedIps: ['10.0.0.2/32', '192.168.2.0/24'], endpointHost: '100.64.0.3', endpointPort: 40001,
          persistentKeepalive: 25, presharedKey: PSK, hasPresharedKey: true, comment: null, disabled: false, managedKey: null,
          lastHandshake: new Date(1763774400 * 1000), rxBytes: '18446744073709551615', txBytes: '92',
        },
        {
          ref: `wg0/${SITE2}`, publicKey: SITE2, allowedIps: ['10.0.0.3/32', '192.168.3.0/24'], endpointHost: 'fd64::4', endpointPort: 51820,
          persistentKeepalive: null, presharedKey: null, hasPresharedKey: false, comment: null, disabled: false, managedKey: null,
          lastHandshake: null, rxBytes: '0', txBytes: '0',
        },
      ],
      unmodelled: [{ owner: 'interface', name: 'FwMark', value: '0xca6c' }],
      source: 'device hub',
    });
    // Meshplane's own interface: managed, down, no port set, its point-to-point address noted.
    expect(mesh).toMatchObject({ managedKey: 'wg-mesh', comment: null, disabled: true, listenPort: null, privateKey: MESH_PRIVATE, addresses: ['10.9.0.5/32'] });
    expect(mesh.unmodelled).toEqual([{ owner: 'interface', name: 'point-to-point address', value: '10.9.0.5/32 peer 10.9.0.1/32' }]);
    expect(discovery.notes).toEqual([
      'userspace WireGuard interfaces of other network namespaces left out: mpq0',
      'read as root: private and preshared keys are shown by `wg show dump` and kept',
    ]);
    // Read-only: nothing but reads ran.
    expect(runner.commands.every((argv) => (argv[0] === 'ip' && argv[1] === '-j') || (argv[0] === 'wg' && argv[1] === 'show'))).toBe(true);
  });

  it('lists the networks on other interfaces with the uplink marked, and the routes but the kernel\'s own', async () => {
    const discovery = await new LinuxDriver({ runner: host(), routeProtocol: 77 }).discover();
    expect(discovery.connectedNetworks).toEqual([
      { cidr: '100.64.0.0/24', address: '100.64.0.2/24', interfaceName: 'ul0', uplink: true },
      // lan0 holds the IPv6 default route (and the /32 beside its LAN address is no network).
      { cidr: '192.168.1.0/24', address: '192.168.1.1/24', interfaceName: 'lan0', uplink: true },
      { cidr: 'fd00:1::/64', address: 'fd00:1::1/64', interfaceName: 'lan0', uplink: true },
    ]);
    expect(discovery.routes.map((route) => [route.destination, route.interfaceName, route.gateway, route.static, route.managedKey])).toEqual([
      ['0.0.0.0/0', 'ul0', '100.64.0.1', true, null],
      ['192.168.2.0/24', 'wg0', null, true, null],
      ['192.168.3.0/24', 'wg0', null, true, null],
      ['172.20.0.0/16', 'wg-mesh', null, false, '172.20.0.0/16'],
      ['203.0.113.0/24', null, null, true, null],
      ['::/0', 'lan0', 'fd00:1::fe', false, null],
    ]);
    expect(discovery.routes[2]!.ref).toBe('192.168.3.0/24 dev wg0 metric 20');
  });

  it('still reads IPv4 on a host without IPv6, and fails clearly where `wg show` is not allowed', async () => {
    const noSix = await new LinuxDriver({ runner: host([['ip -j -6', new DeviceError('REFUSED', 'ip -j -6 addr show failed: Address family not supported')]]) }).discover();
    expect(noSix.connectedNetworks.map((network) => network.cidr)).toEqual(['100.64.0.0/24', '192.168.1.0/24']);
    expect(noSix.notes).toContain('IPv6 addresses and routes could not be read (IPv6 disabled on this host?)');
    const denied = new DeviceError('AUTH_FAILED', 'wg show wg0 dump failed (exit code 1): Unable to access interface: Operation not permitted');
    const failure = await new LinuxDriver({ runner: host([['wg show wg0 dump', denied]]) }).discover().catch((error: unknown) => error);
    expect(failure).toBe(denied);
  });

  it('splits endpoints of both families', () => {
    expect(splitEndpoint('203.0.113.5:51820')).toEqual({ host: '203.0.113.5', port: 51820 });
    expect(splitEndpoint('[2001:db8::1]:4500')).toEqual({ host: '2001:db8::1', port: 4500 });
    expect(splitEndpoint(null)).toEqual({ host: null, port: null });
  });
});
