// Auto-NAT: when sites use the same LAN range, they are shown to the overlay under free,
// equally sized ranges from the WAN's NAT pool of the LAN's family (translated 1:1 by NETMAP
// for IPv4, by NPTv6 prefix translation for IPv6). Translating only
// some of them is not enough: an untranslated LAN is also the local range of every site
// overlapping it, so those sites neither send to it nor accept packets from it. Hence LANs
// are translated by overlap group: once one member is, every member is.
import { allocateNatRange } from './addressing.js';
import { DomainError } from './errors.js';
import { overlaps, tryParseCidr, type IpRange } from './ip.js';
import type { OverlaySpec, SubnetSpec } from './model.js';

/** Every range a translated LAN must stay clear of: all LANs, all translations, the WAN ranges. */
function occupiedRanges(spec: OverlaySpec): string[] {
  const occupied = [spec.wan.tunnelCidr, spec.wan.servicesCidr];
  if (spec.wan.tunnelCidr6) occupied.push(spec.wan.tunnelCidr6);
  if (spec.wan.servicesCidr6) occupied.push(spec.wan.servicesCidr6);
  for (const peer of spec.peers) {
    for (const subnet of peer.subnets) {
      occupied.push(subnet.cidr);
      if (subnet.natCidr !== null) occupied.push(subnet.natCidr);
    }
  }
  return occupied;
}

/** The WAN's NAT pool of the LAN's family: IPv6 LANs are translated (NPTv6) into natPool6. */
function natPoolFor(spec: OverlaySpec, cidr: string): string {
  if (!cidr.includes(':')) return spec.wan.natPool;
  if (!spec.wan.natPool6) throw new DomainError('INVALID_INPUT', `${cidr} is an IPv6 LAN but the WAN has no IPv6 NAT pool`, { field: 'natPool6' });
  return spec.wan.natPool6;
}

/** A free range of the subnet's size in the NAT pool of its family (POOL_EXHAUSTED when none is left). */
export function suggestAutoNat(spec: OverlaySpec, subnetId: string): string {
  const subnet = spec.peers.flatMap((peer) => peer.subnets).find((candidate) => candidate.id === subnetId);
  if (!subnet) throw new DomainError('NOT_FOUND', `subnet ${subnetId} is not part of this WAN`, { subnetId });
  return allocateNatRange(natPoolFor(spec, subnet.cidr), subnet.cidr, occupiedRanges(spec));
}

interface Member {
  readonly peerId: string;
  readonly subnet: SubnetSpec;
  readonly real: IpRange;
}

/**
 * The overlap group of a LAN: it and the routed LANs of other peers whose real ranges overlap
 * it, directly or through other members. In spec order (peers, then their subnets).
 */
export function overlapGroup(spec: OverlaySpec, subnetId: string): SubnetSpec[] {
  const members: Member[] = [];
  let start: Member | undefined;
  for (const peer of spec.peers) {
    for (const subnet of peer.subnets) {
      const real = tryParseCidr(subnet.cidr);
      if (!real) continue;
      const member = { peerId: peer.id, subnet, real };
      if (subnet.id === subnetId) start = member;
      if (subnet.routed || subnet.id === subnetId) members.push(member);
    }
  }
  if (!start) throw new DomainError('NOT_FOUND', `subnet ${subnetId} is not part of this WAN`, { subnetId });
  const inGroup = new Set<Member>([start]);
  const queue: Member[] = [start];
  for (let member = queue.pop(); member; member = queue.pop()) {
    for (const other of members) {
      if (inGroup.has(other) || other.peerId === member.peerId || !overlaps(other.real, member.real)) continue;
      inGroup.add(other);
      queue.push(other);
    }
  }
  return members.filter((member) => inGroup.has(member)).map((member) => member.subnet);
}

export interface GroupTranslation {
  subnetId: string;
  natCidr: string;
}

/**
 * The translations that make the overlap group of `subnetId` complete: a free range of the
 * NAT pool for each member that has none, each member keeping its real LAN. Empty when no
 * member is translated yet, unless `translate` asks for it (auto-NAT requested on the LAN).
 * A lone LAN is a group of one. Throws POOL_EXHAUSTED when the pool cannot hold them all.
 */
export function completeOverlapGroup(spec: OverlaySpec, subnetId: string, translate: boolean): GroupTranslation[] {
  const group = overlapGroup(spec, subnetId);
  if (!translate && !group.some((subnet) => subnet.natCidr !== null)) return [];
  const occupied = occupiedRanges(spec);
  const translations: GroupTranslation[] = [];
  for (const subnet of group) {
    if (subnet.natCidr !== null) continue;
    const natCidr = allocateNatRange(natPoolFor(spec, subnet.cidr), subnet.cidr, occupied);
    occupied.push(natCidr);
    translations.push({ subnetId: subnet.id, natCidr });
  }
  return translations;
}
