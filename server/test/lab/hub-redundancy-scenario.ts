// The issue 15 lab (hub redundancy), shared by hub-redundancy.lab.test.ts and the failover bench:
// two hubs with LANs, three spokes with LANs and a client behind CGNAT, in one WAN with
// `hubRedundancy`, each site brought up from its downloaded Linux bundle (renderLinuxBundle, the
// file Peer.download serves), with wireguard-go and BIRD in network namespaces.
import { compileOverlay } from '../../src/domain/compile.js';
import type { CompiledOverlay } from '../../src/domain/compiled.js';
import type { OverlaySpec, PeerRole, PeerSpec } from '../../src/domain/model.js';
import { renderLinuxBundle } from '../../src/domain/render/linux-bundle.js';
import { Lab, wgKeyPair } from './harness.js';

export const WG = 'wg0';

export interface SiteDef {
  name: string;
  role: PeerRole;
  tunnelIp: string;
  lan?: string;
  host?: string;
  behindNat?: boolean;
}

export const HUB1 = 'hub1';
export const HUB2 = 'hub2';
export const CLIENT = 'client';

export const SITES: readonly SiteDef[] = [
  { name: HUB1, role: 'HUB', tunnelIp: '10.0.0.1', lan: '192.168.1.0/24', host: '192.168.1.10' },
  { name: HUB2, role: 'HUB', tunnelIp: '10.0.0.2', lan: '192.168.2.0/24', host: '192.168.2.10' },
  { name: 'spoke1', role: 'SITE', tunnelIp: '10.0.0.11', lan: '192.168.11.0/24', host: '192.168.11.10' },
  { name: 'spoke2', role: 'SITE', tunnelIp: '10.0.0.12', lan: '192.168.12.0/24', host: '192.168.12.10' },
  { name: 'spoke3', role: 'SITE', tunnelIp: '10.0.0.13', lan: '192.168.13.0/24', host: '192.168.13.10' },
  { name: CLIENT, role: 'CLIENT', tunnelIp: '10.0.0.50', behindNat: true },
];

export function siteDef(name: string): SiteDef {
  const site = SITES.find((entry) => entry.name === name);
  if (!site) throw new Error(`no site ${name}`);
  return site;
}

/** The rendered name of the interface on which a site reaches hub number `hub` (1 or 2). */
export function towardsHub(site: string, hub: 1 | 2): string {
  const def = siteDef(site);
  if (def.role === 'HUB') return hub === 1 ? `${WG}h1` : `${WG}h2`;
  return hub === 1 ? WG : `${WG}h2`;
}

export interface RedundantLab {
  lab: Lab;
  compiled: CompiledOverlay;
  /** Each site's bundle, exactly as renderLinuxBundle rendered it. */
  bundles: Map<string, string>;
}

/** The PeerSpec of a lab site: its LAN (if any) routed, no services, WAN defaults for the rest. */
export function labPeer(
  site: Pick<SiteDef, 'name' | 'role' | 'tunnelIp' | 'lan'>,
  keys: { publicKey: string; privateKey: string },
  endpointHost: string | null,
): PeerSpec {
  return {
    id: `peer-${site.name}`,
    name: site.name,
    role: site.role,
    tunnelIp: site.tunnelIp,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    endpointHost,
    endpointPort: null,
    listenPort: null,
    keepalive: null,
    portForwarded: false,
    subnets: site.lan ? [{ id: `lan-${site.name}`, cidr: site.lan, routed: true, natCidr: null, description: `${site.name} LAN` }] : [],
    services: [],
  };
}

/** The lab sites (namespaces, LAN hosts, CGNAT), the WAN spec, and every site up from its bundle. */
export async function buildRedundantLab(lab: Lab): Promise<RedundantLab> {
  // An IPv6 underlay has no NAT box: there the client is simply a peer without an endpoint that dials out.
  const nat = lab.underlay === 'ipv4';
  for (const site of SITES) {
    await lab.addSite(site.name, { ...(site.lan ? { lanCidr: site.lan, lanHostIp: site.host } : {}), ...(site.behindNat && nat ? { behindNat: true } : {}) });
  }
  const peers: PeerSpec[] = [];
  for (const site of SITES) {
    // Hubs are dialled at their underlay address; spokes and the client have no endpoint.
    peers.push(labPeer(site, await wgKeyPair(), site.role === 'HUB' ? lab.underlayIp(site.name) : null));
  }
  const spec: OverlaySpec = {
    wan: {
      id: 'wan-redundant',
      name: 'redundant hubs',
      tunnelCidr: '10.0.0.0/24',
      servicesCidr: '10.0.5.0/24',
      natPool: '172.16.0.0/12',
      topology: 'HUB_SPOKE',
      listenPort: 51820,
      mtu: 1420,
      keepalive: 25,
      interfaceName: WG,
      hubRedundancy: true,
    },
    peers,
    presharedKeys: [],
  };
  const compiled = compileOverlay(spec);
  const bundles = new Map<string, string>();
  for (const site of SITES) {
    const bundle = renderLinuxBundle(compiled, `peer-${site.name}`);
    bundles.set(site.name, bundle);
    await lab.upBundle(site.name, bundle);
  }
  return { lab, compiled, bundles };
}

/** A path: from a LAN host (or the client's tunnel IP) to another site's LAN host. */
export interface Path {
  from: string;
  to: string;
}

export function pathName(path: Path): string {
  return `${path.from} -> ${path.to} LAN`;
}

/** Every LAN host to every other LAN host, and the client's tunnel IP to every LAN (25 paths). */
export function allPaths(): Path[] {
  const lans = SITES.filter((site) => site.lan);
  const paths: Path[] = [];
  for (const from of SITES) for (const to of lans) if (to !== from) paths.push({ from: from.name, to: to.name });
  return paths;
}

/** One echo from the LAN host behind `from` (forwarded by its router), or from the client's tunnel IP. */
export function probe(lab: Lab, path: Path, timeoutSec = 2): Promise<boolean> {
  const from = siteDef(path.from);
  const target = siteDef(path.to).host as string;
  return from.lan
    ? lab.ping(from.name, target, { from: 'lan', count: 1, timeoutSec })
    : lab.ping(from.name, target, { from: 'router', source: from.tunnelIp, count: 1, timeoutSec });
}

/** The interface the site's router sends `destination` through (`ip route get`), or null. */
export async function routeDevice(lab: Lab, site: string, destination: string): Promise<string | null> {
  const res = await lab.exec(site, ['ip', '-4', 'route', 'get', destination], { check: false, timeoutMs: 5_000 });
  return /\bdev (\S+)/.exec(res.stdout)?.[1] ?? null;
}

/** Which of the site's rendered interfaces (wg0, wg0h2, ...) carries `destination` now, or the raw device. */
export async function renderedRoute(lab: Lab, site: string, destination: string): Promise<string | null> {
  const dev = await routeDevice(lab, site, destination);
  for (const [rendered, name] of lab.bundleInfo(site).interfaces) if (name === dev) return rendered;
  return dev;
}

/** What a failed wait prints: every BIRD's sessions and every router's routes. */
export async function diagnostics(lab: Lab): Promise<string> {
  const parts: string[] = [];
  for (const site of SITES) {
    const birdc = await lab.birdc(site.name, ['show', 'protocols']).catch((e: Error) => e.message.split('\n')[0]);
    const routes = (await lab.exec(site.name, ['ip', '-4', 'route'], { check: false, timeoutMs: 5_000 }).catch(() => null))?.stdout ?? '';
    parts.push(`== ${site.name}\n${birdc}\n${routes}`);
  }
  return parts.join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
