// The pfSense driver against the pfSense simulator (real HTTPS on loopback).
import { afterEach, describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import { describePlan } from '../../domain/plan.js';
import { startPfSenseSimulator, type PfSenseSimulator, type PfSenseSimulatorOptions } from '../../../test/sim/pfsense/index.js';
import type { DesiredDeviceState } from '../driver.js';
import { createPfSenseDriver, type PfSenseDriver } from './index.js';
import { siteSpec, simTarget, stateFor } from './test-fixtures.js';

const FAST_POLL = { polling: { intervalMs: 5, maxIntervalMs: 50, attempts: 100 } };
let sim: PfSenseSimulator | null = null;
let driver: PfSenseDriver | null = null;

async function start(options: PfSenseSimulatorOptions = {}, target: Parameters<typeof simTarget>[1] = {}): Promise<{ sim: PfSenseSimulator; driver: PfSenseDriver }> {
  sim = await startPfSenseSimulator({ applyDelayMs: 10, ...options });
  driver = createPfSenseDriver(simTarget(sim, target), FAST_POLL);
  return { sim, driver };
}

afterEach(async () => {
  await driver?.close();
  await sim?.stop();
  driver = null;
  sim = null;
});

async function deploy(target: PfSenseDriver, state: DesiredDeviceState) {
  const actual = await target.readState(state);
  const plan = target.plan(state, actual);
  const result = await target.apply(plan);
  return { plan, result };
}

/** Everything Meshplane did not make, as it was: compared before and after. */
function unmanaged(model: PfSenseSimulator['model']) {
  const notOurs = (obj: Record<string, unknown>) => !String(obj.descr ?? '').startsWith('meshplane:');
  return {
    tunnels: model.list('tunnels').filter(notOurs).map(({ id: _id, ...rest }) => rest),
    peers: model.list('peers').filter(notOurs).map(({ id: _id, ...rest }) => rest),
    routes: model.list('routes').filter(notOurs).map(({ id: _id, ...rest }) => rest),
    gateways: model.list('gateways').filter(notOurs).map(({ id: _id, ...rest }) => rest),
    rules: model.list('rules').filter(notOurs).map(({ id: _id, ...rest }) => rest),
    interfaces: model.list('interfaces').filter((iface) => !String(iface.descr).startsWith('MP_')),
  };
}

describe('pfSense driver against the simulator', () => {
  it('deploys a site: tunnel, enabled peers with allowed IPs, interface, gateway, routes, rules, 1:1 NAT, each area applied', async () => {
    const { sim, driver } = await start();
    const before = unmanaged(sim.model);
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
    expect(unmanaged(sim.model)).toEqual(before);
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
    const before = unmanaged(sim.model);
    const state = stateFor(siteSpec());
    await deploy(driver, state);
    const plan = driver.clearPlan(await driver.readState(state));
    expect(plan.operations.every((operation) => operation.op === 'delete')).toBe(true);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.model.list('tunnels')).toHaveLength(1);
    expect(sim.model.list('peers')).toHaveLength(1);
    expect(sim.model.list('interfaces').map((iface) => iface.id)).toEqual(['wan', 'lan']);
    expect(unmanaged(sim.model)).toEqual(before);
    expect(sim.model.isApplied('wireguard') && sim.model.isApplied('routing') && sim.model.isApplied('firewall')).toBe(true);
  });

  it('reports a dropped connection mid-apply clearly, and a rerun converges without duplicates', async () => {
    const { sim, driver } = await start();
    const state = stateFor(siteSpec());
    const actual = await driver.readState(state);
    const plan = driver.plan(state, actual);
    sim.faults.dropAfterRequests = 8;
    const broken = await driver.apply(plan);
    expect(broken.failed?.message).toMatch(/^UNREACHABLE: /);
    expect(broken.applied).toBeLessThan(plan.operations.length);

    const rerun = await deploy(driver, state);
    expect(rerun.result.failed).toBeNull();
    const tags = [...sim.model.list('tunnels'), ...sim.model.list('peers'), ...sim.model.list('gateways'), ...sim.model.list('routes'), ...sim.model.list('rules'), ...sim.model.list('oneToOne')]
      .map((item) => String(item.descr).split(' ')[0]).filter((descr) => descr?.startsWith('meshplane:'));
    expect(new Set(tags).size).toBe(tags.length);
    expect(sim.model.list('interfaces').filter((iface) => String(iface.descr).startsWith('MP_'))).toHaveLength(1);
    expect((await deploy(driver, state)).plan.operations).toEqual([]);
    expect(['wireguard', 'interfaces', 'routing', 'firewall'].every((area) => sim.model.isApplied(area as 'wireguard'))).toBe(true);
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

  it('refuses a peer whose key an unmanaged peer already uses, before touching the device', async () => {
    const { sim, driver } = await start();
    const spec = siteSpec();
    const b = spec.peers.find((item) => item.id === 'b');
    if (b) b.publicKey = sim.model.list('peers')[0]?.publickey as string;
    const state = stateFor(spec);
    const issues = driver.preflight(state, await driver.readState(state));
    expect(issues).toEqual([expect.objectContaining({ severity: 'ERROR', resource: 'vpn/wireguard/peer' })]);
  });
});

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
    sim = null;
    const closed = createPfSenseDriver(simTarget({ host: '127.0.0.1', port, caPem: '', username: 'x', password: 'y' } as unknown as PfSenseSimulator));
    try {
      expect(await closed.testConnection()).toMatchObject({ reachable: false, loggedIn: false, message: expect.stringMatching(/^UNREACHABLE/) });
    } finally {
      await closed.close();
    }
  });
});
