// The spec parsed once: numeric ranges, effective ports and endpoints, and a stable peer
// order. Compilation, conflict analysis and the guards all start from these facts so that
// no CIDR string is parsed twice and every output follows the same order.
import { compareAddresses, compareRanges, formatCidr, hostRange, parseCidr, tryParseAddress, type IpRange } from './ip.js';
import type { OverlaySpec, PeerSpec, SubnetSpec, WanSpec } from './model.js';

/** Why a prefix sits in a peer's AllowedIPs; earlier kinds win when prefixes collide. */
export type ClaimKind = 'TUNNEL_IP' | 'SERVICE' | 'RANGE' | 'LAN';
export const CLAIM_PRIORITY: Record<ClaimKind, number> = { TUNNEL_IP: 0, SERVICE: 1, RANGE: 2, LAN: 3 };

/** A prefix that some peer answers for on the overlay. */
export interface Claim {
  readonly range: IpRange;
  readonly cidr: string;
  readonly kind: ClaimKind;
  /** Index (in facts order) of the peer that owns the prefix; -1 for the WAN's own ranges. */
  readonly owner: number;
  /** For LAN claims: the subnet behind it. */
  readonly subnetId?: string;
}

export interface SubnetFacts {
  readonly spec: SubnetSpec;
  readonly real: IpRange;
  readonly translated: IpRange | null;
  /** What the overlay sees: the translated range when NATed, the real one otherwise. */
  readonly effective: IpRange;
}

export interface PeerFacts {
  readonly index: number;
  readonly spec: PeerSpec;
  readonly tunnelIp: bigint;
  readonly tunnelIpText: string;
  /** The IPv6 tunnel address in a dual-stack WAN (canonical text), else null. */
  readonly tunnelIp6: bigint | null;
  readonly tunnelIp6Text: string | null;
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
  readonly locals: readonly IpRange[];
}

export interface OverlayFacts {
  readonly wan: WanSpec;
  readonly tunnelRange: IpRange;
  readonly servicesRange: IpRange;
  readonly natPool: IpRange;
  /** Dual-stack WANs only: the IPv6 ranges (null in an IPv4-only WAN). */
  readonly tunnelRange6: IpRange | null;
  readonly servicesRange6: IpRange | null;
  readonly natPool6: IpRange | null;
  /** The tunnel and services ranges of every family the WAN has, sorted: what a relay carries. */
  readonly overlayRanges: readonly IpRange[];
  /** Sorted by tunnel IP, then id. */
  readonly peers: readonly PeerFacts[];
  /** The disabled hubs (OverlaySpec.disabledPeers), by name: they are not in `peers`. */
  readonly disabledHubs: readonly string[];
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
  const real = parseCidr(subnet.cidr, 'subnet.cidr');
  const translated = subnet.natCidr === null ? null : parseCidr(subnet.natCidr, 'subnet.natCidr');
  return { spec: subnet, real, translated, effective: translated ?? real };
}

function claim(range: IpRange, kind: ClaimKind, owner: number, subnetId?: string): Claim {
  return subnetId === undefined
    ? { range, cidr: formatCidr(range), kind, owner }
    : { range, cidr: formatCidr(range), kind, owner, subnetId };
}

function peerFacts(spec: PeerSpec, index: number, wan: WanSpec): PeerFacts {
  const tunnelIp = tryParseAddress(spec.tunnelIp) as bigint;
  const tunnelIp6 = spec.tunnelIp6 ? tryParseAddress(spec.tunnelIp6) : null;
  const subnets = spec.subnets.map(subnetFacts);
  const claims: Claim[] = [claim(hostRange(tunnelIp), 'TUNNEL_IP', index)];
  if (tunnelIp6 !== null) claims.push(claim(hostRange(tunnelIp6), 'TUNNEL_IP', index));
  for (const subnet of subnets) if (subnet.spec.routed) claims.push(claim(subnet.effective, 'LAN', index, subnet.spec.id));
  const serviceIps = new Set(spec.services.map((service) => tryParseAddress(service.serviceIp) as bigint));
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
    tunnelIp6,
    tunnelIp6Text: spec.tunnelIp6 ?? null,
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
    .map((peer) => ({ peer, address: tryParseAddress(peer.tunnelIp) ?? 0n }))
    .sort((a, b) => compareAddresses(a.address, b.address) || (a.peer.id < b.peer.id ? -1 : a.peer.id > b.peer.id ? 1 : 0));
  const peers = ordered.map(({ peer }, index) => peerFacts(peer, index, spec.wan));
  const lanClaims = peers.flatMap((peer) => peer.claims.filter((c) => c.kind === 'LAN'));
  lanClaims.sort((a, b) => compareRanges(a.range, b.range) || a.owner - b.owner);
  const tunnelRange = parseCidr(spec.wan.tunnelCidr);
  const servicesRange = parseCidr(spec.wan.servicesCidr);
  const tunnelRange6 = spec.wan.tunnelCidr6 ? parseCidr(spec.wan.tunnelCidr6) : null;
  const servicesRange6 = spec.wan.servicesCidr6 ? parseCidr(spec.wan.servicesCidr6) : null;
  const overlayRanges = [tunnelRange, servicesRange, tunnelRange6, servicesRange6].filter((range): range is IpRange => range !== null);
  return {
    wan: spec.wan,
    tunnelRange,
    servicesRange,
    natPool: parseCidr(spec.wan.natPool),
    tunnelRange6,
    servicesRange6,
    natPool6: spec.wan.natPool6 ? parseCidr(spec.wan.natPool6) : null,
    overlayRanges: overlayRanges.sort(compareRanges),
    peers,
    disabledHubs: (spec.disabledPeers ?? []).filter((peer) => peer.role === 'HUB').map((peer) => peer.name).sort(),
    indexById: new Map(peers.map((peer) => [peer.spec.id, peer.index])),
    lanClaims,
    presharedKeys: new Map(spec.presharedKeys.map((psk) => [pairKey(psk.peerAId, psk.peerBId), psk.key])),
  };
}
