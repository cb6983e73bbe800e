// Issue 16 with real packets: dual-stack WANs (IPv4 and IPv6 tunnel, services and NAT ranges; the
// IPv6 ones a random ULA as the product draws them) compiled and rendered by the domain from a
// spec, every conf brought up verbatim with wg-quick in network namespaces (wireguard-go). Every
// site's LAN host has an IPv4 and/or an IPv6 address behind its router, and routers start with
// forwarding off in both families, so a LAN host that answers was really routed by the rendered
// confs. TCP servers on the LAN hosts answer with their site's name and the client address they
// see, which proves which host answered and whether (and into what) the source was translated.
// Reachability is polled (bounded) until every path answers; nothing is asserted on time.
import { randomBytes } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import {
  allocateTunnelIp, compileOverlay, completeOverlapGroup, contains, generateKeyPair, parseCidr, renderWgQuick, ulaRanges, validateOverlaySpec,
} from '../../src/domain/index.js';
import type { OverlaySpec, PeerRole, PeerSpec, SubnetSpec, Topology } from '../../src/domain/index.js';
import { converge, Lab, redactConf } from './harness.js';
import { failing, lanProbes, overlapProbes, PORT, translatedHost, v4, v6, type Lan, type LanSite, type Probe } from './dual-stack-scenario.js';
import { labPeer } from './hub-redundancy-scenario.js';
import { describeLab } from './require-lab.js';

interface SiteDef extends LanSite {
  role?: PeerRole;
  /** No endpoint: the site dials out (on the IPv4 underlay it also sits behind a CGNAT box). */
  dialsOut?: boolean;
}

interface Deployed {
  lab: Lab;
  defs: SiteDef[];
  spec: OverlaySpec;
  confs: Map<string, string>;
  peer(name: string): PeerSpec;
}

// Lab.create() queues behind any other lab on the machine (one flock): room for that and a slow first handshake.
const TEST_MS = 240_000;

const labs: Lab[] = [];

afterEach(async () => {
  while (labs.length) await labs.pop()!.destroy();
});

async function newLab(underlay: 'ipv4' | 'ipv6' = 'ipv4'): Promise<Lab> {
  const lab = await Lab.create({ underlay });
  labs.push(lab);
  return lab;
}

function lanSubnet(id: string, lan: Lan | undefined, description: string): SubnetSpec[] {
  return lan ? [{ id, cidr: lan.cidr, routed: true, natCidr: null, description }] : [];
}

/**
 * The lab sites and a dual-stack WAN of them (IPv6 ranges from a fresh random ULA, tunnel
 * addresses of both families allocated by the domain). `adjust` may change the spec (e.g.
 * translate LANs) before it is validated, compiled, rendered and brought up.
 */
async function deploy(lab: Lab, topology: Topology, defs: SiteDef[], adjust: (spec: OverlaySpec) => void = () => undefined): Promise<Deployed> {
  const ranges = ulaRanges(randomBytes(5));
  const tunnelCidr = '10.0.0.0/24';
  const taken: string[] = [];
  const taken6: string[] = [];
  const peers: PeerSpec[] = [];
  for (const def of defs) {
    await lab.addSite(def.name, {
      ...(def.lan4 ? { lanCidr: def.lan4.cidr, lanHostIp: def.lan4.host } : {}),
      ...(def.lan6 ? { lanCidr6: def.lan6.cidr, lanHostIp6: def.lan6.host } : {}),
      behindNat: (def.dialsOut ?? false) && lab.underlay === 'ipv4',
    });
    const keys = generateKeyPair();
    const tunnelIp = allocateTunnelIp(tunnelCidr, taken);
    const tunnelIp6 = allocateTunnelIp(ranges.tunnelCidr6, taken6);
    taken.push(tunnelIp);
    taken6.push(tunnelIp6);
    peers.push({
      ...labPeer({ name: def.name, role: def.role ?? 'SITE', tunnelIp }, keys, def.dialsOut ? null : lab.underlayIp(def.name)),
      tunnelIp6,
      subnets: [...lanSubnet(`${def.name}-lan4`, def.lan4, `${def.name} IPv4 LAN`), ...lanSubnet(`${def.name}-lan6`, def.lan6, `${def.name} IPv6 LAN`)],
    });
  }
  const spec: OverlaySpec = {
    wan: {
      id: 'wan-dual', name: 'dual stack', tunnelCidr, servicesCidr: '10.0.5.0/24', natPool: '172.16.0.0/12', ...ranges,
      topology, listenPort: 51820, mtu: 1420, keepalive: 25, interfaceName: 'wg0',
    },
    peers,
    presharedKeys: [],
  };
  adjust(spec);
  validateOverlaySpec(spec);
  const compiled = compileOverlay(spec);
  const confs = new Map<string, string>();
  for (const peer of peers) confs.set(peer.name, renderWgQuick(compiled, peer.id));
  for (const [name, conf] of confs) await lab.up(name, conf);
  // Each LAN host answers TCP on both families (a '::' socket takes IPv4 too) with its site's name.
  for (const def of defs) if (def.lan4 || def.lan6) await lab.tcpBanner(def.name, '::', PORT, `lan-${def.name}`, 'lan', { withPeer: true });
  return {
    lab, defs, spec, confs,
    peer: (name) => {
      const found = peers.find((p) => p.name === name);
      if (!found) throw new Error(`no peer ${name}`);
      return found;
    },
  };
}

/** The rendered confs (keys redacted) and the state of every site, both families. */
async function explain(o: Deployed): Promise<string> {
  const parts: string[] = [];
  for (const def of o.defs) parts.push(`----- ${def.name} rendered conf:\n${redactConf(o.confs.get(def.name) ?? '')}\n${await o.lab.explain(def.name)}`);
  return parts.join('\n');
}

async function expectAllAnswer(o: Deployed, what: string, probes: readonly Probe[]): Promise<void> {
  await converge(what, () => failing(o.lab, probes), () => explain(o));
}

/** Each site's interfaces carry both tunnel addresses: the rendered Address line has both families. */
async function expectDualStackInterfaces(o: Deployed): Promise<void> {
  for (const def of o.defs) {
    const peer = o.peer(def.name);
    const [iface] = o.lab.interfacesOf(def.name);
    const addresses = (await o.lab.exec(def.name, ['ip', '-o', 'addr', 'show', 'dev', iface as string])).stdout;
    expect(addresses, `${def.name} tunnel addresses`).toContain(`inet ${peer.tunnelIp}/24`);
    expect(addresses, `${def.name} tunnel addresses`).toContain(`inet6 ${peer.tunnelIp6}/64`);
  }
}

describeLab('dual-stack overlays in the network lab (IPv6 with real packets)', () => {
  it('(1) 3-site dual-stack mesh: every LAN host reaches every other with ping and ping -6; TCP over IPv6 between LAN hosts', async () => {
    const lab = await newLab();
    const defs: SiteDef[] = [1, 2, 3].map((i) => ({ name: `m${i}`, lan4: v4(60 + i), lan6: v6(0x60 + i) }));
    const o = await deploy(lab, 'MESH', defs);
    await expectDualStackInterfaces(o);

    const tunnels: Probe[] = defs.flatMap((a) => defs.filter((b) => b !== a).map((b) => ({
      from: a.name, where: 'router' as const, to: o.peer(b.name).tunnelIp6 as string, what: `ping ${a.name} router -> ${b.name} IPv6 tunnel address`,
    })));
    // TCP over IPv6 both ways between m1 and m2, and m3 -> m1; the server sees the client's real address.
    const tcp = (a: SiteDef, b: SiteDef, family: 4 | 6): boolean => family === 6 && (a.name === 'm3' ? b.name === 'm1' : b.name !== 'm3');
    const probes = [...tunnels, ...lanProbes(defs, tcp)];
    expect(probes.filter((p) => p.expect !== undefined)).toHaveLength(3);
    expect(probes).toHaveLength(6 + 6 * 2 + 3);
    await expectAllAnswer(o, 'dual-stack mesh', probes);

    // A full mesh: each site has a handshaken tunnel with each of the other two.
    for (const def of defs) {
      const peers = (await lab.wgShow(def.name)).flatMap((iface) => iface.peers);
      expect(peers.map((p) => p.publicKey).sort(), `${def.name} peers`).toEqual(defs.filter((d) => d !== def).map((d) => o.peer(d.name).publicKey).sort());
      expect(peers.every((p) => p.latestHandshake > 0), `${def.name} handshakes`).toBe(true);
    }
  }, TEST_MS);

  it('(2) dual-stack hub-and-spoke, one spoke behind CGNAT: spoke-to-spoke IPv6 (ping -6 and TCP) crosses the hub', async () => {
    const lab = await newLab();
    const defs: SiteDef[] = [
      { name: 'hub', role: 'HUB', lan4: v4(70), lan6: v6(0x70) },
      { name: 'sp1', lan4: v4(71), lan6: v6(0x71) },
      { name: 'sp2', lan4: v4(72), lan6: v6(0x72) },
      { name: 'sp3', lan4: v4(73), lan6: v6(0x73), dialsOut: true },
    ];
    const o = await deploy(lab, 'HUB_SPOKE', defs);
    await expectDualStackInterfaces(o);
    // Nobody can dial sp3: it keeps the NAT mapping to the hub open itself.
    expect(o.confs.get('hub')!.match(/^Endpoint = /gm)).toHaveLength(2);
    expect(o.confs.get('sp3')).toMatch(/^PersistentKeepalive = \d+$/m);

    const spokes = defs.filter((d) => d.role !== 'HUB');
    const tcp = (a: SiteDef, b: SiteDef, family: 4 | 6): boolean => family === 6 && a.role !== 'HUB' && b.role !== 'HUB';
    const probes = [
      ...lanProbes(defs, tcp),
      { from: 'sp1', where: 'router' as const, to: o.peer('sp3').tunnelIp6 as string, what: 'ping sp1 router -> sp3 IPv6 tunnel address (via the hub)' },
    ];
    // Every spoke pair, both ways, over TCP/IPv6: 3 * 2.
    expect(probes.filter((p) => p.expect !== undefined)).toHaveLength(spokes.length * (spokes.length - 1));
    await expectAllAnswer(o, 'dual-stack hub-and-spoke', probes);

    // The spokes only know the hub, so spoke-to-spoke traffic crossed it.
    for (const spoke of spokes) {
      const peers = (await lab.wgShow(spoke.name)).flatMap((iface) => iface.peers);
      expect(peers.map((p) => p.publicKey), `${spoke.name} peers`).toEqual([o.peer('hub').publicKey]);
    }
    const hubPeers = (await lab.wgShow('hub')).flatMap((iface) => iface.peers);
    expect(hubPeers).toHaveLength(3);
    expect(hubPeers.every((p) => p.latestHandshake > 0)).toBe(true);
    // The hub learned sp3's endpoint: its CGNAT box's address, not sp3's own.
    const sp3 = hubPeers.find((p) => p.publicKey === o.peer('sp3').publicKey);
    expect(sp3?.endpoint?.split(':')[0]).toBe(lab.publicIp('sp3'));
    expect(lab.publicIp('sp3')).not.toBe(lab.underlayIp('sp3'));
  }, TEST_MS);

  it('(3) two sites with the same IPv6 LAN, both translated (NPTv6) from natPool6: a third site reaches each real host at its translated address', async () => {
    const lab = await newLab();
    // The same prefix AND the same host address on both LANs: only the translation tells them apart.
    const shared: Lan = { cidr: '2001:db8:1::/64', host: '2001:db8:1::10' };
    const defs: SiteDef[] = [
      { name: 'sa', lan4: v4(81), lan6: shared },
      { name: 'sb', lan4: v4(82), lan6: shared },
      { name: 'sc', lan4: v4(83), lan6: v6(0x83) },
    ];
    const natCidrs = new Map<string, string>();
    let pool = '';
    const o = await deploy(lab, 'MESH', defs, (spec) => {
      pool = spec.wan.natPool6 as string;
      // Auto-NAT on sa's IPv6 LAN translates the whole overlap group (sa and sb), as the API does.
      for (const { subnetId, natCidr } of completeOverlapGroup(spec, 'sa-lan6', true)) {
        spec.peers.flatMap((p) => p.subnets).find((s) => s.id === subnetId)!.natCidr = natCidr;
        natCidrs.set(subnetId, natCidr);
      }
    });
    expect([...natCidrs.keys()].sort()).toEqual(['sa-lan6', 'sb-lan6']);
    const [aNat, bNat] = [natCidrs.get('sa-lan6')!, natCidrs.get('sb-lan6')!];
    for (const nat of [aNat, bNat]) {
      expect(nat).toMatch(/\/64$/);
      expect(contains(parseCidr(pool), parseCidr(nat)), `${nat} in ${pool}`).toBe(true);
    }
    expect(aNat).not.toBe(bNat);
    const aHost = translatedHost(shared.host, shared.cidr, aNat);
    const bHost = translatedHost(shared.host, shared.cidr, bNat);
    const c = defs[2]!.lan6!.host;

    const probes: Probe[] = [
      ...overlapProbes({ a: { name: 'sa', host: aHost, nat: aNat }, b: { name: 'sb', host: bHost, nat: bNat }, c: { name: 'sc', host: c } }),
      // IPv4 is untouched by the IPv6 translation.
      ...lanProbes(defs).filter((p) => !p.to.includes(':')),
    ];
    await expectAllAnswer(o, 'IPv6 overlap translated', probes);
    // The real shared prefix is nobody's on the overlay: from sc it leads nowhere.
    expect(await lab.ping('sc', shared.host, { from: 'lan', count: 1, timeoutSec: 2 }), 'sc -> the untranslated shared address').toBe(false);
    expect(await lab.tcpRead('sc', shared.host, PORT, { timeoutMs: 2_000 }).catch(() => null)).toBeNull();
  }, TEST_MS);

  it('(4) IPv6-only underlay carrying IPv4 and IPv6 overlay traffic: dual-stack hub-and-spoke with a spoke that only dials out', async () => {
    const lab = await newLab('ipv6');
    const defs: SiteDef[] = [
      { name: 'hub', role: 'HUB', lan4: v4(90), lan6: v6(0x90) },
      { name: 'sp1', lan4: v4(91), lan6: v6(0x91) },
      { name: 'sp2', lan4: v4(92), lan6: v6(0x92), dialsOut: true },
    ];
    const o = await deploy(lab, 'HUB_SPOKE', defs);
    await expectDualStackInterfaces(o);
    for (const def of defs) {
      // Not a single IPv4 address on the underlay: the tunnels can only run over IPv6.
      expect((await lab.exec(def.name, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'ul0'])).stdout.trim(), `${def.name} ul0 IPv4`).toBe('');
    }
    expect([...o.confs.get('sp1')!.matchAll(/^Endpoint = (.+)$/gm)].map((m) => m[1])).toEqual([`[${lab.underlayIp('hub')}]:51820`]);

    // TCP over both families between the spokes, both ways; pings between every pair of LAN hosts.
    const tcp = (a: SiteDef, b: SiteDef): boolean => a.role !== 'HUB' && b.role !== 'HUB';
    const probes = lanProbes(defs, tcp);
    expect(probes.filter((p) => p.expect !== undefined)).toHaveLength(4);
    expect(probes.filter((p) => p.expect === undefined && p.to.includes(':'))).toHaveLength(6);
    await expectAllAnswer(o, 'dual-stack overlay over an IPv6 underlay', probes);

    // Every tunnel runs between the sites' IPv6 underlay addresses (sp2, which dials out, from a port of its choosing).
    const endpointHost = (endpoint: string | null): string | undefined => /^\[([0-9a-f:]+)\]:\d+$/.exec(endpoint ?? '')?.[1];
    for (const def of defs) {
      const peers = (await lab.wgShow(def.name)).flatMap((iface) => iface.peers);
      const expected = def.role === 'HUB' ? ['sp1', 'sp2'] : ['hub'];
      expect(peers.map((peer) => peer.publicKey).sort(), `${def.name} peers`).toEqual(expected.map((name) => o.peer(name).publicKey).sort());
      for (const peer of peers) {
        const remote = defs.find((d) => o.peer(d.name).publicKey === peer.publicKey)!;
        expect(peer.latestHandshake, `${def.name} handshake with ${remote.name}`).toBeGreaterThan(0);
        expect(endpointHost(peer.endpoint), `${def.name}'s endpoint of ${remote.name}`).toBe(lab.underlayIp(remote.name));
      }
    }
  }, TEST_MS);
});
