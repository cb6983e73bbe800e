// The pfSense driver against the pfSense simulator (real HTTPS on loopback).
import { describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { describePlan } from '../../domain/plan.js';
import type { PfSenseSimulator } from '../../../test/sim/pfsense/index.js';
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { createPfSenseDriver } from './index.js';
import {
  FAST_POLL, SWEEP_FAILURE, deploy, driverOnSimulator, olderSweepSpec, pfSweepDevice, siteSpec, simTarget, stateFor, sweepSpec, unmanagedObjects,
} from './test-fixtures.js';

const start = driverOnSimulator({ applyDelayMs: 10 });

describe('pfSense driver against the simulator', () => {
  it('deploys a site: tunnel, enabled peers with allowed IPs, interface, gateway, routes, rules, 1:1 NAT, each area applied', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(siteSpec());
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });

    const tunnel = sim.model.list('tunnels').find((item) => item.descr === 'meshplane:wan1:tunnel:wg-mesh');
    expect(tunnel).toMatchObject({ name: 'tun_wg1', listenport: '51820', enabled: true, publickey: publicKeyFromPrivate(state.peer.interface.privateKey as string) });
    const peers = sim.model.list('peers').filter((item) => String(item.descr).startsWith('meshplane:'));
    expect(peers.map((item) => [item.descr, item.enabled, item.tun, item.endpoint, item.port])).toEqual([
      ['meshplane:wan1:peer:b', true, 'tun_wg1', 'b.example.net', '51820'],
      ['meshplane:wan1:peer:c', true, 'tun_wg1', null, null],
    ]);
    expect(peers[0]?.allowedips).toEqual([{ address: '10.0.0.2', mask: 32, descr: '' }, { address: '192.168.2.0', mask: 24, descr: '' }]);
    expect(sim.model.list('interfaces').find((iface) => iface.if === 'tun_wg1')).toMatchObject({ id: 'opt1', descr: 'MP_wg_mesh', typev4: 'static', ipaddr: '10.0.0.1', subnet: 24 });
    expect(sim.model.list('routes').find((route) => route.network === '192.168.2.0/24')).toMatchObject({ descr: 'meshplane:wan1:route:192.168.2.0/24' });
    expect(sim.model.list('oneToOne')).toEqual([expect.objectContaining({ interface: 'opt1', external: '172.16.1.0', source: '192.168.1.0/24', destination: 'any' })]);
    const rules = sim.model.list('rules').map((rule) => [rule.descr, rule.interface]);
    expect(rules.slice(-2)).toEqual(expect.arrayContaining([['meshplane:wan1:rule:overlay-in', ['opt1']], ['meshplane:wan1:rule:wan-udp-51820', ['wan']]]));

    expect(sim.model.wireguardSettings.enable).toBe(true);
    for (const area of ['wireguard', 'interfaces', 'routing', 'firewall'] as const) {
      expect(sim.model.isApplied(area)).toBe(true);
      expect(sim.model.applyCount[area]).toBeGreaterThan(0);
    }
    expect(sim.model.runtime.wireguard.peers.filter((item) => item.tun === 'tun_wg1')).toHaveLength(2);
    expect(unmanagedObjects(sim.model)).toEqual(before);
    // GETs never carry a JSON content type (pfSense would ignore their query string).
    expect(sim.requests.filter((request) => (request.method === 'GET' || request.method === 'DELETE') && request.contentType?.includes('json'))).toEqual([]);
  });

  it('plans nothing on a redeploy and one in-place update when one peer changes', async () => {
    const { driver } = await start();
    const spec = siteSpec();
    await deploy(driver, stateFor(spec));
    const again = await deploy(driver, stateFor(spec));
    expect(again.plan.operations).toEqual([]);

    const moved = { ...spec, peers: spec.peers.map((item) => (item.id === 'b' ? { ...item, endpointHost: 'b2.example.net' } : item)) };
    const changed = await deploy(driver, stateFor(moved));
    expect(describePlan(changed.plan)).toEqual(['~ update vpn/wireguard/peer wan1:peer:b: endpoint b.example.net → b2.example.net']);
    expect(changed.result.failed).toBeNull();
    expect((await deploy(driver, stateFor(moved))).plan.operations).toEqual([]);
  });

  it('notices a rotated preshared key although pfSense never echoes it', async () => {
    const { sim, driver } = await start();
    const spec = siteSpec();
    await deploy(driver, stateFor(spec));
    const withPsk = { ...spec, presharedKeys: [{ peerAId: 'pf', peerBId: 'b', key: Buffer.alloc(32, 9).toString('base64') }] };
    const rotated = await deploy(driver, stateFor(withPsk));
    expect(rotated.plan.operations.map((operation) => [operation.op, operation.key, Object.keys(operation.op === 'update' ? operation.changes : {}).sort()])).toEqual([
      ['update', 'wan1:peer:b', ['descr', 'presharedkey']],
    ]);
    expect(sim.model.list('peers').find((item) => item.descr !== undefined && String(item.descr).startsWith('meshplane:wan1:peer:b'))?.presharedkey).toBe(Buffer.alloc(32, 9).toString('base64'));
    expect((await deploy(driver, stateFor(withPsk))).plan.operations).toEqual([]);
  });

  it('clears only managed objects, re-resolving shifted ids by tag', async () => {
    const { sim, driver } = await start();
    const before = unmanagedObjects(sim.model);
    const state = stateFor(siteSpec());
    await deploy(driver, state);
    const plan = driver.clearPlan(await driver.readState(state));
    expect(plan.operations.every((operation) => operation.op === 'delete')).toBe(true);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.list('tunnels')).toHaveLength(1);
    expect(sim.model.list('peers')).toHaveLength(1);
    expect(sim.model.list('interfaces').map((iface) => iface.id)).toEqual(['wan', 'lan']);
    expect(unmanagedObjects(sim.model)).toEqual(before);
    expect(sim.model.isApplied('wireguard') && sim.model.isApplied('routing') && sim.model.isApplied('firewall')).toBe(true);
  });

  it('converges with every reply fragmented byte by byte (chunked, no content-length)', async () => {
    const { sim, driver } = await start();
    sim.faults.fragmentOutput = true;
    const state = stateFor(siteSpec());
    const { plan, result } = await deploy(driver, state);
    expect(result).toEqual({ applied: plan.operations.length, failed: null });
    expect(plan.operations.length).toBeGreaterThan(0);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(['wireguard', 'interfaces', 'routing', 'firewall'].every((area) => sim.model.isApplied(area as 'wireguard'))).toBe(true);
  });

  it('applies changes a failed run left pending, as an explicit plan step', async () => {
    const { sim, driver } = await start();
    const state = stateFor(siteSpec());
    await deploy(driver, state);
    sim.model.markDirty('wireguard');
    const plan = driver.plan(state, await driver.readState(state));
    expect(describePlan(plan)).toEqual([expect.stringMatching(/^~ update vpn\/wireguard\/apply wireguard: applied false → true/)]);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.isApplied('wireguard')).toBe(true);
  });

  it('a clear also applies what an interrupted run left staged, and leaves the WireGuard service as it is', async () => {
    const { sim, driver } = await start();
    const state = stateFor(siteSpec());
    await deploy(driver, state);
    await driver.apply(driver.clearPlan(await driver.readState(state)));
    // A clear cut off after its deletes: nothing of Meshplane's is left to delete, but routing still runs it.
    sim.model.markDirty('staticroutes');
    sim.model.wireguardSettings.enable = false;
    const plan = driver.clearPlan(await driver.readState(state));
    expect(describePlan(plan)).toEqual([expect.stringMatching(/^~ update routing\/apply routing: applied false → true/)]);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.isApplied('routing')).toBe(true);
    expect(sim.model.wireguardSettings.enable).toBe(false);
    expect(driver.clearPlan(await driver.readState(state)).operations).toEqual([]);
  });

  it('refuses a peer whose key an unmanaged peer already uses, before touching the device', async () => {
    const { sim, driver } = await start();
    const spec = siteSpec();
    const b = spec.peers.find((item) => item.id === 'b');
    if (b) b.publicKey = sim.model.list('peers')[0]?.publickey as string;
    const state = stateFor(spec);
    const issues = driver.preflight(state, await driver.readState(state));
    // The unmanaged peer by its position on the device: the service names it from there.
    expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', resource: expect.stringMatching(/^vpn\/wireguard\/peer \d+$/) })]);
  });
});

// Faults (issue #8 item 6), as the RouterOS sweep in test/live-ops/faults.test.ts does it
// (test/contract/drop-sweep.ts): the connection drops at each request of a full deploy in turn (reads, every write, every
// area's apply and its status), from a firewall without Meshplane objects and from an older
// deployment whose update deletes objects (shifting pfSense's position ids) and moves one.
const STARTS = [
  {
    from: 'a firewall without Meshplane objects',
    older: false,
    writes: [
      'POST vpn/wireguard/tunnel', 'POST vpn/wireguard/peer', 'POST interface', 'POST routing/gateway', 'POST routing/static_route', 'POST firewall/rule',
      'POST firewall/nat/one_to_one/mapping', 'POST vpn/wireguard/apply', 'POST interface/apply', 'POST routing/apply', 'POST firewall/apply',
    ],
  },
  {
    from: 'an older deployment (peer d instead of c, b elsewhere)',
    older: true,
    writes: ['DELETE routing/static_route', 'DELETE routing/gateway', 'DELETE vpn/wireguard/peer', 'POST vpn/wireguard/peer', 'PATCH vpn/wireguard/peer', 'POST vpn/wireguard/apply', 'POST routing/apply'],
  },
] as const;

const PSK = Buffer.alloc(32, 5).toString('base64');

describeDropSweep('pfSense driver', STARTS.map(({ from, older, writes }) => ({
  from,
  writes,
  failure: SWEEP_FAILURE,
  start: () => pfSweepDevice({
    state: stateFor(sweepSpec(PSK)),
    startFrom: older ? stateFor(olderSweepSpec(sweepSpec(PSK))) : null,
    secrets: [PSK],
  }),
})));

describe('pfSense driver: statistics by package version', () => {
  it('reads handshake and exact counters from tunnels[].peers on 2.9.0 and later', async () => {
    const { sim, driver } = await start({ version: '2.9.0' });
    const state = stateFor(siteSpec());
    await deploy(driver, state);
    const b = state.peer.peers.find((remote) => remote.peerId === 'b');
    sim.model.setPeerStats(b?.publicKey as string, { latestHandshake: 1_700_000_000, rx: 2n ** 60n + 1n, tx: 7n, endpoint: '198.51.100.9:51820' });
    const stats = await driver.statistics('wg-mesh');
    expect(driver.statsAvailable).toBe(true);
    expect(stats).toEqual(expect.arrayContaining([
      { publicKey: b?.publicKey, rxBytes: (2n ** 60n + 1n).toString(), txBytes: '7', lastHandshake: new Date(1_700_000_000_000), currentEndpoint: '198.51.100.9:51820' },
      expect.objectContaining({ rxBytes: '0', lastHandshake: null, currentEndpoint: null }),
    ]));
    expect(stats).toHaveLength(2);
  });

  it('returns null and says statistics are unavailable before 2.9.0', async () => {
    const { driver } = await start({ version: '2.8.1' });
    expect(driver.statsAvailable).toBeNull();
    expect(await driver.statistics('wg-mesh')).toBeNull();
    expect(driver.statsAvailable).toBe(false);
    expect((await driver.testConnection()).message).toContain('no WireGuard statistics');
  });
});

describe('pfSense driver: connection failures', () => {
  it('explains that an API key needs KeyAuth enabled, and works once it is', async () => {
    const { sim } = await start({ seed: false });
    const keyDriver = createPfSenseDriver(simTarget(sim, { username: null, secret: sim.apiKey }), FAST_POLL);
    try {
      const refused = await keyDriver.testConnection();
      expect(refused).toMatchObject({ reachable: true, loggedIn: false });
      expect(refused.message).toMatch(/^AUTH_FAILED: .*KeyAuth/);
      sim.model.restapi.auth_methods = ['BasicAuth', 'KeyAuth'];
      expect(await keyDriver.testConnection()).toMatchObject({ loggedIn: true, version: 'v2.10.0' });
    } finally {
      await keyDriver.close();
    }
  });

  it('maps refused logins, TLS, timeouts and closed ports to device error codes', async () => {
    const started = await start({ seed: false });
    const { driver } = started;
    const running = started.sim;
    running.faults.refuseAuth = true;
    expect((await driver.testConnection()).message).toMatch(/^AUTH_FAILED/);
    running.faults.refuseAuth = false;

    const untrusted = createPfSenseDriver(simTarget(running, { caPem: null }));
    const insecure = createPfSenseDriver(simTarget(running, { caPem: null, tlsVerify: false }));
    const impatient = createPfSenseDriver(simTarget(running, { timeoutMs: 100 }));
    try {
      expect((await untrusted.testConnection()).message).toMatch(/^TLS/);
      expect(await insecure.testConnection()).toMatchObject({ loggedIn: true });
      running.faults.delayMs = 1_000;
      expect((await impatient.testConnection()).message).toMatch(/^TIMEOUT/);
      running.faults.delayMs = 0;
    } finally {
      await Promise.all([untrusted.close(), insecure.close(), impatient.close()]);
    }
    const port = running.port;
    await running.stop();
    const closed = createPfSenseDriver(simTarget({ host: '127.0.0.1', port, caPem: '', username: 'x', password: 'y' } as unknown as PfSenseSimulator));
    try {
      expect(await closed.testConnection()).toMatchObject({ reachable: false, loggedIn: false, message: expect.stringMatching(/^UNREACHABLE/) });
    } finally {
      await closed.close();
    }
  });
});
