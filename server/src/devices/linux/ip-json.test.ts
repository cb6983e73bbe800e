import { describe, expect, it } from 'vitest';
import { DeviceError } from '../driver.js';
import { parseAddresses, parseLinks, parseRoutes } from './ip-json.js';

// Recorded from iproute2-6.1.0 in a namespace with a wireguard-go interface.
const LINKS = '[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"linkinfo":null},'
  + '{"ifindex":2,"ifname":"mpxt0","flags":["POINTOPOINT","MULTICAST","NOARP"],"mtu":1420,"operstate":"DOWN",'
  + '"linkinfo":{"info_kind":"tun","info_data":{"type":"tun","pi":true}},"ifalias":"meshplane:wan1"}]';
const ADDRS = '[{"ifindex":2,"ifname":"mpxt0","addr_info":[{"family":"inet","local":"10.0.0.1","prefixlen":24,"scope":"global"},'
  + '{"family":"inet6","local":"fe80::1","prefixlen":64}]},'
  // Recorded from iproute2-6.1.0 after `ip address add 10.9.0.3/32 peer 10.9.0.1/32 dev d0`.
  + '{"ifindex":3,"ifname":"d0","addr_info":[{"family":"inet","local":"10.9.0.3","address":"10.9.0.1","prefixlen":32,"scope":"global","label":"d0"}]}]';
const ROUTES = '[{"dst":"default","gateway":"100.64.0.1","dev":"ul0","flags":[]},'
  + '{"dst":"10.0.0.0/24","dev":"mpxt0","protocol":"kernel","scope":"link","prefsrc":"10.0.0.1","flags":[]},'
  + '{"dst":"192.168.2.0/24","dev":"mpxt0","protocol":"77","scope":"link","flags":[]},'
  + '{"dst":"10.0.5.7","dev":"mpxt0","protocol":"static","metric":5,"flags":[]},'
  + '{"type":"blackhole","dst":"198.18.0.0/15","flags":[]}]';

describe('ip -j', () => {
  it('reads links with kind, alias, MTU and state', () => {
    expect(parseLinks(LINKS)).toEqual([
      { name: 'lo', kind: null, alias: null, mtu: 65536, up: true },
      { name: 'mpxt0', kind: 'tun', alias: 'meshplane:wan1', mtu: 1420, up: false },
    ]);
  });

  it('reads IPv4 interface addresses as address/prefix', () => {
    expect(parseAddresses(ADDRS)).toEqual([
      { ifname: 'mpxt0', cidr: '10.0.0.1/24', peer: null },
      { ifname: 'd0', cidr: '10.9.0.3/32', peer: '10.9.0.1/32' },
    ]);
  });

  it('reads routes with canonical destinations, protocol and metric', () => {
    expect(parseRoutes(ROUTES)).toEqual([
      { destination: '0.0.0.0/0', dev: 'ul0', gateway: '100.64.0.1', protocol: 'boot', metric: 0, type: 'unicast' },
      { destination: '10.0.0.0/24', dev: 'mpxt0', gateway: null, protocol: 'kernel', metric: 0, type: 'unicast' },
      { destination: '192.168.2.0/24', dev: 'mpxt0', gateway: null, protocol: '77', metric: 0, type: 'unicast' },
      { destination: '10.0.5.7/32', dev: 'mpxt0', gateway: null, protocol: 'static', metric: 5, type: 'unicast' },
      { destination: '198.18.0.0/15', dev: null, gateway: null, protocol: 'boot', metric: 0, type: 'blackhole' },
    ]);
  });

  it('treats empty output as no entries and junk as a protocol error', () => {
    expect(parseLinks('')).toEqual([]);
    expect(() => parseRoutes('Error: something')).toThrow(DeviceError);
    expect(() => parseLinks('{"ifname":"x"}')).toThrow(/JSON array/);
  });
});
