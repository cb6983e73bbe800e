// The OpenWrt driver against the simulator: the router's own rollback when a deploy cuts
// Meshplane's management path, the driver's rollback when a check before the confirm fails,
// sessions kept across a peer change (wg set, no teardown), a session that expires while the
// change is staged, and adoption of anonymous peers that LuCI renumbers in between.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeDropSweep } from '../../../test/contract/drop-sweep.js';
import { ADOPTED_REASON } from '../../domain/adoption/adoption-plan.js';
import { subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import type { DesiredDeviceState } from '../driver.js';
import { addHandMadeSetup } from '../../../test/sim/openwrt/hand-made.js';
import { demoHandMade, startOpenWrtSimulator, type OpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import { UbusTestClient } from '../../../test/sim/openwrt/test-client.js';
import { createOpenWrtDriver, type OpenWrtDriver } from './driver.js';
import { uciInterfaceName } from './names.js';
import { owrtSweepDevice, SIM_TIMING, siteSpec, simTarget, stateOf, TIME_SCALE } from './test-fixtures.js';

let sim: OpenWrtSimulator;
let driver: OpenWrtDriver;

beforeEach(async () => {
  sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
  driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 300 }), { timing: SIM_TIMING });
});

afterEach(async () => {
  await driver.close();
  await sim.stop();
});

async function deploy(state: DesiredDeviceState) {
  return driver.apply(driver.plan(state, await driver.readState(state)));
}

/** The committed UCI text of the packages a rollback restores. */
const committed = () => ({ network: sim.model.uci.packageText('network'), firewall: sim.model.uci.packageText('firewall') });

/** site b also routes the management network (198.51.100.0/24): the deploy sends Meshplane's replies into the tunnel. */
function cuttingState(spec: OverlaySpec): DesiredDeviceState {
  return stateOf({ ...spec, peers: spec.peers.map((peer) => (peer.id === 'b' ? { ...peer, subnets: [...peer.subnets, subnet('mgmt', '198.51.100.0/24')] } : peer)) });
}

describe('the router\'s rollback', () => {
  it('a deploy that cuts the management path fails naming the rollback, the router restores itself after its timer, and a deploy without the cut converges', async () => {
    const spec = siteSpec();
    const before = committed();
    const result = await deploy(cuttingState(spec));
    expect(result.applied, result.failed?.message).toBe(0);
    expect(result.failed?.message).toMatch(/UNREACHABLE: the change cut Meshplane's management path to OpenWrt site-b; the router rolled it back by itself after 90 s/);
    expect(committed()).toEqual(before);
    expect(sim.model.apply.applySid).toBeNull();
    const state = stateOf(spec);
    const again = await deploy(state);
    expect(again.failed, again.failed?.message).toBeNull();
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });

  it('a check before the confirm that fails (fw4 cannot load prefix NAT) makes the driver roll back itself, REFUSED', async () => {
    sim.faults.nftPrefixNat = false;
    const before = committed();
    const result = await deploy(stateOf(siteSpec()));
    expect(result.failed?.message).toMatch(/^REFUSED: the applied change did not check out .*this router's nftables cannot load prefix NAT.*Meshplane rolled it back \(uci rollback\)/);
    expect(sim.requests.filter((request) => request.object === 'uci' && request.method === 'rollback')).toEqual([{ object: 'uci', method: 'rollback', status: 0 }]);
    expect(sim.requests.some((request) => request.object === 'uci' && request.method === 'confirm')).toBe(false);
    expect(committed()).toEqual(before);
  });
});

describe('another session\'s protected apply', () => {
  it('pending since the plan was made: the deploy is refused as not applied at all, nothing of it stays staged, and LuCI\'s apply stays protected', async () => {
    const state = stateOf(siteSpec());
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.some((operation) => operation.kind === 'uci/apply')).toBe(false);
    const before = committed();
    const luci = new UbusTestClient(sim.url, sim.caPem);
    try {
      const sid = await luci.login('root', sim.rootPassword);
      expect((await luci.call(sid, 'uci', 'set', { config: 'network', section: 'lan', values: { ip6assign: '56' } })).result).toEqual([0]);
      expect((await luci.call(sid, 'uci', 'apply', { rollback: true, timeout: 90 })).result).toEqual([0]);
      const luciCommitted = committed();
      const result = await driver.apply(plan);
      expect(result.applied).toBe(0);
      expect(result.failed?.message).toMatch(/^REFUSED: uci\.apply: PERMISSION_DENIED \(6\): another session's change is pending on the router/);
      expect(committed()).toEqual(luciCommitted);
      expect(committed()).not.toEqual(before);
      expect(sim.model.apply.applySid).toBe(sid);
      // The driver's session holds nothing staged that a later apply would take along.
      const mine = (await driver.readState(state)).filter((resource) => resource.key !== null);
      expect(mine).toEqual([]);
      expect(sim.requests.filter((request) => request.object === 'uci' && request.method === 'revert').length).toBeGreaterThan(0);
      expect((await luci.call(sid, 'uci', 'confirm')).result).toEqual([0]);
    } finally {
      await luci.close();
    }
    const again = await deploy(state);
    expect(again.failed, again.failed?.message).toBeNull();
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });
});

describe('a reading while another session\'s apply is pending', () => {
  it('drops the driver\'s own leftover deltas with its session (rpcd refuses the revert): the reading is the router\'s', async () => {
    const state = stateOf(siteSpec());
    await driver.readState(state);
    const sid = (driver as unknown as { client: { session: string | null } }).client.session!;
    // What an interrupted run left staged in the driver's session.
    expect(sim.model.uci.add(sid, 'network', { type: 'route', name: 'mp_leftover', values: { interface: 'lan', target: '10.66.0.0/24', mp_tag: 'meshplane:x' } }).status).toBe(0);
    const luci = new UbusTestClient(sim.url, sim.caPem);
    try {
      const root = await luci.login('root', sim.rootPassword);
      expect((await luci.call(root, 'uci', 'set', { config: 'network', section: 'lan', values: { ip6assign: '56' } })).result).toEqual([0]);
      expect((await luci.call(root, 'uci', 'apply', { rollback: true, timeout: 90 })).result).toEqual([0]);
      const reading = await driver.read('meshplane', state.overlay.wan.id, null);
      expect(reading.network.mp_leftover).toBeUndefined();
      expect(reading.applyPending).toBe(true);
      expect(sim.model.uci.deltasOf(sid, 'network')).toEqual([]);
      expect((await luci.call(root, 'uci', 'confirm')).result).toEqual([0]);
    } finally {
      await luci.close();
    }
  });
});

describe("an admin's own WireGuard setup", () => {
  it('interface, anonymous peers, zone, forwarding, route and rule stay as they are through a deploy, a change and a clear, and their sessions run on', async () => {
    const spec = demoHandMade();
    spec.listenPort = 51821;
    addHandMadeSetup(sim.model, spec);
    const admin = 'ad000000000000000000000000000000';
    const { uci } = sim.model;
    expect(uci.add(admin, 'network', { type: 'route', values: { interface: 'wg0', target: '10.50.0.0/24' } }).status).toBe(0);
    expect(uci.add(admin, 'firewall', { type: 'zone', values: { name: 'vpn', network: ['wg0'], input: 'ACCEPT', output: 'ACCEPT', forward: 'REJECT' } }).status).toBe(0);
    expect(uci.add(admin, 'firewall', { type: 'forwarding', values: { src: 'vpn', dest: 'lan' } }).status).toBe(0);
    uci.commit(admin, 'network');
    uci.commit(admin, 'firewall');
    sim.model.runtime.reloadNetwork();
    sim.model.runtime.reloadFirewall();
    const before = committed();
    const running = structuredClone(sim.model.runtime.wg.get('wg0'));
    const base = siteSpec(true);
    const state = stateOf(base);
    expect(driver.preflight(state, await driver.readState(state)).filter((issue) => issue.severity === 'ERROR')).toEqual([]);
    expect((await deploy(state)).failed).toBeNull();
    const changed = stateOf({ ...base, peers: base.peers.map((peer) => (peer.id === 'b' ? { ...peer, subnets: [subnet('lanB', '192.168.3.0/24')] } : peer)) });
    expect((await deploy(changed)).failed).toBeNull();
    const cleared = await driver.apply(driver.clearPlan(await driver.readState(changed)));
    expect(cleared.failed, cleared.failed?.message).toBeNull();
    expect(committed()).toEqual(before);
    expect(sim.model.runtime.wg.get('wg0')).toEqual(running);
    expect(sim.requests.filter((request) => request.object === 'network.interface' && (request.method === 'down' || request.method === 'up'))).toEqual([]);
  });
});

describe('a NAT change fw4 does not load', () => {
  it('is rolled back although the earlier include stays loaded (nft -f is atomic): the check looks for the new content\'s chain', async () => {
    const spec = siteSpec();
    const state = stateOf(spec);
    expect((await deploy(state)).failed).toBeNull();
    const before = committed();
    const loaded = [...sim.model.runtime.fw.includes];
    const confirms = () => sim.requests.filter((request) => request.object === 'uci' && request.method === 'confirm').length;
    const confirmed = confirms();
    sim.faults.nftPrefixNat = false;
    const renat = stateOf({
      ...spec,
      peers: spec.peers.map((peer) => (peer.id === 'ow' ? { ...peer, subnets: peer.subnets.map((lan) => ({ ...lan, natCidr: '172.16.9.0/24' })) } : peer)),
    });
    const result = await deploy(renat);
    expect(result.failed?.message).toMatch(/^REFUSED: the applied change did not check out .*fw4 did not load chain mp_[0-9a-f]{8}_[0-9a-f]{8}_dst.*Meshplane rolled it back \(uci rollback\)/);
    expect(confirms()).toBe(confirmed);
    expect(committed()).toEqual(before);
    expect(sim.model.runtime.fw.includes).toEqual(loaded);
  });
});

describe('a confirm that arrives after the rollback timer', () => {
  it('is not taken for a confirmed change: the deploy failed, the router is as before, and the deltas rpcd gave back are not applied later', async () => {
    await driver.close();
    // A 10 s window, and checks that answer after it (the nft listing answers after 15 s).
    driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 2_000 }), { timing: { ...SIM_TIMING, rollbackSeconds: 10, checkDeadlineMs: 3_000 } });
    const state = stateOf(siteSpec());
    const before = committed();
    const plan = driver.plan(state, await driver.readState(state));
    sim.faults.slowCall = { object: 'file', method: 'exec', seconds: 15 };
    let result;
    try {
      result = await driver.apply(plan);
    } finally {
      sim.faults.slowCall = null;
    }
    expect(result.failed?.message).toMatch(/^REFUSED: uci\.confirm: NO_DATA \(5\): the router rolled the change back before Meshplane could confirm it/);
    expect(result.applied).toBe(0);
    expect(committed()).toEqual(before);
    expect(sim.model.apply.applySid).toBeNull();
    // The plan made now sees the router as it is, and applying it converges.
    const again = await driver.apply(driver.plan(state, await driver.readState(state)));
    expect(again.failed, again.failed?.message).toBeNull();
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });
});

describe('checks that outlast the rollback timer', () => {
  it('fail naming the router\'s own rollback, and the router is as before', async () => {
    await driver.close();
    driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 2_000 }), { timing: { ...SIM_TIMING, rollbackSeconds: 10, checkDeadlineMs: 1_000 } });
    const state = stateOf(siteSpec());
    const before = committed();
    const plan = driver.plan(state, await driver.readState(state));
    // netifd answers status after 15 s: the nft listing in the same batch runs after the timer.
    sim.faults.slowCall = { object: 'network.interface', method: 'status', seconds: 15 };
    let result;
    try {
      result = await driver.apply(plan);
    } finally {
      sim.faults.slowCall = null;
    }
    expect(result.failed?.message).toMatch(/^REFUSED: the applied change did not check out within 1 s \(.*\); the router's own 10 s timer had already rolled it back \(uci rollback: NO_DATA \(5\)\)$/);
    expect(result.applied).toBe(0);
    expect(committed()).toEqual(before);
  });
});

describe('preflight', () => {
  it('a translated LAN on a router without /etc/meshplane is an ERROR naming the mkdir (the seeded ACL lets the login stat the directory); with it, none', async () => {
    const state = stateOf(siteSpec());
    expect(sim.model.files.remove('/etc/meshplane')).toBe(true);
    const missing = driver.preflight(state, await driver.readState(state));
    expect(missing).toEqual(expect.arrayContaining([expect.objectContaining({ severity: 'ERROR', message: expect.stringContaining('mkdir -p /etc/meshplane') })]));
    sim.model.files.mkdir('/etc/meshplane');
    const present = driver.preflight(state, await driver.readState(state));
    expect(present.filter((issue) => issue.severity === 'ERROR')).toEqual([]);
  });
});

describe('a pending apply that is not one', () => {
  it('snapshot files left by an apply without rollback (LuCI, by hand) block nothing: the plan confirms, finds nothing pending, clears them, and the next plan is empty', async () => {
    const state = stateOf(siteSpec());
    const first = await deploy(state);
    expect(first.failed, first.failed?.message).toBeNull();
    const luci = new UbusTestClient(sim.url, sim.caPem);
    const sid = await luci.login('root', sim.rootPassword);
    expect((await luci.call(sid, 'uci', 'set', { config: 'network', section: 'lan', values: { ip6assign: '56' } })).result).toEqual([0]);
    expect((await luci.call(sid, 'uci', 'apply', { rollback: false })).result).toEqual([0]);
    await luci.close();
    expect(sim.model.apply.snapshotFileNames()?.length).toBeGreaterThan(0);
    expect(sim.model.apply.applySid).toBeNull();
    const plan = driver.plan(state, await driver.readState(state));
    expect(plan.operations.map((operation) => operation.kind)).toEqual(['uci/apply']);
    const result = await driver.apply(plan);
    expect(result.failed, result.failed?.message).toBeNull();
    expect(sim.model.apply.snapshotFileNames() ?? []).toEqual([]);
    expect(sim.model.uci.packageText('network')).toContain("option ip6assign '56'");
    expect(driver.plan(state, await driver.readState(state)).operations).toEqual([]);
  });
});

describe('sessions and staging', () => {
  it('keeps every session across an AllowedIPs change: handshake and counters unchanged, no teardown', async () => {
    const spec = siteSpec();
    const state = stateOf(spec);
    expect((await deploy(state)).failed).toBeNull();
    for (const [index, remote] of state.peer.peers.entries()) {
      expect(sim.setPeerStats(remote.publicKey, { latestHandshake: 1_765_000_000 + index, rx: BigInt(5_000 + index), tx: BigInt(7_000 + index) })).toBe(true);
    }
    const sessions = await driver.statistics(state.peer.interface.name);
    const changed = stateOf({ ...spec, peers: spec.peers.map((peer) => (peer.id === 'b' ? { ...peer, subnets: [subnet('lanB', '192.168.3.0/24')] } : peer)) });
    const plan = driver.plan(changed, await driver.readState(changed));
    expect(plan.operations.map((operation) => `${operation.op} ${operation.kind}`)).toEqual(['delete network/route', 'update network/peer', 'create network/route']);
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(sim.requests.filter((request) => request.object === 'network.interface' && (request.method === 'down' || request.method === 'up'))).toEqual([]);
    expect(await driver.statistics(state.peer.interface.name)).toEqual(sessions);
    const live = sim.model.runtime.wg.get(uciInterfaceName(state.peer.interface.name));
    expect(live?.peers.find((peer) => peer.publicKey === changed.peer.peers[0]!.publicKey)?.allowedIps).toEqual(['10.0.0.2/32', '192.168.3.0/24']);
    expect(driver.plan(changed, await driver.readState(changed)).operations).toEqual([]);
  });

  it('a session that expires while the change is staged is staged again from the start: one of each section, nothing twice', async () => {
    const state = stateOf(siteSpec());
    const actual = await driver.readState(state);
    const plan = driver.plan(state, actual);
    const push = sim.requests.push.bind(sim.requests);
    let adds = 0;
    sim.requests.push = (...records) => {
      const count = push(...records);
      for (const record of records) if (record.object === 'uci' && record.method === 'add' && ++adds === 3) sim.expireSessions();
      return count;
    };
    expect((await driver.apply(plan)).failed).toBeNull();
    expect(adds).toBeGreaterThan(plan.operations.length);
    const managed = (await driver.readState(state)).filter((resource) => resource.key !== null);
    expect(managed.map((resource) => resource.key).sort()).toEqual(driver.desiredResources(state).map((resource) => resource.key).sort());
    const sections = [...sim.model.uci.storedPackage('network')!, ...sim.model.uci.storedPackage('firewall')!].filter((section) => section.name?.startsWith('mp_'));
    expect(sections).toHaveLength(driver.desiredResources(state).length - 1);
  });
});

describe('adoption of anonymous sections', () => {
  it('tags the right hand-made peers although LuCI renumbered them between the reading and the adoption', async () => {
    const state = stateOf(siteSpec());
    const own = state.peer.interface;
    const ifname = uciInterfaceName(own.name);
    const seeded = addHandMadeSetup(sim.model, {
      interfaceName: ifname, privateKey: own.privateKey!, listenPort: 51820, addresses: own.addresses,
      peers: state.peer.peers.map((remote) => ({ publicKey: remote.publicKey, allowedIps: remote.allowedIps, description: `Site ${remote.peerId}` })),
    });
    const adoption = driver.adoptionPlan(state, await driver.readState(state));
    const peerOperations = adoption.plan.operations.filter((operation) => operation.kind === 'network/peer');
    expect(peerOperations.map((operation) => (operation as { id: string }).id)).toEqual(seeded.peerSections);
    // LuCI deletes an earlier anonymous section (the stock `globals`) and commits: every later
    // anonymous id shifts down by one, so the ids read now name other sections.
    const network = sim.model.uci.load('network')!;
    const globals = network.sections.find((section) => section.type === 'globals')!;
    expect(sim.model.uci.delete('luci', 'network', { section: globals.name }).status).toBe(0);
    sim.model.uci.commit('luci', 'network');
    const renumbered = sim.model.uci.load('network')!.sections.filter((section) => section.type === `wireguard_${ifname}`).map((section) => section.name);
    expect(renumbered).not.toEqual(seeded.peerSections);
    expect((await driver.apply(adoption.plan)).failed).toBeNull();
    for (const [index, remote] of state.peer.peers.entries()) {
      const section = sim.model.uci.load('network')!.sections.find((candidate) => candidate.options.get('public_key') === remote.publicKey)!;
      expect(section.options.get('mp_tag')).toBe(`meshplane:wan1:peer:${ifname}/${state.peer.peers[index]!.peerId}`);
      expect(section.options.get('description')).toBe(`Site ${remote.peerId}`);
    }
    expect(adoption.plan.operations.every((operation) => operation.op === 'update' && operation.reason === ADOPTED_REASON)).toBe(true);
  });
});

/** uci adds (one per section) and the include file of the sweep's deploy. */
const STAGED = 10;

describeDropSweep('OpenWrt driver', [{
  from: 'a router without Meshplane sections',
  failure: /^(applied and confirmed; (the running WireGuard device was not updated|an include file it stopped using was not removed): )?(UNREACHABLE|TIMEOUT): .*site-b/,
  start: () => {
    const psk = Buffer.alloc(32, 5).toString('base64');
    return owrtSweepDevice({ state: stateOf({ ...siteSpec(), presharedKeys: [{ peerAId: 'ow', peerBId: 'b', key: psk }] }), startFrom: null, secrets: [psk] });
  },
  // A drop while the applied change is checked (or while the next poll runs) is answered by the
  // next poll on a new connection: the deploy succeeds once everything was staged.
  bestEffort: (writes) => writes.filter((write) => write === 'uci.add' || write === 'file.write').length >= STAGED,
}]);
