import { describe, expect, it } from 'vitest';
import {
  isHostname, isIpv6Literal, validateHost, validateInterfaceName, validateIpv4Address, validateIpv4Cidr, validateKey,
  validateName, validatePort,
} from './validation.js';

const HOSTILE = 'a"; /system reset-configuration; "';

describe('validation', () => {
  it('accepts ordinary names and refuses anything with script meaning', () => {
    expect(validateName('Berlin office (rack 2)')).toBe('Berlin office (rack 2)');
    for (const bad of [HOSTILE, 'a\nb', 'x$(id)', 'back`tick`', "it's", 'semi;colon', 'hash#', 'tab\t', ' leading', 'trailing ', '', 'x'.repeat(65), 'ümlaut']) {
      expect(() => validateName(bad, 'peer.name'), bad).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    }
    expect(() => validateName(HOSTILE, 'peer.name')).toThrow(/^peer\.name: /);
  });

  it('accepts interface names wg-quick accepts', () => {
    expect(validateInterfaceName('wg-mesh.0')).toBe('wg-mesh.0');
    expect(() => validateInterfaceName('wg mesh')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => validateInterfaceName('a'.repeat(16))).toThrow();
  });

  it('accepts IPv4, IPv6 and DNS hosts only', () => {
    for (const good of ['192.0.2.1', '2001:db8::1', '::1', '::ffff:192.0.2.1', 'fe80::1:2:3:4:5', 'vpn.example.com', 'router-1']) {
      expect(validateHost(good), good).toBe(good);
    }
    for (const bad of ['300.1.1.1', '1.2.3', '[::1]', 'fe80::1%eth0', '1::2::3', 'a..b', '-a.com', 'x.net; reboot', 'host:51820', '']) {
      expect(() => validateHost(bad, 'endpointHost'), bad).toThrow(expect.objectContaining({ code: 'INVALID_HOST' }));
    }
    expect(isIpv6Literal('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isIpv6Literal('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isHostname('example.123')).toBe(false);
  });

  it('checks ports, addresses, CIDRs and keys with field-named errors', () => {
    expect(validatePort(51820)).toBe(51820);
    for (const bad of [0, 65536, 1.5, '80', Number.NaN]) expect(() => validatePort(bad, 'listenPort')).toThrow(/listenPort/);
    expect(validateIpv4Address('10.0.0.1')).toBe('10.0.0.1');
    expect(() => validateIpv4Address('010.0.0.1')).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    expect(validateIpv4Cidr('192.168.1.77/24')).toBe('192.168.1.0/24');
    for (const bad of ['192.168.1.0', '192.168.1.0/33', '192.168.1.0/24 ', '1.2.3/8']) {
      expect(() => validateIpv4Cidr(bad, 'subnet.cidr'), bad).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    }
    expect(() => validateKey('abc', 'publicKey')).toThrow(expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringMatching(/^publicKey/) }));
  });
});
