import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DeviceTarget } from '../driver.js';
import { DeviceError } from '../driver.js';
import { actualFrom, desiredFor, meshSpec } from './__fixtures__/desired.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { createLinuxDriver, LinuxDriver } from './driver.js';
import { keyFingerprint } from '../shared/secrets.js';

const spec = meshSpec();
const desired = desiredFor(spec, 'a');
const [a, b, c] = spec.peers as [typeof spec.peers[0], typeof spec.peers[0], typeof spec.peers[0]];

const LINKS = JSON.stringify([
  { ifname: 'lo', flags: ['UP'], mtu: 65536 },
  { ifname: 'wg-mesh', flags: ['UP'], mtu: 1420, linkinfo: { info_kind: 'tun' }, ifalias: 'meshplane:wan1' },
  { ifname: 'wg-other', flags: ['UP'], mtu: 1420, linkinfo: { info_kind: 'wireguard' }, ifalias: 'meshplane:wan2' },
  { ifname: 'wg-hand', flags: ['UP'], mtu: 1420, linkinfo: { info_kind: 'tun' } },
]);
const DUMP = [
  `${a.privateKey}\t${a.publicKey}\t51820\toff`,
  `${b.publicKey}\t(none)\t198.51.100.2:51820\t10.0.0.2/32,172.16.0.0/24\t1763774400\t100\t200\toff`,
  '',
].join('\n');
const ROUTES = JSON.stringify([
  { dst: '10.0.0.0/24', dev: 'wg-mesh', protocol: 'kernel' },
  { dst: '172.16.0.0/24', dev: 'wg-mesh', protocol: '77' },
  { dst: '10.0.5.7', dev: 'wg-other', protocol: '77' },
  { dst: '198.18.0.0/24', dev: 'wg-hand', protocol: 'boot' },
]);
const FILTER = [
  '-P FORWARD ACCEPT',
  '-A FORWARD -i wg-mesh -m comment --comment "meshplane:wg-mesh/forward-in@0123456789ab" -j ACCEPT',
  '-A FORWARD -i wg-other -m comment --comment "meshplane:wg-other/forward-in@0123456789ab" -j ACCEPT',
  '-A FORWARD -i wg-hand -j ACCEPT',
].join('\n');

function hostRunner(): FakeRunner {
  return new FakeRunner([
    ['ip -j -d link show', LINKS],
    ['wg show interfaces', 'wg-mesh wg-hand mpz0\n'],
    ['wg show wg-mesh dump', DUMP],
    ['ip -j -4 addr show', JSON.stringify([{ ifname: 'wg-mesh', addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }] }])],
    ['ip -j -4 route show table main', ROUTES],
    ['iptables -w 5 -t filter -S', FILTER],
    ['iptables -w 5 -t nat -S', '-P PREROUTING ACCEPT\n'],
    ['sysctl -n net.ipv4.ip_forward', '0\n'],
  ]);
}

describe('LinuxDriver.readState', () => {
  it('reports this WAN\'s tagged link and what is on it as managed, everything else as unmanaged', async () => {
    const runner = hostRunner();
    const actual = await new LinuxDriver({ runner }).readState(desired);
    const managed = actual.filter((resource) => resource.key !== null).map((resource) => `${resource.kind} ${resource.key}`);
    expect(managed).toEqual([
      'link wg-mesh',
      `wg-peer wg-mesh/${b.publicKey}`,
      'address wg-mesh/10.0.0.1/24',
      'route 172.16.0.0/24',
      'firewall wg-mesh/forward-in@0123456789ab',
    ]);
    expect(actual.find((resource) => resource.id === 'wg-mesh')!.props).toEqual({
      type: 'wireguard', alias: 'meshplane:wan1', mtu: '1420', up: 'yes', 'listen-port': '51820', 'private-key': keyFingerprint(a.privateKey!), 'public-key': a.publicKey,
      'rp-filter': '', // read for every managed link (the fake runner's sysctl prints nothing)
    });
    expect(actual.filter((resource) => resource.kind === 'link').map((resource) => [resource.id, resource.key, resource.props.namespace ?? ''])).toEqual([
      ['lo', null, ''], ['wg-mesh', 'wg-mesh', ''], ['wg-other', null, ''], ['wg-hand', null, ''], ['mpz0', null, 'other'],
    ]);
    expect(JSON.stringify(actual)).not.toContain(a.privateKey!);
    // The kernel's prefix route for our address belongs to the address: not reported at all.
    expect(actual.filter((resource) => resource.kind === 'route').map((resource) => resource.id)).toEqual([
      '172.16.0.0/24 dev wg-mesh metric 0', '10.0.5.7/32 dev wg-other metric 0', '198.18.0.0/24 dev wg-hand metric 0',
    ]);
    // Another WAN's interface is not even dumped (its keys are none of this deploy's business).
    expect(runner.commands.map((argv) => argv.join(' '))).not.toContain('wg show wg-other dump');
  });

  it('plans zero operations once the host holds what the peer wants', async () => {
    const driver = new LinuxDriver({ runner: hostRunner() });
    const wanted = driver.desiredResources(desired);
    const plan = driver.plan(desired, [...actualFrom(wanted), { kind: 'sysctl', id: 'net.ipv4.ip_forward', key: null, props: { value: '1' } }]);
    expect(plan.operations).toEqual([]);
  });
});

describe('LinuxDriver.preflight', () => {
  const driver = new LinuxDriver({ runner: new FakeRunner() });

  it('refuses an interface name taken by an unmanaged link or by a userspace interface elsewhere', () => {
    const taken = driver.preflight(desired, [{ kind: 'link', id: 'wg-mesh', key: null, props: { type: 'wireguard', alias: 'meshplane:wan2' } }]);
    expect(taken.filter((issue) => issue.severity === 'ERROR')).toEqual([expect.objectContaining({ severity: 'ERROR', resource: 'link wg-mesh', message: expect.stringMatching(/not Meshplane's for this WAN/) })]);
    const elsewhere = driver.preflight(desired, [{ kind: 'link', id: 'wg-mesh', key: null, props: { type: 'wireguard', namespace: 'other' } }]);
    expect(elsewhere[0]!.message).toMatch(/another network namespace/);
  });

  it('refuses to shadow an unmanaged route and warns before turning forwarding on', () => {
    const issues = driver.preflight(desired, [
      { kind: 'route', id: '172.16.0.0/24 dev eth0 metric 0', key: null, props: { dev: 'eth0', protocol: 'static', metric: '0' } },
      { kind: 'sysctl', id: 'net.ipv4.ip_forward', key: null, props: { value: '0' } },
    ]);
    expect(issues.map((issue) => `${issue.severity} ${issue.resource}`)).toEqual(['ERROR route 172.16.0.0/24', 'WARNING sysctl net.ipv4.ip_forward']);
  });

  it('needs an existing interface with the right key for a bring-your-own-key peer', () => {
    const byo = meshSpec();
    byo.peers[0]!.privateKey = null;
    const state = desiredFor(byo, 'a');
    expect(driver.preflight(state, [])[0]!.message).toMatch(/cannot create its interface/);
    const wrong = [{ kind: 'link', id: 'wg-mesh', key: 'wg-mesh', props: { 'public-key': b.publicKey } }];
    expect(driver.preflight(state, wrong)[0]!.message).toMatch(/does not hold the private key/);
  });
});

describe('LinuxDriver.apply', () => {
  it('hands keys to wg as 0600 files that are gone afterwards, and reports progress per operation', async () => {
    const seen: Array<{ path: string; mode: number; content: string }> = [];
    const runner = new FakeRunner([
      ['wg set', (argv) => {
        const at = argv.indexOf('private-key');
        const path = argv[at + 1]!;
        seen.push({ path, mode: fs.statSync(path).mode & 0o777, content: fs.readFileSync(path, 'utf8') });
        return '';
      }],
    ]);
    const driver = new LinuxDriver({ runner });
    const progress: string[] = [];
    const plan = { operations: [{ op: 'update' as const, kind: 'link', key: 'wg-mesh', id: 'wg-mesh', changes: { 'private-key': driver.desiredResources(desired)[0]!.props['private-key']! }, before: {} }], unchanged: 0 };
    expect(await driver.apply(plan, (event) => progress.push(`${event.index + 1}/${event.total} ${event.message}`))).toEqual({ applied: 1, failed: null });
    expect(seen).toEqual([{ path: expect.stringMatching(/meshplane-keys-/), mode: 0o600, content: `${a.privateKey}\n` }]);
    expect(fs.existsSync(seen[0]!.path)).toBe(false);
    expect(runner.commands.flat().join(' ')).not.toContain(a.privateKey!);
    expect(progress).toEqual([expect.stringMatching(/^1\/1 ~ update link wg-mesh: private-key/)]);
    expect(progress.join('')).not.toContain(a.privateKey!);
  });

  it('stops at the first refused operation with the host\'s message', async () => {
    const runner = new FakeRunner([['ip route add', new DeviceError('REFUSED', 'ip route add 10.9.0.0/24 dev wg-mesh proto 77 failed (exit code 2): RTNETLINK answers: File exists')]]);
    const driver = new LinuxDriver({ runner });
    const result = await driver.apply({
      operations: [
        { op: 'create', kind: 'address', key: 'wg-mesh/10.0.0.1/24', props: {} },
        { op: 'create', kind: 'route', key: '10.9.0.0/24', props: { dev: 'wg-mesh' } },
        { op: 'create', kind: 'route', key: '10.9.1.0/24', props: { dev: 'wg-mesh' } },
      ],
      unchanged: 0,
    });
    expect(result.applied).toBe(1);
    expect(result.failed?.message).toMatch(/File exists/);
    expect(runner.commands).toHaveLength(2);
  });

  it('refuses to apply a key it never saw (a plan from another driver instance)', async () => {
    const driver = new LinuxDriver({ runner: new FakeRunner() });
    const result = await driver.apply({ operations: [{ op: 'update', kind: 'link', key: 'wg0', id: 'wg0', changes: { 'private-key': 'sha256:00' }, before: {} }], unchanged: 0 });
    expect(result.failed?.message).toMatch(/same driver instance/);
  });
});

describe('LinuxDriver.statistics and createLinuxDriver', () => {
  it('reads statistics with one wg show dump', async () => {
    const runner = new FakeRunner([['wg show wg-mesh dump', DUMP]]);
    expect(await new LinuxDriver({ runner }).statistics('wg-mesh')).toEqual([
      { publicKey: b.publicKey, rxBytes: '100', txBytes: '200', lastHandshake: new Date(1763774400 * 1000), currentEndpoint: '198.51.100.2:51820' },
    ]);
    expect(runner.commands).toEqual([['wg', 'show', 'wg-mesh', 'dump']]);
  });

  const target = (host: string): DeviceTarget => ({
    id: 'd1', name: 'local', kind: 'LINUX', host, port: null, username: null, secret: null, tls: false, tlsVerify: false, caPem: null, timeoutMs: 5_000, concurrency: 1,
  });

  it('manages the local host or one of its namespaces, nothing remote', () => {
    expect(createLinuxDriver(target('localhost'))).toBeInstanceOf(LinuxDriver);
    // Every host the device service accepts for a LINUX device (isLocalHost) is one the driver takes.
    for (const host of ['127.0.0.1', '127.0.0.2', '::1']) expect(createLinuxDriver(target(host))).toBeInstanceOf(LinuxDriver);
    expect(createLinuxDriver(target('netns:mp-lab-a'))).toBeInstanceOf(LinuxDriver);
    expect(() => createLinuxDriver(target('192.0.2.10'))).toThrow(/local host only/);
    expect(() => createLinuxDriver(target('netns:../x'))).toThrow(/namespace name/);
    expect(() => createLinuxDriver({ ...target('localhost'), kind: 'PFSENSE' })).toThrow(/not LINUX/);
  });
});
