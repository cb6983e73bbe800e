// LAN overlap groups in the network lab (issue 14 item 1): sites that all host 192.168.1.0/24,
// with the same host address 192.168.1.10 on every LAN, configured through GraphQL (a real app on
// a loopback port), their configs downloaded through GraphQL and brought up verbatim in real
// wireguard-go tunnels between namespaces. Each LAN host and each router answers TCP with its
// site's name, so a reply proves which host answered. What the lab measures from every LAN host
// and every router to every other site's LAN and tunnel addresses must be exactly what
// `reachability` says, path for path; the expected outcome is also spelled out, so a lab where
// nothing (or everything) works cannot agree by accident.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { formatAddress, parseCidr, tryParseAddress } from '../../src/domain/ip.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { Lab, type Where } from './harness.js';
import { describeLab } from './require-lab.js';

const LAN = '192.168.1.0/24';
const HOST = '192.168.1.10';
const LAN_PORT = 7000;
const ROUTER_PORT = 7001;

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp } } }`;
const ADD_SUBNET = `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id natCidr } }`;
const UPDATE_SUBNET = `mutation ($id: ID!, $input: UpdateSubnetInput!) { updateSubnet(id: $id, input: $input) { id natCidr } }`;
const SUBNET = `query ($id: ID!) { peer(id: $id) { subnets { natCidr } } }`;
const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId, format: WG_QUICK) { content } }`;
const REACH = `query ($id: ID!) { peer(id: $id) { reachability { reaches { fromKind kind target targetPeerName } } } }`;

interface Site {
  name: string;
  peerId: string;
  subnetId: string;
  tunnelIp: string;
}

let t: TestApp;
let admin: GraphQLTestClient;
const labs: Lab[] = [];

afterEach(async () => {
  while (labs.length) await labs.pop()!.destroy();
});

/** The address a host of `real` has on the overlay when its LAN is seen as `seenAs`. */
function onOverlay(host: string, real: string, seenAs: string): string {
  const from = parseCidr(real);
  const to = parseCidr(seenAs);
  return formatAddress(to.start + ((tryParseAddress(host) as bigint) - from.start));
}

describeLab('LAN overlap groups in the network lab', () => {
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t?.stop());

  /** A WAN whose sites all host 192.168.1.0/24 (untranslated yet), and a lab site for each. */
  async function sameLanSites(names: string[]): Promise<{ lab: Lab; sites: Site[] }> {
    const lab = await Lab.create();
    labs.push(lab);
    const wanName = `overlap-${names.length}-${labs.length}-${Math.random().toString(36).slice(2, 8)}`;
    const wanId = (await admin.ok<{ createWan: { wan: { id: string } } }>(CREATE_WAN, { input: { name: wanName } })).createWan.wan.id;
    const sites: Site[] = [];
    for (const name of names) {
      await lab.addSite(name, { lanCidr: LAN, lanHostIp: HOST });
      const added = await admin.ok<{ addPeer: { peer: { id: string; tunnelIp: string } } }>(ADD_PEER, { wanId, input: { name, endpointHost: lab.underlayIp(name), endpointPort: 51820 } });
      const subnet = await admin.ok<{ addSubnet: { id: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: added.addPeer.peer.id, input: { cidr: LAN, description: `${name} LAN` } });
      expect(subnet.addSubnet.natCidr).toBeNull();
      sites.push({ name, peerId: added.addPeer.peer.id, subnetId: subnet.addSubnet.id, tunnelIp: added.addPeer.peer.tunnelIp });
    }
    return { lab, sites };
  }

  /** Downloads every site's config through GraphQL, brings it up, and starts the name listeners. */
  async function deploy(lab: Lab, sites: Site[]): Promise<void> {
    for (const site of sites) {
      const conf = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: site.peerId })).downloadPeerConfig.content;
      await lab.up(site.name, conf);
      await lab.tcpBanner(site.name, '0.0.0.0', LAN_PORT, `lan-${site.name}`, 'lan');
      await lab.tcpBanner(site.name, '0.0.0.0', ROUTER_PORT, `router-${site.name}`, 'router');
    }
    // Handshake every tunnel first (router to router works in every scenario here), so a probe's
    // short timeout measures the path, not a first handshake that had to be retried.
    for (const source of sites) {
      for (const target of sites) {
        if (target !== source) expect(await lab.ping(source.name, target.tunnelIp, { from: 'router', count: 1, timeoutSec: 15 }), `${source.name} -> ${target.name} tunnel`).toBe(true);
      }
    }
  }

  /** Every path from each site's LAN host and router to each other site's LAN host and router, as "from -> to: answer". */
  async function measure(lab: Lab, sites: Site[]): Promise<Map<string, boolean>> {
    const seenAs = new Map<string, string>();
    for (const site of sites) {
      const { peer } = await admin.ok<{ peer: { subnets: Array<{ natCidr: string | null }> } }>(SUBNET, { id: site.peerId });
      seenAs.set(site.name, peer.subnets[0]!.natCidr ?? LAN);
    }
    const measured = new Map<string, boolean>();
    const fromSite = async (source: Site, where: Where): Promise<void> => {
      for (const target of sites) {
        if (target === source) continue;
        const probes = [
          { kind: 'LAN', address: onOverlay(HOST, LAN, seenAs.get(target.name)!), port: LAN_PORT, banner: `lan-${target.name}` },
          { kind: 'TUNNEL_IP', address: target.tunnelIp, port: ROUTER_PORT, banner: `router-${target.name}` },
        ];
        for (const probe of probes) {
          const answer = (await lab.tcpRead(source.name, probe.address, probe.port, { where, timeoutMs: 3_000 }).catch(() => '')).trim();
          // The source's own LAN host answering an untranslated 192.168.1.10 means the target
          // was not reached; another site answering would be traffic delivered to the wrong site.
          if (answer !== '' && answer !== probe.banner && answer !== `lan-${source.name}`) {
            throw new Error(`${source.name} (${where}) -> ${probe.address}: ${answer} answered instead of ${probe.banner}`);
          }
          measured.set(`${source.name} ${where === 'lan' ? 'LAN' : 'TUNNEL_IP'} -> ${target.name} ${probe.kind}`, answer === probe.banner);
        }
      }
    };
    await Promise.all(sites.flatMap((site) => [fromSite(site, 'lan'), fromSite(site, 'router')]));
    return measured;
  }

  /** The same paths as `reachability` lists them (tunnel IP and LAN targets). */
  async function claimed(sites: Site[]): Promise<Map<string, boolean>> {
    const claims = new Map<string, boolean>();
    for (const source of sites) {
      const { reaches } = (await admin.ok<{ peer: { reachability: { reaches: Array<{ fromKind: string; kind: string; targetPeerName: string }> } } }>(REACH, { id: source.peerId })).peer.reachability;
      for (const target of sites) {
        if (target === source) continue;
        for (const fromKind of ['LAN', 'TUNNEL_IP']) {
          for (const kind of ['LAN', 'TUNNEL_IP']) {
            claims.set(`${source.name} ${fromKind} -> ${target.name} ${kind}`, reaches.some((r) => r.fromKind === fromKind && r.kind === kind && r.targetPeerName === target.name));
          }
        }
      }
    }
    return claims;
  }

  const sorted = (paths: Map<string, boolean>, want: boolean) => [...paths].filter(([, ok]) => ok === want).map(([path]) => path).sort();

  it('three sites, one LAN: b and c translated, a not; the API names exactly the paths WireGuard drops', async () => {
    const { lab, sites } = await sameLanSites(['sa', 'sb', 'sc']);
    const [a, b] = sites as [Site, Site, Site];
    // The state: auto-NAT on b translates the group, then a stops translating.
    await admin.ok(UPDATE_SUBNET, { id: b.subnetId, input: { autoNat: true } });
    await admin.ok(UPDATE_SUBNET, { id: a.subnetId, input: { natCidr: null } });
    await deploy(lab, sites);
    const measured = await measure(lab, sites);
    expect(sorted(measured, false)).toEqual([
      // b and c drop a's LAN (their own range), whatever it is sent to.
      'sa LAN -> sb LAN', 'sa LAN -> sb TUNNEL_IP', 'sa LAN -> sc LAN', 'sa LAN -> sc TUNNEL_IP',
      // a's LAN is b's and c's own range: neither sends it into the tunnel.
      'sb LAN -> sa LAN', 'sb TUNNEL_IP -> sa LAN', 'sc LAN -> sa LAN', 'sc TUNNEL_IP -> sa LAN',
    ]);
    expect(measured.size).toBe(24);
    expect(await claimed(sites)).toEqual(measured);
  }, 240_000);

  it('three sites, one LAN: auto-NAT on one translates all three and every path answers', async () => {
    const { lab, sites } = await sameLanSites(['sa', 'sb', 'sc']);
    await admin.ok(UPDATE_SUBNET, { id: sites[2]!.subnetId, input: { autoNat: true } });
    await deploy(lab, sites);
    const measured = await measure(lab, sites);
    expect(sorted(measured, false)).toEqual([]);
    expect(measured.size).toBe(24);
    expect(await claimed(sites)).toEqual(measured);
  }, 240_000);

  it('two sites, one LAN: untranslated only the routers reach each other, as the API says; auto-NAT on one translates both and every path answers', async () => {
    const { lab, sites } = await sameLanSites(['sa', 'sb']);
    const [a, b] = sites as [Site, Site];
    // Neither translated: each LAN is the other's own range, only router-to-router works.
    await deploy(lab, sites);
    let measured = await measure(lab, sites);
    expect(sorted(measured, true)).toEqual(['sa TUNNEL_IP -> sb TUNNEL_IP', 'sb TUNNEL_IP -> sa TUNNEL_IP']);
    expect(await claimed(sites)).toEqual(measured);

    await admin.ok(UPDATE_SUBNET, { id: a.subnetId, input: { autoNat: true } });
    const lab2 = await Lab.create();
    labs.push(lab2);
    for (const site of sites) await lab2.addSite(site.name, { lanCidr: LAN, lanHostIp: HOST });
    // Same underlay addresses in the new lab (sites are added in the same order).
    expect(sites.map((site) => lab2.underlayIp(site.name))).toEqual(sites.map((site) => lab.underlayIp(site.name)));
    await lab.destroy();
    await deploy(lab2, [a, b]);
    measured = await measure(lab2, sites);
    expect(sorted(measured, false)).toEqual([]);
    expect(measured.size).toBe(8);
    expect(await claimed(sites)).toEqual(measured);
  }, 240_000);
});
