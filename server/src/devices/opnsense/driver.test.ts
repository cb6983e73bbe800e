// The OPNsense driver against the OPNsense simulator (real HTTPS on loopback).
import { describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { subnet } from '../../domain/__fixtures__/overlay.js';
import { describePlan } from '../../domain/plan.js';
import type { OverlaySpec } from '../../domain/model.js';
import type { OpnSenseSimulator } from '../../../test/sim/opnsense/index.js';
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { deploy, driverOnSimulator, managedItems, olderSpec, opnSiteSpec, opnSweepDevice, stateFor, unmanagedItems } from './test-fixtures.js';

const start = driverOnSimulator();

const writes = (sim: OpnSenseSimulator, from = 0) => sim.requests.slice(from).filter((request) => request.write).map((request) => `${request.method} ${request.path.replace('/api/', '')}`);
const ourInstance = (sim: OpnSenseSimulator) => [...sim.model.running.wg.values()].find((instance) => instance.name === 'meshplane.wan1.i.wg-mesh');
const withPsk = (spec: OverlaySpec, key: string): OverlaySpec => ({ ...spec, presharedKeys: [{ peerAId: 'pf', peerBId: 'b', key }] });

describe('OPNsense driver against the simulator', () => {
  it('deploys an instance with every peer attached through servers, running with instance routes; the admin\'s instance untouched', async () => {
    const { sim, driver } = await start();
    const before = unmanagedItems(sim);
    const state = stateFor(opnSiteSpec());
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });

    const managed = managedItems(sim);
    expect(managed.servers).toEqual([expect.objectContaining({
      name: 'meshplane.wan1.i.wg-mesh', enabled: '1', port: '51820', tunneladdress: '10.0.0.1/24', disableroutes: '0', gateway: '',
      pubkey: publicKeyFromPrivate(state.peer.interface.privateKey as string), peers: 'meshplane.wan1.p.b,meshplane.wan1.p.c',
    })]);
    expect(managed.clients.map((client) => [client.name, client.tunneladdress, client.serveraddress, client.serverport])).toEqual([
      ['meshplane.wan1.p.b', '10.0.0.2/32,192.168.2.0/24', 'b.example.net', '51820'],
      ['meshplane.wan1.p.c', '10.0.0.3/32', '', ''],
    ]);
    const running = ourInstance(sim);
    expect(running?.peers.map((item) => item.name).sort()).toEqual(['meshplane.wan1.p.b', 'meshplane.wan1.p.c']);
    expect(running?.routes).toContain('192.168.2.0/24');
    expect(sim.model.config.general.enabled).toBe('1');
    expect(unmanagedItems(sim)).toEqual(before);
    // Nothing pending: the marker rule is gone once everything was applied.
    expect([...sim.model.config.filter.rules.values()].filter((rule) => String(rule.description).includes(':pending'))).toEqual([]);

    const from = sim.requests.length;
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(writes(sim, from)).toEqual([]);
  });

  it('writes a first deploy in the reference\'s order: instance, peer with servers, reconfigure, rules, filter apply (inside the pending marker)', async () => {
    const { sim, driver } = await start({ seed: 'worked-example' });
    const from = sim.requests.length;
    expect((await deploy(driver, stateFor(opnSiteSpec()))).result.failed).toBeNull();
    expect(writes(sim, from).map((write) => write.replace(/\/[0-9a-f-]{36}$/, '/<uuid>'))).toEqual([
      'POST firewall/filter/addRule',
      'POST wireguard/general/set',
      'POST wireguard/server/addServer',
      'POST wireguard/client/addClient', 'POST wireguard/client/addClient',
      'POST firewall/filter/addRule', 'POST firewall/filter/addRule',
      'POST wireguard/service/reconfigure',
      'POST firewall/filter/apply',
      'POST firewall/filter/delRule/<uuid>',
    ]);
  });

  it('an allowed-IPs update is one setClient that keeps servers, and the session (handshake, counters) survives', async () => {
    const { sim, driver } = await start();
    const spec = opnSiteSpec();
    await deploy(driver, stateFor(spec));
    const b = stateFor(spec).peer.peers.find((remote) => remote.peerId === 'b');
    const ifname = ourInstance(sim)?.ifname as string;
    sim.setPeerStats(b?.publicKey as string, { latestHandshake: 1_786_432_210, rx: 9284n, tx: 10112n, endpoint: '203.0.113.2:51820' }, ifname);

    const wider = { ...spec, peers: spec.peers.map((item) => (item.id === 'b' ? { ...item, subnets: [...item.subnets, subnet('lanB2', '192.168.22.0/24')] } : item)) };
    const from = sim.requests.length;
    const changed = await deploy(driver, stateFor(wider));
    // The overlay-in rule's sources follow the allowed IPs too.
    expect(describePlan(changed.plan).filter((line) => line.includes('wireguard/'))).toEqual(['~ update wireguard/client wan1:peer:b: tunneladdress 10.0.0.2/32,192.168.2.0/24 → 10.0.0.2/32,192.168.2.0/24,192.168.22.0/24']);
    expect(changed.result.failed).toBeNull();
    expect(writes(sim, from).filter((write) => write.startsWith('POST wireguard/')).map((write) => write.replace(/\/[0-9a-f-]{36}$/, '/<uuid>'))).toEqual(['POST wireguard/client/setClient/<uuid>', 'POST wireguard/service/reconfigure']);
    expect(managedItems(sim).servers[0]?.peers).toBe('meshplane.wan1.p.b,meshplane.wan1.p.c');
    expect(ourInstance(sim)?.routes).toContain('192.168.22.0/24');
    expect(await driver.statistics('wg-mesh')).toEqual(expect.arrayContaining([
      { publicKey: b?.publicKey, rxBytes: '9284', txBytes: '10112', lastHandshake: new Date(1_786_432_210_000), currentEndpoint: '203.0.113.2:51820' },
    ]));
    expect((await deploy(driver, stateFor(wider))).plan.operations).toEqual([]);
  });

  it('rotates a preshared key (compared by fingerprint) and writes the new one', async () => {
    const { sim, driver } = await start();
    const spec = opnSiteSpec();
    await deploy(driver, stateFor(spec));
    const key = Buffer.alloc(32, 9).toString('base64');
    const rotated = await deploy(driver, stateFor(withPsk(spec, key)));
    expect(rotated.plan.operations.map((operation) => [operation.op, operation.key, operation.op === 'update' ? Object.keys(operation.changes) : []])).toEqual([['update', 'wan1:peer:b', ['psk']]]);
    expect(describePlan(rotated.plan).join('\n')).not.toContain(key);
    expect(managedItems(sim).clients.find((client) => client.name === 'meshplane.wan1.p.b')?.psk).toBe(key);
    expect((await deploy(driver, stateFor(withPsk(spec, key)))).plan.operations).toEqual([]);
  });

  it('clears only its own items, peers before the instance, and leaves WireGuard enabled for the admin\'s instance', async () => {
    const { sim, driver } = await start();
    const before = unmanagedItems(sim);
    const state = stateFor(opnSiteSpec());
    await deploy(driver, state);
    const plan = driver.clearPlan(await driver.readState(state));
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(managedItems(sim)).toEqual({ servers: [], clients: [], rules: [], onetoone: [], npt: [] });
    expect(unmanagedItems(sim)).toEqual(before);
    expect(sim.model.config.general.enabled).toBe('1');
    expect(ourInstance(sim)).toBeUndefined();
  });

  it.each(['24.1.6', '25.1.2', '25.7.1', '26.7.2'])('deploys and converges on OPNsense %s', async (version) => {
    const { sim, driver } = await start({ version });
    const state = stateFor(withPsk(opnSiteSpec(), Buffer.alloc(32, 3).toString('base64')));
    expect(driver.preflight(state, await driver.readState(state))).toEqual([]);
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });
    expect(managedItems(sim).servers[0]?.peers).toBe('meshplane.wan1.p.b,meshplane.wan1.p.c');
    expect(ourInstance(sim)?.peers).toHaveLength(2);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
  });

  it.each(['24.7.0', '23.7'])('refuses OPNsense %s (24.7.0 ignores JSON bodies; 23.7 has only the plugin) before writing anything', async (version) => {
    const { sim, driver } = await start({ version });
    const state = stateFor(opnSiteSpec());
    const report = await driver.testConnection();
    expect(report).toMatchObject({ reachable: true, failure: 'PROTOCOL' });
    expect(report.message).toMatch(version === '24.7.0' ? /update to 24\.7\.1/ : /update to 24\.1/);
    const actual = await driver.readState(state);
    expect(driver.preflight(state, actual)).toEqual([expect.objectContaining({ severity: 'ERROR' })]);
    expect(() => driver.plan(state, actual)).toThrow(/update to/);
    expect(sim.requests.filter((request) => request.write)).toEqual([]);
  });

  it('reads exact counters above 2^53 from service/show', async () => {
    const { sim, driver } = await start();
    const state = stateFor(opnSiteSpec());
    await deploy(driver, state);
    const b = state.peer.peers.find((remote) => remote.peerId === 'b');
    sim.setPeerStats(b?.publicKey as string, { latestHandshake: 1_700_000_000, rx: 2n ** 60n + 1n, tx: 2n ** 53n + 3n, endpoint: '198.51.100.9:51820' }, ourInstance(sim)?.ifname);
    const stats = await driver.statistics('wg-mesh');
    expect(stats).toEqual(expect.arrayContaining([
      { publicKey: b?.publicKey, rxBytes: (2n ** 60n + 1n).toString(), txBytes: (2n ** 53n + 3n).toString(), lastHandshake: new Date(1_700_000_000_000), currentEndpoint: '198.51.100.9:51820' },
      expect.objectContaining({ rxBytes: '0', lastHandshake: null, currentEndpoint: null }),
    ]));
    expect(stats).toHaveLength(2);
    // Only the statistics endpoint: search and get rows carry private keys from 25.7.1 on.
    expect(sim.requests.at(-1)?.path).toBe('/api/wireguard/service/show');
  });

  it('names the missing privilege on 403 and the refused key on 401', async () => {
    const { sim, driver } = await start();
    sim.faults.privileges = ['VPN: WireGuard: Configuration'];
    const state = stateFor(opnSiteSpec());
    await expect(driver.readState(state)).rejects.toThrow(/Firewall: Rules \[new\]/);
    sim.faults.privileges = null;
    sim.faults.refuseAuth = true;
    const report = await driver.testConnection();
    expect(report).toMatchObject({ reachable: true, loggedIn: false, failure: 'AUTH_FAILED' });
    expect(report.message).toContain('API key/secret');
    expect(report.message).not.toContain(sim.secret);
  });
});

// Faults: the connection drops at each request of a deploy in turn, from a firewall without
// Meshplane's items and from an older deployment (peer d instead of c, b elsewhere).
describeDropSweep('OPNsense driver', [false, true].map((older) => ({
  from: older ? 'an older deployment (peer d instead of c, b elsewhere)' : 'a firewall without Meshplane items',
  writes: older
    ? ['POST wireguard/client/addClient', 'POST wireguard/service/reconfigure']
    : ['POST wireguard/server/addServer', 'POST wireguard/client/addClient', 'POST wireguard/service/reconfigure', 'POST firewall/filter/apply'],
  failure: /^(written but not applied: )?UNREACHABLE: cannot talk to opn-sim \((GET|POST) \/api\/[A-Za-z_/]+(\/[0-9a-f-]{36})?\): /,
  // The pending marker is deleted after everything was applied: a drop there leaves only the marker, which the rerun clears.
  bestEffort: (made: readonly string[]) => made.some((write) => /reconfigure|filter\/apply/.test(write)),
  start: () => {
    const psk = Buffer.alloc(32, 5).toString('base64');
    const spec = withPsk(opnSiteSpec(), psk);
    return opnSweepDevice({ version: '26.7.2', state: stateFor(spec), startFrom: older ? stateFor(olderSpec(spec)) : null, secrets: [psk] });
  },
})));
