// Small builders for tests: valid defaults, override what the test is about.
import type { OverlaySpec, PeerSpec, ServiceSpec, SubnetSpec, WanSpec } from '../model.js';

/** A syntactically valid key derived from a number, so fixtures need no randomness. */
export function fakeKey(seed: number): string {
  const bytes = Buffer.alloc(32, seed % 251);
  bytes.writeUInt32BE(seed >>> 0, 0);
  return bytes.toString('base64');
}

export function wan(overrides: Partial<WanSpec> = {}): WanSpec {
  return {
    id: 'wan1',
    name: 'Test WAN',
    tunnelCidr: '10.0.0.0/24',
    servicesCidr: '10.0.5.0/24',
    natPool: '172.16.0.0/12',
    topology: 'MESH',
    listenPort: 51820,
    mtu: 1420,
    keepalive: 25,
    interfaceName: 'wg-mesh',
    ...overrides,
  };
}

let keySeed = 1;

export function peer(id: string, tunnelIp: string, overrides: Partial<PeerSpec> = {}): PeerSpec {
  const seed = keySeed++;
  return {
    id,
    name: `Peer ${id}`,
    role: 'SITE',
    tunnelIp,
    publicKey: fakeKey(seed * 2),
    privateKey: fakeKey(seed * 2 + 1),
    endpointHost: `${id}.example.net`,
    endpointPort: null,
    listenPort: null,
    keepalive: null,
    portForwarded: false,
    subnets: [],
    services: [],
    ...overrides,
  };
}

export function subnet(id: string, cidr: string, overrides: Partial<SubnetSpec> = {}): SubnetSpec {
  return { id, cidr, routed: true, natCidr: null, description: '', ...overrides };
}

export function service(id: string, serviceIp: string, overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return { id, name: `svc ${id}`, protocol: 'tcp', localIp: '192.168.1.10', localPort: 8080, serviceIp, servicePort: 80, ...overrides };
}

export function overlay(peers: PeerSpec[], wanOverrides: Partial<WanSpec> = {}): OverlaySpec {
  return { wan: wan(wanOverrides), peers, presharedKeys: [] };
}

/** A hub-and-spoke WAN with one hub (10.0.0.1) and `spokes` spokes, each hosting a /24 LAN. */
export function hubAndSpokes(spokes: number, withLans = true): OverlaySpec {
  const peers = [peer('hub', '10.0.0.1', { role: 'HUB' })];
  for (let i = 0; i < spokes; i++) {
    const octet = i + 2;
    peers.push(peer(`s${octet}`, `10.0.${Math.floor(octet / 256)}.${octet % 256}`, {
      subnets: withLans ? [subnet(`lan${octet}`, `192.168.${octet % 256}.0/24`)] : [],
      endpointHost: null,
    }));
  }
  return overlay(peers, { topology: 'HUB_SPOKE', ...(spokes > 250 ? { tunnelCidr: '10.0.0.0/16', servicesCidr: '10.1.5.0/24' } : {}) });
}

/** The IPv6 ranges of a dual-stack WAN in fixtures. */
export const DUAL_STACK: Partial<WanSpec> = {
  tunnelCidr6: 'fd10:aaaa:bbbb::/64',
  servicesCidr6: 'fd10:aaaa:bbbb:5::/64',
  natPool6: 'fd10:aaaa:bbbb:8000::/49',
};

/**
 * A dual-stack mesh: a (IPv4 LAN 192.168.1.0/24 and IPv6 LAN 2001:db8:a::/64), b (IPv6 LAN
 * 2001:db8:b::/64, an IPv6 service), c (IPv4 only LAN) and a hub-spoke variant with `topology`.
 */
export function dualStack(topology: WanSpec['topology'] = 'MESH'): OverlaySpec {
  return overlay([
    peer('a', '10.0.0.1', { tunnelIp6: 'fd10:aaaa:bbbb::1', role: topology === 'MESH' ? 'SITE' : 'HUB',
      subnets: [subnet('lanA', '192.168.1.0/24'), subnet('lanA6', '2001:db8:a::/64')] }),
    peer('b', '10.0.0.2', { tunnelIp6: 'fd10:aaaa:bbbb::2', endpointHost: topology === 'MESH' ? 'b.example.net' : null,
      subnets: [subnet('lanB6', '2001:db8:b::/64')],
      services: [service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: '2001:db8:b::10' })] }),
    peer('c', '10.0.0.3', { tunnelIp6: 'fd10:aaaa:bbbb::3', endpointHost: topology === 'MESH' ? 'c.example.net' : null,
      subnets: [subnet('lanC', '192.168.3.0/24')] }),
  ], { topology, ...DUAL_STACK });
}
