// Readable plans, drift, statistics and job logs, the jobs filters and the deployment history,
// through GraphQL against a simulated RouterOS: every item named from the overlay (never an
// id, never ∅), updates as before → after rows, drift in the same words, history saying who
// did what (a user, auto-redeploy, a revert to a dated deployment, a clear), past
// configurations viewable and diffable with secrets masked for every role.
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphQLTestClient } from '../support/graphql.js';
import { COMPETING_ROUTE_COMMENT, deploy, finishedJob, liveFixture, managedRows, MENU, peerJob, planDeploy } from './harness.js';

const ID_SHAPED = /\bc[a-z0-9]{20,}\b/;

const PLAN = `mutation ($peerId: ID!) { planDeploy(peerId: $peerId) {
  planHash summary operations lines preflight { severity resource message deviceRef }
  groups { group create update remove items { action label reason fields { field before after } } }
} }`;

interface ReadablePlan {
  planHash: string;
  summary: string;
  operations: number;
  lines: string[];
  preflight: Array<{ severity: string; resource: string; message: string; deviceRef: string | null }>;
  groups: Array<{ group: string; create: number; update: number; remove: number; items: Array<{ action: string; label: string; reason: string | null; fields: Array<{ field: string; before: string | null; after: string | null }> }> }>;
}

const HISTORY = `query ($id: ID!) { peer(id: $id) { history { action status actorName automatic at revertedTo jobId deployment { id config } } } }`;
interface HistoryView {
  action: string;
  status: string;
  actorName: string;
  automatic: boolean;
  at: string;
  revertedTo: string | null;
  jobId: string | null;
  deployment: { id: string; config: string } | null;
}

const JOBS = `query ($wanId: ID, $kind: JobKind, $status: JobStatus, $trigger: JobTrigger, $after: String) {
  jobs(wanId: $wanId, kind: $kind, status: $status, trigger: $trigger, first: 2, after: $after) { edges { cursor node { id kind status automatic actorName } } pageInfo { hasNextPage endCursor } }
}`;
interface JobRow { id: string; kind: string; status: string; automatic: boolean; actorName: string }

describe('readable plans, drift, job logs, jobs filters and history (RouterOS simulator)', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 3_600_000 } });
  let viewer: GraphQLTestClient;
  let branchPrivateKey: string;

  /** Every job matching the filters, following the cursor two at a time. */
  async function allJobs(client: GraphQLTestClient, filters: Record<string, string>): Promise<JobRow[]> {
    const rows: JobRow[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const answer: { jobs: { edges: Array<{ node: JobRow }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await client.ok(JOBS, { ...filters, after });
      const { jobs } = answer;
      rows.push(...jobs.edges.map((edge) => edge.node));
      if (!jobs.pageInfo.hasNextPage) return rows;
      after = jobs.pageInfo.endCursor;
    }
    throw new Error('too many pages');
  }

  beforeAll(async () => {
    const { admin } = fx.overlay;
    const { createInvite } = await admin.ok<{ createInvite: { token: string } }>(`mutation { createInvite(input: { email: "viewer@example.net", role: VIEWER }) { token } }`);
    viewer = new GraphQLTestClient(fx.live.graphqlUrl);
    await viewer.ok(`mutation ($input: RegisterInput!) { register(input: $input) { user { id } } }`, {
      input: { email: 'viewer@example.net', name: 'Vera Viewer', password: 'correct horse battery staple', inviteToken: createInvite.token },
    });
    const { downloadPeerConfig } = await admin.ok<{ downloadPeerConfig: { content: string } }>(`mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { content } }`, { peerId: fx.overlay.branchId });
    branchPrivateKey = /private-key="?([A-Za-z0-9+/=]{44})/.exec(downloadPeerConfig.content)?.[1] ?? /PrivateKey = (\S+)/.exec(downloadPeerConfig.content)![1]!;
  });

  it('a first plan is grouped by kind with counts, every item named, no id and no ∅', async () => {
    const { admin, branchId } = fx.overlay;
    const { planDeploy: plan } = await admin.ok<{ planDeploy: ReadablePlan }>(PLAN, { peerId: branchId });
    const groups = Object.fromEntries(plan.groups.map((group) => [group.group, group]));
    expect(Object.keys(groups)).toEqual(expect.arrayContaining(['WireGuard interfaces', 'WireGuard peers', 'Addresses', 'Routes', 'Firewall rules']));
    const labels = groups['WireGuard peers']!.items.map((item) => item.label).sort();
    expect(labels).toEqual([expect.stringMatching(/^peer hq \(10\.\d+\.\d+\.\d+\)$/), expect.stringMatching(/^peer laptop \(10\.\d+\.\d+\.\d+\)$/)]);
    expect(groups['WireGuard peers']!.create).toBe(2);
    expect(groups['Routes']!.items.map((item) => item.label)).toContainEqual(expect.stringMatching(/^route to 192\.168\.2\.0\/24 \(LAN of hq\) via hq/));
    expect(groups['Firewall rules']!.items.map((item) => item.label)).toContain('accept WireGuard on UDP 51820');
    const creates = plan.groups.reduce((sum, group) => sum + group.create, 0);
    expect(plan.summary).toMatch(new RegExp(`^${creates} to create`));
    // The competing unmanaged route is demoted: an update with its reason, as before → after.
    const demoted = groups['Routes']!.items.find((item) => item.action === 'update');
    expect(demoted?.fields).toContainEqual({ field: 'distance', before: '1', after: '11' });
    expect(demoted?.label).toBe('route to 192.168.2.0/24 (LAN of hq) (not managed by Meshplane)');
    // Its preflight warning names it the same way; the router's own id is only the reference.
    const competitor = fx.counted.sim.model.rows(MENU.route).find((row) => row.comment === COMPETING_ROUTE_COMMENT)!;
    expect(plan.preflight).toContainEqual({
      severity: 'WARNING', resource: 'route to 192.168.2.0/24 (LAN of hq) (not managed by Meshplane)',
      message: expect.stringContaining('demoted, not removed'), deviceRef: `${MENU.route} ${competitor['.id']}`,
    });
    const shown = JSON.stringify(plan.groups) + plan.summary;
    expect(shown).not.toMatch(ID_SHAPED);
    expect(shown).not.toContain('∅');
    expect(shown).not.toContain(branchPrivateKey);
    expect(shown).toContain('new secret');
  });

  it('the deploy job logs the same names; a changed endpoint plans as a before → after row', async () => {
    const { admin, branchId, hqId } = fx.overlay;
    const job = await deploy(admin, branchId);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.log).toMatch(/ \+ create peer hq \(10\.\d+\.\d+\.\d+\)$/m);
    expect(job.log).toMatch(/ \d+\/\d+ created peer laptop \(10\./);
    expect(job.log).not.toMatch(ID_SHAPED);
    expect(job.log).toMatch(/ preflight WARNING: route to 192\.168\.2\.0\/24 \(LAN of hq\) \(not managed by Meshplane\): unmanaged static route .* \(on the device: \/ip\/route \*[0-9A-F]+\)$/m);
    expect(job.log).not.toMatch(/preflight \w+: \/ip\//);

    await admin.ok(`mutation ($id: ID!) { updatePeer(id: $id, input: { endpointHost: "hq2.example.net" }) { peer { id } } }`, { id: hqId });
    const { planDeploy: plan } = await admin.ok<{ planDeploy: ReadablePlan }>(PLAN, { peerId: branchId });
    expect(plan.summary).toBe('1 to update');
    expect(plan.groups).toHaveLength(1);
    const [item] = plan.groups[0]!.items;
    expect(item).toMatchObject({ action: 'update', label: expect.stringMatching(/^peer hq \(/) });
    expect(item!.fields).toEqual([{ field: 'endpoint-address', before: '203.0.113.7', after: 'hq2.example.net' }]);
    expect(plan.lines).toHaveLength(1);
  });

  it('drift after a hand edit on the router is named and listed field by field; statistics by peer name', async () => {
    const { admin, branchId, hqPublicKey } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    const { sim } = fx.counted;
    const [wg] = managedRows(sim, MENU.interface);
    sim.model.execute({ command: `${MENU.interface}/set`, attributes: { '.id': wg!['.id']!, mtu: '1280' } });
    const { verifyPeer } = await admin.ok<{ verifyPeer: { id: string } }>(`mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { id } }`, { peerId: branchId });
    const verified = await finishedJob(admin, verifyPeer.id);
    const { job } = await viewer.ok<{ job: { drift: Array<{ state: string; group: string; label: string; fields: Array<{ field: string; before: string; after: string }> }> } }>(
      `query ($id: ID!) { job(id: $id) { drift { state group label fields { field before after } } } }`, { id: verifyPeer.id },
    );
    expect(job.drift).toEqual([{ state: 'DIFFERENT', group: 'WireGuard interfaces', label: expect.stringMatching(/^WireGuard interface /), fields: [{ field: 'mtu', before: '1280', after: '1420' }] }]);
    expect(verified.log).toMatch(/drift: WireGuard interface \S+: mtu 1280 on the device, 1420 wanted/);

    const { peerStatistics } = await viewer.ok<{ peerStatistics: Array<{ publicKey: string; peerName: string | null; peerAddress: string | null }> | null }>(
      `query ($peerId: ID!) { peerStatistics(peerId: $peerId) { publicKey peerName peerAddress } }`, { peerId: branchId },
    );
    const hq = peerStatistics?.find((entry) => entry.publicKey === hqPublicKey);
    expect(hq).toMatchObject({ peerName: 'hq', peerAddress: expect.stringMatching(/^10\./) });
  });

  it('jobs filter by WAN, kind, status and who started them, with cursor paging; bad values are refused', async () => {
    const { admin, branchId, wanId } = fx.overlay;
    // Meshplane itself (auto-redeploy has no user): a deploy with no actor.
    const automaticId = await fx.live.app.services.deployments.deploy(null, branchId, true);
    expect((await finishedJob(admin, automaticId)).status).toBe('SUCCEEDED');

    const automatic = await allJobs(viewer, { wanId, trigger: 'AUTOMATIC' });
    expect(automatic).toEqual([{ id: automaticId, kind: 'DEPLOY', status: 'SUCCEEDED', automatic: true, actorName: 'auto-redeploy' }]);
    const manualDeploys = await allJobs(viewer, { wanId, trigger: 'MANUAL', kind: 'DEPLOY' });
    expect(manualDeploys.length).toBe(2);
    expect(manualDeploys.every((row) => row.kind === 'DEPLOY' && !row.automatic && row.actorName === 'Admin')).toBe(true);
    const verifies = await allJobs(viewer, { wanId, kind: 'VERIFY', status: 'SUCCEEDED' });
    expect(verifies).toHaveLength(1);
    const everything = await allJobs(viewer, { wanId });
    expect(everything.length).toBe(manualDeploys.length + automatic.length + verifies.length);
    expect(new Set(everything.map((row) => row.id)).size).toBe(everything.length);
    expect(await allJobs(viewer, { wanId, status: 'FAILED' })).toEqual([]);
    expect(await allJobs(viewer, { wanId: 'cnotawan000000000000000000' })).toEqual([]);
    const refused = await viewer.errorCodes(JOBS, { kind: 'DESTROY' });
    expect(refused.length).toBeGreaterThan(0);
  });

  it('history says who did what and when; a past configuration is viewable and diffable, secrets masked for every role', async () => {
    const { admin, branchId } = fx.overlay;
    expect((await peerJob(admin, 'revertPeer', branchId)).status).toBe('SUCCEEDED');
    expect((await peerJob(admin, 'clearPeer', branchId)).status).toBe('SUCCEEDED');

    for (const client of [viewer, admin]) {
      const { peer } = await client.ok<{ peer: { history: HistoryView[] } }>(HISTORY, { id: branchId });
      expect(peer.history.map((entry) => [entry.action, entry.actorName, entry.automatic])).toEqual([
        ['CLEARED', 'Admin', false], ['REVERTED', 'Admin', false], ['DEPLOYED', 'auto-redeploy', true], ['DEPLOYED', 'Admin', false], ['DEPLOYED', 'Admin', false],
      ]);
      const [, reverted, auto, second, first] = peer.history;
      // The revert went back to the deployment before the automatic one (the same configuration as the second).
      expect(reverted!.revertedTo).toBe(second!.at);
      expect(first!.deployment!.config).toContain('/interface/wireguard');
      expect(first!.deployment!.config).toContain('‹secret›');
      expect(first!.deployment!.config).not.toContain(branchPrivateKey);
      // As deployed then: hq's first endpoint, not today's.
      expect(first!.deployment!.config).toContain('203.0.113.7');
      expect(first!.deployment!.config).not.toContain('hq2.example.net');

      const comparison = `query ($from: ID!, $to: ID) { deploymentComparison(fromId: $from, toId: $to) { added removed lines { change text } } }`;
      const { deploymentComparison: between } = await client.ok<{ deploymentComparison: { added: number; removed: number; lines: Array<{ change: string; text: string }> } }>(comparison, { from: first!.deployment!.id, to: second!.deployment!.id });
      expect(between.lines.filter((line) => line.change === 'removed').map((line) => line.text).join('\n')).toContain('203.0.113.7');
      expect(between.lines.filter((line) => line.change === 'added').map((line) => line.text).join('\n')).toContain('hq2.example.net');
      const { deploymentComparison: unchanged } = await client.ok<{ deploymentComparison: { added: number; removed: number } }>(comparison, { from: auto!.deployment!.id, to: null });
      expect(unchanged).toMatchObject({ added: 0, removed: 0 });
      const text = JSON.stringify([peer.history, between]);
      expect(text).not.toContain(branchPrivateKey);
    }
  });
});
