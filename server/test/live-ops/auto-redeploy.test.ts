// Auto-redeploy end to end: a branch marked auto-deploy is redeployed to the simulated
// router by Meshplane itself when a change elsewhere in the WAN alters its configuration;
// the job appears on jobProgress(wanId), and its device call is audited as Meshplane's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOverlay, connected, deploy, Feed, JOB_FIELDS, MENU, managedRows, startCountedSimulator, startLiveApp,
  type CountedSimulator, type JobView, type LiveApp, type Overlay,
} from './harness.js';

describe('auto-redeploy to a simulated RouterOS', () => {
  let live: LiveApp;
  let counted: CountedSimulator;
  let overlay: Overlay;

  beforeAll(async () => {
    counted = await startCountedSimulator();
    live = await startLiveApp({ monitorIntervalMs: 3_600_000 });
    overlay = await buildOverlay(live.graphqlUrl, counted.sim);
  });
  afterAll(async () => {
    await live?.stop();
    await counted?.sim.stop();
  });

  it('redeploys an auto-deploy peer when another peer gains a LAN', async () => {
    const { admin, branchId, hqId, wanId } = overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { autoDeploy: true }) { peer { id } } }`, { id: branchId });

    const ws = overlay.ws();
    const jobs = new Feed<{ jobProgress: JobView }>(ws, `subscription ($wanId: ID!) { jobProgress(wanId: $wanId) { ${JOB_FIELDS} } }`, { wanId });
    await connected(ws);
    await admin.ok(`mutation ($peerId: ID!) { addSubnet(peerId: $peerId, input: { cidr: "192.168.30.0/24", description: "hq storage" }) { id } }`, { peerId: hqId });
    const seen = await jobs.waitFor((messages) => messages.some((message) => message.jobProgress.status === 'SUCCEEDED'), 'the automatic deploy', 800);
    jobs.close();
    await ws.dispose();

    const job = seen.find((message) => message.jobProgress.status === 'SUCCEEDED')!.jobProgress;
    expect(job.kind).toBe('DEPLOY');
    expect(managedRows(counted.sim, MENU.route).map((row) => row['dst-address'])).toContain('192.168.30.0/24');
    const { peer } = await admin.ok<{ peer: { configStatus: string } }>(`query ($id: ID!) { peer(id: $id) { configStatus } }`, { id: branchId });
    expect(peer.configStatus).toBe('CURRENT');

    const { auditLog } = await admin.ok<{ auditLog: { edges: Array<{ node: { actorLabel: string; outcome: string } }> } }>(
      `query { auditLog(first: 1, filter: { action: "device.deploy" }) { edges { node { actorLabel outcome } } } }`,
    );
    expect(auditLog.edges[0]?.node).toEqual({ actorLabel: 'meshplane (automatic)', outcome: 'ok' });
  });
});
