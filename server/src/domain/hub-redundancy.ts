// Redundant hubs: a hub-and-spoke WAN whose spokes survive the loss of any one hub, or of
// their link to one, without the control plane. WireGuard picks a remote by AllowedIPs, so
// one interface cannot hold two hubs for the same prefixes: each spoke gets one interface
// per hub, hubs get one interface per other hub, and every peer runs eBGP with BFD over its
// tunnels. Routes then follow session health: a spoke prefers its primary hub while that
// session is up; a hub reaches a spoke directly, or through another hub when the spoke's
// link to it is down.
import { dropCovered, mayCollide, overlapsAny, resolveClaims, type ClaimsByRemote } from './allowed-ips.js';
import { compileFirewall, compileNat, compileServices, interfaceAddresses, keepaliveOf } from './compile-parts.js';
import type { CompiledBgpNeighbour, CompiledInterface, CompiledLink, CompiledPeer, CompiledRemote, CompiledRouting, CompiledService } from './compiled.js';
import { compareRanges, formatCidr, type IpRange } from './ip.js';
import type { PeerSpec, WanSpec } from './model.js';
import { buildOverlayFacts, formatEndpoint, pairKey, type Claim, type OverlayFacts, type PeerFacts } from './overlay-facts.js';
import { planTunnels, type TunnelPlan } from './topology.js';

/** Private 4-byte ASNs (RFC 6996) start here; a peer's ASN adds its offset in the tunnel range. */
export const PRIVATE_ASN_BASE = 4_200_000_000;
/** BFD: a session is down after `multiplier` missed packets sent every `intervalMs`. */
export const BFD = { intervalMs: 200, multiplier: 5 } as const;
export const BGP_TIMERS = { holdSeconds: 9, keepaliveSeconds: 3, connectRetrySeconds: 2 } as const;
/** Spokes always keep their NAT mappings to every hub open: only the primary hub may know where a spoke listens. */
const SPOKE_KEEPALIVE = 25;
const PRIMARY_PREFERENCE = 200;
const HUB_PREFERENCE = 100;
/** Longest interface-name suffix a link adds ("h" and the hub number, at most 2 digits). */
export const LINK_SUFFIX_MAX = 3;
/** Longest WAN interface name that leaves room for a link's suffix (`wg0h2`) within Linux's 15. */
export const REDUNDANT_INTERFACE_NAME_MAX = 15 - LINK_SUFFIX_MAX;
export const MAX_REDUNDANT_HUBS = 99;

export interface Redundancy {
  /** Facts indices of the hubs, in facts order; a hub's number is its position + 1. */
  readonly hubs: readonly number[];
  readonly hubNumber: ReadonlyMap<number, number>;
  readonly resolveCollisions: boolean;
}

/** Why an opted-in WAN runs without redundancy, or null when it runs with it (or did not opt in). */
export function redundancyProblem(facts: OverlayFacts, plan: TunnelPlan): string | null {
  if (!facts.wan.hubRedundancy) return null;
  if (plan.topology !== 'HUB_SPOKE') return 'hub redundancy needs the HUB_SPOKE topology';
  const hubs = facts.peers.filter((peer) => peer.spec.role === 'HUB');
  if (hubs.length < 2) return 'hub redundancy needs at least two hubs';
  if (hubs.length > MAX_REDUNDANT_HUBS) return `hub redundancy supports at most ${MAX_REDUNDANT_HUBS} hubs`;
  const unreachable = hubs.find((hub) => !hub.hasEndpoint);
  if (unreachable) return `hub ${unreachable.spec.name} has no endpoint: with redundant hubs every spoke dials every hub`;
  if (facts.wan.interfaceName.length > REDUNDANT_INTERFACE_NAME_MAX) return `interface name ${facts.wan.interfaceName} leaves no room for the per-hub suffix (at most ${REDUNDANT_INTERFACE_NAME_MAX} characters)`;
  for (const hub of hubs) {
    const highest = Math.max(hub.listenPort ?? facts.wan.listenPort, dialPortOf(facts, hub)) + hubs.length;
    if (highest > 65535) return `hub ${hub.spec.name}'s port leaves no room for its links to the other hubs (port + hub number must stay below 65536)`;
  }
  return null;
}

export function redundancyOf(facts: OverlayFacts, plan: TunnelPlan): Redundancy | null {
  if (!facts.wan.hubRedundancy || redundancyProblem(facts, plan) !== null) return null;
  const hubs = facts.peers.filter((peer) => peer.spec.role === 'HUB').map((peer) => peer.index);
  return { hubs, hubNumber: new Map(hubs.map((index, i) => [index, i + 1])), resolveCollisions: mayCollide(facts) };
}

/** The interface on which a peer reaches hub number `hubNumber` (beyond a spoke's primary). */
export function linkInterfaceName(base: string, hubNumber: number): string {
  return `${base}h${hubNumber}`;
}

export function asnOf(facts: OverlayFacts, peer: PeerFacts): number {
  return PRIVATE_ASN_BASE + Number(peer.tunnelIp - facts.tunnelRange.start);
}

function dialPortOf(facts: OverlayFacts, peer: PeerFacts): number {
  return peer.spec.endpointPort ?? peer.listenPort ?? facts.wan.listenPort;
}

/** Hub `hub` listens for hub number `otherNumber` on its own port + that number. */
function linkListenPort(facts: OverlayFacts, hub: PeerFacts, otherNumber: number): number {
  return (hub.listenPort ?? facts.wan.listenPort) + otherNumber;
}

/** Where hub `self` (number `selfNumber`) dials hub `other`'s link to it. */
function linkEndpoint(facts: OverlayFacts, other: PeerFacts, selfNumber: number): string {
  return formatEndpoint(other.spec.endpointHost as string, dialPortOf(facts, other) + selfNumber);
}

/**
 * Everything that may travel over one hub tunnel of `self`: the tunnel and services ranges
 * and every other peer's LAN it can reach (never one overlapping its own, which would hijack
 * the local network). The routing engine decides what actually goes there.
 */
function overlayPrefixes(facts: OverlayFacts, self: PeerFacts): string[] {
  const ranges: Array<{ range: IpRange }> = facts.overlayRanges.map((range) => ({ range }));
  for (const lan of facts.lanClaims) {
    if (lan.owner !== self.index && !overlapsAny(lan.range, self.locals)) ranges.push(lan);
  }
  return dropCovered(ranges.sort((a, b) => compareRanges(a.range, b.range))).map(({ range }) => formatCidr(range));
}

function remote(facts: OverlayFacts, self: PeerFacts, other: PeerFacts, endpoint: string | null, allowedIps: string[], keepalive: number | null): CompiledRemote {
  return {
    peerId: other.spec.id,
    name: other.spec.name,
    publicKey: other.spec.publicKey,
    presharedKey: facts.presharedKeys.size === 0 ? null : facts.presharedKeys.get(pairKey(self.spec.id, other.spec.id)) ?? null,
    endpoint,
    allowedIps,
    persistentKeepalive: keepalive,
  };
}

function pointToPoint(facts: OverlayFacts, self: PeerFacts, name: string, services: readonly CompiledService[], listenPort: number | null, far: PeerFacts): CompiledInterface {
  const iface: CompiledInterface = {
    name,
    addresses: interfaceAddresses(facts, self, services, true),
    listenPort,
    mtu: facts.wan.mtu,
    privateKey: self.spec.privateKey,
    publicKey: self.spec.publicKey,
    peerAddress: far.tunnelIpText,
  };
  if (far.tunnelIp6Text !== null) iface.peerAddress6 = far.tunnelIp6Text;
  return iface;
}

function neighbour(facts: OverlayFacts, other: PeerFacts, interfaceName: string, preference: number, hubRank: number | null): CompiledBgpNeighbour {
  const entry: CompiledBgpNeighbour = {
    peerId: other.spec.id,
    name: other.spec.name,
    role: other.spec.role,
    address: other.tunnelIpText,
    asn: asnOf(facts, other),
    interfaceName,
    preference,
    hubRank,
  };
  if (other.tunnelIp6Text !== null) entry.address6 = other.tunnelIp6Text;
  return entry;
}

export function runsBgp(peer: PeerFacts): boolean {
  return peer.spec.runsBgp !== false;
}

function routing(facts: OverlayFacts, self: PeerFacts, transit: boolean, neighbours: CompiledBgpNeighbour[], staticSpokes: readonly PeerFacts[] = []): CompiledRouting {
  // Own /32s stay separate from the aggregates: they are what makes a hub's own address
  // and services win over the aggregate another hub announces.
  const originate = transit ? [...new Set([...self.claimCidrs, ...facts.overlayRanges.map(formatCidr)])] : [...self.claimCidrs];
  return {
    protocol: runsBgp(self) ? 'bgp' : 'gateway-monitor',
    asn: asnOf(facts, self),
    routerId: self.tunnelIpText,
    originate,
    staticRoutes: staticSpokes.flatMap((spoke) => spoke.claims
      .filter((claim) => claim.kind !== 'TUNNEL_IP')
      .map((claim) => ({ destination: claim.cidr, gateway: (claim.range.family === 6 ? spoke.tunnelIp6Text : spoke.tunnelIpText) as string, peerId: spoke.spec.id }))),
    transit,
    neighbours,
    pinned: neighbours.flatMap((entry) => (entry.address6 === undefined ? [`${entry.address}/32`] : [`${entry.address}/32`, `${entry.address6}/128`])),
    bfd: { ...BFD },
    timers: { ...BGP_TIMERS },
  };
}

/** The AllowedIPs a hub configures for each of its spokes: what each spoke itself publishes. */
function spokeClaims(facts: OverlayFacts, hub: PeerFacts, spokes: readonly PeerFacts[], resolve: boolean): ClaimsByRemote {
  const byRemote: ClaimsByRemote = new Map();
  for (const spoke of spokes) {
    const claims = spoke.claims.filter((claim) => claim.kind !== 'LAN' || !overlapsAny(claim.range, hub.locals));
    byRemote.set(spoke.index, claims as Claim[]);
  }
  return resolve ? resolveClaims(byRemote) : byRemote;
}

/** The compiled peer of one peer in a WAN with redundant hubs. */
export function compileRedundantPeer(facts: OverlayFacts, plan: TunnelPlan, redundancy: Redundancy, self: number): CompiledPeer {
  const peer = facts.peers[self] as PeerFacts;
  const { wan } = facts;
  const services = compileServices(peer);
  const isHub = redundancy.hubNumber.has(self);
  const forwarding = isHub || peer.subnets.some((subnet) => subnet.spec.routed) || services.length > 0;
  const neighbours = plan.neighbours[self] as readonly number[];
  const base = {
    peerId: peer.spec.id,
    name: peer.spec.name,
    role: peer.spec.role,
    forwarding,
    lans: peer.subnets.length === 0 ? [] : peer.claims.filter((claim) => claim.kind === 'LAN').map((claim) => claim.cidr),
    routes: [],
    nat: compileNat(peer),
    services,
  };
  const carried = overlayPrefixes(facts, peer);

  if (isHub) {
    const selfNumber = redundancy.hubNumber.get(self) as number;
    const spokes = neighbours.map((index) => facts.peers[index] as PeerFacts).filter((other) => !redundancy.hubNumber.has(other.index));
    const claims = spokeClaims(facts, peer, spokes, redundancy.resolveCollisions);
    const keepalive = keepaliveOf(peer, wan.keepalive);
    const primary = facts.peers[redundancy.hubs[0] as number] as PeerFacts;
    const remotes = spokes.map((spoke) => remote(
      facts, peer, spoke,
      // Only a spoke's interface to its primary hub has a known port; other hubs wait for the spoke.
      primary.index === self ? spoke.endpoint : null,
      (claims.get(spoke.index) ?? []).map((claim) => claim.cidr),
      keepalive,
    ));
    const links: CompiledLink[] = [];
    const bgp: CompiledBgpNeighbour[] = spokes.filter(runsBgp).map((spoke) => neighbour(facts, spoke, wan.interfaceName, HUB_PREFERENCE, null));
    for (const otherIndex of redundancy.hubs) {
      if (otherIndex === self) continue;
      const other = facts.peers[otherIndex] as PeerFacts;
      const otherNumber = redundancy.hubNumber.get(otherIndex) as number;
      const name = linkInterfaceName(wan.interfaceName, otherNumber);
      const listenPort = linkListenPort(facts, peer, otherNumber);
      links.push({
        interface: pointToPoint(facts, peer, name, services, listenPort, other),
        peers: [remote(facts, peer, other, linkEndpoint(facts, other, selfNumber), carried, keepalive)],
        firewall: compileFirewall(name, listenPort, true),
      });
      bgp.push(neighbour(facts, other, name, HUB_PREFERENCE, null));
    }
    return {
      ...base,
      interface: {
        name: wan.interfaceName,
        addresses: interfaceAddresses(facts, peer, services),
        listenPort: peer.listenPort,
        mtu: wan.mtu,
        privateKey: peer.spec.privateKey,
        publicKey: peer.spec.publicKey,
      },
      peers: remotes,
      firewall: compileFirewall(wan.interfaceName, peer.listenPort, forwarding),
      links,
      routing: routing(facts, peer, true, bgp, spokes.filter((spoke) => !runsBgp(spoke))),
    };
  }

  // A spoke: its main interface leads to the primary hub, one link to each other hub.
  const keepalive = keepaliveOf(peer, wan.keepalive) ?? (wan.keepalive > 0 ? wan.keepalive : SPOKE_KEEPALIVE);
  const interfaces: CompiledLink[] = [];
  const bgp: CompiledBgpNeighbour[] = [];
  redundancy.hubs.forEach((hubIndex, rank) => {
    const hub = facts.peers[hubIndex] as PeerFacts;
    const hubNumber = rank + 1;
    const name = rank === 0 ? wan.interfaceName : linkInterfaceName(wan.interfaceName, hubNumber);
    const listenPort = rank === 0 ? peer.listenPort : null;
    interfaces.push({
      interface: pointToPoint(facts, peer, name, services, listenPort, hub),
      peers: [remote(facts, peer, hub, hub.endpoint, carried, keepalive)],
      firewall: compileFirewall(name, listenPort, forwarding),
    });
    bgp.push(neighbour(facts, hub, name, Math.max(HUB_PREFERENCE + 10, PRIMARY_PREFERENCE - rank * 10), hubNumber));
  });
  const [main, ...links] = interfaces as [CompiledLink, ...CompiledLink[]];
  return {
    ...base,
    interface: main.interface,
    peers: main.peers,
    firewall: main.firewall,
    links,
    routing: routing(facts, peer, false, bgp),
  };
}

/**
 * The WireGuard interfaces a peer has in its WAN, from the WAN's settings and its hubs alone
 * (what decides redundancy): the monitor reads each, without compiling the whole WAN. One
 * name unless the WAN runs redundant hubs.
 */
export function interfaceNamesOf(wan: WanSpec, hubs: readonly PeerSpec[], self: PeerSpec): string[] {
  if (!wan.hubRedundancy) return [wan.interfaceName];
  const peers = hubs.some((hub) => hub.id === self.id) ? [...hubs] : [...hubs, self];
  const facts = buildOverlayFacts({ wan, peers, presharedKeys: [] });
  const redundancy = redundancyOf(facts, planTunnels(facts));
  const index = facts.indexById.get(self.id);
  if (!redundancy || index === undefined) return [wan.interfaceName];
  const own = redundancy.hubNumber.get(index);
  const others = redundancy.hubs.map((_, i) => i + 1).filter((number) => number !== (own ?? 1));
  return [wan.interfaceName, ...others.map((number) => linkInterfaceName(wan.interfaceName, number))];
}
