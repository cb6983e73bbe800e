import { describe, expect, it } from 'vitest';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import type { ActualResource } from '../../domain/plan.js';
import { desiredFor, meshSpec } from './__fixtures__/desired.js';
import { FakeRunner } from './__fixtures__/fake-runner.js';
import { LinuxDriver } from './driver.js';

const spec = meshSpec();
const desired = desiredFor(spec, 'a');
const [a, b, c] = spec.peers as [typeof spec.peers[0], typeof spec.peers[0], typeof spec.peers[0]];

/** wg-mesh as wg-quick brings it up from a hand-written conf: no alias, routes `proto boot`. */
function handMadeHost(options: { alias?: string; extraRoutes?: object[] } = {}): FakeRunner {
  const links = [
    { ifname: 'lo', flags: ['UP'], mtu: 65536 },
    { ifname: 'eth0', flags: ['UP'], mtu: 1500, linkinfo: { info_kind: 'veth' } },
    { ifname: 'wg-mesh', flags: ['UP'], mtu: 1420, linkinfo: { info_kind: 'tun' }, ...(options.alias ? { ifalias: options.alias } : {}) },
  ];
  const dump = [
    `${a.privateKey}\t${a.publicKey}\t51820\toff`,
    `${b.publicKey}\t(none)\t198.51.100.2:51820\t10.0.0.2/32,172.16.0.0/24\t1763774400\t100\t200\toff`,
    `${c.publicKey}\t(none)\t(none)\t10.0.0.3/32\t1763774300\t300\t400\t25`,
    '',
  ].join('\n');
  const routes = [
    { dst: 'default', gateway: '198.51.100.254', dev: 'eth0', protocol: 'static' },
    { dst: '10.0.0.0/24', dev: 'wg-mesh', protocol: 'kernel' },
    { dst: '172.16.0.0/24', dev: 'wg-mesh', protocol: 'boot' },
    { dst: '10.0.5.7', gateway: '10.0.0.3', dev: 'wg-mesh', protocol: 'static', metric: 100 },
    { dst: '198.18.0.0/24', dev: 'eth0', protocol: 'static' },
    ...(options.extraRoutes ?? []),
  ];
  return new FakeRunner([
    ['ip -j -d link show', JSON.stringify(links)],
    ['wg show interfaces', 'wg-mesh\n'],
    ['wg show wg-mesh dump', dump],
    ['ip -j -4 addr show', JSON.stringify([
      { ifname: 'eth0', addr_info: [{ family: 'inet', local: '198.51.100.1', prefixlen: 24 }] },
      { ifname: 'wg-mesh', addr_info: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24 }] },
    ])],
    ['ip -j -4 route show table main', JSON.stringify(routes)],
    ['iptables -w 5 -t filter -S', '-P FORWARD ACCEPT\n-A FORWARD -i wg-mesh -j ACCEPT\n'],
    ['iptables -w 5 -t nat -S', '-P PREROUTING ACCEPT\n'],
    ['sysctl -n', '1\n'],
  ]);
}

const names = (resources: ReadonlyArray<{ kind: string; key: string | null }>) => resources.map((resource) => `${resource.kind} ${resource.key}`).sort();

describe('LinuxDriver.readState before adoption', () => {
  it('reads a hand-made interface under the WAN\'s name with its peers and addresses, all unmanaged', async () => {
    const runner = handMadeHost();
    const actual = await new LinuxDriver({ runner }).readState(desired);
    expect(actual.filter((resource) => resource.key !== null)).toEqual([]);
    const link = actual.find((resource) => resource.kind === 'link' && resource.id === 'wg-mesh')!;
    expect(link.props).toMatchObject({ type: 'wireguard', alias: '', 'listen-port': '51820', 'public-key': a.publicKey });
    expect(actual.filter((resource) => resource.kind === 'wg-peer').map((resource) => resource.id)).toEqual([`wg-mesh/${b.publicKey}`, `wg-mesh/${c.publicKey}`]);
    expect(actual.filter((resource) => resource.kind === 'route').map((resource) => resource.id)).toContain('10.0.5.7/32 via 10.0.0.3 dev wg-mesh metric 100');
    expect(JSON.stringify(actual)).not.toContain(a.privateKey!);
  });

  it('does not read another WAN\'s interface under that name, and preflight says to adopt a hand-made one', async () => {
    const other = handMadeHost({ alias: 'meshplane:wan2' });
    const driver = new LinuxDriver({ runner: other });
    await driver.readState(desired);
    expect(other.commands.map((argv) => argv.join(' '))).not.toContain('wg show wg-mesh dump');
    const handMade = new LinuxDriver({ runner: handMadeHost() });
    const issues = handMade.preflight(desired, await handMade.readState(desired));
    expect(issues.find((issue) => issue.resource === 'link wg-mesh')?.message).toMatch(/made by hand: adopt it first/);
  });
});

describe('LinuxDriver.adoptionPlan', () => {
  it('tags the link and writes the protocol onto routes through it; peers and addresses come with the link, untouched', async () => {
    const driver = new LinuxDriver({ runner: handMadeHost() });
    const actual = await driver.readState(desired);
    const { plan, adopted, ambiguous } = driver.adoptionPlan(desired, actual);
    expect(ambiguous).toEqual([]);
    expect(plan.operations.map((operation) => (operation.op === 'update' ? [operation.op, operation.kind, operation.id, operation.changes, operation.reason] : [operation.op]))).toEqual([
      ['update', 'link', 'wg-mesh', { alias: 'meshplane:wan1' }, ADOPTED_REASON],
      ['update', 'route', '10.0.5.7/32 via 10.0.0.3 dev wg-mesh metric 100', { protocol: '77' }, ADOPTED_REASON],
      ['update', 'route', '172.16.0.0/24 dev wg-mesh metric 0', { protocol: '77' }, ADOPTED_REASON],
    ]);
    expect(names(adopted)).toEqual(names([
      { kind: 'link', key: 'wg-mesh' }, { kind: 'address', key: 'wg-mesh/10.0.0.1/24' },
      { kind: 'wg-peer', key: `wg-mesh/${b.publicKey}` }, { kind: 'wg-peer', key: `wg-mesh/${c.publicKey}` },
      { kind: 'route', key: '10.0.5.7/32' }, { kind: 'route', key: '172.16.0.0/24' },
    ]));
    // The hand-made forward rule, the admin's route on eth0 and eth0 itself are nobody's to take.
    expect(adopted.map((item) => item.id)).not.toContain('198.18.0.0/24 dev eth0 metric 0');
    expect(adopted.some((item) => item.kind === 'firewall')).toBe(false);

    const runner = new FakeRunner();
    const applied = await new LinuxDriver({ runner }).apply(plan);
    expect(applied).toEqual({ applied: 3, failed: null });
    expect(runner.commands.map((argv) => argv.join(' '))).toEqual([
      'ip link set dev wg-mesh alias meshplane:wan1',
      'ip route replace 10.0.5.7/32 via 10.0.0.3 dev wg-mesh proto 77 metric 100',
      'ip route replace 172.16.0.0/24 dev wg-mesh proto 77 metric 0',
    ]);
  });

  it('after the tags are on, the deploy plan changes the link and its peers in place: nothing deleted or created again', async () => {
    const driver = new LinuxDriver({ runner: handMadeHost({ alias: 'meshplane:wan1' }) });
    const actual = (await driver.readState(desired)).map((resource): ActualResource => (resource.kind === 'route' && resource.key === null && resource.props.dev === 'wg-mesh' && resource.props.protocol !== 'kernel'
      ? { ...resource, key: resource.id.split(' ')[0]!, props: { ...resource.props, protocol: '77' } } : resource));
    expect(names(actual.filter((resource) => resource.key !== null && resource.kind !== 'firewall'))).toEqual(names([
      { kind: 'link', key: 'wg-mesh' }, { kind: 'address', key: 'wg-mesh/10.0.0.1/24' },
      { kind: 'wg-peer', key: `wg-mesh/${b.publicKey}` }, { kind: 'wg-peer', key: `wg-mesh/${c.publicKey}` },
      { kind: 'route', key: '10.0.5.7/32' }, { kind: 'route', key: '172.16.0.0/24' },
    ]));
    const plan = driver.plan(desired, actual);
    const adoptedKinds = new Set(['link', 'address', 'wg-peer', 'route']);
    expect(plan.operations.filter((operation) => adoptedKinds.has(operation.kind) && operation.op !== 'update')).toEqual([]);
    // c's AllowedIPs gain the service address and its keepalive goes: `wg set … peer` in place.
    expect(plan.operations.filter((operation) => operation.kind === 'wg-peer').map((operation) => operation.op === 'update' && operation.changes)).toEqual([
      { 'allowed-ips': '10.0.0.3/32,10.0.5.7/32', 'persistent-keepalive': 'off' },
    ]);
    expect(driver.adoptionPlan(desired, actual)).toEqual({ plan: { operations: [], unchanged: 0 }, adopted: [], ambiguous: [] });
  });

  it('takes nothing from another WAN\'s interface of the same name, nor a route through another interface', async () => {
    const driver = new LinuxDriver({ runner: handMadeHost({ alias: 'meshplane:wan2', extraRoutes: [{ dst: '172.16.0.0/24', dev: 'eth0', protocol: 'static', metric: 5 }] }) });
    const { plan, adopted } = driver.adoptionPlan(desired, await driver.readState(desired));
    expect(plan.operations).toEqual([]);
    expect(adopted).toEqual([]);
  });

  it('reports two hand-made routes to one destination through the link as ambiguous and takes neither', async () => {
    const driver = new LinuxDriver({ runner: handMadeHost({ extraRoutes: [{ dst: '172.16.0.0/24', dev: 'wg-mesh', protocol: 'static', metric: 50 }] }) });
    const { plan, ambiguous } = driver.adoptionPlan(desired, await driver.readState(desired));
    expect(ambiguous).toEqual([{ kind: 'route', key: '172.16.0.0/24', ids: ['172.16.0.0/24 dev wg-mesh metric 0', '172.16.0.0/24 dev wg-mesh metric 50'] }]);
    expect(plan.operations.map((operation) => operation.kind)).toEqual(['link', 'route']);
  });

  it('leaves routes alone when the link itself is not adopted', () => {
    const driver = new LinuxDriver({ runner: new FakeRunner() });
    const route: ActualResource = { kind: 'route', id: '172.16.0.0/24 dev wg-mesh metric 0', key: null, props: { dev: 'wg-mesh', protocol: 'boot', metric: '0' } };
    const peer: ActualResource = { kind: 'wg-peer', id: `wg-mesh/${b.publicKey}`, key: null, props: {} };
    expect(driver.adoptionPlan(desired, [route, peer])).toEqual({ plan: { operations: [], unchanged: 0 }, adopted: [], ambiguous: [] });
  });
});
