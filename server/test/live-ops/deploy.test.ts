// GraphQL → job → RouterOS driver → simulator: plan, deploy (followed over graphql-ws, the
// WAN feed starting with the running job), idempotent redeploy, verify (a job) and drift,
// revert, clear, and an AllowedIPs edit that must be one peer `set` (no remove/add: sessions
// survive). Binary API here; REST in rest.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import { UNMANAGED_PEER } from '../sim/routeros/index.js';
import {
  COMPETING_ROUTE_COMMENT, deploy, Feed, JOB_FIELDS, liveFixture, managedRows, MENU, peerJob, planDeploy, unmanagedSnapshot, verify,
  type JobView,
} from './harness.js';

const DEPLOY_STEPS = ['Render configuration', 'Connect', 'Read device state', 'Preflight', 'Plan', 'Apply', 'Record deployment'];

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

    // Slow replies keep the deploy running, and a verify of the same device queued behind it,
    // while the WAN feed is opened. The feed must start with both as they are now: the
    // verify's only QUEUED event was published before anyone subscribed, so only the feed's
    // current value can show it.
    fx.counted.sim.faults.replyDelayMs = 1000;
    const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(
      `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`,
      { peerId: branchId, planHash: plan.planHash },
    );
    const { verifyPeer } = await admin.ok<{ verifyPeer: { id: string } }>(`mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { id } }`, { peerId: branchId });
    const ws = fx.overlay.ws();
    const byWan = new Feed<{ jobProgress: JobView }>(ws, `subscription ($wanId: ID!) { jobProgress(wanId: $wanId) { ${JOB_FIELDS} } }`, { wanId });
    const opening = await byWan.waitFor((messages) => messages.length >= 2, 'the WAN feed to start with the active jobs');
    fx.counted.sim.faults.replyDelayMs = 0;
    expect(opening.slice(0, 2).map(({ jobProgress: job }) => [job.id, job.kind])).toEqual([[deployPeer.id, 'DEPLOY'], [verifyPeer.id, 'VERIFY']]);
    expect(['QUEUED', 'RUNNING']).toContain(opening[0]!.jobProgress.status);
    expect(opening[1]!.jobProgress.status).toBe('QUEUED');
    const byId = new Feed<{ jobProgress: JobView }>(ws, `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { ${JOB_FIELDS} } }`, { jobId: deployPeer.id });
    const done = (messages: ReadonlyArray<{ jobProgress: JobView }>) => messages.some((message) => message.jobProgress.status === 'SUCCEEDED');
    const seen = await byId.waitFor(done, 'the deploy job to succeed');
    const bothDone = (messages: ReadonlyArray<{ jobProgress: JobView }>) =>
      [deployPeer.id, verifyPeer.id].every((id) => messages.some((message) => message.jobProgress.id === id && message.jobProgress.status === 'SUCCEEDED'));
    const wanSeen = await byWan.waitFor(bothDone, 'the WAN feed to report both jobs done');
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
    expect(new Set(wanSeen.map((message) => message.jobProgress.id))).toEqual(new Set([deployPeer.id, verifyPeer.id]));

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

  it('verifies as a job: no drift, then drift per resource after the router was edited by hand', async () => {
    const { admin, branchId } = fx.overlay;
    const inSync = await verify(admin, branchId);
    expect(inSync).toMatchObject({ kind: 'VERIFY', status: 'SUCCEEDED', drift: [] });
    expect(inSync.steps.map((step) => [step.name, step.status])).toEqual([['Render configuration', 'DONE'], ['Read device state', 'DONE'], ['Compare', 'DONE']]);
    expect(inSync.steps.at(-1)?.detail).toBe('in sync');

    const { sim } = fx.counted;
    const [wg] = managedRows(sim, MENU.interface);
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': wg!['.id']!, mtu: '1280' } });
    const [route] = managedRows(sim, MENU.route);
    sim.model.execute({ command: `${MENU.route}/remove`, attributes: { '.id': route!['.id']! } });

    const { drift } = await verify(admin, branchId);
    expect(drift).toHaveLength(2);
    expect(drift).toContainEqual(expect.objectContaining({ kind: MENU.interface, state: 'DIFFERENT', detail: expect.stringMatching(/mtu: 1280/) }));
    expect(drift).toContainEqual(expect.objectContaining({ kind: MENU.route, state: 'MISSING' }));
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await verify(admin, branchId)).drift).toEqual([]);
    // Verify jobs are in the WAN's job history like every other device job.
    const { jobs } = await admin.ok<{ jobs: { edges: Array<{ node: { id: string; kind: string } }> } }>(`query ($wanId: ID!) { jobs(wanId: $wanId, first: 50) { edges { node { id kind } } } }`, { wanId: fx.overlay.wanId });
    expect(jobs.edges.map((edge) => edge.node)).toContainEqual({ id: inSync.id, kind: 'VERIFY' });
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

  it('clears every Meshplane resource and leaves the unmanaged configuration as it was (the demoted route back at its distance)', async () => {
    const { admin, branchId } = fx.overlay;
    // Clearing needs no private key: it still works after the peer switched to bring-your-own.
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { publicKey: "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=" }) { peer { keyCustody } } }`, { id: branchId });
    const job = await peerJob(admin, 'clearPeer', branchId);
    expect(job.status).toBe('SUCCEEDED');
    const { sim } = fx.counted;
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    expect(unmanagedSnapshot(sim)).toEqual(unmanagedBefore);
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
