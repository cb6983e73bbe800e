// Issue 16 end to end, as a user does it: a dual-stack WAN (`ipv6: true`, a random ULA) built
// through the GraphQL API of a real app on a loopback port, endpoints given as IPv6 literals in a
// non-canonical form, the sites reachable only over an IPv6-only underlay, two sites with the same
// IPv6 LAN put right by auto-NAT (NPTv6) through the API, an IPv6 published service, and every
// peer's wg-quick config downloaded through the API and brought up verbatim in the lab. Per-host
// TCP markers prove which host answered and what source address it saw.
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { contains, hostRange, parseCidr, tryParseAddress } from '../../src/domain/ip.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { GraphQLTestClient, registerAdmin } from '../support/graphql.js';
import { failing, lanProbes, overlapProbes, PORT, translatedHost, v4, v6, type Lan, type LanSite, type Probe } from './dual-stack-scenario.js';
import { converge, Lab, redactConf } from './harness.js';
import { describeLab } from './require-lab.js';

const CREATE_WAN = `mutation ($input: CreateWanInput!) { createWan(input: $input) { wan { id tunnelCidr6 servicesCidr6 natPool6 } } }`;
const ADD_PEER = `mutation ($wanId: ID!, $input: AddPeerInput!) { addPeer(wanId: $wanId, input: $input) { peer { id tunnelIp tunnelIp6 endpointHost } } }`;
const ADD_SUBNET = `mutation ($peerId: ID!, $input: AddSubnetInput!) { addSubnet(peerId: $peerId, input: $input) { id natCidr } }`;
const UPDATE_SUBNET = `mutation ($id: ID!, $input: UpdateSubnetInput!) { updateSubnet(id: $id, input: $input) { id natCidr } }`;
const SUBNETS = `query ($id: ID!) { peer(id: $id) { subnets { id cidr natCidr } } }`;
const PUBLISH = `mutation ($peerId: ID!, $input: PublishServiceInput!) { publishService(peerId: $peerId, input: $input) { serviceIp servicePort } }`;
const DOWNLOAD = `mutation ($peerId: ID!) { downloadPeerConfig(peerId: $peerId, format: WG_QUICK) { content } }`;

interface WanRow { id: string; tunnelCidr6: string; servicesCidr6: string; natPool6: string }
interface PeerRow { id: string; tunnelIp: string; tunnelIp6: string; endpointHost: string }

let t: TestApp;
let admin: GraphQLTestClient;
const labs: Lab[] = [];

afterEach(async () => {
  while (labs.length) await labs.pop()!.destroy();
});

/** `fd64::3` written out in full (fd64:0000:…:0003): any valid form must be accepted and stored canonical. */
function longForm(address: string): string {
  const hex = (tryParseAddress(address)! - (1n << 32n)).toString(16).padStart(32, '0');
  return hex.match(/.{4}/g)!.join(':').toUpperCase();
}

describeLab('a dual-stack WAN built through the API, its downloaded configs in the lab', () => {
  beforeAll(async () => {
    t = await startTestApp();
    admin = await registerAdmin(t.graphqlUrl);
  });
  afterAll(() => t?.stop());

  it('IPv6-only underlay, IPv6 endpoints, an IPv6 overlap fixed by auto-NAT, an IPv6 service: every path answers from the right host', async () => {
    const lab = await Lab.create({ underlay: 'ipv6' });
    labs.push(lab);
    const shared: Lan = { cidr: '2001:db8:1::/64', host: '2001:db8:1::10' };
    const defs: LanSite[] = [
      { name: 'sa', lan4: v4(101), lan6: shared },
      { name: 'sb', lan4: v4(102), lan6: shared },
      { name: 'sc', lan4: v4(103), lan6: v6(0x103) },
    ];
    const wan = (await admin.ok<{ createWan: { wan: WanRow } }>(CREATE_WAN, { input: { name: `dual-lab-${lab.runId}`, ipv6: true } })).createWan.wan;
    const peers = new Map<string, PeerRow>();
    const lan6Subnet = new Map<string, string>();
    for (const def of defs) {
      await lab.addSite(def.name, { lanCidr: def.lan4!.cidr, lanHostIp: def.lan4!.host, lanCidr6: def.lan6!.cidr, lanHostIp6: def.lan6!.host });
      const input = { name: def.name, endpointHost: longForm(lab.underlayIp(def.name)), endpointPort: 51820 };
      const peer = (await admin.ok<{ addPeer: { peer: PeerRow } }>(ADD_PEER, { wanId: wan.id, input })).addPeer.peer;
      expect(peer.endpointHost, 'endpoint stored in RFC 5952 form').toBe(lab.underlayIp(def.name));
      expect(contains(parseCidr(wan.tunnelCidr6), hostRange(tryParseAddress(peer.tunnelIp6)!))).toBe(true);
      peers.set(def.name, peer);
      await admin.ok(ADD_SUBNET, { peerId: peer.id, input: { cidr: def.lan4!.cidr, description: `${def.name} IPv4 LAN` } });
      const subnet = await admin.ok<{ addSubnet: { id: string; natCidr: string | null } }>(ADD_SUBNET, { peerId: peer.id, input: { cidr: def.lan6!.cidr, description: `${def.name} IPv6 LAN` } });
      lan6Subnet.set(def.name, subnet.addSubnet.id);
    }
    // Auto-NAT on sb translates its overlap group: sa and sb, both out of the WAN's natPool6.
    await admin.ok(UPDATE_SUBNET, { id: lan6Subnet.get('sb'), input: { autoNat: true } });
    const natOf = async (name: string): Promise<string | null> => {
      const { peer } = await admin.ok<{ peer: { subnets: Array<{ id: string; natCidr: string | null }> } }>(SUBNETS, { id: peers.get(name)!.id });
      return peer.subnets.find((s) => s.id === lan6Subnet.get(name))!.natCidr;
    };
    const [aNat, bNat, cNat] = [await natOf('sa'), await natOf('sb'), await natOf('sc')];
    expect(cNat).toBeNull();
    for (const nat of [aNat, bNat]) expect(nat !== null && contains(parseCidr(wan.natPool6), parseCidr(nat)), `${nat} in ${wan.natPool6}`).toBe(true);
    expect(aNat).not.toBe(bNat);
    const aHost = translatedHost(shared.host, shared.cidr, aNat!);
    const bHost = translatedHost(shared.host, shared.cidr, bNat!);
    const cHost = defs[2]!.lan6!.host;

    // sc's LAN host published on the IPv6 services range, port 80 -> 7000.
    const service = (await admin.ok<{ publishService: { serviceIp: string; servicePort: number } }>(PUBLISH, {
      peerId: peers.get('sc')!.id, input: { name: 'web6', localIp: cHost, localPort: PORT, servicePort: 80 },
    })).publishService;
    expect(contains(parseCidr(wan.servicesCidr6), hostRange(tryParseAddress(service.serviceIp)!)), `${service.serviceIp} in ${wan.servicesCidr6}`).toBe(true);

    const confs = new Map<string, string>();
    for (const def of defs) {
      const conf = (await admin.ok<{ downloadPeerConfig: { content: string } }>(DOWNLOAD, { peerId: peers.get(def.name)!.id })).downloadPeerConfig.content;
      confs.set(def.name, conf);
      // The other two are dialled at their bracketed, canonical IPv6 literals.
      expect([...conf.matchAll(/^Endpoint = (.+)$/gm)].map((m) => m[1]).sort()).toEqual(defs.filter((d) => d !== def).map((d) => `[${lab.underlayIp(d.name)}]:51820`).sort());
      await lab.up(def.name, conf);
      await lab.tcpBanner(def.name, '::', PORT, `lan-${def.name}`, 'lan', { withPeer: true });
    }

    const probes: Probe[] = [
      // IPv4 between every pair of LAN hosts, over the IPv6-only underlay.
      ...lanProbes(defs).filter((p) => !p.to.includes(':')),
      ...overlapProbes({ a: { name: 'sa', host: aHost, nat: aNat! }, b: { name: 'sb', host: bHost, nat: bNat! }, c: { name: 'sc', host: cHost } }),
      // The service: DNAT at sc to its LAN host, the client's (translated) source kept.
      { from: 'sa', where: 'lan', to: service.serviceIp, port: 80, expect: `lan-sc ${aHost}`, what: 'TCP sa LAN -> IPv6 service' },
      { from: 'sb', where: 'router', to: service.serviceIp, port: 80, expect: `lan-sc ${peers.get('sb')!.tunnelIp6}`, what: 'TCP sb router -> IPv6 service' },
    ];
    const explain = async (): Promise<string> => {
      const parts: string[] = [];
      for (const def of defs) parts.push(`----- ${def.name} downloaded conf:\n${redactConf(confs.get(def.name) ?? '')}\n${await lab.explain(def.name)}`);
      return parts.join('\n');
    };
    await converge('dual-stack WAN from the API', () => failing(lab, probes), explain);
    // The real shared prefix is nobody's on the overlay: from sc it leads nowhere.
    expect(await lab.ping('sc', shared.host, { from: 'lan', count: 1, timeoutSec: 2 }), 'sc -> the untranslated shared address').toBe(false);
    // Every tunnel is handshaken between IPv6 underlay addresses.
    for (const def of defs) {
      for (const peer of (await lab.wgShow(def.name)).flatMap((iface) => iface.peers)) {
        expect(peer.latestHandshake, `${def.name} handshake`).toBeGreaterThan(0);
        expect(defs.filter((d) => d !== def).map((d) => `[${lab.underlayIp(d.name)}]:51820`)).toContain(peer.endpoint);
      }
    }
  }, 240_000);
});
