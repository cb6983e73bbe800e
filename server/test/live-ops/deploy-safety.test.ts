// Issue 14 items 2, 3 and 6 through GraphQL against the simulators: a deploy refuses on any
// preflight ERROR unless overridden with a reason (audited); preflight knows the device's own
// networks (pfSense's default LAN); a failed apply is undone in reverse order, or the job and
// History name what is left; a demoted route gets its distance back on clear and on a deploy
// that no longer competes with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPfSenseSimulator, type PfSenseSimulator } from '../sim/pfsense/index.js';
import { WIREGUARD } from '../sim/routeros/index.js';
import type { GraphQLTestClient } from '../support/graphql.js';
import {
  buildPfSenseMesh, COMPETING_ROUTE_COMMENT, finishedJob, liveFixture, managedRows, MENU, peerJob, planDeploy, startLiveApp, unmanagedSnapshot, type JobView, type LiveApp,
} from './harness.js';

const DEPLOY = `mutation ($peerId: ID!, $override: PreflightOverrideInput) { deployPeer(peerId: $peerId, approve: true, overridePreflight: $override) { id } }`;
const HISTORY = `query ($id: ID!) { peer(id: $id) { deployments { status success error leftovers jobId configHash } } }`;

interface HistoryRow { status: string; success: boolean; error: string | null; leftovers: string[]; jobId: string | null; configHash: string }

async function deployNow(admin: GraphQLTestClient, peerId: string, reason?: string): Promise<JobView> {
  const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(DEPLOY, { peerId, override: reason === undefined ? null : { reason } });
  return finishedJob(admin, deployPeer.id);
}

/** The undo summary's count in the right number, as the job writes it ('1 change undone', '4 changes undone'). */
const undoneCount = (n: number) => `${n} ${n === 1 ? 'change' : 'changes'} undone`;

async function history(admin: GraphQLTestClient, peerId: string): Promise<HistoryRow[]> {
  return (await admin.ok<{ peer: { deployments: HistoryRow[] } }>(HISTORY, { id: peerId })).peer.deployments;
}

describe.each(['ROUTEROS_API', 'ROUTEROS_REST'] as const)('deploys that cannot or did not work leave the router as it was (%s)', (kind) => {
  const fx = liveFixture({ kind, app: { monitorIntervalMs: 3_600_000 } });
  const competing = () => fx.counted.sim.model.rows(MENU.route).find((row) => row.comment === COMPETING_ROUTE_COMMENT)!;

  it('refuses on a preflight ERROR without writing, and goes ahead only with an audited reason', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    sim.model.execute({ command: `${WIREGUARD}/add`, attributes: { name: 'wg-home', 'listen-port': '51820', comment: 'home tunnel' } });
    const plan = await planDeploy(admin, branchId);
    const { planDeploy: shown } = await admin.ok<{ planDeploy: { preflight: Array<{ severity: string; message: string }> } }>(`mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { preflight { severity message } } }`, { peerId: branchId });
    expect(plan.operations).toBeGreaterThan(0);
    expect(shown.preflight).toContainEqual({ severity: 'ERROR', message: expect.stringContaining('listen port 51820 is already used by WireGuard interface wg-home') });

    const writes = fx.counted.writes().length;
    const refused = await deployNow(admin, branchId);
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toMatch(/Preflight found 1 error; nothing was changed on the device: listen port 51820 is already used by WireGuard interface wg-home/);
    expect(refused.steps.at(-1)).toMatchObject({ name: 'Preflight', status: 'FAILED' });
    expect(fx.counted.writes().length).toBe(writes);

    expect(await admin.errorCodes(DEPLOY, { peerId: branchId, override: { reason: ' ' } })).toEqual(['BAD_USER_INPUT']);
    const overridden = await deployNow(admin, branchId, 'home tunnel is being retired tonight');
    expect(overridden.status, overridden.error ?? '').toBe('SUCCEEDED');
    expect(overridden.log).toContain('preflight errors overridden by admin@example.net: home tunnel is being retired tonight');
    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { action: string; targetId: string; details: string } }> } }>(
      `query { auditLog(first: 20, filter: { action: "peer.deploy.overridePreflight" }) { edges { node { action targetId details } } } }`,
    );
    expect(auditLog.edges).toHaveLength(1);
    expect(auditLog.edges[0]!.node.targetId).toBe(branchId);
    expect(JSON.parse(auditLog.edges[0]!.node.details)).toMatchObject({ reason: 'home tunnel is being retired tonight', jobId: overridden.id });

    // Item 6: clear puts the demoted route back as it was.
    expect(competing().distance).toBe('11');
    const cleared = await peerJob(admin, 'clearPeer', branchId);
    expect(cleared.status).toBe('SUCCEEDED');
    expect(competing().distance).toBe('1');
    const home = sim.model.rows(WIREGUARD).find((row) => row.name === 'wg-home')!;
    sim.model.execute({ command: `${WIREGUARD}/remove`, attributes: { '.id': home['.id']! } });
  });

  it('undoes a refused apply in reverse order; History lists the failed attempt', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const before = unmanagedSnapshot(sim);
    sim.faults.trap(`${MENU.nat}/add`, 'failure: simulated refusal of nat');
    sim.faults.trap(`${MENU.filter}/add`, 'failure: simulated refusal of filter');
    const failed = await deployNow(admin, branchId);
    sim.faults.reset();
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/could not create \/ip\/firewall\/filter: .*failure: simulated refusal of filter.* \(\d+ changes? undone; the device is as before\)$/);
    expect(failed.steps.slice(-2).map((step) => [step.name, step.status])).toEqual([['Apply', 'FAILED'], ['Undo', 'DONE']]);
    const undoLines = failed.log.split('\n').filter((line) => line.includes('undo: '));
    expect(failed.error).toContain(`(${undoneCount(undoLines.length)}; the device is as before)`);
    // Reverse order: the route (created last) goes first, the interface (created first) last; the demotion is put back.
    expect(undoLines.at(0)).toMatch(/undo: ~ update route to .*distance 11 → 1|undo: - remove route to /);
    expect(undoLines.at(-1)).toMatch(/undo: - remove WireGuard interface /);
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    expect(unmanagedSnapshot(sim)).toEqual(before);
    expect(competing().distance).toBe('1');
    const [attempt] = await history(admin, branchId);
    expect(attempt).toMatchObject({ status: 'FAILED', success: false, jobId: failed.id, leftovers: [], error: expect.stringContaining('simulated refusal of filter') });
  });

  it('names what it could not undo, records a PARTIAL deployment, and clear removes the leftovers', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const before = unmanagedSnapshot(sim);
    sim.faults.trap(`${MENU.filter}/add`, 'failure: simulated refusal of filter');
    sim.faults.trap(`${MENU.interface}/remove`, 'failure: simulated refusal to remove');
    const failed = await deployNow(admin, branchId);
    sim.faults.reset();
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatch(/1 left on the device: created by this job and still there: WireGuard interface .*clear or revert the peer to remove them/);
    expect(failed.log).toMatch(/leftover: created by this job and still there: WireGuard interface /);
    const [attempt] = await history(admin, branchId);
    expect(attempt).toMatchObject({ status: 'PARTIAL', success: false, jobId: failed.id });
    expect(attempt!.leftovers).toEqual([expect.stringMatching(/^created by this job and still there: WireGuard interface wg0$/)]);
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);

    expect((await peerJob(admin, 'clearPeer', branchId)).status).toBe('SUCCEEDED');
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    expect(unmanagedSnapshot(sim)).toEqual(before);
  });

  it('a deploy that no longer routes the LAN puts its demoted route back', async () => {
    const { admin, branchId, hqId } = fx.overlay;
    expect((await deployNow(admin, branchId)).status).toBe('SUCCEEDED');
    expect(competing().distance).toBe('11');
    const { peer } = await admin.ok<{ peer: { subnets: Array<{ id: string; cidr: string }> } }>(`query ($id: ID!) { peer(id: $id) { subnets { id cidr } } }`, { id: hqId });
    const lan = peer.subnets.find((subnet) => subnet.cidr === '192.168.2.0/24')!;
    await admin.ok(`mutation ($id: ID!) { deleteSubnet(id: $id) }`, { id: lan.id });
    const redeployed = await deployNow(admin, branchId);
    expect(redeployed.status).toBe('SUCCEEDED');
    expect(redeployed.log).toMatch(/update route to 192\.168\.2\.0\/24 \(not managed by Meshplane\): distance 11 → 1 \(put back as it was before Meshplane/);
    expect(competing().distance).toBe('1');
  });

  it('revert after a PARTIAL attempt and a later FAILED one goes back to the last success, removing the leftovers', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const [lastSuccess, earlierSuccess] = (await history(admin, branchId)).filter((row) => row.status === 'SUCCEEDED');
    expect(lastSuccess!.configHash).not.toBe(earlierSuccess!.configHash);
    expect((await peerJob(admin, 'clearPeer', branchId)).status).toBe('SUCCEEDED');
    sim.faults.trap(`${MENU.filter}/add`, 'failure: simulated refusal of filter');
    sim.faults.trap(`${MENU.interface}/remove`, 'failure: simulated refusal to remove');
    await deployNow(admin, branchId);
    sim.faults.untrap(`${MENU.interface}/remove`);
    // Undone to the device as this job found it: the PARTIAL attempt's interface is still there.
    await deployNow(admin, branchId);
    sim.faults.reset();
    expect((await history(admin, branchId)).slice(0, 2).map((row) => row.status)).toEqual(['FAILED', 'PARTIAL']);
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);

    const reverted = await peerJob(admin, 'revertPeer', branchId);
    expect(reverted.status, reverted.error ?? '').toBe('SUCCEEDED');
    const [latest] = await history(admin, branchId);
    expect(latest).toMatchObject({ status: 'SUCCEEDED', jobId: reverted.id, configHash: lastSuccess!.configHash });
    expect((await planDeploy(admin, branchId)).operations).toBe(0);
  });
});

describe('pfSense: preflight knows the firewall\'s own LAN; a refused route is undone', () => {
  let live: LiveApp;
  let sim: PfSenseSimulator;
  let admin: GraphQLTestClient;
  let branchId: string;
  const snapshot = () => JSON.stringify(['tunnels', 'peers', 'gateways', 'routes', 'rules', 'oneToOne', 'interfaces'].map((list) => sim.model.list(list as 'tunnels')));

  beforeAll(async () => {
    sim = await startPfSenseSimulator({ authMethods: ['KeyAuth'], applyDelayMs: 5 });
    live = await startLiveApp({ monitorIntervalMs: 3_600_000 });
    ({ admin, branchId } = await buildPfSenseMesh(live.graphqlUrl, sim, '192.168.1.0/24'));
  });
  afterAll(async () => {
    await live?.stop();
    await sim?.stop();
  });

  it('refuses the route to hq\'s LAN that overlaps the firewall\'s LAN in preflight, naming the fix; overridden, the refused apply is undone', async () => {
    const plan = await admin.ok<{ planDeploy: { preflight: Array<{ severity: string; message: string }> } }>(`mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { preflight { severity message } } }`, { peerId: branchId });
    expect(plan.planDeploy.preflight).toContainEqual({
      severity: 'ERROR',
      message: "the firewall's own network 192.168.1.0/24 on LAN (lan) overlaps hq's LAN 192.168.1.0/24: add it as this peer's LAN and translate one of them",
    });
    const before = snapshot();
    const writes = sim.requests.filter((request) => request.method !== 'GET').length;
    const refused = await deployNow(admin, branchId);
    expect(refused.status).toBe('FAILED');
    expect(refused.error).toContain("overlaps hq's LAN 192.168.1.0/24");
    expect(sim.requests.filter((request) => request.method !== 'GET').length).toBe(writes);

    const overridden = await deployNow(admin, branchId, 'checking that pfSense refuses it');
    expect(overridden.status).toBe('FAILED');
    expect(overridden.error).toMatch(/STATIC_ROUTE_CONFLICTS_WITH_IPV4_INTERFACE.* \(\d+ changes? undone; the device is as before\)$/);
    expect(overridden.log).toMatch(/undo: - remove WireGuard interface /);
    const undone = overridden.log.split('\n').filter((line) => line.includes('undo: ')).length;
    expect(overridden.error).toContain(`(${undoneCount(undone)}; the device is as before)`);
    expect(snapshot()).toEqual(before);
    const rows = await history(admin, branchId);
    expect(rows.map((row) => row.status)).toEqual(['FAILED']);
    expect(rows[0]!.error).toContain('STATIC_ROUTE_CONFLICTS_WITH_IPV4_INTERFACE');
  });
});
