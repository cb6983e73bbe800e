// The README's ACL file (README › Devices › OpenWrt, step 3), taken literally from the README
// and installed on the simulator as /usr/share/rpcd/acl.d/meshplane.json: everything the
// driver does works with it (no less), and every grant in it is used by some call of the
// driver's life (no more): test connection, a deploy with translated LANs and a preshared
// key, a peer change made live with `wg set`, a NAT change (old include removed), a running
// device that differs from UCI (down/up), the driver's own rollback, statistics, discover,
// clear, and the logout.
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fnmatch, grantsFromFile } from '../../../test/sim/openwrt/acl.js';
import { startOpenWrtSimulator, type OpenWrtSimulator } from '../../../test/sim/openwrt/index.js';
import { MESHPLANE_ACL } from '../../../test/sim/openwrt/seed.js';
import { Sessions } from '../../../test/sim/openwrt/sessions.js';
import { subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import type { DesiredDeviceState } from '../driver.js';
import { createOpenWrtDriver, type OpenWrtDriver } from './driver.js';
import { uciInterfaceName } from './names.js';
import { REQUIRED_GRANTS } from './test-connection.js';
import { SIM_TIMING, siteSpec, simTarget, stateOf, TIME_SCALE } from './test-fixtures.js';

const README = new URL('../../../../README.md', import.meta.url);
const ACL_PATH = '/usr/share/rpcd/acl.d/meshplane.json';

/** The JSON block of step 3 under README › OpenWrt, as an admin would paste it. */
function readmeAcl(): string {
  const text = readFileSync(README, 'utf8');
  const step = text.indexOf(`3. \`${ACL_PATH}\``);
  expect(step, 'README step 3 names the ACL file').toBeGreaterThan(-1);
  const open = text.indexOf('```json', step);
  const close = text.indexOf('```', open + 7);
  return text.slice(open + 7, close).split('\n').map((line) => line.trim()).join('\n');
}

let sim: OpenWrtSimulator;
let driver: OpenWrtDriver;

beforeEach(async () => {
  sim = await startOpenWrtSimulator({ timeScale: TIME_SCALE });
  sim.model.files.write(ACL_PATH, readmeAcl());
  driver = createOpenWrtDriver(simTarget(sim, { timeoutMs: 2_000 }), { timing: SIM_TIMING });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await driver.close();
  await sim.stop();
});

async function deploy(state: DesiredDeviceState) {
  const result = await driver.apply(driver.plan(state, await driver.readState(state)));
  return result;
}

describe("README's ACL file", () => {
  it('is the file the simulator seeds, and Test connection finds every grant it asks for in it', async () => {
    expect(JSON.parse(readmeAcl())).toEqual(MESHPLANE_ACL);
    const report = await driver.testConnection();
    expect(report.failure, report.message).toBeUndefined();
    expect(report.message).toContain('every grant present');
    const granted = grantsFromFile(readmeAcl(), { read: ['meshplane'], write: ['meshplane'] }).filter((grant) => grant.scope !== 'access-group');
    // Test connection asks for exactly the file's grants: one missing from either is a mismatch.
    const covers = (grant: { scope: string; object: string; function: string }, [scope, object, fn]: readonly [string, string, string]) =>
      grant.scope === scope && fnmatch(grant.object, object) && fnmatch(grant.function, fn);
    expect(granted.filter((grant) => !REQUIRED_GRANTS.some((required) => covers(grant, required)))).toEqual([]);
  });

  it("is what the driver uses over a deploy's whole life: every grant is needed by some call, and every call is allowed", async () => {
    const used: Array<{ scope: string; object: string; fn: string }> = [];
    // session.access answers whether any grant is there (Test connection asks about each):
    // the checks it makes for its answer are not uses. Its body runs synchronously.
    let answeringAccess = false;
    const call = Sessions.prototype.call;
    vi.spyOn(Sessions.prototype, 'call').mockImplementation(function (this: Sessions, sid: string, method: string, args: Record<string, unknown>) {
      answeringAccess = method === 'access';
      try {
        return call.call(this, sid, method, args);
      } finally {
        answeringAccess = false;
      }
    });
    const access = Sessions.prototype.access;
    vi.spyOn(Sessions.prototype, 'access').mockImplementation(function (this: Sessions, sid: string, scope: string, object: string, fn: string) {
      const allowed = access.call(this, sid, scope, object, fn);
      if (answeringAccess) return allowed;
      if (allowed) used.push({ scope, object, fn });
      return allowed;
    });

    const psk = Buffer.alloc(32, 7).toString('base64');
    const spec: OverlaySpec = { ...siteSpec(true), presharedKeys: [{ peerAId: 'ow', peerBId: 'b', key: psk }] };
    const state = stateOf(spec);
    const first = await deploy(state);
    expect(first.failed, first.failed?.message).toBeNull();

    // A peer change goes live with wg set; its PSK through /tmp/meshplane-psk.
    const moved = stateOf({ ...spec, peers: spec.peers.map((peer) => (peer.id === 'b' ? { ...peer, subnets: [subnet('lanB', '192.168.3.0/24')] } : peer)) });
    const second = await deploy(moved);
    expect(second.failed, second.failed?.message).toBeNull();

    // Another translation: a new include file, the old one removed after the confirm.
    const renat = stateOf({
      ...spec,
      peers: spec.peers.map((peer) => (peer.id === 'ow' ? { ...peer, subnets: peer.subnets.map((lan) => (lan.id === 'lanOw' ? { ...lan, natCidr: '172.16.2.0/24' } : lan)) } : peer)),
    });
    const third = await deploy(renat);
    expect(third.failed, third.failed?.message).toBeNull();

    // The running device listens on another port than UCI says: restarted with down/up.
    const ifname = uciInterfaceName(state.peer.interface.name);
    const live = sim.model.runtime.wg.get(ifname)!;
    live.port += 1;
    const fourth = await deploy(renat);
    expect(fourth.failed, fourth.failed?.message).toBeNull();
    expect(sim.requests.filter((request) => request.object === 'network.interface' && (request.method === 'down' || request.method === 'up')).map((request) => request.status)).toEqual([0, 0]);

    // A check that fails before the confirm: the driver's own uci rollback.
    sim.faults.nftPrefixNat = false;
    const refused = await deploy(state);
    expect(refused.failed?.message).toMatch(/Meshplane rolled it back \(uci rollback\)/);
    sim.faults.nftPrefixNat = true;

    expect(await driver.statistics(state.peer.interface.name)).not.toBeNull();
    expect(driver.statsAvailable).toBe(true);
    expect((await driver.discover()).interfaces.length).toBeGreaterThan(0);
    // The afterOwnRollback probe (a session.access without object) and Test connection.
    expect((await driver.testConnection()).failure).toBeUndefined();

    const cleared = await driver.apply(driver.clearPlan(await driver.readState(state)));
    expect(cleared.failed, cleared.failed?.message).toBeNull();
    await driver.close();

    // No call was denied: neither by uhttpd (-32002) nor by rpcd's uci/file checks (6).
    expect(sim.requests.filter((request) => request.status === -32002 || request.status === 6)).toEqual([]);
    expect(sim.requests.filter((request) => request.object === 'uci' && request.method === 'rollback').map((request) => request.status)).toEqual([0]);
    const grants = grantsFromFile(readmeAcl(), { read: ['meshplane'], write: ['meshplane'] }).filter((grant) => grant.scope !== 'access-group');
    const unused = grants.filter((grant) => !used.some((check) => check.scope === grant.scope && fnmatch(grant.object, check.object) && fnmatch(grant.function, check.fn)));
    expect(unused.map((grant) => `${grant.scope} ${grant.object} ${grant.function}`)).toEqual([]);
  });

  it('without one of its grants a deploy writes nothing and names the grant, as Test connection does', async () => {
    const groups = JSON.parse(readmeAcl()) as { meshplane: { write: { uci: string[] } } };
    groups.meshplane.write.uci = ['network'];
    sim.model.files.write(ACL_PATH, JSON.stringify(groups));
    const report = await driver.testConnection();
    expect(report.failure).toBe('AUTH_FAILED');
    expect(report.message).toContain('uci firewall write');
    const before = { network: sim.model.uci.packageText('network'), firewall: sim.model.uci.packageText('firewall') };
    const result = await deploy(stateOf(siteSpec()));
    expect(result.applied).toBe(0);
    expect(result.failed?.message).toMatch(/^REFUSED: uci\.add: PERMISSION_DENIED \(6\): rpcd grants this login no "uci firewall write"; add it to \/usr\/share\/rpcd\/acl\.d\/meshplane\.json/);
    expect({ network: sim.model.uci.packageText('network'), firewall: sim.model.uci.packageText('firewall') }).toEqual(before);
    expect(sim.requests.some((request) => request.object === 'uci' && request.method === 'apply')).toBe(false);
  });
});
