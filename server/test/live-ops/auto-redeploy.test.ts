// Auto-redeploy end to end: a branch marked auto-deploy is redeployed to the simulated
// router by Meshplane itself when a change elsewhere in the WAN alters its configuration;
// the job appears on jobProgress(wanId), and its device call is audited as Meshplane's. A
// burst of edits makes one deploy; an edit made while a deploy runs (after it rendered) gets
// a follow-up deploy once that one ends.
import { describe, expect, it } from 'vitest';
import { autoRedeploySettled, connected, deploy, Feed, JOB_FIELDS, liveFixture, managedRows, MENU, type JobView } from './harness.js';

const ADD_SUBNET = `mutation ($peerId: ID!, $cidr: String!) { addSubnet(peerId: $peerId, input: { cidr: $cidr }) { id } }`;

describe('auto-redeploy to a simulated RouterOS', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 3_600_000, autoRedeployDebounceMs: 500 } });

  const routes = () => managedRows(fx.counted.sim, MENU.route).map((row) => row['dst-address']);
  const configStatus = async (peerId: string) =>
    (await fx.overlay.admin.ok<{ peer: { configStatus: string } }>(`query ($id: ID!) { peer(id: $id) { configStatus } }`, { id: peerId })).peer.configStatus;
  const deployJobs = () => fx.live.app.database.prisma.deployJob.findMany({ where: { peerId: fx.overlay.branchId, kind: 'DEPLOY' }, orderBy: { createdAt: 'asc' }, select: { id: true, status: true } });

  it('redeploys an auto-deploy peer when another peer gains a LAN', async () => {
    const { admin, branchId, hqId, wanId } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { autoDeploy: true }) { peer { id } } }`, { id: branchId });

    const ws = fx.overlay.ws();
    const jobs = new Feed<{ jobProgress: JobView }>(ws, `subscription ($wanId: ID!) { jobProgress(wanId: $wanId) { ${JOB_FIELDS} } }`, { wanId });
    await connected(ws);
    await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.30.0/24", description: "hq storage" }) { id } }`, { peerId: hqId });
    const seen = await jobs.waitFor((messages) => messages.some((message) => message.jobProgress.status === 'SUCCEEDED'), 'the automatic deploy', 800);
    jobs.close();
    await ws.dispose();

    const job = seen.find((message) => message.jobProgress.status === 'SUCCEEDED')!.jobProgress;
    expect(job.kind).toBe('DEPLOY');
    expect(routes()).toContain('192.168.30.0/24');
    expect(await configStatus(branchId)).toBe('CURRENT');

    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { actorLabel: string; outcome: string } }> } }>(
      `query { auditLog(first: 1, filter: { action: "device.deploy" }) { edges { node { actorLabel outcome } } } }`,
    );
    expect(auditLog.edges[0]?.node).toEqual({ actorLabel: 'meshplane (automatic)', outcome: 'ok' });
  });

  it('a burst of edits makes one deploy job', async () => {
    const { admin, hqId } = fx.overlay;
    const autoRedeploy = fx.live.app.services.autoRedeploy;
    await autoRedeploySettled([fx.live.app], [autoRedeploy.checks - 1]);
    const before = (await deployJobs()).length;
    const lans = ['192.168.33.0/24', '192.168.34.0/24', '192.168.35.0/24'];
    const checks = autoRedeploy.checks;
    // Sent at once: well inside the debounce.
    await Promise.all(lans.map((cidr) => admin.ok(ADD_SUBNET, { peerId: hqId, cidr })));
    await autoRedeploySettled([fx.live.app], [checks]);

    expect((await deployJobs()).slice(before).map((job) => job.status)).toEqual(['SUCCEEDED']);
    expect(routes()).toEqual(expect.arrayContaining(lans));
    expect(await configStatus(fx.overlay.branchId)).toBe('CURRENT');
  });

  it('an edit made while a deploy runs is deployed by a follow-up once it ends', async () => {
    const { admin, hqId, wanId, branchId } = fx.overlay;
    const autoRedeploy = fx.live.app.services.autoRedeploy;
    const before = (await deployJobs()).length;
    const ws = fx.overlay.ws();
    const jobs = new Feed<{ jobProgress: JobView }>(ws, `subscription ($wanId: ID!) { jobProgress(wanId: $wanId) { ${JOB_FIELDS} } }`, { wanId });
    await connected(ws);
    // Slow replies (within the device timeout) keep the first deploy running after it rendered.
    fx.counted.sim.faults.replyDelayMs = 1500;
    try {
      await admin.ok(ADD_SUBNET, { peerId: hqId, cidr: '192.168.36.0/24' });
      const hasRendered = (message: { jobProgress: JobView }) => message.jobProgress.steps.some((step) => step.name === 'Render configuration' && step.status === 'DONE');
      const first = (await jobs.waitFor((messages) => messages.some(hasRendered), 'the first deploy to render', 800)).find(hasRendered)!.jobProgress.id;
      const followUps = autoRedeploy.followUps;
      await admin.ok(ADD_SUBNET, { peerId: hqId, cidr: '192.168.37.0/24' });
      for (let poll = 0; poll < 400 && autoRedeploy.followUps === followUps; poll++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(autoRedeploy.followUps).toBe(followUps + 1);
      expect((await deployJobs()).slice(before)).toEqual([{ id: first, status: 'RUNNING' }]);
    } finally {
      fx.counted.sim.faults.replyDelayMs = 0;
    }
    await autoRedeploySettled([fx.live.app], [autoRedeploy.checks]);
    jobs.close();
    await ws.dispose();

    expect((await deployJobs()).slice(before).map((job) => job.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(routes()).toEqual(expect.arrayContaining(['192.168.36.0/24', '192.168.37.0/24']));
    expect(await configStatus(branchId)).toBe('CURRENT');
  });
});
