import { describe, expect, it } from 'vitest';
import { fakeKey, hubAndSpokes, overlay, peer, service, subnet } from './__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer } from './compile.js';
import { assertNoAllowedIpsOverlap } from './conflicts.js';
import { withoutSecrets, type CompiledOverlay } from './compiled.js';

function remoteIds(compiled: CompiledOverlay, peerId: string): string[] {
  return findCompiledPeer(compiled, peerId).peers.map((remote) => remote.peerId);
}

function allowedOn(compiled: CompiledOverlay, peerId: string, remoteId: string): string[] {
  const remote = findCompiledPeer(compiled, peerId).peers.find((candidate) => candidate.peerId === remoteId);
  if (!remote) throw new Error(`${peerId} has no tunnel to ${remoteId}`);
  return remote.allowedIps;
}

describe('compileOverlay: mesh', () => {
  const spec = overlay([
    peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24')] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24'), subnet('hidden', '192.168.99.0/24', { routed: false })] }),
    peer('c', '10.0.0.3', { services: [service('web', '10.0.5.7')] }),
  ]);
  const compiled = compileOverlay(spec);

  it('gives every peer every other peer', () => {
    expect(remoteIds(compiled, 'a')).toEqual(['b', 'c']);
    expect(remoteIds(compiled, 'b')).toEqual(['a', 'c']);
    expect(remoteIds(compiled, 'c')).toEqual(['a', 'b']);
  });

  it('puts tunnel IP, routed LANs and published service IPs into a remote\'s AllowedIPs', () => {
    expect(allowedOn(compiled, 'a', 'b')).toEqual(['10.0.0.2/32', '192.168.2.0/24']);
    expect(allowedOn(compiled, 'a', 'c')).toEqual(['10.0.0.3/32', '10.0.5.7/32']);
  });

  it('routes everything outside the tunnel range, and only that', () => {
    expect(findCompiledPeer(compiled, 'a').routes).toEqual([
      { destination: '10.0.5.7/32', via: 'c', gatewayTunnelIp: '10.0.0.3' },
      { destination: '192.168.2.0/24', via: 'b', gatewayTunnelIp: '10.0.0.2' },
    ]);
  });

  it('addresses the interface with the tunnel prefix and published service IPs', () => {
    expect(findCompiledPeer(compiled, 'c').interface.addresses).toEqual(['10.0.0.3/24', '10.0.5.7/32']);
    expect(findCompiledPeer(compiled, 'c').forwarding).toBe(true);
    expect(findCompiledPeer(compiled, 'a').forwarding).toBe(true);
  });

  it('renders endpoints with the listen port, IPv6 hosts in brackets', () => {
    const v6 = compileOverlay(overlay([
      peer('a', '10.0.0.1', { endpointHost: '2001:db8::1', listenPort: 51000 }),
      peer('b', '10.0.0.2', { endpointPort: 443, portForwarded: true }),
    ]));
    expect(findCompiledPeer(v6, 'b').peers[0]?.endpoint).toBe('[2001:db8::1]:51000');
    expect(findCompiledPeer(v6, 'a').peers[0]?.endpoint).toBe('b.example.net:443');
  });

  it('is independent of input order', () => {
    const reversed = { ...spec, peers: [...spec.peers].reverse() };
    expect(compileOverlay(reversed)).toEqual(compiled);
  });
});

describe('compileOverlay: peers behind CGNAT', () => {
  it('gives them keepalive toward everyone, no Endpoint, and no tunnel between two of them', () => {
    const compiled = compileOverlay(overlay([
      peer('a', '10.0.0.1'),
      peer('b', '10.0.0.2', { endpointHost: null }),
      peer('c', '10.0.0.3', { endpointHost: null, keepalive: 15 }),
    ]));
    expect(remoteIds(compiled, 'b')).toEqual(['a']);
    expect(remoteIds(compiled, 'c')).toEqual(['a']);
    expect(findCompiledPeer(compiled, 'b').peers[0]?.persistentKeepalive).toBe(25);
    expect(findCompiledPeer(compiled, 'c').peers[0]?.persistentKeepalive).toBe(15);
    const onA = findCompiledPeer(compiled, 'a').peers;
    expect(onA.map((remote) => [remote.peerId, remote.endpoint, remote.persistentKeepalive])).toEqual([
      ['b', null, null],
      ['c', null, null],
    ]);
  });

  it('relays between two CGNAT peers through a hub when one exists', () => {
    const compiled = compileOverlay(overlay([
      peer('hub', '10.0.0.1', { role: 'HUB' }),
      peer('b', '10.0.0.2', { endpointHost: null, subnets: [subnet('lanB', '192.168.2.0/24')] }),
      peer('c', '10.0.0.3', { endpointHost: null }),
    ]));
    expect(remoteIds(compiled, 'c')).toEqual(['hub']);
    expect(allowedOn(compiled, 'c', 'hub')).toEqual(['10.0.0.0/24', '10.0.5.0/24', '192.168.2.0/24']);
    expect(findCompiledPeer(compiled, 'hub').forwarding).toBe(true);
  });
});

describe('compileOverlay: hub and spoke', () => {
  const compiled = compileOverlay(hubAndSpokes(3));

  it('gives spokes only the hub, carrying the tunnel range, services range and the other LANs', () => {
    expect(remoteIds(compiled, 's2')).toEqual(['hub']);
    expect(allowedOn(compiled, 's2', 'hub')).toEqual(['10.0.0.0/24', '10.0.5.0/24', '192.168.3.0/24', '192.168.4.0/24']);
  });

  it('gives the hub every spoke and makes it forward', () => {
    expect(remoteIds(compiled, 'hub')).toEqual(['s2', 's3', 's4']);
    expect(allowedOn(compiled, 'hub', 's3')).toEqual(['10.0.0.3/32', '192.168.3.0/24']);
    expect(findCompiledPeer(compiled, 'hub').forwarding).toBe(true);
    expect(findCompiledPeer(compiled, 'hub').firewall.map((rule) => rule.chain)).toEqual(['input', 'forward', 'forward']);
  });

  it('falls back to mesh without a hub', () => {
    const noHub = compileOverlay(overlay([peer('a', '10.0.0.1'), peer('b', '10.0.0.2'), peer('c', '10.0.0.3')], { topology: 'HUB_SPOKE' }));
    expect(remoteIds(noHub, 'a')).toEqual(['b', 'c']);
  });

  it('carves other hubs out of the relay hub\'s ranges so AllowedIPs never overlap', () => {
    const twoHubs = compileOverlay(overlay([
      peer('h1', '10.0.0.1', { role: 'HUB' }),
      peer('h2', '10.0.0.2', { role: 'HUB', services: [service('dns', '10.0.5.1', { protocol: 'udp', servicePort: 53 })] }),
      peer('s', '10.0.0.3', { endpointHost: null }),
    ], { topology: 'HUB_SPOKE' }));
    expect(remoteIds(twoHubs, 's')).toEqual(['h1', 'h2']);
    expect(allowedOn(twoHubs, 's', 'h2')).toEqual(['10.0.0.2/32', '10.0.5.1/32']);
    // The spoke routes the rest of the overlay via its relay hub h1 (h1's own address
    // included, in 10.0.0.0/31), with h2's addresses carved out.
    const viaH1 = allowedOn(twoHubs, 's', 'h1');
    expect(viaH1).toContain('10.0.0.0/31');
    expect(viaH1).not.toContain('10.0.0.0/24');
    expect(viaH1).not.toContain('10.0.0.2/32');
    expect(() => assertNoAllowedIpsOverlap(twoHubs)).not.toThrow();
  });
});

describe('compileOverlay: hybrid', () => {
  it('meshes hubs and sites, connects clients only to hubs', () => {
    const compiled = compileOverlay(overlay([
      peer('hub', '10.0.0.1', { role: 'HUB' }),
      peer('site1', '10.0.0.2'),
      peer('site2', '10.0.0.3'),
      peer('phone', '10.0.0.4', { role: 'CLIENT', endpointHost: null }),
    ], { topology: 'HYBRID' }));
    expect(remoteIds(compiled, 'site1')).toEqual(['hub', 'site2']);
    expect(remoteIds(compiled, 'phone')).toEqual(['hub']);
    // site1 reaches the phone through the hub: the hub carries the tunnel range minus site2.
    expect(allowedOn(compiled, 'site1', 'hub').slice(0, 3)).toEqual(['10.0.0.0/31', '10.0.0.2/32', '10.0.0.4/30']);
    expect(allowedOn(compiled, 'site1', 'site2')).toEqual(['10.0.0.3/32']);
    expect(allowedOn(compiled, 'phone', 'hub')).toEqual(['10.0.0.0/24', '10.0.5.0/24']);
  });
});

describe('compileOverlay: NAT and overlapping LANs', () => {
  it('publishes a translated LAN under its NAT range and emits a netmap', () => {
    const compiled = compileOverlay(overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24', { natCidr: '172.16.0.0/24' })] }),
      peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.1.0/24')] }),
    ]));
    expect(allowedOn(compiled, 'b', 'a')).toEqual(['10.0.0.1/32', '172.16.0.0/24']);
    expect(findCompiledPeer(compiled, 'a').nat).toEqual([{ kind: 'netmap', translated: '172.16.0.0/24', real: '192.168.1.0/24' }]);
    // a hosts 192.168.1.0/24 itself: routing b's identical LAN into the tunnel would hijack it.
    expect(allowedOn(compiled, 'a', 'b')).toEqual(['10.0.0.2/32']);
  });

  it('resolves unresolved LAN overlaps deterministically: the earlier peer keeps the prefix', () => {
    const compiled = compileOverlay(overlay([
      peer('hub', '10.0.0.1', { role: 'HUB' }),
      peer('x', '10.0.0.2', { subnets: [subnet('lanX', '192.168.7.0/24')] }),
      peer('y', '10.0.0.3', { subnets: [subnet('lanY', '192.168.7.0/25')] }),
    ]));
    expect(allowedOn(compiled, 'hub', 'x')).toEqual(['10.0.0.2/32', '192.168.7.0/24']);
    expect(allowedOn(compiled, 'hub', 'y')).toEqual(['10.0.0.3/32']);
    expect(() => assertNoAllowedIpsOverlap(compiled)).not.toThrow();
  });

  it('normalises CIDRs with host bits set', () => {
    const compiled = compileOverlay(overlay([
      peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.77/24')] }),
      peer('b', '10.0.0.2'),
    ]));
    expect(allowedOn(compiled, 'b', 'a')).toEqual(['10.0.0.1/32', '192.168.1.0/24']);
  });
});

describe('compileOverlay: validation gate', () => {
  it('refuses duplicate tunnel IPs and addresses outside the range', () => {
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1'), peer('b', '10.0.0.1')]))).toThrow(/used by both/);
    expect(() => compileOverlay(overlay([peer('a', '10.9.0.1')]))).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('refuses hostile values that would reach commands', () => {
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1', { endpointHost: 'x.net; reboot' })])))
      .toThrow(expect.objectContaining({ code: 'INVALID_HOST' }));
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1', { subnets: [subnet('s', '10.1.0.0/16 -j ACCEPT')] })])))
      .toThrow(expect.objectContaining({ code: 'INVALID_CIDR' }));
    expect(() => compileOverlay(overlay([peer('a', '10.0.0.1')], { interfaceName: 'wg0$(id)' })))
      .toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });
});

describe('withoutSecrets', () => {
  it('is what compiling the overlay without its keys gives, from the one compile with them', () => {
    const withKeys = hubAndSpokes(4);
    withKeys.presharedKeys = [{ peerAId: withKeys.peers[0]!.id, peerBId: withKeys.peers[1]!.id, key: fakeKey(99) }];
    const withoutKeys = { ...withKeys, peers: withKeys.peers.map((spec) => ({ ...spec, privateKey: null })), presharedKeys: [] };
    const compiled = compileOverlay(withKeys);
    expect(compiled.peers.some((entry) => entry.peers.some((remote) => remote.presharedKey !== null))).toBe(true);
    // The same, except that each interface says its key was held back rather than never known.
    const preview = withoutSecrets(compiled);
    expect(preview.peers.every((entry) => entry.interface.privateKeyWithheld === true)).toBe(true);
    const unmarked = { ...preview, peers: preview.peers.map((entry) => ({ ...entry, interface: { ...entry.interface, privateKeyWithheld: undefined } })) };
    expect(unmarked).toEqual(compileOverlay(withoutKeys));
    // The compile it came from keeps its keys.
    expect(compiled.peers.every((entry) => entry.interface.privateKey !== null)).toBe(true);
  });
});
