// A WAN with redundant hubs for the RouterOS tests: two hubs (hub1 with a LAN), a site with
// a LAN and a published service, a branch that runs no BGP (it fails over by gateway
// monitoring; the hubs route its LAN statically), and a roaming laptop. Variants: one spoke's
// AllowedIPs changed, one spoke gone, a third hub (new links and sessions everywhere).
import { compileOverlay, findCompiledPeer } from '../../../domain/index.js';
import { publicKeyFromPrivate } from '../../../domain/keys.js';
import { DUAL_STACK, fakeKey, overlay, peer, service, subnet } from '../../../domain/__fixtures__/overlay.js';
import type { OverlaySpec, PeerSpec } from '../../../domain/model.js';
import type { DesiredDeviceState } from '../../driver.js';

export type RedundantVariant = 'initial' | 'allowedIpsChanged' | 'peerRemoved' | 'thirdHub';

function withKey(spec: PeerSpec, seed: number): PeerSpec {
  const privateKey = fakeKey(seed);
  return { ...spec, privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

export function redundantSpec(variant: RedundantVariant = 'initial'): OverlaySpec {
  const peers: PeerSpec[] = [
    withKey(peer('hub1', '10.0.0.1', { role: 'HUB', subnets: [subnet('hub1Lan', '192.168.10.0/24')] }), 9101),
    withKey(peer('hub2', '10.0.0.2', { role: 'HUB', endpointPort: 51900 }), 9102),
    withKey(peer('site', '10.0.0.5', { subnets: [subnet('siteLan', '192.168.50.0/24')], services: [service('web', '10.0.5.7', { localIp: '192.168.50.10' })] }), 9105),
    withKey(peer('branch', '10.0.0.6', { runsBgp: false, subnets: [subnet('branchLan', '192.168.60.0/24'), ...(variant === 'allowedIpsChanged' ? [subnet('branchLab', '192.168.61.0/24')] : [])] }), 9106),
    withKey(peer('laptop', '10.0.0.9', { role: 'CLIENT', endpointHost: null }), 9109),
  ];
  if (variant === 'thirdHub') peers.splice(2, 0, withKey(peer('hub3', '10.0.0.3', { role: 'HUB' }), 9103));
  const kept = variant === 'peerRemoved' ? peers.filter((spec) => spec.id !== 'laptop') : peers;
  return { ...overlay(kept, { topology: 'HUB_SPOKE', hubRedundancy: true, interfaceName: 'wg-mp' }), presharedKeys: [{ peerAId: 'hub1', peerBId: 'site', key: fakeKey(9190) }] };
}

/**
 * The same WAN dual-stack: every peer also has the IPv6 tunnel address of its last number,
 * hub1, the site and the branch (no BGP: the hubs route its IPv6 LAN statically) an IPv6 LAN.
 */
export function redundantDualStackSpec(variant: RedundantVariant = 'initial'): OverlaySpec {
  const spec = redundantSpec(variant);
  const lans6: Record<string, string> = { hub1: '2001:db8:10::/64', site: '2001:db8:50::/64', branch: '2001:db8:60::/64' };
  const peers = spec.peers.map((entry) => {
    const lan6 = lans6[entry.id];
    const last = Number(entry.tunnelIp.split('.')[3]);
    return { ...entry, tunnelIp6: `fd10:aaaa:bbbb::${last.toString(16)}`, subnets: lan6 === undefined ? entry.subnets : [...entry.subnets, subnet(`${entry.id}Lan6`, lan6)] };
  });
  return { ...spec, wan: { ...spec.wan, ...DUAL_STACK }, peers };
}

/** The same WAN without the opt-in: one interface per peer, routes instead of BGP. */
export function withoutRedundancy(spec: OverlaySpec): OverlaySpec {
  return { ...spec, wan: { ...spec.wan, hubRedundancy: false } };
}

export function redundantState(peerId: string, variant: RedundantVariant = 'initial', overrides: Partial<DesiredDeviceState> = {}, spec = redundantSpec(variant)): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix: 'meshplane', ...overrides };
}
