// The same GraphQL path over RouterOS REST (HTTPS with the simulator's CA): deploy, a second
// deploy that writes nothing, verify in sync, and clear back to the unmanaged configuration.
import { describe, expect, it } from 'vitest';
import { deploy, liveFixture, managedRows, MENU, peerJob, unmanagedSnapshot, verify } from './harness.js';

describe('live operations on a simulated RouterOS (REST)', () => {
  const fx = liveFixture({ kind: 'ROUTEROS_REST', version: '7.17' });


  it('deploys, redeploys with zero writes, verifies and clears over REST', async () => {
    const { admin, branchId } = fx.overlay;
    const { sim } = fx.counted;
    const unmanaged = unmanagedSnapshot(sim);
    const first = await deploy(admin, branchId);
    expect(first.status, first.error ?? '').toBe('SUCCEEDED');
    expect(first.steps.find((step) => step.name === 'Connect')?.detail).toMatch(/^RouterOS 7\.17/);
    expect(managedRows(sim, MENU.interface)).toHaveLength(1);
    expect(managedRows(sim, MENU.peers)).toHaveLength(2);

    const writes = fx.counted.writes().length;
    const second = await deploy(admin, branchId);
    expect(JSON.parse(second.result!)).toMatchObject({ applied: 0 });
    expect(fx.counted.writes().length).toBe(writes);
    expect((await verify(admin, branchId)).drift).toEqual([]);

    expect((await peerJob(admin, 'clearPeer', branchId)).status).toBe('SUCCEEDED');
    for (const menu of Object.values(MENU)) expect(managedRows(sim, menu), menu).toEqual([]);
    // Clear puts the demoted route back: the unmanaged configuration is exactly as before.
    expect(unmanagedSnapshot(sim)).toEqual(unmanaged);
  });
});
