// Address allocation from the WAN's pools. Every function parses its inputs once into
// numbers, so allocating in a WAN with thousands of peers stays linear.
import { DomainError } from './errors.js';
import {
  blockSize, compareRanges, formatCidr, formatIpv4, parseIpv4Cidr, tryParseIpv4, tryParseIpv4OrCidr,
  type Ipv4Range,
} from './ipv4.js';

/** Taken entries may be written "10.0.0.7" or "10.0.0.7/24"; anything else is ignored. */
function takenAddresses(taken: Iterable<string>): Set<number> {
  const addresses = new Set<number>();
  for (const entry of taken) {
    const slash = entry.indexOf('/');
    const address = tryParseIpv4(slash === -1 ? entry : entry.slice(0, slash));
    if (address !== null) addresses.add(address);
  }
  return addresses;
}

function allocateHost(poolCidr: string, taken: Iterable<string>, poolLabel: string, skip = 0): string {
  const pool = parseIpv4Cidr(poolCidr, poolLabel);
  const used = takenAddresses(taken);
  // Point-to-point sized pools (/31, /32) have no network or broadcast address to skip.
  const first = pool.prefix >= 31 ? pool.start : pool.start + 1;
  const last = pool.prefix >= 31 ? pool.end : pool.end - 1;
  let firstFree: number | null = null;
  let toSkip = skip;
  for (let candidate = first; candidate <= last; candidate++) {
    if (used.has(candidate)) continue;
    if (toSkip === 0) return formatIpv4(candidate);
    firstFree ??= candidate;
    toSkip--;
  }
  // Fewer free addresses than asked to skip: the first free one.
  if (firstFree !== null) return formatIpv4(firstFree);
  throw new DomainError('POOL_EXHAUSTED', `${poolLabel} ${formatCidr(pool)} has no free address left`, { pool: formatCidr(pool) });
}

/**
 * First free host address of the tunnel range (network and broadcast skipped). With
 * `skip`, the free address that many places further on (the first free one when there are
 * not that many): writers that race for the same first address (replicas) retry apart.
 */
export function allocateTunnelIp(tunnelCidr: string, taken: Iterable<string>, skip = 0): string {
  return allocateHost(tunnelCidr, taken, 'tunnel range', skip);
}

/** First free host address of the shared services range. */
export function allocateServiceIp(servicesCidr: string, taken: Iterable<string>): string {
  return allocateHost(servicesCidr, taken, 'services range');
}

/**
 * A free range of the requested size, aligned on its own size inside `natPool` and
 * overlapping none of `taken` (CIDRs or addresses). `size` is a prefix length or a
 * CIDR whose size should be matched (the LAN being translated).
 */
export function allocateNatRange(natPool: string, size: number | string, taken: Iterable<string>): string {
  const pool = parseIpv4Cidr(natPool, 'NAT pool');
  const prefix = typeof size === 'number' ? size : parseIpv4Cidr(size, 'subnet').prefix;
  if (!Number.isInteger(prefix) || prefix < pool.prefix || prefix > 32) {
    throw new DomainError('POOL_EXHAUSTED', `NAT pool ${formatCidr(pool)} cannot hold a /${prefix}`, { pool: formatCidr(pool), prefix });
  }
  const step = blockSize(prefix);
  const obstacles: Ipv4Range[] = [];
  for (const entry of taken) {
    const range = tryParseIpv4OrCidr(entry);
    if (range && range.end >= pool.start && range.start <= pool.end) obstacles.push(range);
  }
  obstacles.sort(compareRanges);

  // Walk aligned candidates in address order; whenever one hits an obstacle, jump to the
  // first aligned block after that obstacle. Obstacles are sorted by start, so an
  // obstacle that ends before the candidate can never matter again.
  let candidate = pool.start;
  let next = 0;
  while (candidate + step - 1 <= pool.end) {
    while (next < obstacles.length && (obstacles[next] as Ipv4Range).end < candidate) next++;
    let blocker: Ipv4Range | undefined;
    for (let i = next; i < obstacles.length && (obstacles[i] as Ipv4Range).start <= candidate + step - 1; i++) {
      const obstacle = obstacles[i] as Ipv4Range;
      if (obstacle.end >= candidate && (!blocker || obstacle.end > blocker.end)) blocker = obstacle;
    }
    if (!blocker) return formatCidr({ start: candidate, end: candidate + step - 1, prefix });
    candidate = (Math.floor(blocker.end / step) + 1) * step;
  }
  throw new DomainError('POOL_EXHAUSTED', `NAT pool ${formatCidr(pool)} has no free /${prefix} left`, { pool: formatCidr(pool), prefix });
}
