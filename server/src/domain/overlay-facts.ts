// The spec parsed once: numeric ranges, effective ports and endpoints, and a stable peer
// order. Compilation, conflict analysis and the guards all start from these facts so that
// no CIDR string is parsed twice and every output follows the same order.
import { compareRanges, formatCidr, hostRange, parseIpv4Cidr, tryParseIpv4, type Ipv4Range } from './ipv4.js';
import type { OverlaySpec, PeerSpec, SubnetSpec, WanSpec } from './model.js';

/** Why a prefix sits in a peer's AllowedIPs; earlier kinds win when prefixes collide. */
export type ClaimKind = 'TUNNEL_IP' | 'SERVICE' | 'RANGE' | 'LAN';
export const CLAIM_PRIORITY: Record<ClaimKind, number> = { TUNNEL_IP: 0, SERVICE: 1, RANGE: 2, LAN: 3 };

/** A prefix that some peer answers for on the overlay. */
export interface Claim {
  readonly range: Ipv4Range;
  readonly cidr: string;
  readonly kind: ClaimKind;
  /** Index (in facts order) of the peer that owns the prefix; -1 for the WAN's own ranges. */
  readonly owner: number;
  /** For LAN claims: the subnet behind it. */
  readonly subnetId?: string;
}

export interface SubnetFacts {
  readonly spec: SubnetSpec;
  readonly real: Ipv4Range;
  readonly translated: Ipv4Range | null;
  /** What the overlay sees: the translated range when NATed, the real one otherwise. */
  readonly effective: Ipv4Range;
}

export interface PeerFacts {
  readonly index: number;
  readonly spec: PeerSpec;
  readonly tunnelIp: number;
  readonly tunnelIpText: string;
  readonly hasEndpoint: boolean;
  /** "host:port" as others dial it, IPv6 in brackets; null behind CGNAT. */
  readonly endpoint: string | null;
  readonly listenPort: number | null;
  readonly subnets: readonly SubnetFacts[];
  /** Prefixes this peer publishes, sorted: its tunnel IP, routed LANs (effective), service IPs. */
  readonly claims: readonly Claim[];
  /**
   * The claims' CIDRs, built once and frozen: every remote that carries exactly these
   * shares this array, so a mesh does not build the same list hundreds of times.
   */
  readonly claimCidrs: readonly string[];
  /** Prefixes that exist locally at this peer (real and translated LANs): never routed into the tunnel. */
  readonly locals: readonly Ipv4Range[];
}

export interface OverlayFacts {
  readonly wan: WanSpec;
  readonly tunnelRange: Ipv4Range;
  readonly servicesRange: Ipv4Range;
  readonly natPool: Ipv4Range;
  /** Sorted by tunnel IP, then id. */
  readonly peers: readonly PeerFacts[];
  readonly indexById: ReadonlyMap<string, number>;
  /** Every peer's routed LAN claims, sorted by address. */
  readonly lanClaims: readonly Claim[];
  readonly presharedKeys: ReadonlyMap<string, string>;
}

export function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

export function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function subnetFacts(subnet: SubnetSpec): SubnetFacts {
  const real = parseIpv4Cidr(subnet.cidr, 'subnet.cidr');
  const translated = subnet.natCidr === null ? null : parseIpv4Cidr(subnet.natCidr, 'subnet.natCidr');
  return { spec: subnet, real, translated, effective: translated ?? real };
}

function claim(range: Ipv4Range, kind: ClaimKind, owner: number, subnetId?: string): Claim {
  return subnetId === undefined
    ? { range, cidr: formatCidr(range), kind, owner }
    : { range, cidr: formatCidr(range), kind, owner, subnetId };
}

function peerFacts(spec: PeerSpec, index: number, wan: WanSpec): PeerFacts {
  const tunnelIp = tryParseIpv4(spec.tunnelIp) as number;
  const subnets = spec.subnets.map(subnetFacts);
  const claims: Claim[] = [claim(hostRange(tunnelIp), 'TUNNEL_IP', index)];
  for (const subnet of subnets) if (subnet.spec.routed) claims.push(claim(subnet.effective, 'LAN', index, subnet.spec.id));
  const serviceIps = new Set(spec.services.map((service) => tryParseIpv4(service.serviceIp) as number));
  for (const address of serviceIps) claims.push(claim(hostRange(address), 'SERVICE', index));
  claims.sort((a, b) => compareRanges(a.range, b.range));

  const hasEndpoint = spec.endpointHost !== null;
  const listenPort = spec.listenPort ?? (hasEndpoint || spec.role === 'HUB' ? wan.listenPort : null);
  const dialPort = spec.endpointPort ?? listenPort ?? wan.listenPort;
  return {
    index,
    spec,
    tunnelIp,
    tunnelIpText: spec.tunnelIp,
    hasEndpoint,
    endpoint: spec.endpointHost === null ? null : formatEndpoint(spec.endpointHost, dialPort),
    listenPort,
    subnets,
    claims,
    claimCidrs: Object.freeze(claims.map((c) => c.cidr)),
    locals: subnets.flatMap((subnet) => (subnet.translated ? [subnet.real, subnet.translated] : [subnet.real])),
  };
}

/** Parses a spec that has already passed validateOverlaySpec. */
export function buildOverlayFacts(spec: OverlaySpec): OverlayFacts {
  const ordered = spec.peers
    .map((peer) => ({ peer, address: tryParseIpv4(peer.tunnelIp) ?? 0 }))
    .sort((a, b) => a.address - b.address || (a.peer.id < b.peer.id ? -1 : a.peer.id > b.peer.id ? 1 : 0));
  const peers = ordered.map(({ peer }, index) => peerFacts(peer, index, spec.wan));
  const lanClaims = peers.flatMap((peer) => peer.claims.filter((c) => c.kind === 'LAN'));
  lanClaims.sort((a, b) => compareRanges(a.range, b.range) || a.owner - b.owner);
  return {
    wan: spec.wan,
    tunnelRange: parseIpv4Cidr(spec.wan.tunnelCidr),
    servicesRange: parseIpv4Cidr(spec.wan.servicesCidr),
    natPool: parseIpv4Cidr(spec.wan.natPool),
    peers,
    indexById: new Map(peers.map((peer) => [peer.spec.id, peer.index])),
    lanClaims,
    presharedKeys: new Map(spec.presharedKeys.map((psk) => [pairKey(psk.peerAId, psk.peerBId), psk.key])),
  };
}
