// A device's concurrency holds across every driver Meshplane makes for it: plans, connection
// tests, preflights, a verify job and the handshake monitor (polling every 200 ms here) each
// use their own driver and connection, yet the simulated router never has more commands in
// flight than the device allows. Slow replies make commands from separate callers overlap,
// so without one limiter per device the router would see several at once.
import { describe, expect, it } from 'vitest';
import { finishedJob, liveFixture, planDeploy } from './harness.js';

/** Replies this slow keep each command in flight long enough for others to arrive. */
const REPLY_DELAY_MS = 25;

describe('per-device concurrency across drivers (binary API)', () => {
  const fx = liveFixture();

  /** Fires plans, connection tests, a preflight and a verify job at once; resolves when all are done. */
  async function burst(): Promise<void> {
    const { admin, branchId, deviceId } = fx.overlay;
    const { verifyPeer } = await admin.ok<{ verifyPeer: { id: string } }>(`mutation ($peerId: ID!) { verifyPeer(peerId: $peerId) { id } }`, { peerId: branchId });
    const testConnection = () => admin.ok(`mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { loggedIn } }`, { id: deviceId });
    const preflight = () => admin.ok(`mutation ($peerId: ID!) { preflightPeer(peerId: $peerId) { message } }`, { peerId: branchId });
    const verified = finishedJob(admin, verifyPeer.id);
    await Promise.all([planDeploy(admin, branchId), planDeploy(admin, branchId), planDeploy(admin, branchId), testConnection(), testConnection(), preflight(), verified]);
    expect((await verified).status).toBe('SUCCEEDED');
  }

  async function measured(): Promise<{ peak: number; commands: number }> {
    const { sim, commands } = fx.counted;
    const before = commands.length;
    sim.faults.replyDelayMs = REPLY_DELAY_MS;
    sim.load.resetPeak();
    try {
      await burst();
    } finally {
      sim.faults.replyDelayMs = 0;
    }
    return { peak: sim.load.peak, commands: commands.length - before };
  }

  it('never has more than one command in flight on a device with concurrency 1', async () => {
    const { admin, deviceId } = fx.overlay;
    const { device } = await admin.ok<{ device: { concurrency: number } }>(`query ($id: ID!) { device(id: $id) { concurrency } }`, { id: deviceId });
    expect(device.concurrency).toBe(1);
    const { peak, commands } = await measured();
    expect(commands).toBeGreaterThan(20);
    expect(peak).toBe(1);
  });

  it('after the device is edited to concurrency 2, has up to two in flight (the same shared limit, resized)', async () => {
    const { admin, deviceId } = fx.overlay;
    await admin.ok(`mutation ($id: ID!) { updateDevice(id: $id, input: { concurrency: 2 }) { id } }`, { id: deviceId });
    const { peak } = await measured();
    // Two shows the gauge sees overlap at all (so the first test could fail); more would break the limit.
    expect(peak).toBe(2);
  });
});
