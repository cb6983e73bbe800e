// Pure mapping: compiled peer → pfSense resources, device objects → props, plan and preflight.
import { describe, expect, it } from 'vitest';
import { publicKeyFromPrivate } from '../../domain/keys.js';
import type { ActualResource } from '../../domain/plan.js';
import { overlay, peer, service } from '../../domain/__fixtures__/overlay.js';
import { decodeProps, encodeBody, type RefResolver } from './codec.js';
import { KIND, KIND_SPECS } from './kinds.js';
import { desiredPfSenseResources, splitEndpoint } from './mapping.js';
import { clearPfSensePlan, planPfSense, preflightPfSense } from './planning.js';
import { snapshotToActual, type DeviceSnapshot } from './snapshot.js';
import { siteSpec, stateFor } from './test-fixtures.js';

const state = stateFor(siteSpec());
const desired = desiredPfSenseResources(state);
const byKey = (key: string) => desired.find((resource) => resource.key === key);

describe('desiredPfSenseResources', () => {
  it('maps one compiled peer to tagged pfSense objects, in a stable order', () => {
    expect(desired.map((resource) => `${resource.kind} ${resource.key}`)).toEqual([
      'vpn/wireguard/tunnel wan1:tunnel:wg-mesh',
      'vpn/wireguard/peer wan1:peer:b',
      'vpn/wireguard/peer wan1:peer:c',
      'interface wan1:iface:wg-mesh',
      'routing/gateway wan1:gateway:b',
      'routing/static_route wan1:route:192.168.2.0/24',
      'firewall/rule wan1:rule:wan-udp-51820',
      'firewall/rule wan1:rule:overlay-in',
      'firewall/nat/one_to_one/mapping wan1:nat:172.16.1.0/24',
    ]);
    for (const resource of desired) expect(resource.props.descr).toMatch(/^meshplane:wan1:|^MP_/);
  });

  it('enables peers, references the tunnel by tag, and splits the endpoint into host and port', () => {
    expect(byKey('wan1:peer:b')?.props).toMatchObject({
      tun: '@meshplane:wan1:tunnel:wg-mesh', enabled: 'true', endpoint: 'b.example.net', port: '51820', allowedips: '10.0.0.2/32,192.168.2.0/24', presharedkey: '',
    });
    expect(byKey('wan1:peer:c')?.props).toMatchObject({ endpoint: '', port: '', persistentkeepalive: '' });
    expect(splitEndpoint('[2001:db8::1]:51000')).toEqual({ host: '2001:db8::1', port: '51000' });
  });

  it('puts the tunnel address on the assigned interface and routes remote LANs through a gateway', () => {
    expect(byKey('wan1:tunnel:wg-mesh')?.props).toMatchObject({ addresses: '', listenport: '51820', mtu: '1420', enabled: 'true' });
    expect(byKey('wan1:iface:wg-mesh')?.props).toEqual({ descr: 'MP_wg_mesh', if: '@meshplane:wan1:tunnel:wg-mesh', enable: 'true', typev4: 'static', ipaddr: '10.0.0.1', subnet: '24', typev6: 'none' });
    const gateway = byKey('wan1:gateway:b')?.props;
    expect(gateway).toMatchObject({ interface: '@meshplane:wan1:iface:wg-mesh', gateway: '10.0.0.2' });
    expect(gateway?.name).toMatch(/^MPGW_[0-9A-F]{12}$/);
    expect(byKey('wan1:route:192.168.2.0/24')?.props).toMatchObject({ network: '192.168.2.0/24', gateway: gateway?.name });
    expect(byKey('wan1:nat:172.16.1.0/24')?.props).toMatchObject({ external: '172.16.1.0', source: '192.168.1.0/24', destination: 'any' });
  });

  it('keeps a bring-your-own key out: the public key is compared instead', () => {
    const spec = siteSpec();
    (spec.peers[0] as { privateKey: string | null }).privateKey = null;
    const tunnel = desiredPfSenseResources(stateFor(spec)).find((resource) => resource.kind === KIND.tunnel);
    expect(tunnel?.props).not.toHaveProperty('privatekey');
    expect(tunnel?.props.publickey).toBe(spec.peers[0]?.publicKey);
  });
});

describe('codec', () => {
  const refs = { tunnelRef: (name: string) => name, interfaceRef: (value: string) => value };
  const resolver: RefResolver = { tunnelName: (value) => value.replace('@meshplane:wan1:tunnel:wg-mesh', 'tun_wg3'), interfaceValue: (value) => (value === '#wan' ? 'WAN' : value) };

  it('reads typed device values as strings, null as empty and arrays of CIDRs sorted', () => {
    const peerSpec = KIND_SPECS[KIND.peer];
    if (!peerSpec) throw new Error('no peer spec');
    expect(decodeProps(peerSpec, {
      descr: 'x', tun: 'tun_wg0', publickey: 'k', endpoint: null, port: null, persistentkeepalive: 25, enabled: false,
      allowedips: [{ address: '192.168.2.0', mask: 24 }, { address: '10.0.0.2', mask: 32 }],
    }, refs)).toEqual({ descr: 'x', tun: 'tun_wg0', publickey: 'k', endpoint: '', port: '', persistentkeepalive: '25', enabled: 'false', allowedips: '10.0.0.2/32,192.168.2.0/24', presharedkey: '' });
  });

  it('writes JSON with pfSense types: strings for ports, ints for masks, null for empty, resolved references', () => {
    const body = encodeBody(KIND_SPECS[KIND.peer] as NonNullable<(typeof KIND_SPECS)[string]>, byKey('wan1:peer:c')?.props ?? {}, resolver);
    expect(body).toMatchObject({ tun: 'tun_wg3', enabled: true, endpoint: null, port: null, persistentkeepalive: null, allowedips: [{ address: '10.0.0.3', mask: 32 }] });
    const rule = encodeBody(KIND_SPECS[KIND.rule] as NonNullable<(typeof KIND_SPECS)[string]>, byKey('wan1:rule:wan-udp-51820')?.props ?? {}, resolver);
    expect(rule).toMatchObject({ interface: ['WAN'], protocol: 'udp', destination_port: '51820', disabled: false });
    const tunnel = encodeBody(KIND_SPECS[KIND.tunnel] as NonNullable<(typeof KIND_SPECS)[string]>, { ...byKey('wan1:tunnel:wg-mesh')?.props, publickey: 'x' }, resolver);
    expect(tunnel).toMatchObject({ listenport: '51820', mtu: 1420, addresses: [] });
    expect(tunnel).not.toHaveProperty('publickey');
  });
});

function snapshot(tunnels: DeviceSnapshot['lists']['tunnel'], peers: DeviceSnapshot['lists']['peer']): DeviceSnapshot {
  return {
    representation: 'descr',
    wireguardEnabled: true,
    applied: { wireguard: true, interfaces: true, routing: true, firewall: true },
    lists: { tunnel: tunnels, peer: peers, iface: [{ id: 'wan', if: 'em0', descr: 'WAN' }], gateway: [], group: [], route: [], rule: [], nat: [], forward: [] },
  };
}

describe('snapshotToActual and the plan', () => {
  const privateKey = state.peer.interface.privateKey as string;
  const ours = { id: 1, name: 'tun_wg1', descr: 'meshplane:wan1:tunnel:wg-mesh', listenport: '51820', mtu: 1420, enabled: true, addresses: null, publickey: publicKeyFromPrivate(privateKey) };
  const other = { id: 0, name: 'tun_wg0', descr: 'meshplane:wan2:tunnel:wg-mesh', listenport: '51821', mtu: 1420, enabled: true, addresses: [], publickey: 'x' };
  const hand = { id: 2, name: 'tun_wg2', descr: 'road warriors', listenport: '51999', mtu: 1420, enabled: true, addresses: [], publickey: 'y' };
  const actual = snapshotToActual(snapshot([other, ours, hand], [
    { id: 0, descr: 'meshplane:wan1:peer:b psk:0badc0de', tun: 'tun_wg1', publickey: 'pb', enabled: true, allowedips: [] },
  ]), 'meshplane', 'wan1');

  it('manages only this WAN\'s tagged objects and reads secrets through what pfSense shows', () => {
    const tunnels = actual.filter((resource) => resource.kind === KIND.tunnel);
    expect(tunnels.map((resource) => [resource.id, resource.key])).toEqual([['0', null], ['1', 'wan1:tunnel:wg-mesh'], ['2', null]]);
    expect(tunnels[1]?.props.privatekey).toBe(`pub:${ours.publickey}`);
    expect(tunnels[1]?.props.addresses).toBe('');
    const peerResource = actual.find((resource) => resource.kind === KIND.peer) as ActualResource;
    expect(peerResource.props).toMatchObject({ tun: '@meshplane:wan1:tunnel:wg-mesh', presharedkey: 'fp:0badc0de' });
  });

  it('compares the private key by its public key, so an unchanged tunnel plans nothing', () => {
    const tunnelsOnly = actual.filter((resource) => resource.kind !== KIND.peer);
    const plan = planPfSense(desired.filter((resource) => resource.kind === KIND.tunnel), tunnelsOnly);
    expect(plan.operations).toEqual([]);
    const rekeyed = planPfSense([{ kind: KIND.tunnel, key: 'wan1:tunnel:wg-mesh', props: { privatekey: Buffer.alloc(32, 3).toString('base64') } }], tunnelsOnly);
    expect(rekeyed.operations.map((operation) => [operation.op, operation.op === 'update' ? Object.keys(operation.changes) : []])).toEqual([['update', ['privatekey']]]);
  });

  it('asks to enable WireGuard and to apply pending areas, with reasons', () => {
    const pending = snapshotToActual({ ...snapshot([], []), wireguardEnabled: false, applied: { wireguard: true, interfaces: true, routing: false, firewall: true } }, 'meshplane', 'wan1');
    const plan = planPfSense([], pending);
    expect(plan.operations.map((operation) => [operation.kind, operation.op === 'update' ? operation.reason : ''])).toEqual([
      [KIND.settings, 'the WireGuard service must be enabled for tunnels to run'],
      [KIND.applyRouting, 'routing changes were written but never applied (an interrupted run, or pending edits)'],
    ]);
    // A clear applies the pending area too (a clear cut off after its deletes), and leaves the service switch alone.
    expect(clearPfSensePlan(pending).operations.map((operation) => [operation.op, operation.kind])).toEqual([['update', KIND.applyRouting]]);
  });

  it('flags a listen port held by an unmanaged tunnel, a bring-your-own key and service addresses it does not assign', () => {
    const spec = overlay([peer('pf', '10.0.0.1', { listenPort: 51999, privateKey: null, services: [service('web', '10.0.5.7')] }), peer('b', '10.0.0.2')]);
    const byo = stateFor(spec);
    const issues = preflightPfSense(byo, desiredPfSenseResources(byo), actual);
    expect(issues.map((entry) => [entry.severity, entry.message.split(':')[0]])).toEqual([
      ['ERROR', 'bring-your-own key'],
      ['ERROR', 'listen port 51999 is already used by WireGuard interface tun_wg2 (road warriors, not managed by Meshplane)'],
      ['WARNING', 'service addresses 10.0.5.7/32 are not assigned on pfSense (that would need virtual IPs, which Meshplane does not manage)'],
    ]);
  });
});
