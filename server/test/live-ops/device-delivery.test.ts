// For a peer with a device, "current" means the device has the configuration (a deploy, or a
// verify without drift), never that someone downloaded a file: a download is recorded apart
// (Peer.download) and leaves configStatus, staleCount and stalenessChanged alone. Binding a
// peer to a device starts from "not delivered"; unbinding keeps whatever it got last.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { ADD_PEER, deploy, Feed, liveFixture, managedRows, MENU, verify } from './harness.js';

const PEER = `query ($id: ID!) { peer(id: $id) { configStatus stale deliveredVia download { status hash at } wan { staleCount } } }`;
const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId) { hash } }`;
const SET_DEVICE = `mutation ($id: ID!, $deviceId: ID) { updatePeer(id: $id, input: { deviceId: $deviceId }) { peer { id } } }`;

interface PeerView {
  configStatus: string;
  stale: boolean;
  deliveredVia: string | null;
  download: { status: string; hash: string; at: string } | null;
  wan: { staleCount: number };
}

describe('device delivery is what the device has, not what was downloaded', () => {
  // The monitor is not under test here: a long interval keeps its reads out of the way.
  const fx = liveFixture({ app: { monitorIntervalMs: 60_000 } });
  let ws: Client;

  beforeAll(() => {
    ws = fx.overlay.ws();
  });
  afterAll(async () => {
    await ws?.dispose();
  });

  const view = async (id: string) => (await fx.overlay.admin.ok<{ peer: PeerView }>(PEER, { id })).peer;
  const download = async (peerId: string) => (await fx.overlay.admin.ok<{ downloadPeerConfig: { hash: string } }>(DOWNLOAD, { peerId })).downloadPeerConfig.hash;

  it('a download of a stale device-bound peer stays an inspection; verify lists what is missing and deploy makes it current', async () => {
    const { admin, wanId, branchId } = fx.overlay;
    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'deploy', download: null });

    // A new peer: the router lacks it, so branch is stale on its device.
    await admin.ok(ADD_PEER, { wanId, input: { name: 'phone', role: 'CLIENT' } });
    const stale = await view(branchId);
    expect(stale).toMatchObject({ configStatus: 'STALE', stale: true });
    const staleCount = stale.wan.staleCount;
    expect(staleCount).toBeGreaterThanOrEqual(1);

    const feed = new Feed<{ stalenessChanged: Array<{ id: string; configStatus: string; download: { status: string } | null }> }>(
      ws, `subscription ($wanId: ID!) { stalenessChanged(wanId: $wanId) { id configStatus download { status } } }`, { wanId },
    );
    await feed.waitFor((messages) => messages.length >= 1, 'the current statuses');

    const hash = await download(branchId);
    const after = await view(branchId);
    // The device still lacks phone: stale on the device, current as a download.
    expect(after).toMatchObject({ configStatus: 'STALE', stale: true, deliveredVia: 'deploy', download: { status: 'CURRENT', hash }, wan: { staleCount } });
    const { drift } = await verify(admin, branchId);
    expect(drift).toContainEqual(expect.objectContaining({ kind: MENU.peers, state: 'MISSING' }));
    expect(await view(branchId)).toMatchObject({ configStatus: 'STALE', wan: { staleCount } });
    // Nothing the subscription sent after the download said branch was current.
    expect(feed.messages.flatMap((message) => message.stalenessChanged).filter((peer) => peer.id === branchId && peer.configStatus !== 'STALE')).toEqual([]);

    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'deploy', download: { status: 'CURRENT', hash }, wan: { staleCount: staleCount - 1 } });
    await feed.waitFor((messages) => messages.some((message) => message.stalenessChanged.some((peer) => peer.id === branchId && peer.configStatus === 'CURRENT')), 'branch current after the deploy');
    feed.close();
  });

  it('a verify that finds the device edited by hand withdraws CURRENT; one in sync confirms it', async () => {
    const { admin, branchId } = fx.overlay;
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT' });
    const { sim } = fx.counted;
    const [route] = managedRows(sim, MENU.route);
    sim.model.execute({ command: `${MENU.route}/remove`, attributes: { '.id': route!['.id']! } });
    expect((await verify(admin, branchId)).drift).toContainEqual(expect.objectContaining({ kind: MENU.route, state: 'MISSING' }));
    expect(await view(branchId)).toMatchObject({ configStatus: 'STALE', deliveredVia: 'verify' });
    // Downloading does not paper over it.
    await download(branchId);
    expect(await view(branchId)).toMatchObject({ configStatus: 'STALE', download: { status: 'CURRENT' } });

    expect((await deploy(admin, branchId)).status).toBe('SUCCEEDED');
    expect((await verify(admin, branchId)).drift).toEqual([]);
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'verify' });
  });

  it('binding a downloaded peer to a device starts from NEVER_DELIVERED until a verify finds it there; unbinding keeps what it got last', async () => {
    const { admin, deviceId, branchId, hqId } = fx.overlay;
    // A manual peer: its download is what it runs.
    const hqHash = await download(hqId);
    expect(await view(hqId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'download:conf', download: { status: 'CURRENT', hash: hqHash } });

    // Unbound, branch keeps what the device confirmed (newer than its last download).
    await admin.ok(SET_DEVICE, { id: branchId, deviceId: null });
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'verify' });
    // Bound again: the device has confirmed nothing since, whatever was downloaded.
    await admin.ok(SET_DEVICE, { id: branchId, deviceId });
    expect(await view(branchId)).toMatchObject({ configStatus: 'NEVER_DELIVERED', deliveredVia: null, download: { status: 'CURRENT' } });
    await download(branchId);
    expect(await view(branchId)).toMatchObject({ configStatus: 'NEVER_DELIVERED' });
    // The router still has it (nothing changed there): a verify in sync confirms it.
    expect((await verify(admin, branchId)).drift).toEqual([]);
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'verify' });

    // Unbound after a download that came later than the device's confirmation: that download is what it runs.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await download(branchId);
    await admin.ok(SET_DEVICE, { id: branchId, deviceId: null });
    expect(await view(branchId)).toMatchObject({ configStatus: 'CURRENT', deliveredVia: 'download' });
    // Leave branch on its device for the other tests of this file.
    await admin.ok(SET_DEVICE, { id: branchId, deviceId });
  });
});
