// A disabled peer leaves the routers of the other peers on their next deploy, and a disabled
// peer's own router is deployed without tunnels (RouterOS simulator over the binary API).
import { describe, expect, it } from 'vitest';
import { deploy, liveFixture, managedRows, MENU, planDeploy } from './harness.js';

const SET_ENABLED = `mutation ($id: ID!, $enabled: Boolean!) { updatePeer(id: $id, input: { enabled: $enabled }) { peer { id enabled } } }`;
const STATUS = `query ($id: ID!) { peer(id: $id) { configStatus } }`;

describe('peer lifecycle on a device', () => {
  // The monitor is not under test here: a long interval keeps its reads out of the way.
  const fx = liveFixture({ app: { monitorIntervalMs: 60_000 } });
  const routerKeys = () => managedRows(fx.counted.sim, MENU.peers).map((row) => row['public-key']);
  const status = async (id: string) => (await fx.overlay.admin.ok<{ peer: { configStatus: string } }>(STATUS, { id })).peer.configStatus;

  it('disabling laptop makes branch stale, its plan removes laptop, and the deploy takes laptop off the router; enabling brings it back', async () => {
    const { admin, branchId, laptopId, laptopPublicKey, hqPublicKey } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(routerKeys()).toEqual(expect.arrayContaining([laptopPublicKey, hqPublicKey]));
    expect(await status(branchId)).toBe('CURRENT');

    await admin.ok(SET_ENABLED, { id: laptopId, enabled: false });
    expect(await status(branchId)).toBe('STALE');
    const plan = await planDeploy(admin, branchId);
    // One operation: laptop's peer entry deleted (named by its id, or by its name once plans name peers).
    expect(plan.operations, plan.lines.join('\n')).toBe(1);
    expect(plan.lines.filter((line) => /delete/.test(line))).toEqual([expect.stringMatching(new RegExp(`/interface/wireguard/peers.*(${laptopId}|laptop)`))]);
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(routerKeys()).not.toContain(laptopPublicKey);
    expect(routerKeys()).toContain(hqPublicKey);
    expect(await status(branchId)).toBe('CURRENT');

    await admin.ok(SET_ENABLED, { id: laptopId, enabled: true });
    expect(await status(branchId)).toBe('STALE');
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(routerKeys()).toEqual(expect.arrayContaining([laptopPublicKey, hqPublicKey]));
  });

  it('a disabled peer bound to a router deploys its interface without tunnels, and enabling it restores them', async () => {
    const { admin, branchId, laptopPublicKey, hqPublicKey } = fx.overlay;
    const interfaces = () => managedRows(fx.counted.sim, MENU.interface).length;
    expect(interfaces()).toBe(1);
    await admin.ok(SET_ENABLED, { id: branchId, enabled: false });
    expect(await status(branchId)).toBe('STALE');
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(routerKeys()).toEqual([]);
    expect(managedRows(fx.counted.sim, MENU.route)).toEqual([]);
    expect(interfaces()).toBe(1);
    expect(await status(branchId)).toBe('CURRENT');

    await admin.ok(SET_ENABLED, { id: branchId, enabled: true });
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(routerKeys()).toEqual(expect.arrayContaining([laptopPublicKey, hqPublicKey]));
  });
});
