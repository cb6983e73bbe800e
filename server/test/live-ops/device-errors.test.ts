// A device that refuses the login or drops the connection is an operational failure, not a
// bug: planDeploy, preflightPeer and peerStatistics answer with a DEVICE_* code and a message
// naming the device (never the password), not a masked INTERNAL_SERVER_ERROR;
// testDeviceConnection keeps answering with its report (loggedIn false and the reason).
import { describe, expect, it } from 'vitest';
import { liveFixture } from './harness.js';
import type { GraphQLResult } from '../support/graphql.js';

const WRONG_PASSWORD = 'not-the-Router-pass-42';

const CALLS = {
  planDeploy: `mutation ($peerId: ID!) { planDeploy(peerId: $peerId) { planHash } }`,
  preflightPeer: `mutation ($peerId: ID!) { preflightPeer(peerId: $peerId) { message } }`,
  peerStatistics: `query ($peerId: ID!) { peerStatistics(peerId: $peerId) { publicKey } }`,
} as const;

const TRANSPORTS = [
  { kind: 'ROUTEROS_API', label: 'RouterOS sim-router (API)' },
  { kind: 'ROUTEROS_REST', label: 'RouterOS sim-router (REST)' },
] as const;

function onlyError(result: GraphQLResult) {
  expect(result.errors, JSON.stringify(result)).toHaveLength(1);
  return result.errors![0]!;
}

describe.each(TRANSPORTS)('device failures through GraphQL ($kind)', ({ kind, label }) => {
  // No monitor polls: only the calls under test talk to the router (and consume the fault).
  const fx = liveFixture({ kind, app: { monitorIntervalMs: 3_600_000 } });
  const setSecret = (secret: string) =>
    fx.overlay.admin.ok(`mutation ($id: ID!, $secret: String!) { updateDevice(id: $id, input: { secret: $secret }) { id } }`, { id: fx.overlay.deviceId, secret });

  it.each(Object.keys(CALLS) as Array<keyof typeof CALLS>)('%s: a wrong password is DEVICE_AUTH_FAILED naming the device', async (call) => {
    await setSecret(WRONG_PASSWORD);
    try {
      const error = onlyError(await fx.overlay.admin.request(CALLS[call], { peerId: fx.overlay.branchId }));
      expect(error.extensions?.code).toBe('DEVICE_AUTH_FAILED');
      expect(error.message).toContain(label);
      expect(error.message).toMatch(/invalid user name or password|401|rejected/i);
      expect(JSON.stringify(error)).not.toContain(WRONG_PASSWORD);
      expect(error.extensions?.details).toEqual({ deviceId: fx.overlay.deviceId, device: 'sim-router' });
    } finally {
      await setSecret(fx.counted.sim.password);
    }
  });

  it.each(Object.keys(CALLS) as Array<keyof typeof CALLS>)('%s: a dropped connection is DEVICE_UNREACHABLE naming the device', async (call) => {
    fx.counted.sim.faults.dropAfterCommands = 0;
    try {
      const error = onlyError(await fx.overlay.admin.request(CALLS[call], { peerId: fx.overlay.branchId }));
      expect(error.extensions?.code).toBe('DEVICE_UNREACHABLE');
      expect(error.message).toContain(label);
      expect(error.message).toMatch(/closed|dropped/);
    } finally {
      fx.counted.sim.faults.reset();
    }
    // The same call answers once the router does.
    expect((await fx.overlay.admin.request(CALLS[call], { peerId: fx.overlay.branchId })).errors).toBeUndefined();
  });

  it('testDeviceConnection reports a wrong password and a dropped connection in its result', async () => {
    const TEST = `mutation ($id: ID!) { testDeviceConnection(deviceId: $id) { reachable loggedIn message } }`;
    await setSecret(WRONG_PASSWORD);
    try {
      const { testDeviceConnection: refused } = await fx.overlay.admin.ok<{ testDeviceConnection: { reachable: boolean; loggedIn: boolean; message: string } }>(TEST, { id: fx.overlay.deviceId });
      expect(refused).toMatchObject({ reachable: true, loggedIn: false });
      expect(refused.message).toContain(label);
      expect(refused.message).not.toContain(WRONG_PASSWORD);
    } finally {
      await setSecret(fx.counted.sim.password);
    }
    fx.counted.sim.faults.dropAfterCommands = 0;
    try {
      const { testDeviceConnection: dropped } = await fx.overlay.admin.ok<{ testDeviceConnection: { reachable: boolean; loggedIn: boolean; message: string } }>(TEST, { id: fx.overlay.deviceId });
      expect(dropped).toMatchObject({ reachable: false, loggedIn: false });
      expect(dropped.message).toContain(label);
    } finally {
      fx.counted.sim.faults.reset();
    }
  });
});
