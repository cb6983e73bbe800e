// Auto-redeploy end to end: a branch marked auto-deploy is redeployed to the simulated
// router by Meshplane itself when a change elsewhere in the WAN alters its configuration;
// the job appears on jobProgress(wanId), and its device call is audited as Meshplane's.
import { describe, expect, it } from 'vitest';
import { connected, deploy, Feed, JOB_FIELDS, liveFixture, managedRows, MENU, type JobView } from './harness.js';

describe('auto-redeploy to a simulated RouterOS', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 3_600_000 } });


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
    expect(managedRows(fx.counted.sim, MENU.route).map((row) => row['dst-address'])).toContain('192.168.30.0/24');
    const { peer } = await admin.ok<{ peer: { configStatus: string } }>(`query ($id: ID!) { peer(id: $id) { configStatus } }`, { id: branchId });
    expect(peer.configStatus).toBe('CURRENT');

    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { actorLabel: string; outcome: string } }> } }>(
      `query { auditLog(first: 1, filter: { action: "device.deploy" }) { edges { node { actorLabel outcome } } } }`,
    );
    expect(auditLog.edges[0]?.node).toEqual({ actorLabel: 'meshplane (automatic)', outcome: 'ok' });
  });
});
