// Peer lifecycle through GraphQL: a disabled peer leaves every other peer's configuration (in
// every format) and its own has no tunnels; an expiry disables it by itself, audited once and
// announced; a new peer brings its LANs in one transaction; the QR code of a config holds no
// comment lines and each showing is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import QRCode from 'qrcode';
import type { Client } from 'graphql-ws';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';
import { Feed } from './live-ops/harness.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id name publicKey enabled expiresAt subnets { cidr } } } }`;
const UPDATE_PEER = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id enabled expiresAt } } }`;
const DOWNLOAD = `mutation ($peerId: ID!, $format: ConfigFormat) { downloadPeerConfig(peerId: $peerId, format: $format) { content } }`;
const PEER = `query ($id: ID!) { peer(id: $id) { enabled expiresAt configStatus status { online } reachability { peerName reaches { targetPeerId } } } }`;
const WAN = `query ($id: ID!) { wan(id: $id) { staleCount topologyGraph { nodes { peerId } edges { from to } } conflicts { code peerIds } } }`;
const QR = `mutation ($peerId: ID!) { showPeerQrCode(peerId: $peerId) { peerId peerName filename qrSvg } }`;

const SWEEP_MS = 150;

describe('peer lifecycle', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let ws: Client;

  beforeAll(async () => {
    t = await startTestApp({ env: { MESHPLANE_EXPIRY_SWEEP_MS: String(SWEEP_MS) } });
    admin = await registerAdmin(t.graphqlUrl);
    const { createApiToken } = await admin.ok<{ createApiToken: { token: string } }>(`mutation { createApiToken(input: { name: "lifecycle" }) { token } }`);
    ws = admin.withToken(createApiToken.token).ws();
  });
  afterAll(async () => {
    await ws?.dispose();
    await t?.stop();
  });

  const wan = async (input: Record<string, unknown>) => (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input })).createWan.wan.id;
  const add = async (wanId: string, input: Record<string, unknown>) =>
    (await admin.ok<{ addPeer: { peer: { id: string; name: string; publicKey: string; enabled: boolean; expiresAt: string | null; subnets: Array<{ cidr: string }> } } }>(ADD_PEER, { wanId, input })).addPeer.peer;
  const config = async (peerId: string, format = 'WG_QUICK') => (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId, format })).downloadPeerConfig.content;
  const update = (id: string, input: Record<string, unknown>) => admin.request<{ updatePeer: { peer: { enabled: boolean; expiresAt: string | null } } }>(UPDATE_PEER, { id, input });
  const audit = (targetId: string) => t.app.database.prisma.auditLog.findMany({ where: { targetId }, orderBy: { at: 'asc' }, select: { action: true, actorLabel: true, details: true } });

  it('a disabled peer is in no other peer\'s configuration, tunnel, reachability or conflict; its own has no tunnels; enabling brings everything back', async () => {
    const wanId = await wan({ name: 'lifecycle', topology: 'MESH', tunnelCidr: '10.60.0.0/24' });
    const office = await add(wanId, { name: 'office', endpointHost: '203.0.113.10', endpointPort: 51820, subnets: [{ cidr: '192.168.10.0/24' }] });
    const branch = await add(wanId, { name: 'branch', endpointHost: '203.0.113.11', endpointPort: 51820, subnets: [{ cidr: '192.168.10.0/24' }] });
    const laptop = await add(wanId, { name: 'laptop', role: 'CLIENT' });
    expect(laptop.enabled).toBe(true);
    for (const peer of [office, branch, laptop]) await config(peer.id);
    const before = await admin.ok<{ wan: { topologyGraph: { edges: unknown[] }; conflicts: Array<{ code: string; peerIds: string[] }> } }>(WAN, { id: wanId });
    expect(before.wan.topologyGraph.edges).toHaveLength(3);
    expect(before.wan.conflicts.some((conflict) => conflict.peerIds.includes(branch.id))).toBe(true);

    const disabled = await update(branch.id, { enabled: false });
    expect(disabled.errors).toBeUndefined();
    expect(disabled.data?.updatePeer.peer.enabled).toBe(false);

    // Every format of every other peer leaves branch out; they are stale until delivered again.
    for (const peer of [office, laptop]) {
      for (const format of ['WG_QUICK', 'ROUTEROS', 'LINUX_BUNDLE']) {
        const text = await config(peer.id, format);
        expect(text, `${peer.name} ${format}`).not.toContain(branch.publicKey);
        expect(text, `${peer.name} ${format}`).toContain(peer.name === 'office' ? laptop.publicKey : office.publicKey);
      }
    }
    const own = await config(branch.id);
    expect(own.split('\n')[0]).toMatch(/^# Disabled in Meshplane: branch has no tunnels/);
    expect(own).not.toContain('[Peer]');
    expect(own).toContain('[Interface]');
    expect(own).not.toContain('192.168.10.0/24');
    expect((await config(branch.id, 'ROUTEROS')).split('\n')[0]).toMatch(/^# Disabled in Meshplane/);
    const bundle = (await config(branch.id, 'LINUX_BUNDLE')).split('\n');
    expect(bundle.slice(0, 2)).toEqual(['#!/bin/sh', expect.stringMatching(/^# Disabled in Meshplane/)]);

    const after = await admin.ok<{ wan: { topologyGraph: { nodes: Array<{ peerId: string }>; edges: Array<{ from: string; to: string }> }; conflicts: Array<{ peerIds: string[] }> } }>(WAN, { id: wanId });
    expect(after.wan.topologyGraph.edges).toEqual([{ from: [office.id, laptop.id].sort()[0], to: [office.id, laptop.id].sort()[1] }]);
    expect(after.wan.topologyGraph.nodes.map((node) => node.peerId)).not.toContain(branch.id);
    expect(after.wan.conflicts.filter((conflict) => conflict.peerIds.includes(branch.id))).toEqual([]);
    const officeView = await admin.ok<{ peer: { reachability: { reaches: Array<{ targetPeerId: string }> } } }>(PEER, { id: office.id });
    expect(officeView.peer.reachability.reaches.map((reach) => reach.targetPeerId)).not.toContain(branch.id);
    expect((await admin.ok<{ peer: { status: unknown; enabled: boolean } }>(PEER, { id: branch.id })).peer).toMatchObject({ enabled: false, status: null, reachability: { peerName: 'branch', reaches: [] } });

    // Downloaded again above: current. Enabling makes the others stale again and restores branch.
    expect((await admin.ok<{ wan: { staleCount: number } }>(WAN, { id: wanId })).wan.staleCount).toBe(0);
    expect((await update(branch.id, { enabled: true })).errors).toBeUndefined();
    expect((await admin.ok<{ wan: { staleCount: number } }>(WAN, { id: wanId })).wan.staleCount).toBe(3);
    expect(await config(office.id)).toContain(branch.publicKey);
    expect(await config(branch.id)).toContain('[Peer]');
    expect((await audit(branch.id)).map((entry) => entry.action).filter((action) => action !== 'peer.downloadConfig')).toEqual(['peer.create', 'peer.disable', 'peer.enable']);
  });

  it('refuses an expiry that is not in the future, and enabling a peer whose expiry has passed', async () => {
    const wanId = await wan({ name: 'refusals', tunnelCidr: '10.61.0.0/24' });
    const past = new Date(Date.now() - 60_000).toISOString();
    const refused = await admin.request(ADD_PEER, { wanId, input: { name: 'late', expiresAt: past } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'expiresAt' } });
    expect(await t.app.database.prisma.peer.count({ where: { wanId } })).toBe(0);

    const peer = await add(wanId, { name: 'temp', expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const now = await update(peer.id, { expiresAt: new Date().toISOString() });
    expect(now.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'expiresAt' } });
    // Cleared with null.
    expect((await update(peer.id, { expiresAt: null })).data?.updatePeer.peer.expiresAt).toBeNull();

    // An expired peer (as the sweep leaves it) is enabled only with a later expiry, or none.
    await t.app.database.prisma.peer.update({ where: { id: peer.id }, data: { enabled: false, expiresAt: new Date(Date.now() - 1000) } });
    const stillExpired = await update(peer.id, { enabled: true });
    expect(stillExpired.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'expiresAt' } });
    expect((await update(peer.id, { enabled: true, expiresAt: null })).data?.updatePeer.peer).toEqual({ id: peer.id, enabled: true, expiresAt: null });
  });

  it('the sweep disables an expired peer by itself: audited once as peer.expire, announced, and the others\' configs follow', async () => {
    const wanId = await wan({ name: 'expiry', tunnelCidr: '10.62.0.0/24' });
    const hub = await add(wanId, { name: 'hub', endpointHost: '203.0.113.20', endpointPort: 51820 });
    const guest = await add(wanId, { name: 'guest', role: 'CLIENT', expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect(guest.expiresAt).not.toBeNull();
    expect(await config(hub.id)).toContain(guest.publicKey);

    const feed = new Feed<{ wanChanged: { kind: string; entity: string; entityId: string } }>(ws, `subscription ($wanId: ID!) { wanChanged(wanId: $wanId) { kind entity entityId } }`, { wanId });
    // Bounded: the expiry is 1.5 s away and the sweep runs every 150 ms.
    await feed.waitFor((messages) => messages.some((message) => message.wanChanged.entityId === guest.id && message.wanChanged.kind === 'UPDATED'), 'the expiry announced', 400, 25);
    feed.close();

    expect((await admin.ok<{ peer: { enabled: boolean } }>(PEER, { id: guest.id })).peer.enabled).toBe(false);
    expect(await config(hub.id)).not.toContain(guest.publicKey);
    expect((await config(guest.id)).split('\n')[0]).toMatch(/^# Disabled in Meshplane/);
    // Several more sweeps ran meanwhile, and two at once find nothing more: one entry.
    await new Promise((resolve) => setTimeout(resolve, SWEEP_MS * 3));
    await Promise.all([t.app.services.expiry.sweep(), t.app.services.expiry.sweep()]);
    const expired = (await audit(guest.id)).filter((entry) => entry.action === 'peer.expire');
    expect(expired).toHaveLength(1);
    expect(expired[0]!.actorLabel).toBe('meshplane (expiry)');
    expect(JSON.parse(expired[0]!.details)).toMatchObject({ name: 'guest' });
  });

  it('two sweeps racing over the same expired peers disable and audit each once', async () => {
    const wanId = await wan({ name: 'race', tunnelCidr: '10.63.0.0/24' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await add(wanId, { name: `temp-${i}`, role: 'CLIENT' })).id);
    // Set past expiries directly (the API refuses them): what the sweep meets after downtime.
    await t.app.database.prisma.peer.updateMany({ where: { id: { in: ids } }, data: { expiresAt: new Date(Date.now() - 5000) } });
    const [first, second] = await Promise.all([t.app.services.expiry.sweep(), t.app.services.expiry.sweep()]);
    expect([...first, ...second].map((peer) => peer.id).sort()).toEqual([...ids].sort());
    expect(await t.app.database.prisma.auditLog.count({ where: { action: 'peer.expire', targetId: { in: ids } } })).toBe(5);
    expect(await t.app.database.prisma.peer.count({ where: { id: { in: ids }, enabled: true } })).toBe(0);
  });

  it('a new peer brings its LANs in the same transaction: one bad LAN refuses the whole peer, naming that LAN', async () => {
    const wanId = await wan({ name: 'lans', tunnelCidr: '10.64.0.0/24' });
    const created = await add(wanId, { name: 'site', subnets: [{ cidr: '192.168.50.0/24' }, { cidr: '10.50.1.0/24', description: 'lab' }] });
    expect(created.subnets.map((subnet) => subnet.cidr)).toEqual(['10.50.1.0/24', '192.168.50.0/24']);

    // The second LAN overlaps the WAN's own tunnel range: nothing of the peer is written.
    const refused = await admin.request(ADD_PEER, { wanId, input: { name: 'half', subnets: [{ cidr: '192.168.60.0/24' }, { cidr: '10.64.0.0/25' }] } });
    expect(refused.errors?.[0]?.message).toMatch(/^LAN 10\.64\.0\.0\/25: /);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ details: { field: 'subnets', cidr: '10.64.0.0/25' } });
    expect(await t.app.database.prisma.peer.count({ where: { wanId, name: 'half' } })).toBe(0);
    expect(await t.app.database.prisma.subnet.count({ where: { cidr: '192.168.60.0/24' } })).toBe(0);
    const malformed = await admin.request(ADD_PEER, { wanId, input: { name: 'half', subnets: [{ cidr: '192.168.70.0/33' }] } });
    expect(malformed.errors?.[0]?.extensions?.code).toBe('INVALID_CIDR');
    expect(await t.app.database.prisma.peer.count({ where: { wanId, name: 'half' } })).toBe(0);
  });

  it('the QR code holds the wg-quick config without comment lines, and each showing is audited', async () => {
    const wanId = await wan({ name: 'qr', tunnelCidr: '10.65.0.0/24' });
    await add(wanId, { name: 'gateway', endpointHost: '203.0.113.30', endpointPort: 51820 });
    const phone = await add(wanId, { name: 'phone', role: 'CLIENT' });
    const shown = await admin.ok<{ showPeerQrCode: { peerId: string; peerName: string; filename: string; qrSvg: string } }>(QR, { peerId: phone.id });
    expect(shown.showPeerQrCode).toMatchObject({ peerId: phone.id, peerName: 'phone', filename: 'wg0.conf' });

    const conf = await config(phone.id);
    expect(conf).toMatch(/^# /m);
    const bare = conf.split('\n').filter((line) => !line.startsWith('#')).join('\n');
    expect(bare).toContain('PrivateKey = ');
    // The code is exactly the code of the config without its comments (qrcode is deterministic).
    const options = { errorCorrectionLevel: 'M', margin: 2, type: 'svg' } as const;
    expect(shown.showPeerQrCode.qrSvg).toBe(await QRCode.toString(bare, options));
    expect(shown.showPeerQrCode.qrSvg).not.toBe(await QRCode.toString(conf, options));

    await admin.ok(QR, { peerId: phone.id });
    const views = (await audit(phone.id)).filter((entry) => entry.action === 'peer.qr.view');
    expect(views).toHaveLength(2);
    for (const view of views) expect(view.details).not.toMatch(/PrivateKey|\[Interface\]/);

    const byo = await add(wanId, { name: 'byo', publicKey: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' });
    const refused = await admin.request(QR, { peerId: byo.id });
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.message).toMatch(/uses its own key/);
  });
});
