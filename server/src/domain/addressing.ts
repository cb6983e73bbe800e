// Address allocation from the WAN's pools. Every function parses its inputs once into
// numbers, so allocating in a WAN with thousands of peers stays linear.
import { DomainError } from './errors.js';
import {
  blockSize, compareRanges, formatCidr, formatAddress, maxPrefix, parseCidr, rangeOf, tryParseAddress, tryParseAddressOrCidr,
  type IpRange,
} from './ip.js';

/** Taken entries may be written "10.0.0.7" or "10.0.0.7/24"; anything else is ignored. */
function takenAddresses(taken: Iterable<string>): Set<bigint> {
  const addresses = new Set<bigint>();
  for (const entry of taken) {
    const slash = entry.indexOf('/');
    const address = tryParseAddress(slash === -1 ? entry : entry.slice(0, slash));
    if (address !== null) addresses.add(address);
  }
  return addresses;
}

/** Free host addresses of a pool in address order; ends after the pool's last host. */
function* freeHosts(pool: IpRange, used: ReadonlySet<bigint>): Generator<bigint> {
  const { first, last } = hostBounds(pool);
  for (let candidate = first; candidate <= last; candidate++) if (!used.has(candidate)) yield candidate;
}

function hostBounds(pool: IpRange): { first: bigint; last: bigint } {
  // Point-to-point sized pools (/31, /32; /127, /128) have no network address to skip; IPv4
  // also keeps the broadcast address free, IPv6 has none (but its first address is the
  // subnet-router anycast address, RFC 4291 2.6.1).
  const pointToPoint = pool.prefix >= maxPrefix(pool.family) - 1;
  return { first: pointToPoint ? pool.start : pool.start + 1n, last: pointToPoint || pool.family === 6 ? pool.end : pool.end - 1n };
}

function exhausted(pool: IpRange, poolLabel: string): DomainError {
  return new DomainError('POOL_EXHAUSTED', `${poolLabel} ${formatCidr(pool)} has no free address left`, { pool: formatCidr(pool) });
}

function allocateHost(poolCidr: string, taken: Iterable<string>, poolLabel: string, skip = 0): string {
  const pool = parseCidr(poolCidr, poolLabel);
  let firstFree: bigint | null = null;
  let toSkip = skip;
  // Ends after at most |taken| + skip + 1 candidates, so a /64 costs no more than a /24.
  for (const candidate of freeHosts(pool, takenAddresses(taken))) {
    if (toSkip === 0) return formatAddress(candidate);
    firstFree ??= candidate;
    toSkip--;
  }
  // Fewer free addresses than asked to skip: the first free one.
  if (firstFree !== null) return formatAddress(firstFree);
  throw exhausted(pool, poolLabel);
}

/**
 * The first `count` free addresses of the tunnel range, in one pass over `taken` (for giving
 * many peers an address at once: a WAN turning dual-stack). POOL_EXHAUSTED when fewer are free.
 */
export function allocateTunnelIps(tunnelCidr: string, taken: Iterable<string>, count: number): string[] {
  const pool = parseCidr(tunnelCidr, 'tunnel range');
  const addresses: string[] = [];
  if (count <= 0) return addresses;
  for (const candidate of freeHosts(pool, takenAddresses(taken))) {
    addresses.push(formatAddress(candidate));
    if (addresses.length === count) return addresses;
  }
  throw exhausted(pool, 'tunnel range');
}

/**
 * First free host address of the tunnel range (network and broadcast skipped). With
 * `skip`, the free address that many places further on (the first free one when there are
 * not that many): writers that race for the same first address (replicas) retry apart.
 */
export function allocateTunnelIp(tunnelCidr: string, taken: Iterable<string>, skip = 0): string {
  return allocateHost(tunnelCidr, taken, 'tunnel range', skip);
}

/**
 * Up to `count` host addresses of the tunnel range in address order, from `from` on (the
 * range's first host when `from` is null or lies before it); fewer at the range's end. With
 * which of them are taken, `firstFreeOf` picks one: allocation then checks a window of
 * candidates against an index instead of reading every address of the WAN.
 */
export function tunnelHostsFrom(tunnelCidr: string, from: string | null, count: number): string[] {
  const pool = parseCidr(tunnelCidr, 'tunnel range');
  const { first, last } = hostBounds(pool);
  const start = from === null ? null : tryParseAddress(from);
  const hosts: string[] = [];
  for (let candidate = start !== null && start > first ? start : first; candidate <= last && hosts.length < count; candidate++) hosts.push(formatAddress(candidate));
  return hosts;
}

/**
 * Of `candidates` (in address order), the free one `skip` places on among the free ones, or
 * the first free one when fewer are free; null when every candidate is taken.
 */
export function firstFreeOf(candidates: readonly string[], taken: ReadonlySet<string>, skip = 0): string | null {
  const free = candidates.filter((candidate) => !taken.has(candidate));
  return free[skip] ?? free[0] ?? null;
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
  const pool = parseCidr(natPool, 'NAT pool');
  const prefix = typeof size === 'number' ? size : parseCidr(size, 'subnet', pool.family).prefix;
  if (!Number.isInteger(prefix) || prefix < pool.prefix || prefix > maxPrefix(pool.family)) {
    throw new DomainError('POOL_EXHAUSTED', `NAT pool ${formatCidr(pool)} cannot hold a /${prefix}`, { pool: formatCidr(pool), prefix });
  }
  const step = blockSize(pool.family, prefix);
  const obstacles: IpRange[] = [];
  for (const entry of taken) {
    const range = tryParseAddressOrCidr(entry);
    if (range && range.end >= pool.start && range.start <= pool.end) obstacles.push(range);
  }
  obstacles.sort(compareRanges);

  // Walk aligned candidates in address order; whenever one hits an obstacle, jump to the
  // first aligned block after that obstacle. Obstacles are sorted by start, so an
  // obstacle that ends before the candidate can never matter again.
  let candidate = pool.start;
  let next = 0;
  while (candidate + step - 1n <= pool.end) {
    while (next < obstacles.length && (obstacles[next] as IpRange).end < candidate) next++;
    let blocker: IpRange | undefined;
    for (let i = next; i < obstacles.length && (obstacles[i] as IpRange).start <= candidate + step - 1n; i++) {
      const obstacle = obstacles[i] as IpRange;
      if (obstacle.end >= candidate && (!blocker || obstacle.end > blocker.end)) blocker = obstacle;
    }
    if (!blocker) return formatCidr({ family: pool.family, start: candidate, end: candidate + step - 1n, prefix });
    candidate = rangeOf(blocker.end, prefix).start + step;
  }
  throw new DomainError('POOL_EXHAUSTED', `NAT pool ${formatCidr(pool)} has no free /${prefix} left`, { pool: formatCidr(pool), prefix });
}

export interface Ipv6Ranges {
  tunnelCidr6: string;
  servicesCidr6: string;
  natPool6: string;
}

/**
 * A WAN's IPv6 ranges inside one unique local /48 (RFC 4193): fd00::/8, then the 40-bit
 * global ID (which the caller draws from a CSPRNG: RFC 4193 3.2 asks only that it be
 * random), then the subnet ID: 0 for tunnel addresses, 5 for services (as 10.0.5.0/24 is
 * for IPv4), the upper half of the /48 for translated LANs.
 */
export function ulaRanges(globalId: Uint8Array): Ipv6Ranges {
  if (globalId.length !== 5) throw new DomainError('INVALID_INPUT', 'a ULA global ID is 40 bits (5 bytes)');
  const hex = [...globalId].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  const prefix48 = `fd${hex.slice(0, 2)}:${hex.slice(2, 6)}:${hex.slice(6, 10)}`;
  const canonical = (text: string) => formatCidr(parseCidr(text, 'ula', 6));
  return {
    tunnelCidr6: canonical(`${prefix48}::/64`),
    servicesCidr6: canonical(`${prefix48}:5::/64`),
    natPool6: canonical(`${prefix48}:8000::/49`),
  };
}
