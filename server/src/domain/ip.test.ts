import { describe, expect, it } from 'vitest';
import {
  canonicalAddress, canonicalCidr, compareRanges, contains, formatAddress, formatCidr, overlaps, parseCidr, rangeOf,
  tryParseAddress, tryParseCidr,
} from './ip.js';

describe('ipv4', () => {
  it('parses strict dotted quads only', () => {
    expect(tryParseAddress('0.0.0.0')).toBe(0n);
    expect(tryParseAddress('255.255.255.255')).toBe(0xffffffffn);
    expect(tryParseAddress('10.1.2.3')).toBe(0x0a010203n);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4/8', '1.2.3.a', '1000.1.1.1']) {
      expect(tryParseAddress(bad), bad).toBeNull();
    }
  });

  it('round-trips every seeded address and normalises CIDRs', () => {
    const mismatches: number[] = [];
    for (let value = 0; value < 2 ** 32; value += 65_521 * 7) if (tryParseAddress(formatAddress(BigInt(value))) !== BigInt(value)) mismatches.push(value);
    expect(mismatches).toEqual([]);
    expect(formatCidr(parseCidr('192.168.1.77/24'))).toBe('192.168.1.0/24');
    expect(tryParseCidr('0.0.0.0/0')).toEqual({ family: 4, start: 0n, end: 0xffffffffn, prefix: 0 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0', '10.0.0.0/24/1']) expect(tryParseCidr(bad), bad).toBeNull();
  });
});

describe('ipv6', () => {
  it('accepts every valid text form and prints the RFC 5952 one', () => {
    const cases: Array<[string, string]> = [
      ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal zero runs
      ['2001:db8::0:1', '2001:db8::1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
      ['FD12:3456:789A::', 'fd12:3456:789a::'],
      ['::', '::'],
      ['::1', '::1'],
    ];
    for (const [input, canonical] of cases) expect(canonicalAddress(input), input).toBe(canonical);
    for (const bad of ['1::2::3', '12345::', ':1::', 'fd00:::1', '0:0:0:0:0:0:0:0:0', 'fe80::1%eth0', 'g::1', '[::1]', '']) {
      expect(tryParseAddress(bad), bad).toBeNull();
    }
  });

  it('normalises prefixes and refuses malformed ones', () => {
    expect(canonicalCidr('FD00:0:0:1:0:0:0:7/64')).toBe('fd00:0:0:1::/64');
    expect(canonicalCidr('2001:db8::/128')).toBe('2001:db8::/128');
    expect(canonicalCidr('::/0')).toBe('::/0');
    for (const bad of ['fd00::/129', 'fd00::/064', 'fd00::', 'fd00::/-1', 'fd00::/64/1']) expect(tryParseCidr(bad), bad).toBeNull();
    const range = parseCidr('fd00:1::/64');
    expect(range.end - range.start).toBe((1n << 64n) - 1n);
    expect(formatAddress(range.end)).toBe('fd00:1::ffff:ffff:ffff:ffff');
    expect(formatCidr(rangeOf(range.end, 48))).toBe('fd00:1::/48');
  });

  it('never mixes families: ::/0 holds no IPv4 prefix, IPv4 sorts first', () => {
    const all6 = parseCidr('::/0');
    const all4 = parseCidr('0.0.0.0/0');
    const mapped = parseCidr('::ffff:0:0/96');
    expect(overlaps(all6, all4)).toBe(false);
    expect(contains(all6, parseCidr('10.0.0.0/8'))).toBe(false);
    expect(contains(all6, mapped)).toBe(true);
    expect(overlaps(mapped, all4)).toBe(false);
    expect([all6, parseCidr('fd00::/8'), all4].sort(compareRanges).map(formatCidr)).toEqual(['0.0.0.0/0', '::/0', 'fd00::/8']);
    expect(() => parseCidr('10.0.0.0/24', 'tunnelCidr6', 6)).toThrow(/tunnelCidr6.*IPv6 CIDR/);
    expect(() => parseCidr('fd00::/64', 'tunnelCidr', 4)).toThrow(/tunnelCidr.*IPv4 CIDR/);
  });
});
