import { describe, expect, it } from 'vitest';
import {
  endpointProblem, isHostname, isLocalHost, isValidHost, validateEndpointHost, validateHost, validateInterfaceName, validateAddress, validateCidr, validateKey,
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
    expect(isValidHost('1:2:3:4:5:6:7:8')).toBe(true);
    expect(isValidHost('1:2:3:4:5:6:7:8:9')).toBe(false);
    expect(isHostname('example.123')).toBe(false);
  });

  it('checks ports, addresses, CIDRs and keys with field-named errors', () => {
    expect(validatePort(51820)).toBe(51820);
    for (const bad of [0, 65536, 1.5, '80', Number.NaN]) expect(() => validatePort(bad, 'listenPort')).toThrow(/listenPort/);
    expect(validateAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(() => validateAddress('010.0.0.1')).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    expect(validateCidr('192.168.1.77/24')).toBe('192.168.1.0/24');
    for (const bad of ['192.168.1.0', '192.168.1.0/33', '192.168.1.0/24 ', '1.2.3/8']) {
      expect(() => validateCidr(bad, 'subnet.cidr'), bad).toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    }
    expect(() => validateKey('abc', 'publicKey')).toThrow(expect.objectContaining({ code: 'INVALID_KEY', message: expect.stringMatching(/^publicKey/) }));
  });

  it('refuses endpoints no peer can be dialled at, naming why, and keeps private, CGNAT and public ones', () => {
    const why: Record<string, RegExp> = {
      '0.0.0.0': /unspecified/, '0.255.255.255': /unspecified/, '::': /unspecified/, '127.0.0.1': /loopback/, '127.200.1.1': /loopback/,
      '::1': /loopback/, '::ffff:127.0.0.1': /loopback/, 'localhost': /loopback/, 'a.b.LOCALHOST': /loopback/, '224.0.0.0': /multicast/,
      '239.255.255.255': /multicast/, 'ff05::2': /multicast/, '240.0.0.0': /reserved/, '255.255.255.255': /broadcast/,
    };
    for (const [host, reason] of Object.entries(why)) {
      expect(endpointProblem(host), host).toMatch(reason);
      expect(() => validateEndpointHost(host), host).toThrow(expect.objectContaining({ code: 'INVALID_HOST', details: { field: 'endpointHost' } }));
    }
    for (const host of ['1.0.0.0', '126.255.255.255', '128.0.0.1', '223.255.255.255', '100.64.0.1', '10.0.0.1', '192.168.0.1', '2001:db8::1', 'fe80::1', 'notlocalhost', 'localhost.example.net']) {
      expect(endpointProblem(host), host).toBeNull();
    }
  });

  it('takes an IPv6 endpoint bare or in brackets and returns it canonical; a port or an IPv4 address in brackets is refused', () => {
    expect(validateEndpointHost('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(validateEndpointHost('[2001:db8::1]')).toBe('2001:db8::1');
    expect(validateEndpointHost('site.example.net')).toBe('site.example.net');
    expect(() => validateEndpointHost('[2001:db8::1]:51820')).toThrow(/endpointPort/);
    expect(() => validateEndpointHost('[192.0.2.1]')).toThrow(/only IPv6/);
    expect(() => validateEndpointHost('[::1]')).toThrow(/loopback/);
    expect(() => validateEndpointHost('[2001:db8::1')).toThrow(expect.objectContaining({ code: 'INVALID_HOST' }));
  });

  it('knows this machine by name, loopback address or ::1 only', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1']) expect(isLocalHost(host), host).toBe(true);
    for (const host of ['192.0.2.1', '0.0.0.0', '::', 'router.localhost', 'localhost.example.net', '::ffff:127.0.0.1', '128.0.0.1']) expect(isLocalHost(host), host).toBe(false);
  });
});
