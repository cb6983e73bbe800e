// GraphQL → job → RouterOS driver → simulator: plan, deploy (followed over graphql-ws),
// idempotent redeploy, verify and drift, revert, clear, and an AllowedIPs edit that must be
// one peer `set` (no remove/add: sessions survive). Binary API here; REST in rest.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { UNMANAGED_PEER } from '../sim/routeros/index.js';
import {
  COMPETING_ROUTE_COMMENT, connected, deploy, Feed, JOB_FIELDS, liveFixture, managedRows, MENU, peerJob, planDeploy, unmanagedSnapshot,
  withCompetingRouteDemoted, type JobView,
} from './harness.js';

const DEPLOY_STEPS = ['Render configuration', 'Connect', 'Read device state', 'Plan', 'Apply', 'Record deployment'];

describe('live operations on a simulated RouterOS (binary API)', () => {
  const fx = liveFixture();
  let unmanagedBefore: ReturnType<typeof unmanagedSnapshot>;

  beforeAll(async () => {
    unmanagedBefore = unmanagedSnapshot(fx.counted.sim);
  });

  it('plans a readable diff, deploys it as a job followed over graphql-ws, and tags every resource', async () => {
    const { admin, branchId, wanId } = fx.overlay;
    const plan = await planDeploy(admin, branchId);
    expect(plan.operations).toBeGreaterThan(5);
    expect(plan.lines.some((line) => /interface\/wireguard/.test(line))).toBe(true);
    expect(plan.lines.some((line) => /192\.168\.2\.0\/24/.test(line) && /distance/.test(line))).toBe(true);

    const ws = fx.overlay.ws();
    const byWan = new Feed<{ jobProgress: JobView }>(ws, `subscription ($wanId: ID!) { jobProgress(wanId: $wanId) { ${JOB_FIELDS} } }`, { wanId });
    // The WAN feed sends no "current state" first: start the deploy once its socket is up.
    await connected(ws);
    const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(
      `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`,
      { peerId: branchId, planHash: plan.planHash },
    );
    const byId = new Feed<{ jobProgress: JobView }>(ws, `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { ${JOB_FIELDS} } }`, { jobId: deployPeer.id });
    const done = (messages: ReadonlyArray<{ jobProgress: JobView }>) => messages.some((message) => message.jobProgress.status === 'SUCCEEDED');
    const seen = await byId.waitFor(done, 'the deploy job to succeed');
    const wanSeen = await byWan.waitFor(done, 'the WAN feed to report the job');
    byId.close();
    byWan.close();
    await ws.dispose();

    const final = seen.at(-1)!.jobProgress;
    expect(final.status).toBe('SUCCEEDED');
    expect(final.steps.map((step) => step.name)).toEqual(DEPLOY_STEPS);
    expect(final.steps.every((step) => step.status === 'DONE')).toBe(true);
    expect(final.progress).toBe(100);
    expect(JSON.parse(final.result!)).toMatchObject({ applied: plan.operations, warnings: [] });
    // Steps only ever grow, in order, and statuses go forward.
    const stepNames = seen.map((message) => message.jobProgress.steps.map((step) => step.name));
    for (const names of stepNames) expect(DEPLOY_STEPS.slice(0, names.length)).toEqual(names);
    const order = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
    const statuses = seen.map((message) => order.indexOf(message.jobProgress.status));
    expect(statuses).toEqual([...statuses].sort((a, b) => a - b));
    expect(wanSeen.every((message) => message.jobProgress.id === deployPeer.id)).toBe(true);

    const { sim } = fx.counted;
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);
    expect(managedRows(sim, MENU.peers).map((row) => row['allowed-address'])).toHaveLength(2);
    expect(managedRows(sim, MENU.address)).toHaveLength(1);
    expect(managedRows(sim, MENU.route).map((row) => row['dst-address'])).toContain('192.168.2.0/24');
    expect(managedRows(sim, MENU.filter).length).toBeGreaterThan(0);
    const oldRoute = sim.model.rows(MENU.route).find((row) => row.comment === COMPETING_ROUTE_COMMENT);
    expect(oldRoute?.distance).toBe('11');
  });

  it('redeploys with zero writes and an empty plan', async () => {
    const { admin, branchId } = fx.overlay;
    expect((await planDeploy(admin, branchId)).operations).toBe(0);
    const writesBefore = fx.counted.writes().length;
    const job = await deploy(admin, branchId);
    expect(job.status).toBe('SUCCEEDED');
    expect(JSON.parse(job.result!)).toMatchObject({ applied: 0 });
    expect(job.steps.find((step) => step.name === 'Plan')?.detail).toMatch(/^0 changes/);
    expect(fx.counted.writes().length).toBe(writesBefore);
  });

  it('verifies: no drift, then drift per resource after the router was edited by hand', async () => {
    const { admin, branchId } = fx.overlay;
    const VERIFY = `mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { kind key state detail } }`;
    expect((await admin.ok<{ verifyPeer: unknown[] }>(VERIFY, { peerId: branchId })).verifyPeer).toEqual([]);

    const { sim } = fx.counted;
    const [wg] = managedRows(sim, MENU.interface);
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': wg!['.id']!, mtu: '1280' } });
    const [route] = managedRows(sim, MENU.route);
    sim.model.execute({ command: `${MENU.route}/remove`, attributes: { '.id': route!['.id']! } });

    const drift = (await admin.ok<{ verifyPeer: Array<{ kind: string; key: string; state: string; detail: string }> }>(VERIFY, { peerId: branchId })).verifyPeer;
    expect(drift).toHaveLength(2);
    expect(drift).toContainEqual(expect.objectContaining({ kind: MENU.interface, state: 'DIFFERENT', detail: expect.stringMatching(/mtu: 1280/) }));
    expect(drift).toContainEqual(expect.objectContaining({ kind: MENU.route, state: 'MISSING' }));
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await admin.ok<{ verifyPeer: unknown[] }>(VERIFY, { peerId: branchId })).verifyPeer).toEqual([]);
  });

  it('an AllowedIPs change to one remote is exactly one peer `set`, no remove or add', async () => {
    const { admin, branchId, hqId, hqPublicKey } = fx.overlay;
    await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.20.0/24", description: "hq lab" }) { id } }`, { peerId: hqId });
    const from = fx.counted.commands.length;
    const job = await deploy(admin, branchId);
    expect(job.status).toBe('SUCCEEDED');
    const writes = fx.counted.commands.slice(from).filter((command) => /\/(add|set|remove)$/.test(command));
    const peerWrites = writes.filter((command) => command.startsWith(`${MENU.peers}/`));
    expect(peerWrites).toEqual([`${MENU.peers}/set`]);
    const hq = managedRows(fx.counted.sim, MENU.peers).find((row) => row['public-key'] === hqPublicKey);
    expect(hq?.['allowed-address']).toContain('192.168.20.0/24');
    // The new LAN also gets its route; nothing else changes.
    expect(writes.filter((command) => !command.startsWith(`${MENU.peers}/`))).toEqual([`${MENU.route}/add`]);
  });

  it('reverts to the previous successful deployment', async () => {
    const { admin, branchId, hqPublicKey } = fx.overlay;
    const job = await peerJob(admin, 'revertPeer', branchId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.kind).toBe('REVERT');
    const hq = managedRows(fx.counted.sim, MENU.peers).find((row) => row['public-key'] === hqPublicKey);
    expect(hq?.['allowed-address']).not.toContain('192.168.20.0/24');
    expect(managedRows(fx.counted.sim, MENU.route).map((row) => row['dst-address'])).not.toContain('192.168.20.0/24');
  });

  it('clears every Meshplane resource and leaves the unmanaged configuration as it was (route still demoted)', async () => {
    const { admin, branchId } = fx.overlay;
    // Clearing needs no private key: it still works after the peer switched to bring-your-own.
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { publicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" }) { peer { keyCustody } } }`, { id: branchId });
    const job = await peerJob(admin, 'clearPeer', branchId);
    expect(job.status).toBe('SUCCEEDED');
    const { sim } = fx.counted;
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    expect(unmanagedSnapshot(sim)).toEqual(withCompetingRouteDemoted(unmanagedBefore));
    expect(sim.model.rows(MENU.peers).some((row) => row['public-key'] === UNMANAGED_PEER.publicKey)).toBe(true);
  });

  it('audits every device call with device, operation, outcome, duration and actor', async () => {
    const { admin, deviceId } = fx.overlay;
    fx.counted.sim.faults.refuseLogin = true;
    const { testDeviceConnection } = await admin.ok<{ testDeviceConnection: { loggedIn: boolean; message: string } }>(
      `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn message } }`, { id: deviceId },
    );
    fx.counted.sim.faults.reset();
    expect(testDeviceConnection.loggedIn).toBe(false);

    interface Entry { action: string; actorLabel: string; targetId: string; outcome: string; durationMs: number | null; details: string }
    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: Entry }> } }>(
      `query { auditLog(first: 200, filter: { action: "device.", targetType: "Device" }) { edges { node { action actorLabel targetId outcome durationMs details } } } }`,
    );
    // device.create/update/delete are changes to the record, not calls to the device.
    const entries = auditLog.edges.map((edge) => edge.node).filter((entry) => !/^device\.(create|update|delete)$/.test(entry.action));
    expect(entries.every((entry) => entry.targetId === deviceId && entry.durationMs !== null && entry.durationMs >= 0)).toBe(true);
    const byAdmin = entries.filter((entry) => entry.actorLabel.startsWith('admin@example.net'));
    const actions = new Set(byAdmin.map((entry) => entry.action));
    for (const action of ['device.plan', 'device.deploy', 'device.verify', 'device.revert', 'device.clear', 'device.testConnection']) expect(actions, action).toContain(action);
    expect(byAdmin.filter((entry) => entry.action === 'device.deploy').every((entry) => JSON.parse(entry.details).device === 'sim-router')).toBe(true);
    const [refused] = byAdmin.filter((entry) => entry.action === 'device.testConnection');
    expect(refused).toMatchObject({ outcome: 'failed' });
    expect(JSON.parse(refused!.details).message).toMatch(/invalid user name or password|login|auth/i);
    // The monitor's reads are audited when the device is first read and whenever it stops or starts answering.
    expect(entries).toContainEqual(expect.objectContaining({ action: 'device.statistics', actorLabel: 'meshplane (monitor)', outcome: 'ok' }));
  });
});
