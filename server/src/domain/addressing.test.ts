import { describe, expect, it } from 'vitest';
import { allocateNatRange, allocateServiceIp, allocateTunnelIp } from './addressing.js';
import { formatIpv4, overlaps, parseIpv4Cidr } from './ipv4.js';

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
      const range = parseIpv4Cidr(`10.${Math.floor(next() * 256)}.0.0/${prefix}`);
      const taken = new Set<string>();
      const hosts = range.end - range.start - 1;
      for (let i = 0; i < hosts * next(); i++) taken.add(formatIpv4(range.start + 1 + Math.floor(next() * hosts)));
      const address = parseIpv4Cidr(`${allocateTunnelIp(`${formatIpv4(range.start)}/${prefix}`, taken)}/32`).start;
      expect(taken.has(formatIpv4(address))).toBe(false);
      expect(address).toBeGreaterThan(range.start);
      expect(address).toBeLessThan(range.end);
      for (let candidate = range.start + 1; candidate < address; candidate++) expect(taken.has(formatIpv4(candidate))).toBe(true);
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
      const pool = parseIpv4Cidr('172.16.0.0/20');
      const prefix = 22 + Math.floor(next() * 7);
      const taken: string[] = [];
      for (let i = 0; i < 30 * next(); i++) {
        const size = 20 + Math.floor(next() * 13);
        taken.push(`${formatIpv4(pool.start + Math.floor(next() * 4096))}/${size}`);
      }
      const takenRanges = taken.map((cidr) => parseIpv4Cidr(cidr));
      const isFree = (start: number): boolean => takenRanges.every((range) => !overlaps(range, { start, end: start + 2 ** (32 - prefix) - 1, prefix }));
      let expected: number | null = null;
      for (let start = pool.start; start + 2 ** (32 - prefix) - 1 <= pool.end; start += 2 ** (32 - prefix)) {
        if (isFree(start)) { expected = start; break; }
      }
      if (expected === null) {
        expect(() => allocateNatRange('172.16.0.0/20', prefix, taken)).toThrow(expect.objectContaining({ code: 'POOL_EXHAUSTED' }));
      } else {
        expect(allocateNatRange('172.16.0.0/20', prefix, taken)).toBe(`${formatIpv4(expected)}/${prefix}`);
      }
    }
  });
});
