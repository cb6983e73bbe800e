import { describe, expect, it } from 'vitest';
import { renderCompiledPeerRouterOs } from '../../domain/index.js';
import { desiredState } from './__fixtures__/overlay-variants.js';
import { MENU } from './menus.js';
import { desiredResources } from './resources.js';

describe('desiredResources', () => {
  const state = desiredState();
  const resources = desiredResources(state);

  it('tags every item exactly as the .rsc script does, so script-made routers are adopted as they are', () => {
    const script = renderCompiledPeerRouterOs(state.overlay, state.peer, { commentPrefix: state.commentPrefix });
    const scriptTags = [...script.matchAll(/ comment="(meshplane:wan1:[^"]+)"/g)].map((match) => match[1]);
    expect(resources.map((resource) => resource.props.comment).sort()).toEqual([...new Set(scriptTags)].sort());
    for (const resource of resources) expect(resource.props.comment).toBe(`meshplane:${resource.key}`);
  });

  it('maps the interface, peers with RouterOS durations, address, routes, rules and NAT', () => {
    const byKey = Object.fromEntries(resources.map((resource) => [resource.key, resource]));
    expect(byKey['wan1:interface']).toMatchObject({ kind: MENU.interface, props: { name: 'wg-mesh', mtu: '1420', 'listen-port': '51820', 'private-key': state.peer.interface.privateKey } });
    const hub = state.peer.peers.find((remote) => remote.peerId === 'hub');
    expect(byKey['wan1:peer:hub']?.props).toMatchObject({
      interface: 'wg-mesh', 'public-key': hub?.publicKey, 'allowed-address': '10.0.0.1/32', 'endpoint-address': 'hub.example.net',
      'endpoint-port': '51820', 'persistent-keepalive': '0s', 'preshared-key': hub?.presharedKey,
    });
    expect(byKey['wan1:peer:laptop']?.props).toMatchObject({ 'endpoint-address': '', 'endpoint-port': '0', 'persistent-keepalive': '0s' });
    expect(byKey['wan1:address:10.0.0.2/24']?.props).toMatchObject({ address: '10.0.0.2/24', interface: 'wg-mesh' });
    expect(byKey['wan1:route:192.168.2.0/24']?.props).toMatchObject({ 'dst-address': '192.168.2.0/24', gateway: 'wg-mesh', distance: '10' });
    expect(byKey['wan1:filter:input-udp-51820']?.props).toMatchObject({ chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820' });
    expect(byKey['wan1:nat:netmap-in:172.16.88.0/24']?.props).toMatchObject({ chain: 'dstnat', action: 'netmap', 'dst-address': '172.16.88.0/24', 'to-addresses': '192.168.88.0/24' });
    expect(byKey['wan1:nat:service:tcp:10.0.5.7:80']?.props).toMatchObject({ action: 'dst-nat', 'to-addresses': '192.168.1.10', 'to-ports': '8080' });
  });

  it('refuses values that are not what the compiler produces', () => {
    const hostile = desiredState();
    hostile.peer = { ...hostile.peer, interface: { ...hostile.peer.interface, name: 'wg0 =disabled=yes' } };
    expect(() => desiredResources(hostile)).toThrow();
    expect(() => desiredResources({ ...desiredState(), commentPrefix: 'a:b' })).toThrow(/commentPrefix/);
  });
});
