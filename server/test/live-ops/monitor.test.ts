// The handshake monitor and the post-deploy handshake probe against a simulated RouterOS:
// peerStatusChanged over graphql-ws sends the statuses, then only what changed; a deploy
// waits (bounded) for fresh handshakes and warns naming each peer that never showed one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { ADD_PEER, Feed, finishedJob, JOB_FIELDS, liveFixture, planDeploy, type JobView } from './harness.js';

interface StatusMessage {
  peerStatusChanged: Array<{ name: string; status: { online: boolean; lastHandshake: string | null; rxBytes: string; txBytes: string; endpoint: string | null } | null }>;
}

const PROBE_MS = 4000;

describe('handshake monitor and post-deploy probe', () => {
  const fx = liveFixture({ app: { monitorIntervalMs: 100, handshakeProbeMs: PROBE_MS } });
  let ws: Client;

  beforeAll(async () => {
    ws = fx.overlay.ws();
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  /** Deploys the branch; `duringProbe` runs once the job reaches its handshake probe. */
  async function deployWithProbe(duringProbe: () => void): Promise<JobView> {
    const { admin, branchId } = fx.overlay;
    const { planHash } = await planDeploy(admin, branchId);
    const { deployPeer } = await admin.ok<{ deployPeer: { id: string } }>(
      `mutation ($peerId: ID!, $planHash: String) { deployPeer(peerId: $peerId, approve: true, planHash: $planHash) { id } }`,
      { peerId: branchId, planHash },
    );
    const feed = new Feed<{ jobProgress: JobView }>(ws, `subscription ($jobId: ID!) { jobProgress(jobId: $jobId) { ${JOB_FIELDS} } }`, { jobId: deployPeer.id });
    await feed.waitFor((messages) => messages.some((message) => message.jobProgress.steps.some((step) => step.name === 'Probe handshakes')), 'the handshake probe to start');
    duringProbe();
    feed.close();
    return finishedJob(admin, deployPeer.id);
  }

  it('a deploy whose peers handshake during the probe has no warning', async () => {
    const job = await deployWithProbe(() => {
      fx.counted.sim.setHandshake(fx.overlay.hqPublicKey, 1);
      fx.counted.sim.setHandshake(fx.overlay.laptopPublicKey, 1);
    });
    expect(job.status).toBe('SUCCEEDED');
    expect(job.warnings).toEqual([]);
    expect(job.steps.at(-1)).toMatchObject({ name: 'Probe handshakes', status: 'DONE', detail: `every peer handshook within ${PROBE_MS / 1000} s` });
  });

  it('a peer that never handshakes is named in a warning on the job (log, result and GraphQL); the deploy still succeeds', async () => {
    await fx.overlay.admin.ok(ADD_PEER, { wanId: fx.overlay.wanId, input: { name: 'phone', role: 'CLIENT' } });
    const job = await deployWithProbe(() => undefined);
    expect(job.status).toBe('SUCCEEDED');
    expect(job.warnings).toEqual([`no handshake with peer phone within ${PROBE_MS / 1000} s of the deploy`]);
    expect(JSON.parse(job.result!).warnings).toEqual(job.warnings);
    expect(job.log).toContain('warning: no handshake with peer phone');
    expect(job.log).not.toMatch(/warning: .*peer (hq|laptop)/);
  });

  it('peerStatusChanged sends the statuses, then the peer coming online, then nothing while nothing changes', async () => {
    const { admin, wanId } = fx.overlay;
    const { monitor } = await admin.ok<{ monitor: { onlineThresholdSeconds: number; intervalSeconds: number } }>(`query { monitor { onlineThresholdSeconds intervalSeconds } }`);
    expect(monitor).toEqual({ onlineThresholdSeconds: 180, intervalSeconds: 0.1 });

    // Nobody has handshaken for an hour: every remote is offline.
    for (const key of [fx.overlay.hqPublicKey, fx.overlay.laptopPublicKey]) fx.counted.sim.setHandshake(key, 3600);
    const { services } = fx.live.app;
    const settle = async () => {
      const from = services.monitor.polls;
      for (let wait = 0; wait < 400 && services.monitor.polls < from + 3; wait++) await new Promise((resolve) => setTimeout(resolve, 25));
    };
    await settle();

    const feed = new Feed<StatusMessage>(ws, `subscription ($wanId: ID!) { peerStatusChanged(wanId: $wanId) { name status { online lastHandshake rxBytes txBytes endpoint } } }`, { wanId });
    const [first] = await feed.waitFor((messages) => messages.length >= 1, 'the current statuses');
    expect(first!.peerStatusChanged.find((peer) => peer.name === 'hq')?.status?.online).toBe(false);

    fx.counted.sim.setHandshake(fx.overlay.hqPublicKey, 5, { rx: 123_456, tx: 654_321, endpointAddress: '203.0.113.7', endpointPort: 51820 });
    const messages = await feed.waitFor((all) => all.some((message) => message.peerStatusChanged.some((peer) => peer.name === 'hq' && peer.status?.online)), 'hq to come online');
    const online = messages.flatMap((message) => message.peerStatusChanged).find((peer) => peer.name === 'hq' && peer.status?.online)!;
    // Seen from hq's side: what the router sent is what hq received.
    expect(online.status).toMatchObject({ online: true, rxBytes: '654321', txBytes: '123456', endpoint: '203.0.113.7:51820' });
    expect(Date.parse(online.status!.lastHandshake!)).not.toBeNaN();

    // Several polls with nothing new on the router publish nothing.
    await settle();
    const count = feed.messages.length;
    await settle();
    await settle();
    expect(feed.messages.slice(count)).toEqual([]);
    feed.close();
  });
});
