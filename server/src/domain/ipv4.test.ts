import { describe, expect, it } from 'vitest';
import { formatCidr, formatIpv4, tryParseIpv4, tryParseIpv4Cidr } from './ipv4.js';

describe('ipv4', () => {
  it('parses strict dotted quads only', () => {
    expect(tryParseIpv4('0.0.0.0')).toBe(0);
    expect(tryParseIpv4('255.255.255.255')).toBe(0xffffffff);
    expect(tryParseIpv4('10.1.2.3')).toBe(0x0a010203);
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4/8', '1.2.3.a', '1000.1.1.1']) {
      expect(tryParseIpv4(bad), bad).toBeNull();
    }
  });

  it('round-trips every seeded address and normalises CIDRs', () => {
    const mismatches: number[] = [];
    for (let value = 0; value < 2 ** 32; value += 65_521 * 7) if (tryParseIpv4(formatIpv4(value)) !== value) mismatches.push(value);
    expect(mismatches).toEqual([]);
    expect(formatCidr(tryParseIpv4Cidr('192.168.1.77/24') ?? { start: 0, end: 0, prefix: 0 })).toBe('192.168.1.0/24');
    expect(tryParseIpv4Cidr('0.0.0.0/0')).toEqual({ start: 0, end: 0xffffffff, prefix: 0 });
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/08', '10.0.0.0', '10.0.0.0/24/1']) expect(tryParseIpv4Cidr(bad), bad).toBeNull();
  });
});
