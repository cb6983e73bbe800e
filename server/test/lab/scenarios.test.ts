// The overlay engine's rendered wg-quick configs, brought up verbatim in the network lab: real
// wireguard-go tunnels between namespaces, real pings between LAN hosts. Each scenario builds an
// OverlaySpec whose endpoints are the sites' underlay addresses, compiles it, renders every peer
// with renderWgQuick and asserts what must be reachable. On failure the message carries the
// rendered confs (keys redacted), `wg show`, routes and NAT rules of every site.
import { afterEach, expect, it } from 'vitest';
import {
  allocateTunnelIp, compileOverlay, generateKeyPair, generatePresharedKey, renderWgQuick, suggestAutoNat,
} from '../../src/domain/index.js';
import type {
  CompiledOverlay, OverlaySpec, PeerSpec, ServiceSpec, Topology, WanSpec,
} from '../../src/domain/index.js';
import { Lab, type Where } from './harness.js';
import { describeLab } from './require-lab.js';

interface SiteDef {
  name: string;
  role?: PeerSpec['role'];
  lan?: { cidr: string; hostIp: string };
  /** CGNAT: no endpoint, behind a masquerading box in the lab. */
  behindNat?: boolean;
  services?: Omit<ServiceSpec, 'id'>[];
}

interface Overlay {
  lab: Lab;
  spec: OverlaySpec;
  compiled: CompiledOverlay;
  confs: Map<string, string>;
  peer(name: string): PeerSpec;
}

const labs: Lab[] = [];

afterEach(async () => {
  while (labs.length) await labs.pop()!.destroy();
});

function wanSpec(topology: Topology): WanSpec {
  return {
    id: 'wan-lab',
    name: 'lab',
    tunnelCidr: '10.0.0.0/24',
    servicesCidr: '10.0.5.0/24',
    natPool: '172.16.0.0/12',
    topology,
    listenPort: 51820,
    mtu: 1420,
    keepalive: 25,
    // Every site's conf names the same interface; the lab writes each as <unique>.conf.
    interfaceName: 'wg0',
  };
}

/** Sites in the lab + the matching OverlaySpec (without compiling it yet). */
async function buildSpec(topology: Topology, defs: SiteDef[]): Promise<{ lab: Lab; spec: OverlaySpec }> {
  const lab = await Lab.create();
  labs.push(lab);
  const wan = wanSpec(topology);
  const taken: string[] = [];
  const peers: PeerSpec[] = [];
  for (const def of defs) {
    await lab.addSite(def.name, {
      ...(def.lan ? { lanCidr: def.lan.cidr, lanHostIp: def.lan.hostIp } : {}),
      behindNat: def.behindNat ?? false,
    });
    const keys = generateKeyPair();
    const tunnelIp = allocateTunnelIp(wan.tunnelCidr, taken);
    taken.push(tunnelIp);
    peers.push({
      id: `peer-${def.name}`,
      name: def.name,
      role: def.role ?? 'SITE',
      tunnelIp,
      publicKey: keys.publicKey,
      privateKey: keys.privateKey,
      endpointHost: def.behindNat ? null : lab.underlayIp(def.name),
      endpointPort: null,
      listenPort: null,
      keepalive: null,
      portForwarded: false,
      subnets: def.lan
        ? [{ id: `subnet-${def.name}`, cidr: def.lan.cidr, routed: true, natCidr: null, description: `${def.name} LAN` }]
        : [],
      services: (def.services ?? []).map((s, i) => ({ ...s, id: `svc-${def.name}-${i}` })),
    });
  }
  return { lab, spec: { wan, peers, presharedKeys: [] } };
}

/** Compile, render every peer and `wg-quick up` each conf in its site. */
async function deploy(lab: Lab, spec: OverlaySpec): Promise<Overlay> {
  const compiled = compileOverlay(spec);
  const confs = new Map<string, string>();
  for (const peer of spec.peers) confs.set(peer.name, renderWgQuick(compiled, peer.id));
  for (const [name, conf] of confs) await lab.up(name, conf);
  return {
    lab,
    spec,
    compiled,
    confs,
    peer: (name) => {
      const p = spec.peers.find((x) => x.name === name);
      if (!p) throw new Error(`no peer ${name}`);
      return p;
    },
  };
}

function redact(conf: string): string {
  return conf.replace(/^(\s*(PrivateKey|PresharedKey)\s*=\s*).*$/gim, '$1<redacted>');
}

async function diagnostics(o: Overlay): Promise<string> {
  const parts: string[] = [];
  for (const peer of o.spec.peers) {
    const cmds: string[][] = [
      // Not `wg show` alone: userspace interfaces of every namespace would be listed.
      ...o.lab.interfacesOf(peer.name).map((i) => ['wg', 'show', i]),
      ['ip', '-4', 'addr'],
      ['ip', '-4', 'route'],
      ['iptables-save'],
    ];
    const outs = await Promise.all(
      cmds.map((c) => o.lab.exec(peer.name, c, { check: false }).then((r) => `$ ${c.join(' ')}\n${r.stdout}${r.stderr}`)),
    );
    parts.push(`===== ${peer.name} (${peer.role}, tunnel ${peer.tunnelIp}) rendered conf:\n${redact(o.confs.get(peer.name) ?? '')}\n${outs.join('\n')}`);
  }
  return parts.join('\n');
}

/** Assert reachability, explaining the lab state when it fails. */
async function expectReach(
  o: Overlay,
  from: string,
  ip: string,
  opts: { from?: Where; reach?: boolean; what?: string } = {},
): Promise<void> {
  const want = opts.reach ?? true;
  const ok = await o.lab.ping(from, ip, { from: opts.from ?? 'lan', count: 1, timeoutSec: want ? 5 : 2 });
  if (ok !== want) {
    const what = `${from}${opts.from === 'router' ? ' (router)' : ' (LAN host)'} -> ${ip}${opts.what ? ` [${opts.what}]` : ''}`;
    expect.fail(`${want ? 'no reply' : 'unexpected reply'}: ${what}\n${await diagnostics(o)}`);
  }
}

/** Read a TCP banner, explaining the lab state when the connection fails. */
async function readBanner(o: Overlay, from: string, host: string, port: number, where: Where = 'lan'): Promise<string> {
  try {
    return (await o.lab.tcpRead(from, host, port, { where })).trim();
  } catch (e) {
    return expect.fail(`${from} (${where}) -> ${host}:${port}: ${(e as Error).message}\n${await diagnostics(o)}`);
  }
}

function hostInRange(realCidr: string, realIp: string, translatedCidr: string): string {
  const toInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const [realNet, prefix] = realCidr.split('/') as [string, string];
  const [natNet] = translatedCidr.split('/') as [string];
  const hostBits = 32 - Number(prefix);
  const offset = (toInt(realIp) - toInt(realNet)) & ((1 << hostBits) - 1);
  const n = toInt(natNet) + offset;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

describeLab('overlay scenarios in the network lab', () => {
  it('(a) 4-site mesh: every LAN reaches every LAN (s1-s2 with a preshared key)', async () => {
    const defs: SiteDef[] = [1, 2, 3, 4].map((i) => ({
      name: `s${i}`,
      lan: { cidr: `192.168.${10 + i}.0/24`, hostIp: `192.168.${10 + i}.10` },
    }));
    const { lab, spec } = await buildSpec('MESH', defs);
    // A preshared key on one pair: both ends must render the same key or that tunnel never
    // handshakes, and the pings between s1 and s2 below fail.
    spec.presharedKeys.push({ peerAId: 'peer-s1', peerBId: 'peer-s2', key: generatePresharedKey() });
    const o = await deploy(lab, spec);

    for (const a of defs) {
      for (const b of defs) {
        if (a === b) continue;
        await expectReach(o, a.name, b.lan!.hostIp, { what: 'LAN to LAN' });
        await expectReach(o, a.name, o.peer(b.name).tunnelIp, { from: 'router', what: 'tunnel IP' });
      }
    }
    // Full mesh: every site has a direct, handshaken tunnel to each of the other three.
    for (const a of defs) {
      const [iface] = await lab.wgShow(a.name);
      expect(iface!.peers.map((p) => p.publicKey).sort()).toEqual(
        defs.filter((b) => b !== a).map((b) => o.peer(b.name).publicKey).sort(),
      );
      expect(iface!.peers.every((p) => p.latestHandshake > 0)).toBe(true);
      const withPsk = iface!.peers.filter((p) => p.presharedKey).map((p) => p.publicKey);
      const pskPartner = { s1: 's2', s2: 's1' }[a.name];
      expect(withPsk).toEqual(pskPartner ? [o.peer(pskPartner).publicKey] : []);
    }
  });

  it('(b) hub-spoke: spoke LANs reach each other through the hub; spokes only know the hub', async () => {
    const defs: SiteDef[] = [
      { name: 'hub', role: 'HUB', lan: { cidr: '192.168.20.0/24', hostIp: '192.168.20.10' } },
      { name: 'sp1', lan: { cidr: '192.168.21.0/24', hostIp: '192.168.21.10' } },
      { name: 'sp2', lan: { cidr: '192.168.22.0/24', hostIp: '192.168.22.10' } },
      { name: 'sp3', lan: { cidr: '192.168.23.0/24', hostIp: '192.168.23.10' } },
    ];
    const { lab, spec } = await buildSpec('HUB_SPOKE', defs);
    const o = await deploy(lab, spec);
    const hubKey = o.peer('hub').publicKey;

    for (const a of defs) {
      for (const b of defs) {
        if (a === b) continue;
        await expectReach(o, a.name, b.lan!.hostIp, { what: a.name !== 'hub' && b.name !== 'hub' ? 'spoke to spoke via hub' : 'hub/spoke' });
      }
    }
    // A spoke's tunnel IP is reachable from another spoke too (tunnel range routed via the hub).
    await expectReach(o, 'sp1', o.peer('sp3').tunnelIp, { from: 'router', what: 'spoke tunnel IP via hub' });

    for (const spoke of ['sp1', 'sp2', 'sp3']) {
      const [iface] = await lab.wgShow(spoke);
      expect(iface!.peers.map((p) => p.publicKey), `${spoke} peers`).toEqual([hubKey]);
    }
    const [hubIface] = await lab.wgShow('hub');
    expect(hubIface!.peers).toHaveLength(3);
    // The spoke-to-spoke traffic really crossed the hub: it has handshakes with both ends.
    expect(hubIface!.peers.every((p) => p.latestHandshake > 0)).toBe(true);
  });

  it('(c) a CGNAT client without endpoint reaches site LANs and is reachable once connected', async () => {
    const defs: SiteDef[] = [
      { name: 'office', lan: { cidr: '192.168.30.0/24', hostIp: '192.168.30.10' } },
      { name: 'branch', lan: { cidr: '192.168.31.0/24', hostIp: '192.168.31.10' } },
      { name: 'laptop', role: 'CLIENT', behindNat: true },
    ];
    const { lab, spec } = await buildSpec('MESH', defs);
    const o = await deploy(lab, spec);

    // The laptop cannot be dialled: nobody's conf carries an endpoint for it.
    for (const cp of o.compiled.peers) {
      for (const remote of cp.peers) {
        if (remote.peerId === o.peer('laptop').id) expect(remote.endpoint).toBeNull();
      }
    }
    // Its own conf keeps the NAT mapping open.
    expect(o.confs.get('laptop')).toMatch(/^\s*PersistentKeepalive\s*=\s*\d+/m);

    await expectReach(o, 'laptop', '192.168.30.10', { from: 'router', what: 'client to office LAN' });
    await expectReach(o, 'laptop', '192.168.31.10', { from: 'router', what: 'client to branch LAN' });
    // Back from the LANs to the client's tunnel IP, through the NAT mapping the client opened.
    await expectReach(o, 'office', o.peer('laptop').tunnelIp, { what: 'office LAN to client' });
    await expectReach(o, 'branch', o.peer('laptop').tunnelIp, { what: 'branch LAN to client' });

    // The office learned the laptop's endpoint: its NAT box's public address, not the laptop's own.
    const [iface] = await lab.wgShow('office');
    const laptopSeen = iface!.peers.find((p) => p.publicKey === o.peer('laptop').publicKey);
    expect(laptopSeen?.endpoint?.split(':')[0]).toBe(lab.publicIp('laptop'));
    expect(lab.publicIp('laptop')).not.toBe(lab.underlayIp('laptop'));
  });

  it('(d) overlapping LANs: one auto-NATed, both reachable from a third site', async () => {
    const defs: SiteDef[] = [
      { name: 'sitea', lan: { cidr: '192.168.1.0/24', hostIp: '192.168.1.10' } },
      { name: 'siteb', lan: { cidr: '192.168.1.0/24', hostIp: '192.168.1.20' } },
      { name: 'sitec', lan: { cidr: '192.168.50.0/24', hostIp: '192.168.50.10' } },
    ];
    const { lab, spec } = await buildSpec('MESH', defs);
    const b = spec.peers.find((p) => p.name === 'siteb')!;
    const natCidr = suggestAutoNat(spec, b.subnets[0]!.id);
    expect(natCidr).toMatch(/\/24$/);
    b.subnets[0]!.natCidr = natCidr;
    const o = await deploy(lab, spec);

    // Each LAN host announces which site it is, so reaching "a host" is not enough.
    await lab.tcpBanner('sitea', '192.168.1.10', 7000, 'site-a');
    await lab.tcpBanner('siteb', '192.168.1.20', 7000, 'site-b');

    const bTranslated = hostInRange('192.168.1.0/24', '192.168.1.20', natCidr);
    await expectReach(o, 'sitec', '192.168.1.10', { what: 'site A real LAN address' });
    await expectReach(o, 'sitec', bTranslated, { what: `site B translated address (${natCidr})` });
    expect(await readBanner(o, 'sitec', '192.168.1.10', 7000)).toBe('site-a');
    expect(await readBanner(o, 'sitec', bTranslated, 7000)).toBe('site-b');
    // B's real range belongs to A on the overlay: it must lead to A, never to B.
    await expectReach(o, 'sitec', '192.168.1.20', { reach: false, what: 'B real address is A\'s LAN' });
  });

  it('(e) a published service answers on its services-range address', async () => {
    const service = {
      name: 'web',
      protocol: 'tcp' as const,
      localIp: '192.168.60.10',
      localPort: 8080,
      serviceIp: '10.0.5.10',
      servicePort: 80,
    };
    const defs: SiteDef[] = [
      { name: 'srv', lan: { cidr: '192.168.60.0/24', hostIp: '192.168.60.10' }, services: [service] },
      { name: 'cli', lan: { cidr: '192.168.61.0/24', hostIp: '192.168.61.10' } },
      { name: 'roam', role: 'CLIENT', behindNat: true },
    ];
    const { lab, spec } = await buildSpec('MESH', defs);
    const o = await deploy(lab, spec);
    await lab.tcpBanner('srv', service.localIp, service.localPort, 'meshplane-service');

    expect(await readBanner(o, 'cli', service.serviceIp, service.servicePort)).toBe('meshplane-service');
    expect(await readBanner(o, 'cli', service.serviceIp, service.servicePort, 'router')).toBe('meshplane-service');
    expect(await readBanner(o, 'roam', service.serviceIp, service.servicePort, 'router')).toBe('meshplane-service');
  });
});
