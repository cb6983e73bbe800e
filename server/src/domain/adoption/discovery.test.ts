import { describe, expect, it } from 'vitest';
import { hostableNetwork } from './discovery.js';

describe('hostableNetwork', () => {
  it('gives the network of an interface address, host bits cleared', () => {
    expect(hostableNetwork('192.168.88.1/24')).toBe('192.168.88.0/24');
    expect(hostableNetwork('fd00:88::1/64')).toBe('fd00:88::/64');
  });

  it('refuses host addresses, link-local ones and text that is no address with a prefix', () => {
    for (const address of ['10.0.0.1/32', '2001:db8::1/128', '169.254.3.4/16', 'fe80::1/64', '192.168.88.1', 'bridge', '']) expect(hostableNetwork(address), address).toBeNull();
  });
});
