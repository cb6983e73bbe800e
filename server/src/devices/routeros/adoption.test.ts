import { describe, expect, it } from 'vitest';
import type { ActualResource } from '../../domain/plan.js';
import { desiredState } from './__fixtures__/overlay-variants.js';
import { adoptionPlanRouterOs } from './adoption.js';
import { MENU } from './menus.js';

// The site of overlay-variants: wg-mesh at 10.0.0.2/24 in 10.0.0.0/24, a route to the branch LAN 192.168.2.0/24.
const state = desiredState();
let next = 1;
const item = (kind: string, props: Record<string, string>, key: string | null = null): ActualResource => ({ kind, id: `*${(next++).toString(16).toUpperCase()}`, key, props });
const adoptedIds = (actual: ActualResource[]) => adoptionPlanRouterOs(state, actual).adopted.map((entry) => entry.id);

describe('RouterOS adoption identities', () => {
  it('takes a route to a desired destination only through the tunnel: the interface, a tunnel address, or one scoped to the interface', () => {
    const through = [
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: 'wg-mesh', distance: '1' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '10.0.0.3' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '10.0.0.3%wg-mesh', 'routing-table': 'main' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '192.168.2.1%wg-mesh' }),
    ];
    for (const route of through) expect(adoptedIds([route]), route.props.gateway).toEqual([route.id]);
    const elsewhere = [
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '192.168.88.254' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '10.0.0.3%ether1' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: '10.0.1.3' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: 'wg-mesh', 'routing-table': 'vpn' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: 'wg-mesh', dynamic: 'true' }),
      item(MENU.route, { 'dst-address': '192.168.2.0/24', gateway: 'wg-mesh', disabled: 'true' }),
      item(MENU.route, { 'dst-address': '192.168.3.0/24', gateway: 'wg-mesh' }),
    ];
    expect(adoptedIds(elsewhere)).toEqual([]);
    // Two routes through the tunnel to one destination: the operator chooses, not Meshplane.
    expect(adoptionPlanRouterOs(state, through).ambiguous).toEqual([{ kind: MENU.route, key: 'wan1:route:192.168.2.0/24', ids: through.map((route) => route.id) }]);
  });

  it('takes a firewall or NAT rule only when it does exactly what Meshplane\'s does, matcher for matcher', () => {
    const same = item(MENU.filter, { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820', comment: 'WireGuard' });
    const forward = item(MENU.filter, { chain: 'forward', action: 'accept', 'in-interface': 'wg-mesh' });
    const netmap = item(MENU.nat, { chain: 'srcnat', action: 'netmap', 'out-interface': 'wg-mesh', 'src-address': '192.168.88.0/24', 'to-addresses': '172.16.88.0/24' });
    expect(adoptedIds([same, forward, netmap])).toEqual([same.id, forward.id, netmap.id]);
    const unlike = [
      item(MENU.filter, { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820', 'in-interface-list': 'WAN' }),
      item(MENU.filter, { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820', 'src-address': '203.0.113.0/24' }),
      item(MENU.filter, { chain: 'input', action: 'drop', protocol: 'udp', 'dst-port': '51820' }),
      item(MENU.filter, { chain: 'input', action: 'accept', protocol: 'udp', 'dst-port': '51820', disabled: 'true' }),
      item(MENU.filter, { chain: 'forward', action: 'accept', 'in-interface': 'wg-mesh', 'connection-state': 'established,related' }),
      item(MENU.nat, { chain: 'srcnat', action: 'netmap', 'out-interface': 'wg-mesh', 'src-address': '192.168.88.0/24', 'to-addresses': '172.16.99.0/24' }),
    ];
    expect(adoptedIds(unlike)).toEqual([]);
  });

  it('takes interface, peers and addresses by their natural identity, disabled ones included where RouterOS allows no second', () => {
    const [hub] = state.peer.peers;
    const iface = item(MENU.interface, { name: 'wg-mesh', 'listen-port': '13231', disabled: 'true' });
    const peer = item(MENU.peers, { interface: 'wg-mesh', 'public-key': hub!.publicKey, 'allowed-address': '10.0.0.1/32', disabled: 'true' });
    const address = item(MENU.address, { address: '10.0.0.2/24', interface: 'wg-mesh' });
    const elsewhere = [
      item(MENU.peers, { interface: 'wg-other', 'public-key': hub!.publicKey, 'allowed-address': '10.0.0.1/32' }),
      item(MENU.address, { address: '10.0.0.2/24', interface: 'bridge' }),
      item(MENU.address, { address: '10.0.0.2/25', interface: 'wg-mesh' }),
    ];
    expect(adoptedIds([iface, peer, address, ...elsewhere])).toEqual([iface.id, peer.id, address.id]);
  });

  it('never takes what another WAN tagged, nor touches what is this WAN\'s already', () => {
    const foreign = item(MENU.interface, { name: 'wg-mesh', comment: 'meshplane:wan7:interface' });
    expect(adoptionPlanRouterOs(state, [foreign])).toEqual({ plan: { operations: [], unchanged: 0 }, adopted: [], ambiguous: [] });
    const ours = item(MENU.interface, { name: 'wg-mesh', comment: 'meshplane:wan1:interface' }, 'wan1:interface');
    const twin = item(MENU.interface, { name: 'wg-mesh' });
    expect(adoptionPlanRouterOs(state, [ours, twin]).adopted).toEqual([]);
  });

  it('writes only the tag, as the comment', () => {
    const iface = item(MENU.interface, { name: 'wg-mesh', 'listen-port': '13231', comment: 'set up by hand' });
    expect(adoptionPlanRouterOs(state, [iface]).plan.operations).toEqual([
      { op: 'update', kind: MENU.interface, key: 'wan1:interface', id: iface.id, changes: { comment: 'meshplane:wan1:interface' }, before: { comment: 'set up by hand' }, reason: 'adopted in place' },
    ]);
  });
});
