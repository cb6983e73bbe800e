import { describe, expect, it } from 'vitest';
import { allocateNatRange, allocateServiceIp, allocateTunnelIp, allocateTunnelIps, firstFreeOf, tunnelHostsFrom, ulaRanges } from './addressing.js';
import { formatAddress, overlaps, parseCidr } from './ip.js';

/** Deterministic PRNG (mulberry32) so property tests are reproducible. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('allocateTunnelIp', () => {
  it('takes the first free host, skipping network and broadcast', () => {
    expect(allocateTunnelIp('10.0.0.0/24', [])).toBe('10.0.0.1');
    expect(allocateTunnelIp('10.0.0.0/24', ['10.0.0.1', '10.0.0.2/24', '10.0.0.4'])).toBe('10.0.0.3');
    expect(allocateTunnelIp('10.0.0.0/30', ['10.0.0.1'])).toBe('10.0.0.2');
    expect(() => allocateTunnelIp('10.0.0.0/30', ['10.0.0.1', '10.0.0.2'])).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
    expect(allocateServiceIp('10.0.5.0/24', ['10.0.5.1'])).toBe('10.0.5.2');
  });

  it('never hands out a taken address, a network/broadcast address or one outside the range (seeded)', () => {
    const next = random(7);
    for (let round = 0; round < 50; round++) {
      const prefix = 22 + Math.floor(next() * 8);
      const range = parseCidr(`10.${Math.floor(next() * 256)}.0.0/${prefix}`);
      const taken = new Set<string>();
      const hosts = Number(range.end - range.start) - 1;
      for (let i = 0; i < hosts * next(); i++) taken.add(formatAddress(range.start + 1n + BigInt(Math.floor(next() * hosts))));
      const address = parseCidr(`${allocateTunnelIp(`${formatAddress(range.start)}/${prefix}`, taken)}/32`).start;
      expect(taken.has(formatAddress(address))).toBe(false);
      expect(address > range.start && address < range.end).toBe(true);
      for (let candidate = range.start + 1n; candidate < address; candidate++) expect(taken.has(formatAddress(candidate))).toBe(true);
    }
  });

  it('skips free addresses when asked (retries after a race), falling back to the first free one', () => {
    expect(allocateTunnelIp('10.0.0.0/29', ['10.0.0.1', '10.0.0.3'], 1)).toBe('10.0.0.4');
    expect(allocateTunnelIp('10.0.0.0/29', ['10.0.0.1', '10.0.0.3'], 3)).toBe('10.0.0.6');
    expect(allocateTunnelIp('10.0.0.0/29', ['10.0.0.1', '10.0.0.3'], 9)).toBe('10.0.0.2');
  });

  it('fills 5,000 addresses quickly', () => {
    const taken: string[] = [];
    const started = performance.now();
    for (let i = 0; i < 5000; i++) taken.push(allocateTunnelIp('10.0.0.0/16', taken.length < 4990 ? [] : taken));
    for (let i = 0; i < 200; i++) allocateTunnelIp('10.0.0.0/16', taken);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('tunnelHostsFrom and firstFreeOf (a window of candidates)', () => {
  it('lists hosts from an address (or the first host), skipping network and broadcast, fewer at the end', () => {
    expect(tunnelHostsFrom('10.0.0.0/24', null, 3)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(tunnelHostsFrom('10.0.0.0/24', '10.0.0.0', 2)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(tunnelHostsFrom('10.0.0.0/24', '10.0.0.253', 5)).toEqual(['10.0.0.253', '10.0.0.254']);
    expect(tunnelHostsFrom('10.0.0.0/24', '10.0.0.255', 5)).toEqual([]);
    expect(tunnelHostsFrom('fd00::/64', 'fd00::ffff', 2)).toEqual(['fd00::ffff', 'fd00::1:0']);
  });

  it('agrees with allocateTunnelIp when the window starts below every free address (seeded)', () => {
    const next = random(7);
    for (let round = 0; round < 200; round++) {
      const taken = Array.from({ length: Math.floor(next() * 60) }, () => formatAddress(parseCidr('10.0.0.0/24').start + 1n + BigInt(Math.floor(next() * 70))));
      const skip = Math.floor(next() * 5);
      const window = tunnelHostsFrom('10.0.0.0/24', null, 254);
      expect(firstFreeOf(window, new Set(taken), skip)).toBe(allocateTunnelIp('10.0.0.0/24', taken, skip));
    }
    expect(firstFreeOf(['10.0.0.1'], new Set(['10.0.0.1']))).toBeNull();
  });
});

describe('allocateNatRange', () => {
  it('returns the first aligned free block of the requested size', () => {
    expect(allocateNatRange('172.16.0.0/12', 24, [])).toBe('172.16.0.0/24');
    expect(allocateNatRange('172.16.0.0/12', '192.168.1.0/24', ['172.16.0.0/24', '172.16.1.7'])).toBe('172.16.2.0/24');
    expect(allocateNatRange('172.16.0.0/12', 23, ['172.16.1.0/24'])).toBe('172.16.2.0/23');
    expect(allocateNatRange('172.16.0.0/12', 24, ['172.16.0.0/16'])).toBe('172.17.0.0/24');
    expect(() => allocateNatRange('172.16.0.0/24', 24, ['172.16.0.128/25'])).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
    expect(() => allocateNatRange('172.16.0.0/24', 16, [])).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
  });

  it('always returns an aligned, in-pool block overlapping nothing taken, and the lowest such (seeded)', () => {
    const next = random(42);
    for (let round = 0; round < 200; round++) {
      const pool = parseCidr('172.16.0.0/20');
      const prefix = 22 + Math.floor(next() * 7);
      const taken: string[] = [];
      for (let i = 0; i < 30 * next(); i++) {
        const size = 20 + Math.floor(next() * 13);
        taken.push(`${formatAddress(pool.start + BigInt(Math.floor(next() * 4096)))}/${size}`);
      }
      const takenRanges = taken.map((cidr) => parseCidr(cidr));
      const size = BigInt(2 ** (32 - prefix));
      const isFree = (start: bigint): boolean => takenRanges.every((range) => !overlaps(range, { family: 4, start, end: start + size - 1n, prefix }));
      let expected: bigint | null = null;
      for (let start = pool.start; start + size - 1n <= pool.end; start += size) {
        if (isFree(start)) { expected = start; break; }
      }
      if (expected === null) {
        expect(() => allocateNatRange('172.16.0.0/20', prefix, taken)).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
      } else {
        expect(allocateNatRange('172.16.0.0/20', prefix, taken)).toBe(`${formatAddress(expected)}/${prefix}`);
      }
    }
  });
});

describe('IPv6 allocation', () => {
  it('allocates tunnel and service addresses from /64s, skipping the subnet-router anycast address', () => {
    expect(allocateTunnelIp('fd00:1::/64', [])).toBe('fd00:1::1');
    expect(allocateTunnelIp('fd00:1::/64', ['fd00:1::1', 'FD00:1:0:0::2/64', '10.0.0.3'])).toBe('fd00:1::3');
    expect(allocateTunnelIp('fd00:1::/64', ['fd00:1::1', 'fd00:1::3'], 2)).toBe('fd00:1::5');
    expect(allocateTunnelIp('fd00:1::/127', [])).toBe('fd00:1::');
    expect(() => allocateTunnelIp('fd00:1::/127', ['fd00:1::', 'fd00:1::1'])).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
    expect(allocateTunnelIp('fd00:1::/126', ['fd00:1::1', 'fd00:1::2'])).toBe('fd00:1::3'); // no broadcast in IPv6
    expect(allocateServiceIp('fd00:5::/64', ['fd00:5::1'])).toBe('fd00:5::2');
  });

  it('allocates translated prefixes aligned on their size and of the pool family only', () => {
    expect(allocateNatRange('fd00:8000::/33', '2001:db8:1::/64', [])).toBe('fd00:8000::/64');
    expect(allocateNatRange('fd00:8000::/33', 64, ['fd00:8000::/63', 'fd00:8000:0:2::7'])).toBe('fd00:8000:0:3::/64');
    expect(allocateNatRange('fd00:8000::/33', 56, ['fd00:8000::/64'])).toBe('fd00:8000:0:100::/56');
    expect(allocateNatRange('fd00:8000::/33', 48, ['fd00:8000::/64', '10.0.0.0/8'])).toBe('fd00:8000:1::/48');
    expect(() => allocateNatRange('fd00:8000::/33', '192.168.1.0/24', [])).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    expect(() => allocateNatRange('fd00:8000::/120', 119, [])).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
  });

  it('draws WAN ranges from one unique local /48 (RFC 4193)', () => {
    const ranges = ulaRanges(Uint8Array.of(0x12, 0x34, 0x56, 0x78, 0x9a));
    expect(ranges).toEqual({ tunnelCidr6: 'fd12:3456:789a::/64', servicesCidr6: 'fd12:3456:789a:5::/64', natPool6: 'fd12:3456:789a:8000::/49' });
    expect(ulaRanges(Uint8Array.of(0, 0, 0, 0, 1)).tunnelCidr6).toBe('fd00:0:1::/64');
  });
});

describe('allocateTunnelIps', () => {
  it('gives the first free addresses in one pass, refusing when the range holds fewer', () => {
    expect(allocateTunnelIps('fd00:1::/64', ['fd00:1::2'], 3)).toEqual(['fd00:1::1', 'fd00:1::3', 'fd00:1::4']);
    expect(allocateTunnelIps('10.0.0.0/29', ['10.0.0.1'], 5)).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(() => allocateTunnelIps('10.0.0.0/29', ['10.0.0.1'], 6)).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
    expect(allocateTunnelIps('fd00:1::/126', [], 0)).toEqual([]);
    expect(allocateTunnelIps('fd00:1::/64', [], 5000)).toHaveLength(5000);
  });
});
