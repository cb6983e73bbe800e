// Hub redundancy through the API: the WAN opt-in and its validation at the edge, the conflict
// that says why an opted-in WAN runs without it, staleness when it is toggled, and the Linux
// bundle download (content, previews without secrets, permissions, delivery state).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './support/app.js';
import { GraphQLTestClient, registerAdmin } from './support/graphql.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id hubRedundancy topology interfaceName } } }`;
const UPDATE_WAN = `mutation ($id: ID!, $input: UpdateWanInput!) { updateWan(id: $id, input: $input) { wan { id hubRedundancy topology interfaceName } } }`;
const WAN = `query ($id: ID!) { wan(id: $id) { hubRedundancy topology interfaceName conflicts { severity code message peerIds } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id } } }`;
const UPDATE_PEER = `mutation ($id: ID!, $input: UpdatePeerInput!) { updatePeer(id: $id, input: $input) { peer { id } } }`;
const DOWNLOAD = `mutation ($peerId: ID!, $format: ConfigFormat) { downloadPeerConfig(peerId: $peerId, format: $format) { format filename content hash qrSvg } }`;
const STATUSES = `query ($id: ID!) { wan(id: $id) { staleCount peers(first: 100) { edges { node { name configStatus } } } } }`;
const PEER_STATE = `query ($id: ID!) { peer(id: $id) { configStatus deliveredVia download { hash status } } }`;
const PREVIEW = `query ($id: ID!) { peer(id: $id) { bundle: configPreview(format: LINUX_BUNDLE) conf: configPreview(format: WG_QUICK) } }`;

interface Conflict { severity: string; code: string; message: string; peerIds: string[] }
interface Rendered { format: string; filename: string; content: string; hash: string; qrSvg: string | null }
interface ErrorResult { errors?: Array<{ message: string; extensions?: { code?: string; details?: { field?: string } } }> }

/** A real WireGuard key line (44 base64 characters), as only a download may carry it. */
const KEY_LINE = /^(PrivateKey|PresharedKey) = [A-Za-z0-9+/]{43}=$/gm;

describe('hub redundancy through the API', () => {
  let t: TestApp;
  let admin: GraphQLTestClient;
  let viewer: GraphQLTestClient;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
    await admin.ok(`mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }`, { input: { email: 'viewer@example.net', name: 'V', password: 'correct horse battery', role: 'VIEWER' } });
    viewer = new GraphQLTestClient(t.graphqlUrl);
    await viewer.ok(`mutation { login(input: { email: "viewer@example.net", password: "correct horse battery" }) { user { id } } }`);
  });
  afterAll(() => t.stop());

  async function wan(input: Record<string, unknown>): Promise<string> {
    return (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input })).createWan.wan.id;
  }
  async function peer(wanId: string, input: Record<string, unknown>): Promise<string> {
    return (await admin.ok<{ addPeer: { peer: { id: string } } }>(ADD_PEER, { wanId, input })).addPeer.peer.id;
  }
  async function conflicts(wanId: string): Promise<Conflict[]> {
    return (await admin.ok<{ wan: { conflicts: Conflict[] } }>(WAN, { id: wanId })).wan.conflicts;
  }
  async function statuses(wanId: string): Promise<Record<string, string>> {
    const data = await admin.ok<{ wan: { peers: { edges: Array<{ node: { name: string; configStatus: string } }> } } }>(STATUSES, { id: wanId });
    return Object.fromEntries(data.wan.peers.edges.map((edge) => [edge.node.name, edge.node.configStatus]));
  }
  async function download(peerId: string, format: string, client = admin): Promise<Rendered> {
    return (await client.ok<{ downloadPeerConfig: Rendered }>(DOWNLOAD, { peerId, format })).downloadPeerConfig;
  }
  /** The error of a request expected to fail: its code and details.field. */
  async function refusal(query: string, variables: Record<string, unknown>): Promise<{ code?: string; field?: string; message: string }> {
    const result = (await admin.request(query, variables)) as ErrorResult;
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors!;
    return { code: error!.extensions?.code, field: error!.extensions?.details?.field, message: error!.message };
  }
  /** A HUB_SPOKE WAN with redundancy as asked, two hubs with endpoints, two sites (one with a LAN) and a phone. */
  async function redundantWan(name: string, octet: number, hubRedundancy = true) {
    const wanId = await wan({ name, topology: 'HUB_SPOKE', tunnelCidr: `10.${octet}.0.0/24`, servicesCidr: `10.${octet}.5.0/24`, hubRedundancy });
    const hub1 = await peer(wanId, { name: 'hub-1', role: 'HUB', endpointHost: `203.0.113.${octet}`, endpointPort: 51820 });
    const hub2 = await peer(wanId, { name: 'hub-2', role: 'HUB', endpointHost: `198.51.100.${octet}`, endpointPort: 51820 });
    const site = await peer(wanId, { name: 'branch office', endpointHost: `192.0.2.${octet}`, endpointPort: 51820 });
    await admin.ok(`mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id } }`, { peerId: site, input: { cidr: `192.168.${octet}.0/24` } });
    const cgnat = await peer(wanId, { name: 'shop' });
    const phone = await peer(wanId, { name: 'phone', role: 'CLIENT' });
    return { wanId, hub1, hub2, site, cgnat, phone };
  }

  describe('the opt-in', () => {
    it('defaults to off and is stored and read back when valid', async () => {
      const created = (await admin.ok<{ createWan: { wan: { hubRedundancy: boolean } } }>(CREATE_WAN, { input: { name: 'plain', tunnelCidr: '10.60.0.0/24' } })).createWan.wan;
      expect(created.hubRedundancy).toBe(false);
      // Twelve characters leave room for the per-hub suffix (wg-twelve-12h2 is 14 of Linux's 15).
      const on = (await admin.ok<{ createWan: { wan: { id: string; hubRedundancy: boolean; interfaceName: string } } }>(CREATE_WAN, {
        input: { name: 'opted', topology: 'HUB_SPOKE', tunnelCidr: '10.61.0.0/24', interfaceName: 'wg-twelve-12', hubRedundancy: true },
      })).createWan.wan;
      expect(on).toMatchObject({ hubRedundancy: true, interfaceName: 'wg-twelve-12' });
      expect((await admin.ok<{ wan: { hubRedundancy: boolean } }>(WAN, { id: on.id })).wan.hubRedundancy).toBe(true);
      const off = (await admin.ok<{ updateWan: { wan: { hubRedundancy: boolean } } }>(UPDATE_WAN, { id: on.id, input: { hubRedundancy: false } })).updateWan.wan;
      expect(off.hubRedundancy).toBe(false);
    });

    it('refuses it with another topology or a long interface name, naming the field that broke it', async () => {
      expect(await refusal(CREATE_WAN, { input: { name: 'mesh-on', tunnelCidr: '10.62.0.0/24', hubRedundancy: true } }))
        .toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy', message: expect.stringContaining('HUB_SPOKE') });
      expect(await refusal(CREATE_WAN, { input: { name: 'hybrid-on', topology: 'HYBRID', tunnelCidr: '10.62.0.0/24', hubRedundancy: true } }))
        .toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy' });
      expect(await refusal(CREATE_WAN, { input: { name: 'long-on', topology: 'HUB_SPOKE', tunnelCidr: '10.62.0.0/24', interfaceName: 'wg-thirteen13', hubRedundancy: true } }))
        .toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy', message: expect.stringContaining('at most 12 characters') });

      // Turning it on in a WAN that cannot carry it.
      const meshId = await wan({ name: 'mesh-later', tunnelCidr: '10.63.0.0/24' });
      expect(await refusal(UPDATE_WAN, { id: meshId, input: { hubRedundancy: true } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy' });
      const longId = await wan({ name: 'long-later', topology: 'HUB_SPOKE', tunnelCidr: '10.64.0.0/24', interfaceName: 'meshplane-wan1' });
      expect(await refusal(UPDATE_WAN, { id: longId, input: { hubRedundancy: true } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy' });
      // Both at once: the opt-in is what the caller is adding.
      expect(await refusal(UPDATE_WAN, { id: longId, input: { hubRedundancy: true, topology: 'MESH' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'hubRedundancy' });

      // Breaking a WAN that has it: the changed field is named, and nothing is stored.
      const onId = await wan({ name: 'on-already', topology: 'HUB_SPOKE', tunnelCidr: '10.65.0.0/24', hubRedundancy: true });
      for (const topology of ['MESH', 'HYBRID']) {
        expect(await refusal(UPDATE_WAN, { id: onId, input: { topology } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'topology' });
      }
      expect(await refusal(UPDATE_WAN, { id: onId, input: { interfaceName: 'wg-thirteen13' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'interfaceName' });
      expect((await admin.ok<{ wan: Record<string, unknown> }>(WAN, { id: onId })).wan).toMatchObject({ hubRedundancy: true, topology: 'HUB_SPOKE', interfaceName: 'wg0' });
      // Other settings still change, and turning it off with the topology at once is fine.
      expect((await admin.ok<{ updateWan: { wan: Record<string, unknown> } }>(UPDATE_WAN, { id: onId, input: { interfaceName: 'wg-twelve-12' } })).updateWan.wan).toMatchObject({ hubRedundancy: true });
      expect((await admin.ok<{ updateWan: { wan: Record<string, unknown> } }>(UPDATE_WAN, { id: onId, input: { hubRedundancy: false, topology: 'MESH', interfaceName: 'wg-thirteen13' } })).updateWan.wan)
        .toMatchObject({ hubRedundancy: false, topology: 'MESH', interfaceName: 'wg-thirteen13' });
    });

    it('is refused to a viewer like every WAN setting', async () => {
      const wanId = await wan({ name: 'viewer-toggle', topology: 'HUB_SPOKE', tunnelCidr: '10.66.0.0/24' });
      expect(await viewer.errorCodes(UPDATE_WAN, { id: wanId, input: { hubRedundancy: true } })).toEqual(['FORBIDDEN']);
    });
  });

  it('lists why an opted-in WAN runs without redundancy until it can run with it', async () => {
    const wanId = await wan({ name: 'not-yet', topology: 'HUB_SPOKE', tunnelCidr: '10.67.0.0/24', hubRedundancy: true });
    const inactive = async () => (await conflicts(wanId)).filter((entry) => entry.code === 'HUB_REDUNDANCY_INACTIVE');
    await peer(wanId, { name: 'site', endpointHost: '192.0.2.67', endpointPort: 51820 });
    expect(await inactive()).toEqual([expect.objectContaining({ severity: 'WARNING', message: expect.stringContaining('no hub') })]);

    const hub1 = await peer(wanId, { name: 'hub-1', role: 'HUB', endpointHost: '203.0.113.67', endpointPort: 51820 });
    expect(await inactive()).toEqual([expect.objectContaining({ severity: 'WARNING', message: expect.stringContaining('at least two hubs'), peerIds: [hub1] })]);

    // A second hub nobody can dial: named, with its id.
    const hub2 = await peer(wanId, { name: 'hub-2', role: 'HUB' });
    expect(await inactive()).toEqual([expect.objectContaining({ message: expect.stringContaining('hub hub-2 has no endpoint'), peerIds: [hub2] })]);

    await admin.ok(UPDATE_PEER, { id: hub2, input: { endpointHost: '198.51.100.67', endpointPort: 51820 } });
    expect(await inactive()).toEqual([]);

    // A hub whose port leaves no room for the links to the other hubs.
    await admin.ok(UPDATE_PEER, { id: hub2, input: { listenPort: 65534, endpointPort: 65534 } });
    expect(await inactive()).toEqual([expect.objectContaining({ message: expect.stringContaining("hub hub-2's port") })]);
    await admin.ok(UPDATE_PEER, { id: hub2, input: { listenPort: 51820, endpointPort: 51820 } });
    expect(await inactive()).toEqual([]);

    // Without the opt-in the same single-hub situation is no conflict at all.
    const plainId = await wan({ name: 'single-hub', topology: 'HUB_SPOKE', tunnelCidr: '10.68.0.0/24' });
    await peer(plainId, { name: 'hub', role: 'HUB', endpointHost: '203.0.113.68', endpointPort: 51820 });
    expect((await conflicts(plainId)).map((entry) => entry.code)).not.toContain('HUB_REDUNDANCY_INACTIVE');
  });

  it('toggling it makes every peer stale, and toggling back makes them current again', async () => {
    const { wanId, hub1, hub2, site, cgnat, phone } = await redundantWan('toggled', 69, false);
    const all = [hub1, hub2, site, cgnat, phone];
    for (const id of all) await download(id, 'WG_QUICK');
    const current = { 'hub-1': 'CURRENT', 'hub-2': 'CURRENT', 'branch office': 'CURRENT', shop: 'CURRENT', phone: 'CURRENT' };
    expect(await statuses(wanId)).toEqual(current);

    await admin.ok(UPDATE_WAN, { id: wanId, input: { hubRedundancy: true } });
    expect(await statuses(wanId)).toEqual({ 'hub-1': 'STALE', 'hub-2': 'STALE', 'branch office': 'STALE', shop: 'STALE', phone: 'STALE' });
    expect((await admin.ok<{ wan: { staleCount: number } }>(STATUSES, { id: wanId })).wan.staleCount).toBe(5);

    // Without redundancy the rendering is exactly what it was, so what was downloaded is current again.
    await admin.ok(UPDATE_WAN, { id: wanId, input: { hubRedundancy: false } });
    expect(await statuses(wanId)).toEqual(current);

    // Opted in but not in effect (a single hub): rendered as before, so nothing turns stale.
    const single = await wan({ name: 'toggled-single', topology: 'HUB_SPOKE', tunnelCidr: '10.70.0.0/24' });
    const hub = await peer(single, { name: 'hub', role: 'HUB', endpointHost: '203.0.113.70', endpointPort: 51820 });
    const spoke = await peer(single, { name: 'spoke' });
    for (const id of [hub, spoke]) await download(id, 'WG_QUICK');
    await admin.ok(UPDATE_WAN, { id: single, input: { hubRedundancy: true } });
    expect(await statuses(single)).toEqual({ hub: 'CURRENT', spoke: 'CURRENT' });
  });

  describe('the Linux bundle', () => {
    it('holds every interface with its key and the BIRD configuration, and records the download like a .conf', async () => {
      const { wanId, hub1, site, phone } = await redundantWan('bundled', 71);
      const bundle = await download(site, 'LINUX_BUNDLE');
      expect(bundle).toMatchObject({ format: 'LINUX_BUNDLE', filename: 'meshplane-branch-office.sh', qrSvg: null });
      expect(bundle.content.startsWith('#!/bin/sh\n')).toBe(true);
      // One interface per hub: wg0 to the primary, wg0h2 to the backup, and BIRD with a BGP session over each.
      const files = [...bundle.content.matchAll(/^ {2}cat > "([^"]+)" <<'MESHPLANE_END_OF_FILE'$/gm)].map((match) => match[1]);
      expect(files).toEqual(['$DIR/wireguard/wg0.conf', '$DIR/wireguard/wg0h2.conf', '$DIR/bird.conf']);
      expect(bundle.content.match(/^PrivateKey = [A-Za-z0-9+/]{43}=$/gm)).toHaveLength(2);
      expect(bundle.content.match(/^protocol bgp /gm)).toHaveLength(2);
      expect(bundle.content).toContain('  bfd on;');
      expect(bundle.content).toMatch(/^Table = off$/m);
      expect(bundle.content).toMatch(/^Endpoint = 203\.0\.113\.71:51820$/m);
      expect(bundle.content).toMatch(/^Endpoint = 198\.51\.100\.71:51820$/m);

      // The download is recorded as the delivery of this peer's configuration, with the same
      // hash a .conf download gives (both are renderings of one compiled peer).
      expect(await admin.ok(PEER_STATE, { id: site })).toEqual({ peer: { configStatus: 'CURRENT', deliveredVia: 'download:bundle', download: { hash: bundle.hash, status: 'CURRENT' } } });
      expect((await download(site, 'WG_QUICK')).hash).toBe(bundle.hash);
      const audit = await admin.ok<{ auditLog: { edges: Array<{ node: { details: string } }> } }>(
        `query ($site: ID!) { auditLog(first: 20, filter: { action: "peer.downloadConfig", targetId: $site }) { edges { node { details } } } }`, { site });
      expect(audit.auditLog.edges.map((edge) => JSON.parse(edge.node.details).format)).toEqual(expect.arrayContaining(['LINUX_BUNDLE', 'WG_QUICK']));

      // The primary hub's bundle: its spokes on wg0, the other hub on wg0h2.
      const hubBundle = await download(hub1, 'LINUX_BUNDLE');
      expect(hubBundle.filename).toBe('meshplane-hub-1.sh');
      expect([...hubBundle.content.matchAll(/^ {2}cat > "([^"]+)"/gm)].map((match) => match[1])).toEqual(['$DIR/wireguard/wg0.conf', '$DIR/wireguard/wg0h2.conf', '$DIR/bird.conf']);
      expect(hubBundle.content.match(/^protocol bgp /gm)).toHaveLength(4);

      // The phone's .conf is standalone (always through the primary hub); the site's is one part of its bundle.
      expect((await download(phone, 'WG_QUICK')).content).toContain('this standalone configuration always goes through hub-1');
      expect((await download(site, 'WG_QUICK')).content).toContain('Download the Linux bundle of this peer');
      expect(await statuses(wanId)).toMatchObject({ 'branch office': 'CURRENT', 'hub-1': 'CURRENT', phone: 'CURRENT', 'hub-2': 'NEVER_DELIVERED' });

      // A third hub: every spoke's bundle gains its interface, so what was downloaded is stale.
      await peer(wanId, { name: 'hub-3', role: 'HUB', endpointHost: '192.0.2.171', endpointPort: 51820 });
      expect(await statuses(wanId)).toMatchObject({ 'branch office': 'STALE', 'hub-1': 'STALE', phone: 'STALE' });
      const third = await download(site, 'LINUX_BUNDLE');
      expect([...third.content.matchAll(/^ {2}cat > "([^"]+)"/gm)].map((match) => match[1]))
        .toEqual(['$DIR/wireguard/wg0.conf', '$DIR/wireguard/wg0h2.conf', '$DIR/wireguard/wg0h3.conf', '$DIR/bird.conf']);
      expect(third.content).toMatch(/^Endpoint = 192\.0\.2\.171:51820$/m);
      expect(third.content.match(/^protocol bgp /gm)).toHaveLength(3);
    });

    it('in a dual-stack WAN, turning IPv6 on after redundancy: both families on every interface and a BGP session per family to each hub', async () => {
      const { wanId, site } = await redundantWan('bundled-dual-stack', 72);
      const updated = await admin.ok<{ updateWan: { wan: { id: string } } }>(
        `mutation ($id: ID!) { updateWan(id: $id, input: { ipv6: true }) { wan { id hubRedundancy tunnelCidr6 } } }`, { id: wanId });
      expect(updated.updateWan.wan).toMatchObject({ hubRedundancy: true, tunnelCidr6: expect.stringMatching(/^fd[0-9a-f]{2}:/) });
      expect((await conflicts(wanId)).map((conflict) => conflict.code)).not.toContain('HUB_REDUNDANCY_INACTIVE');
      const bundle = (await download(site, 'LINUX_BUNDLE')).content;
      expect(bundle.match(/^protocol bgp mp_/gm)).toHaveLength(2);
      expect(bundle.match(/^protocol bgp mp6_/gm)).toHaveLength(2);
      // Each hub interface holds the IPv6 tunnel address point-to-point, beside the IPv4 one.
      expect(bundle.match(/ip -6 address add [0-9a-f:]+\/128 peer [0-9a-f:]+\/128 dev %i/g)).toHaveLength(2);
      expect(bundle).toMatch(/^AllowedIPs = .*fd[0-9a-f:]+::\/64/m);
    });

    it('is offered for a peer of a WAN without redundancy, holding its one wg-quick conf', async () => {
      const wanId = await wan({ name: 'unbundled', topology: 'HUB_SPOKE', tunnelCidr: '10.72.0.0/24', interfaceName: 'wg-corp' });
      await peer(wanId, { name: 'hub', role: 'HUB', endpointHost: '203.0.113.72', endpointPort: 51820 });
      const site = await peer(wanId, { name: 'site' });
      const bundle = await download(site, 'LINUX_BUNDLE');
      const conf = await download(site, 'WG_QUICK');
      expect(bundle.filename).toBe('meshplane-site.sh');
      expect([...bundle.content.matchAll(/^ {2}cat > "([^"]+)"/gm)].map((match) => match[1])).toEqual(['$DIR/wireguard/wg-corp.conf']);
      expect(bundle.content).toContain(`<<'MESHPLANE_END_OF_FILE'\n${conf.content}MESHPLANE_END_OF_FILE\n`);
      expect(bundle.content).not.toMatch(/bird\.conf|protocol bgp/);
      expect(bundle.hash).toBe(conf.hash);
    });

    it('previews without private or preshared keys, for viewers too, who cannot download it', async () => {
      const { site, hub1, hub2 } = await redundantWan('previewed', 73);
      for (const other of [hub1, hub2]) await admin.ok(`mutation ($a: ID!, $b: ID!) { setPresharedKey(peerAId: $a, peerBId: $b, enabled: true) }`, { a: site, b: other });
      const real = await download(site, 'LINUX_BUNDLE');
      expect(real.content.match(KEY_LINE)).toHaveLength(4); // two private keys, two preshared keys
      const secrets = real.content.match(KEY_LINE)!.map((line) => line.split(' = ')[1]!);

      for (const client of [viewer, admin]) {
        const preview = (await client.ok<{ peer: { bundle: string; conf: string } }>(PREVIEW, { id: site })).peer;
        expect(preview.bundle.match(KEY_LINE)).toBeNull();
        for (const secret of secrets) expect(`${preview.bundle}${preview.conf}`).not.toContain(secret);
        expect(preview.bundle.match(/^PrivateKey = <HELD-BY-MESHPLANE-DOWNLOAD-TO-GET-IT>$/gm)).toHaveLength(2);
        expect(preview.bundle).toContain('protocol bgp');
        expect(preview.bundle).toMatch(/cat > "\$DIR\/wireguard\/wg0h2\.conf"/);
      }
      expect(await viewer.errorCodes(DOWNLOAD, { peerId: site, format: 'LINUX_BUNDLE' })).toEqual(['FORBIDDEN']);
    });

    it('for a peer with a device is an inspection: the device state is what counts', async () => {
      const { site } = await redundantWan('device-bundle', 74);
      const deviceId = (await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
        input: { name: 'edge-74', kind: 'ROUTEROS_API', host: '192.0.2.174', username: 'meshplane', secret: 'hunter2-hunter2' },
      })).createDevice.id;
      await admin.ok(UPDATE_PEER, { id: site, input: { deviceId } });
      const bundle = await download(site, 'LINUX_BUNDLE');
      expect(await admin.ok(PEER_STATE, { id: site })).toEqual({ peer: { configStatus: 'NEVER_DELIVERED', deliveredVia: null, download: { hash: bundle.hash, status: 'CURRENT' } } });
    });
  });

  it('a site on a pfSense device runs no BGP: the hubs route and announce its LAN, and binding it elsewhere takes that back', async () => {
    const { site, hub1 } = await redundantWan('pfsense-spoke', 75);
    const session = 'protocol bgp mp_10_75_0_3 ';
    const spokes = 'route 192.168.75.0/24 via 10.75.0.3;';
    expect((await download(hub1, 'LINUX_BUNDLE')).content).toContain(session);
    const device = async (kind: string, host: string) => (await admin.ok<{ createDevice: { id: string } }>(`mutation ($input: CreateDeviceInput!) { createDevice(input: $input) { id } }`, {
      input: { name: `${kind.toLowerCase()}-75`, kind, host, username: 'meshplane', secret: 'hunter2-hunter2' },
    })).createDevice.id;
    await admin.ok(UPDATE_PEER, { id: site, input: { deviceId: await device('PFSENSE', '192.0.2.175') } });
    const routed = (await download(hub1, 'LINUX_BUNDLE')).content;
    expect(routed).not.toContain(session);
    expect(routed).toContain(spokes);
    await admin.ok(UPDATE_PEER, { id: site, input: { deviceId: await device('ROUTEROS_API', '192.0.2.176') } });
    const back = (await download(hub1, 'LINUX_BUNDLE')).content;
    expect(back).toContain(session);
    expect(back).not.toContain(spokes);
  });

  it('draws each spoke\'s primary and backup hub tunnels and the hub-to-hub tunnel', async () => {
    const { wanId, hub1, hub2, site, phone } = await redundantWan('pictured', 75);
    const graph = (await admin.ok<{ wan: { topologyGraph: { edges: Array<{ from: string; to: string; role: string | null; hubRank: number | null }> } } }>(
      `query ($id: ID!) { wan(id: $id) { topologyGraph { edges { from to role hubRank } } } }`, { id: wanId })).wan.topologyGraph.edges;
    const edge = (a: string, b: string) => graph.find((entry) => (entry.from === a && entry.to === b) || (entry.from === b && entry.to === a));
    expect(graph).toHaveLength(7); // three spokes x two hubs, and the hubs' own tunnel
    for (const spoke of [site, phone]) {
      expect(edge(spoke, hub1)).toMatchObject({ role: 'PRIMARY', hubRank: 1 });
      expect(edge(spoke, hub2)).toMatchObject({ role: 'BACKUP', hubRank: 2 });
    }
    expect(edge(hub1, hub2)).toMatchObject({ role: 'HUB_LINK', hubRank: null });
  });
});
