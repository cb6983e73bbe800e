// AllowedIPs: which prefixes each peer sends to which remote. WireGuard routes by these
// (cryptokey routing), and when two remotes of one interface claim the same prefix the
// last one configured silently takes it over. So collisions are detected here and
// resolved by one deterministic rule instead of by configuration order.
import { excludeCidr } from 'cidr-tools';
import { compareRanges, contains, formatCidr, overlaps, tryParseAddressOrCidr, type IpRange } from './ip.js';
import { CLAIM_PRIORITY, type Claim, type OverlayFacts, type PeerFacts } from './overlay-facts.js';
import type { TunnelPlan } from './topology.js';

/** A claim as configured on one remote of one peer's interface. */
export interface RemoteClaim {
  readonly remote: number;
  readonly claim: Claim;
}

/** Remote index → its claims. */
export type ClaimsByRemote = Map<number, Claim[]>;

/** Caches the carved tunnel/services ranges a relay carries, keyed by the carved neighbours. */
export type CarveCache = Map<string, Claim[]>;

export function overlapsAny(range: IpRange, ranges: readonly IpRange[]): boolean {
  for (const other of ranges) if (overlaps(range, other)) return true;
  return false;
}

/**
 * The WAN's tunnel and services ranges minus the addresses of peers reached directly
 * (other than through the relay), so the relay's AllowedIPs never overlap theirs.
 */
function carvedRanges(facts: OverlayFacts, directOthers: readonly number[], cache: CarveCache): Claim[] {
  const key = directOthers.join(',');
  const cached = cache.get(key);
  if (cached) return cached;
  const bases = facts.overlayRanges;
  const holes: string[] = [];
  for (const index of directOthers) {
    for (const claim of (facts.peers[index] as PeerFacts).claims) {
      if (claim.kind !== 'LAN' && overlapsAny(claim.range, bases)) holes.push(claim.cidr);
    }
  }
  const pieces = holes.length === 0 ? bases.map(formatCidr) : excludeCidr(bases.map(formatCidr), holes);
  const claims = pieces
    .map((piece) => tryParseAddressOrCidr(piece))
    .filter((range): range is IpRange => range !== null)
    .sort(compareRanges)
    .map((range): Claim => ({ range, cidr: formatCidr(range), kind: 'RANGE', owner: -1 }));
  cache.set(key, claims);
  return claims;
}

/**
 * What peer `self` would configure for each remote before collisions are resolved:
 * each neighbour carries its own claims; the relay additionally carries the tunnel and
 * services ranges and the LANs of every peer without a direct tunnel. LANs that overlap
 * a LAN of `self` are left out: they cannot be reached from there, and routing them into
 * the tunnel would hijack the local network.
 */
export function rawClaimsForPeer(facts: OverlayFacts, plan: TunnelPlan, self: number, cache: CarveCache): ClaimsByRemote {
  const peer = facts.peers[self] as PeerFacts;
  const reachable = (claim: Claim): boolean => claim.kind !== 'LAN' || !overlapsAny(claim.range, peer.locals);
  const byRemote: ClaimsByRemote = new Map();
  const direct = plan.neighbours[self] as readonly number[];
  for (const index of direct) {
    const claims = (facts.peers[index] as PeerFacts).claims as Claim[];
    // Keep the shared array when nothing is filtered out (the usual case).
    byRemote.set(index, claims.every(reachable) ? claims : claims.filter(reachable));
  }

  const relay = plan.relay[self];
  if (relay !== null && relay !== undefined) {
    const directSet = new Set(direct);
    const carried = [...(byRemote.get(relay) as Claim[]), ...carvedRanges(facts, direct.filter((i) => i !== relay), cache)];
    for (const lan of facts.lanClaims) {
      if (lan.owner !== self && !directSet.has(lan.owner) && reachable(lan)) carried.push(lan);
    }
    byRemote.set(relay, carried);
  }
  return byRemote;
}

function flatten(byRemote: ClaimsByRemote): RemoteClaim[] {
  const entries: RemoteClaim[] = [];
  for (const [remote, claims] of byRemote) for (const claim of claims) entries.push({ remote, claim });
  // Lists are mostly pre-sorted runs, which V8's TimSort merges in near-linear time.
  return entries.sort((a, b) => compareRanges(a.claim.range, b.claim.range) || a.remote - b.remote);
}

/** Groups sorted entries into maximal runs of transitively overlapping prefixes. */
function* overlapClusters(sorted: readonly RemoteClaim[]): Generator<RemoteClaim[]> {
  let cluster: RemoteClaim[] = [];
  let end = -1n;
  for (const entry of sorted) {
    if (cluster.length > 0 && entry.claim.range.start > end) {
      yield cluster;
      cluster = [];
    }
    cluster.push(entry);
    if (cluster.length === 1 || entry.claim.range.end > end) end = entry.claim.range.end;
  }
  if (cluster.length > 0) yield cluster;
}

export interface Collision {
  readonly a: RemoteClaim;
  readonly b: RemoteClaim;
}

/** Pairs of claims on different remotes that overlap. */
export function findCollisions(byRemote: ClaimsByRemote): Collision[] {
  const collisions: Collision[] = [];
  for (const cluster of overlapClusters(flatten(byRemote))) {
    if (cluster.length < 2) continue;
    for (let i = 0; i < cluster.length; i++) {
      for (let j = i + 1; j < cluster.length; j++) {
        const a = cluster[i] as RemoteClaim;
        const b = cluster[j] as RemoteClaim;
        if (a.remote !== b.remote && overlaps(a.claim.range, b.claim.range)) collisions.push({ a, b });
      }
    }
  }
  return collisions;
}

function winsOver(a: RemoteClaim, b: RemoteClaim): number {
  return CLAIM_PRIORITY[a.claim.kind] - CLAIM_PRIORITY[b.claim.kind]
    || a.claim.owner - b.claim.owner
    || a.claim.range.prefix - b.claim.range.prefix
    || a.remote - b.remote;
}

/**
 * Final AllowedIPs per remote: of colliding claims on different remotes the one with the
 * higher priority wins (a tunnel IP over a service IP over the WAN ranges over a LAN;
 * then the peer earlier in order); claims already covered by a wider claim of the same
 * remote are dropped as redundant. Each list comes out sorted.
 */
export function resolveClaims(byRemote: ClaimsByRemote): ClaimsByRemote {
  const resolved: ClaimsByRemote = new Map([...byRemote.keys()].map((remote) => [remote, []]));
  for (const cluster of overlapClusters(flatten(byRemote))) {
    const accepted: RemoteClaim[] = [];
    const ranked = cluster.length === 1 ? cluster : [...cluster].sort(winsOver);
    for (const entry of ranked) {
      const blocked = accepted.some((kept) => overlaps(kept.claim.range, entry.claim.range)
        && (kept.remote !== entry.remote || contains(kept.claim.range, entry.claim.range)));
      if (!blocked) accepted.push(entry);
    }
    accepted.sort((a, b) => compareRanges(a.claim.range, b.claim.range));
    for (const entry of accepted) (resolved.get(entry.remote) as Claim[]).push(entry.claim);
  }
  for (const [remote, claims] of resolved) resolved.set(remote, dropCovered(claims));
  return resolved;
}

/**
 * Whether any two prefixes of the WAN might collide on some interface: claims of
 * different peers that overlap, or a LAN reaching into the tunnel or services range.
 * In a healthy WAN nothing does, and compilation can skip per-peer resolution.
 */
export function mayCollide(facts: OverlayFacts): boolean {
  const all: Claim[] = facts.peers.flatMap((peer) => peer.claims as Claim[]);
  all.sort((a, b) => compareRanges(a.range, b.range));
  let end = -1n;
  let owner = -2;
  for (const claim of all) {
    if (claim.range.start <= end && claim.owner !== owner) return true;
    if (claim.range.end > end) {
      end = claim.range.end;
      owner = claim.owner;
    }
  }
  return facts.lanClaims.some((lan) => overlapsAny(lan.range, facts.overlayRanges));
}

/**
 * Final AllowedIPs per remote. Without possible collisions only the relay's list needs
 * sorting and de-duplicating (its own tunnel IP sits inside the carried tunnel range).
 */
export function claimsForPeer(facts: OverlayFacts, plan: TunnelPlan, self: number, cache: CarveCache, resolve: boolean): ClaimsByRemote {
  const raw = rawClaimsForPeer(facts, plan, self, cache);
  if (resolve) return resolveClaims(raw);
  const relay = plan.relay[self];
  const carried = relay === null || relay === undefined ? undefined : raw.get(relay);
  if (relay !== null && relay !== undefined && carried) {
    raw.set(relay, dropCovered([...carried].sort((a, b) => compareRanges(a.range, b.range))));
  }
  return raw;
}

/** Removes claims (or anything with a range) inside an earlier, wider one of the same sorted list. */
export function dropCovered<T extends { readonly range: IpRange }>(sorted: readonly T[]): T[] {
  const kept: T[] = [];
  let coverEnd = -1n;
  for (const claim of sorted) {
    if (claim.range.end <= coverEnd) continue;
    kept.push(claim);
    coverEnd = claim.range.end;
  }
  return kept;
}
