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

/** The peer with another position in the facts order: the same values, its claims owned at `index`. */
function atIndex(peer: PeerFacts, index: number): PeerFacts {
  if (peer.index === index) return peer;
  return { ...peer, index, claims: peer.claims.map((c) => ({ ...c, owner: index })) };
}

const byAddressThenId = (a: { address: bigint; id: string }, b: { address: bigint; id: string }): number =>
  compareAddresses(a.address, b.address) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function parsedRange(cidr: string | null | undefined, before: string | null | undefined, parsed: IpRange | null): IpRange | null {
  if (!cidr) return null;
  return cidr === before && parsed ? parsed : parseCidr(cidr);
}

/**
 * An earlier spec's facts a spec of the same WAN may start from. `reusable`: the earlier
 * PeerFacts of peers whose PeerSpec is unchanged, when the WAN's listen port (which their
 * endpoints depend on) is unchanged too; every other peer is parsed anew.
 */
export interface FactsBase {
  readonly facts: OverlayFacts;
  readonly reusable: ReadonlyMap<string, PeerFacts>;
  /** Whether the spec's preshared keys are those of the earlier spec. */
  readonly presharedKeysSame: boolean;
}

/**
 * Parses a spec that has already passed validateOverlaySpec. With a `base`, only the peers
 * not in `base.reusable` are parsed: the others keep their facts (moved to their new
 * position when peers came or went before them), so a change costs O(peers) of copying at
 * most, not a parse of every address.
 */
export function buildOverlayFacts(spec: OverlaySpec, base?: FactsBase): OverlayFacts {
  const before = base?.facts;
  let peers: PeerFacts[];
  let sameOrder = false;
  if (!base || !before) {
    const ordered = spec.peers
      .map((peer) => ({ peer, id: peer.id, address: tryParseAddress(peer.tunnelIp) ?? 0n }))
      .sort(byAddressThenId);
    peers = ordered.map(({ peer }, index) => peerFacts(peer, index, spec.wan));
  } else {
    // The kept peers are already in order; the few new ones are sorted and merged in.
    const kept = before.peers.filter((peer) => base.reusable.has(peer.spec.id));
    const fresh = spec.peers
      .filter((peer) => !base.reusable.has(peer.id))
      .map((peer) => ({ peer, id: peer.id, address: tryParseAddress(peer.tunnelIp) ?? 0n }))
      .sort(byAddressThenId);
    peers = [];
    let k = 0;
    for (const next of fresh) {
      while (k < kept.length && byAddressThenId({ address: (kept[k] as PeerFacts).tunnelIp, id: (kept[k] as PeerFacts).spec.id }, next) < 0) {
        peers.push(atIndex(kept[k++] as PeerFacts, peers.length));
      }
      peers.push(peerFacts(next.peer, peers.length, spec.wan));
    }
    while (k < kept.length) peers.push(atIndex(kept[k++] as PeerFacts, peers.length));
    sameOrder = peers.length === before.peers.length && peers.every((peer, i) => peer.spec.id === (before.peers[i] as PeerFacts).spec.id);
  }
  const lanClaims = sameOrder && (before as OverlayFacts).peers.every((peer, i) => peer === peers[i] || sameLans(peer, peers[i] as PeerFacts))
    ? (before as OverlayFacts).lanClaims
    : sortedLanClaims(peers);
  const w = spec.wan;
  const b = before?.wan;
  const tunnelRange = parsedRange(w.tunnelCidr, b?.tunnelCidr, before?.tunnelRange ?? null) as IpRange;
  const servicesRange = parsedRange(w.servicesCidr, b?.servicesCidr, before?.servicesRange ?? null) as IpRange;
  const tunnelRange6 = parsedRange(w.tunnelCidr6, b?.tunnelCidr6, before?.tunnelRange6 ?? null);
  const servicesRange6 = parsedRange(w.servicesCidr6, b?.servicesCidr6, before?.servicesRange6 ?? null);
  const overlayRanges = [tunnelRange, servicesRange, tunnelRange6, servicesRange6].filter((range): range is IpRange => range !== null);
  return {
    wan: w,
    tunnelRange,
    servicesRange,
    natPool: parsedRange(w.natPool, b?.natPool, before?.natPool ?? null) as IpRange,
    tunnelRange6,
    servicesRange6,
    natPool6: parsedRange(w.natPool6, b?.natPool6, before?.natPool6 ?? null),
    overlayRanges: overlayRanges.sort(compareRanges),
    peers,
    disabledHubs: (spec.disabledPeers ?? []).filter((peer) => peer.role === 'HUB').map((peer) => peer.name).sort(),
    indexById: sameOrder ? (before as OverlayFacts).indexById : new Map(peers.map((peer) => [peer.spec.id, peer.index])),
    lanClaims,
    presharedKeys: base?.presharedKeysSame && before ? before.presharedKeys : new Map(spec.presharedKeys.map((psk) => [pairKey(psk.peerAId, psk.peerBId), psk.key])),
  };
}

function sortedLanClaims(peers: readonly PeerFacts[]): Claim[] {
  const lanClaims = peers.flatMap((peer) => (peer.subnets.length === 0 ? [] : peer.claims.filter((c) => c.kind === 'LAN')));
  return lanClaims.sort((a, b) => compareRanges(a.range, b.range) || a.owner - b.owner);
}

/** Same routed LANs, as the overlay sees them, in the same order (a peer at the same position). */
function sameLans(a: PeerFacts, b: PeerFacts): boolean {
  const lans = (peer: PeerFacts) => (peer.subnets.length === 0 ? [] : peer.claims.filter((c) => c.kind === 'LAN'));
  const x = lans(a);
  const y = lans(b);
  return x.length === y.length && x.every((claim, i) => claim.cidr === (y[i] as Claim).cidr && claim.subnetId === (y[i] as Claim).subnetId);
}
