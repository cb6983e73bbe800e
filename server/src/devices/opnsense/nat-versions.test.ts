// Translated LANs on OPNsense, per version, against the simulator: 24.1 has no 1:1 NAT API
// (refused, "impossible"); 24.7–26.1 cannot assign the WireGuard device through the API
// (refused naming the fix); 26.7 assigns the managed instance's wgN and writes 1:1 NAT (IPv4)
// and NPTv6 (IPv6) on it, and a clear removes the NAT before the assignment. Services are
// refused everywhere; allowed IPs that would route Meshplane's own address into the tunnel too.
import { describe, expect, it } from 'vitest';
import { DUAL_STACK, overlay, service } from '../../domain/__fixtures__/overlay.js';
import type { OpnSenseSimulator } from '../../../test/sim/opnsense/index.js';
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { DeviceError } from '../driver.js';
import { KIND } from './kinds.js';
import { deploy, driverOnSimulator, opnSweepDevice, stateFor, translatedSpec, unmanagedItems } from './test-fixtures.js';

const start = driverOnSimulator();

const writes = (sim: OpnSenseSimulator, from = 0) => sim.requests.slice(from).filter((request) => request.write)
  .map((request) => `${request.method} ${request.path.replace('/api/', '').replace(/\/[0-9a-f-]{36}$/, '/<uuid>')}`);

const errorsOf = (issues: Array<{ severity: string; message: string }>) => issues.filter((item) => item.severity === 'ERROR').map((item) => item.message);

describe('OPNsense translated LANs per version', () => {
  it('24.1: an IPv4 translation is impossible (no 1:1 NAT API before 24.7): preflight ERROR, plan refused, nothing written', async () => {
    const { sim, driver } = await start({ version: '24.1.6' });
    const state = stateFor(translatedSpec());
    const actual = await driver.readState(state);
    expect(errorsOf(driver.preflight(state, actual))).toEqual([expect.stringMatching(/^impossible: Peer pf shows its LAN under translated addresses \(192\.168\.1\.0\/24 as 172\.16\.1\.0\/24, .*OPNsense 24\.1\.6 has no 1:1 NAT API before 24\.7\. Upgrade the firewall to 26\.7/)]);
    expect(() => driver.plan(state, actual)).toThrow(DeviceError);
    expect(sim.requests.filter((request) => request.write)).toEqual([]);
  });

  it.each([['24.1.6', { v6: true }], ['25.1.2', { v4: true, v6: true }], ['26.1.4', { v4: true }]] as const)('%s with translations %o: ERROR naming the assignment the API cannot make and the upgrade', async (version, which) => {
    {
      const spec = translatedSpec(which);
      const { sim, driver } = await start({ version });
      const state = stateFor(spec);
      const actual = await driver.readState(state);
      const [message, ...more] = errorsOf(driver.preflight(state, actual));
      expect(more, version).toEqual([]);
      expect(message, version).toContain(`on OPNsense ${version} 1:1 NAT and NPTv6 need the WireGuard device assigned as an interface (Interfaces › Assignments)`);
      expect(message, version).toContain('Upgrade the firewall to 26.7 or later, where Meshplane assigns the instance\'s wg device itself');
      expect(message, version).not.toMatch(/^impossible/);
      expect(() => driver.plan(state, actual), version).toThrow(/26\.7/);
      expect(sim.requests.filter((request) => request.write), version).toEqual([]);
    }
  });

  it('26.7: assigns the instance\'s wg device after the WireGuard reconfigure, then binat and NPTv6 on it; running; a redeploy writes nothing', async () => {
    const { sim, driver } = await start({ version: '26.7.2' });
    const before = unmanagedItems(sim);
    const assignedBefore = new Map(sim.model.config.interfaces);
    const state = stateFor(translatedSpec());
    expect(errorsOf(driver.preflight(state, await driver.readState(state)))).toEqual([]);
    const from = sim.requests.length;
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });

    const order = writes(sim, from);
    const at = (write: string) => order.indexOf(write);
    expect(at('POST wireguard/service/reconfigure')).toBeLessThan(at('POST interfaces/assignment/addItem'));
    expect(at('POST interfaces/assignment/addItem')).toBeLessThan(at('POST interfaces/assignment/reconfigure'));
    expect(at('POST interfaces/assignment/reconfigure')).toBeLessThan(at('POST firewall/one_to_one/addRule'));
    expect(at('POST firewall/one_to_one/addRule')).toBeLessThan(at('POST firewall/npt/addRule'));
    expect(at('POST firewall/npt/addRule')).toBeLessThan(at('POST firewall/filter/apply'));
    expect(order.filter((write) => write === 'POST wireguard/service/reconfigure')).toHaveLength(1);

    const instance = [...sim.model.config.servers.values()].find((server) => server.name === 'meshplane.wan1.i.wg-mesh');
    const device = `wg${instance?.instance}`;
    expect(sim.model.running.wg.has(device)).toBe(true);
    const added = [...sim.model.config.interfaces.entries()].filter(([ident]) => !assignedBefore.has(ident));
    expect(added).toEqual([[expect.stringMatching(/^opt\d+$/), expect.objectContaining({ if: device, descr: expect.stringMatching(/^mp_[0-9a-f]{8}$/), enable: '1', lock: '0', type4: 'none', type6: 'none' })]]);
    const [ident] = added[0]!;
    expect(sim.model.running.interfaces.get(ident)).toEqual(sim.model.config.interfaces.get(ident));
    expect([...sim.model.running.filter.onetoone.values()]).toEqual([expect.objectContaining({
      enabled: '1', interface: ident, type: 'binat', source_net: '192.168.1.0/24', destination_net: 'any', external: '172.16.1.0', description: 'meshplane:wan1:nat:172.16.1.0/24',
    })]);
    expect([...sim.model.running.filter.npt.values()]).toEqual([expect.objectContaining({
      enabled: '1', interface: ident, source_net: '2001:db8:1::/64', destination_net: 'fd10:aaaa:bbbb:8000::/64', description: 'meshplane:wan1:npt:fd10:aaaa:bbbb:8000::/64',
    })]);
    // The admin's interfaces, instance, rules and routes are as they were.
    for (const [name, record] of assignedBefore) expect(sim.model.config.interfaces.get(name)).toEqual(record);
    expect(unmanagedItems(sim)).toEqual(before);

    const again = sim.requests.length;
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(writes(sim, again)).toEqual([]);
  });

  it('26.7: clear removes the NPTv6 and 1:1 entries before the assignment, then the peers and the instance; the admin\'s items stay', async () => {
    const { sim, driver } = await start({ version: '26.7.2' });
    const before = unmanagedItems(sim);
    const assignedBefore = new Map(sim.model.config.interfaces);
    const state = stateFor(translatedSpec());
    expect((await deploy(driver, state)).result.failed).toBeNull();

    const plan = driver.clearPlan(await driver.readState(state));
    expect(plan.operations.map((operation) => `${operation.op} ${operation.kind}`)).toEqual([
      `delete ${KIND.npt}`, `delete ${KIND.onetoone}`, `delete ${KIND.rule}`, `delete ${KIND.rule}`, `delete ${KIND.assignment}`,
      `delete ${KIND.client}`, `delete ${KIND.client}`, `delete ${KIND.server}`,
    ]);
    const from = sim.requests.length;
    expect((await driver.apply(plan)).failed).toBeNull();
    const order = writes(sim, from).filter((write) => !write.startsWith('POST firewall/filter/addRule') && !write.startsWith('POST firewall/filter/setRule'));
    const nat = order.findIndex((write) => write.startsWith('POST firewall/npt/delRule'));
    const binat = order.findIndex((write) => write.startsWith('POST firewall/one_to_one/delRule'));
    const assignment = order.findIndex((write) => write.startsWith('POST interfaces/assignment/delItem/opt'));
    expect(nat).toBeGreaterThanOrEqual(0);
    expect(nat).toBeLessThan(binat);
    expect(binat).toBeLessThan(assignment);
    expect(assignment).toBeLessThan(order.indexOf('POST interfaces/assignment/reconfigure'));

    expect(sim.model.config.interfaces).toEqual(assignedBefore);
    expect(sim.model.running.interfaces).toEqual(assignedBefore);
    expect([...sim.model.running.filter.onetoone.values(), ...sim.model.running.filter.npt.values()]).toEqual([]);
    expect(unmanagedItems(sim)).toEqual(before);
    expect((await driver.readState(state)).filter((resource) => resource.key !== null)).toEqual([]);
  });

  it('26.7: an assignment the admin made by hand for another device is never taken for Meshplane\'s', async () => {
    const { sim, driver } = await start({ version: '26.7.2' });
    sim.model.config.interfaces.set('opt7', { if: 'wg0', descr: 'ROADWARRIOR', enable: '1', lock: '1', type4: 'none', type6: 'none', ipaddr: '', subnet: '', ipaddrv6: '', subnetv6: '', mtu: '' });
    const state = stateFor(translatedSpec());
    expect((await deploy(driver, state)).result.failed).toBeNull();
    expect((await driver.readState(state)).filter((resource) => resource.kind === KIND.assignment && resource.key !== null)).toHaveLength(1);
    expect((await driver.apply(driver.clearPlan(await driver.readState(state)))).failed).toBeNull();
    expect(sim.model.config.interfaces.get('opt7')).toEqual(expect.objectContaining({ if: 'wg0', descr: 'ROADWARRIOR' }));
  });

  it('26.7: an interface the admin assigned to Meshplane\'s own device stays theirs: clear leaves it, a NAT deploy is refused naming it', async () => {
    const { sim, driver } = await start({ version: '26.7.2' });
    const plainState = stateFor(translatedSpec({}));
    expect((await deploy(driver, plainState)).result.failed).toBeNull();
    const device = `wg${[...sim.model.config.servers.values()].find((server) => server.name === 'meshplane.wan1.i.wg-mesh')?.instance}`;
    sim.model.config.interfaces.set('opt5', { if: device, descr: 'MONITOR', enable: '1', lock: '0', type4: 'none', type6: 'none', ipaddr: '', subnet: '', ipaddrv6: '', subnetv6: '', mtu: '' });

    const translated = stateFor(translatedSpec());
    const actual = await driver.readState(translated);
    expect(actual.filter((resource) => resource.kind === KIND.assignment && resource.key !== null)).toEqual([]);
    expect(errorsOf(driver.preflight(translated, actual))).toEqual([expect.stringMatching(/already assigned as opt5 \(MONITOR\), which Meshplane does not manage: remove that assignment/)]);

    expect((await driver.apply(driver.clearPlan(await driver.readState(plainState)))).failed).toBeNull();
    expect(sim.model.config.interfaces.get('opt5')).toEqual(expect.objectContaining({ if: device, descr: 'MONITOR' }));
  });

  it('26.7 with a least-privilege key (no NAT or assignment privileges): a peer without translation deploys; a translated LAN is an ERROR naming each missing privilege', async () => {
    const { sim, driver } = await start({ version: '26.7.2', faults: { privileges: ['VPN: WireGuard: Configuration', 'Firewall: Rules [new]'] } });
    const plainState = stateFor(translatedSpec({}));
    expect((await deploy(driver, plainState)).result.failed).toBeNull();
    expect(sim.model.config.servers.size).toBe(2);

    const translated = stateFor(translatedSpec());
    const messages = errorsOf(driver.preflight(translated, await driver.readState(translated)));
    for (const privilege of ['Interfaces: Assign network ports', 'Firewall: NAT: 1:1', 'Firewall: NAT: NPTv6']) {
      expect(messages).toContainEqual(expect.stringContaining(`lacks the privilege "${privilege}"`));
    }
  });

  it.each(['24.1.6', '25.7.1', '26.7.2'])('%s: services are refused, with the reason', async (version) => {
    {
      const { driver } = await start({ version });
      const spec = translatedSpec({});
      spec.peers[0] = { ...spec.peers[0]!, services: [service('web', '10.99.5.7', { localIp: '192.168.1.10' })] };
      const state = stateFor(overlay(spec.peers, { ...DUAL_STACK, servicesCidr: '10.99.5.0/24' }));
      const actual = await driver.readState(state);
      expect(errorsOf(driver.preflight(state, actual)), version).toEqual([expect.stringMatching(/publishes services \(tcp\/80 on 10\.99\.5\.7\): Meshplane does not write port forwards on OPNsense/)]);
      expect(() => driver.plan(state, actual), version).toThrow(DeviceError);
    }
  });

  it('allowed IPs covering the address Meshplane manages the firewall from, or a /0, are an ERROR', async () => {
    const { driver } = await start({ version: '26.7.2' });
    const base = stateFor(translatedSpec({}));
    const actual = await driver.readState(base);
    expect(errorsOf(driver.preflight(base, actual))).toEqual([]);
    const widened = (extra: string, apiAllowedAddresses?: string[]) => ({
      ...base,
      ...(apiAllowedAddresses ? { apiAllowedAddresses } : {}),
      peer: { ...base.peer, peers: base.peer.peers.map((remote) => (remote.peerId === 'b' ? { ...remote, allowedIps: [...remote.allowedIps, extra] } : remote)) },
    });
    expect(errorsOf(driver.preflight(widened('0.0.0.0/0'), actual))).toContainEqual(expect.stringMatching(/allowed IPs of b include 0\.0\.0\.0\/0, which covers every address.*no firewall rollback undoes a route/));
    expect(errorsOf(driver.preflight(widened('198.51.100.0/24', ['198.51.100.7']), actual))).toEqual([expect.stringMatching(/include 198\.51\.100\.0\/24, which covers 198\.51\.100\.7, an address the API is used from/)]);
    expect(errorsOf(driver.preflight(widened('198.51.100.0/24', ['203.0.113.9']), actual))).toEqual([]);
  });
});

// A connection dropped at each request of a 26.7 deploy with translated LANs (the request lost,
// or its reply after it was carried out): the rerun converges to one assignment and one of each
// NAT entry, all applied, nothing else touched.
for (const drop of ['request', 'reply'] as const) {
  describeDropSweep(`OPNsense driver with translated LANs (26.7)${drop === 'reply' ? ', replies lost after the request was carried out' : ''}`, [{
    from: 'a firewall without Meshplane items',
    writes: ['POST interfaces/assignment/addItem', 'POST interfaces/assignment/reconfigure', 'POST firewall/one_to_one/addRule', 'POST firewall/npt/addRule', 'POST firewall/filter/apply'],
    failure: /^(written but not applied: )?UNREACHABLE: cannot talk to opn-sim \((GET|POST) \/api\/[A-Za-z_/]+(\/[0-9a-f-]{36}|\/opt\d+)?\): /,
    bestEffort: (made: readonly string[]) => made.some((write) => /filter\/apply/.test(write)),
    start: () => opnSweepDevice({ version: '26.7.2', state: stateFor(translatedSpec()), startFrom: null, drop }),
  }]);
}
