// Auto-NAT: when two sites use the same LAN range, one of them is shown to the overlay
// under a free, equally sized range from the WAN's NAT pool (translated 1:1 by netmap).
import { allocateNatRange } from './addressing.js';
import { DomainError } from './errors.js';
import type { OverlaySpec } from './model.js';

/** Every range a translated LAN must stay clear of: all LANs, all translations, the WAN ranges. */
function occupiedRanges(spec: OverlaySpec): string[] {
  const occupied = [spec.wan.tunnelCidr, spec.wan.servicesCidr];
  for (const peer of spec.peers) {
    for (const subnet of peer.subnets) {
      occupied.push(subnet.cidr);
      if (subnet.natCidr !== null) occupied.push(subnet.natCidr);
    }
  }
  return occupied;
}

/** A free range of the subnet's size in the NAT pool (POOL_EXHAUSTED when none is left). */
export function suggestAutoNat(spec: OverlaySpec, subnetId: string): string {
  const subnet = spec.peers.flatMap((peer) => peer.subnets).find((candidate) => candidate.id === subnetId);
  if (!subnet) throw new DomainError('NOT_FOUND', `subnet ${subnetId} is not part of this WAN`, { subnetId });
  return allocateNatRange(spec.wan.natPool, subnet.cidr, occupiedRanges(spec));
}
