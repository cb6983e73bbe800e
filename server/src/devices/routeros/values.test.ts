import { describe, expect, it } from 'vitest';
import { normalizeValue } from './normalize.js';
import { counter, formatDuration, normalizeBoolean, parseDuration, splitList, withPrefix } from './values.js';

describe('RouterOS durations', () => {
  it.each([
    ['1w2d3h4m5s', ((9 * 24 + 3) * 3600 + 4 * 60 + 5) * 1000],
    ['25s', 25_000],
    ['1m5s', 65_000],
    ['2d20h12m20s', ((2 * 24 + 20) * 3600 + 12 * 60 + 20) * 1000],
    ['453us', 0.453],
    ['1s500ms', 1500],
    ['00:00:10', 10_000],
    ['1d 00:00:00', 86_400_000],
    ['300', 300_000],
    ['0s', 0],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 6);
  });

  it.each([undefined, '', 'never', 'soon', '5x', 'm'])('reads %s as no duration', (text) => {
    expect(parseDuration(text)).toBeNull();
  });

  it('formats whole seconds the way RouterOS prints them', () => {
    expect([0, 25, 65, 3725, 18 * 3600 + 12 * 60 + 15, 694_861].map(formatDuration)).toEqual(['0s', '25s', '1m5s', '1h2m5s', '18h12m15s', '1w1d1h1m1s']);
    expect(() => formatDuration(-1)).toThrow(RangeError);
  });
});

describe('RouterOS value helpers', () => {
  it('reads booleans, lists, prefixes and counters', () => {
    expect(['yes', 'true', 'no', 'false', 'auto'].map(normalizeBoolean)).toEqual(['true', 'true', 'false', 'false', 'auto']);
    expect(splitList(' 10.0.0.1/32, 192.168.2.0/24 ,,')).toEqual(['10.0.0.1/32', '192.168.2.0/24']);
    expect([withPrefix('10.0.0.1'), withPrefix('10.0.0.0/24'), withPrefix('fd00::1')]).toEqual(['10.0.0.1/32', '10.0.0.0/24', 'fd00::1']);
    expect([counter('18446744073709551615'), counter('007'), counter(''), counter('1.5e9'), counter(undefined)]).toEqual(['18446744073709551615', '7', '0', '0', '0']);
  });
});

describe('normalizeValue', () => {
  const same = (kind: string, prop: string, a: string, b: string) => normalizeValue(kind, prop, a) === normalizeValue(kind, prop, b);

  it('treats RouterOS spellings and omitted defaults as equal', () => {
    expect(same('/interface/wireguard/peers', 'persistent-keepalive', '25s', '00:00:25')).toBe(true);
    expect(same('/interface/wireguard/peers', 'persistent-keepalive', '', '0s')).toBe(true);
    expect(same('/interface/wireguard/peers', 'endpoint-port', '', '0')).toBe(true);
    expect(same('/interface/wireguard/peers', 'allowed-address', '192.168.2.0/24,10.0.0.3', '10.0.0.3/32, 192.168.2.0/24')).toBe(true);
    expect(same('/interface/wireguard', 'disabled', 'no', 'false')).toBe(true);
    expect(same('/ip/firewall/nat', 'dst-address', '10.0.5.7/32', '10.0.5.7')).toBe(true);
    expect(same('/ip/route', 'dst-address', '10.0.5.7', '10.0.5.7/32')).toBe(true);
    expect(same('/ip/route', 'distance', '010', '10')).toBe(true);
  });

  it('still sees real differences', () => {
    expect(same('/interface/wireguard/peers', 'persistent-keepalive', '25s', '30s')).toBe(false);
    expect(same('/interface/wireguard/peers', 'allowed-address', '10.0.0.3/32', '10.0.0.3/32,192.168.3.0/24')).toBe(false);
    expect(same('/ip/route', 'distance', '1', '10')).toBe(false);
    expect(same('/ip/route', 'gateway', 'wg-mesh', 'wg-other')).toBe(false);
  });
});
