// The same GraphQL path over RouterOS REST (HTTPS with the simulator's CA): deploy, a second
// deploy that writes nothing, verify in sync, and clear back to the unmanaged configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildOverlay, deploy, MENU, managedRows, peerJob, startCountedSimulator, startLiveApp, unmanagedSnapshot, withCompetingRouteDemoted,
  type CountedSimulator, type LiveApp, type Overlay,
} from './harness.js';

describe('live operations on a simulated RouterOS (REST)', () => {
  let live: LiveApp;
  let counted: CountedSimulator;
  let overlay: Overlay;

  beforeAll(async () => {
    counted = await startCountedSimulator('7.17');
    live = await startLiveApp();
    overlay = await buildOverlay(live.graphqlUrl, counted.sim, 'ROUTEROS_REST');
  });
  afterAll(async () => {
    await live?.stop();
    await counted?.sim.stop();
  });

  it('deploys, redeploys with zero writes, verifies and clears over REST', async () => {
    const { admin, branchId } = overlay;
    const { sim } = counted;
    const unmanaged = unmanagedSnapshot(sim);
    const first = await deploy(admin, branchId);
    expect(first.status, first.error ?? '').toBe('SUCCEEDED');
    expect(first.steps.find((step) => step.name === 'Connect')?.detail).toMatch(/^RouterOS 7\.17/);
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);
    expect(managedRows(sim, MENU.peers)).toHaveLength(2);

    const writes = counted.writes().length;
    const second = await deploy(admin, branchId);
    expect(JSON.parse(second.result!)).toMatchObject({ applied: 0 });
    expect(counted.writes().length).toBe(writes);
    expect(await admin.ok(`mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { key } }`, { peerId: branchId })).toEqual({ verifyPeer: [] });

    expect((await peerJob(admin, 'clearPeer', branchId)).status).toBe('SUCCEEDED');
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    expect(unmanagedSnapshot(sim)).toEqual(withCompetingRouteDemoted(unmanaged));
  });
});
