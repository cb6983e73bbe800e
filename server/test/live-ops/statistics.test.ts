// The peerStatistics query through GraphQL: RouterOS counters past 2^53 come back as exact
// decimal strings and its duration-style last-handshake ("1h2m3s") as a point in time; a
// pfSense whose REST API package predates 2.9.0 answers null ("no statistics"), not zeros.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPfSenseSimulator, type PfSenseSimulator } from '../sim/pfsense/index.js';
import { ADD_PEER, deploy, liveFixture, MENU } from './harness.js';

const PEER_STATISTICS = `query ($peerId: ID!) { peerStatistics(peerId: $peerId) { publicKey rxBytes txBytes lastHandshake currentEndpoint } }`;

interface Statistics {
  peerStatistics: Array<{ publicKey: string; rxBytes: string; txBytes: string; lastHandshake: string | null; currentEndpoint: string | null }> | null;
}

describe('peerStatistics through GraphQL', () => {
  // The monitor polls too; a long interval keeps it out of the way of these reads.
  const fx = liveFixture({ app: { monitorIntervalMs: 60_000 } });
  let oldPf: PfSenseSimulator;

  beforeAll(async () => {
    oldPf = await startPfSenseSimulator({ version: '2.8.1' });
  });
  afterAll(async () => {
    await oldPf?.stop();
  });

  it('RouterOS: counters past 2^53 as exact strings, a duration-style handshake as a timestamp', async () => {
    const { admin, branchId, hqPublicKey, laptopPublicKey } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');

    const rx = 2n ** 64n - 1n;
    const tx = 2n ** 53n + 1n;
    const AGE_S = 3723;
    const before = Date.now();
    fx.counted.sim.setHandshake(hqPublicKey, AGE_S, { rx, tx, endpointAddress: '203.0.113.7', endpointPort: 51820 });
    const printed = fx.counted.sim.model.rows(MENU.peers).find((row) => row['public-key'] === hqPublicKey);
    expect(printed?.['last-handshake']).toMatch(/^1h2m\d+s$/);

    const { peerStatistics } = await admin.ok<Statistics>(PEER_STATISTICS, { peerId: branchId });
    const after = Date.now();
    const hq = peerStatistics?.find((entry) => entry.publicKey === hqPublicKey);
    expect(hq).toMatchObject({ rxBytes: '18446744073709551615', txBytes: '9007199254740993', currentEndpoint: '203.0.113.7:51820' });
    // The router prints whole seconds of age; the driver subtracts them from its own clock
    // after the reply, so the handshake lies between these two bounds (no timing assumption).
    const handshake = new Date(hq!.lastHandshake!).getTime();
    expect(handshake).toBeGreaterThanOrEqual(before - AGE_S * 1000);
    expect(handshake).toBeLessThanOrEqual(after - AGE_S * 1000);

    expect(peerStatistics?.find((entry) => entry.publicKey === laptopPublicKey)).toMatchObject({ rxBytes: '0', txBytes: '0', lastHandshake: null });
  });

  it('pfSense REST API 2.8.1: null (no statistics), no error; the device says statsAvailable false', async () => {
    const { admin } = fx.overlay;
    const { createWan } = await admin.ok<{ createWan: { wan: { id: string } } }>(`mutation { createWan(input: { name: "old-pf" }) { wan { id } } }`);
    const { createDevice } = await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: 'old-pf', kind: 'PFSENSE', host: oldPf.host, port: oldPf.port, tls: true, username: oldPf.username, secret: oldPf.password, caPem: oldPf.caPem, timeoutMs: 3000 },
    });
    const { addPeer } = await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, {
      wanId: createWan.wan.id,
      input: { name: 'pf-site', role: 'SITE', deviceId: createDevice.id, endpointHost: '198.51.100.20', endpointPort: 51820 },
    });

    const result = await admin.request<Statistics>(PEER_STATISTICS, { peerId: addPeer.peer.id });
    expect(result).toEqual({ data: { peerStatistics: null } });

    await fx.live.app.services.monitor.pollOnce();
    const { device } = await admin.ok<{ device: { statsAvailable: boolean | null } }>(`query ($id: ID!) { device(id: $id) { statsAvailable } }`, { id: createDevice.id });
    expect(device.statsAvailable).toBe(false);
  });
});
