// The overlay the RouterOS tests deploy: "site" is the router under test (a LAN with
// auto-NAT, a published service), meshed with a hub, a branch whose LAN 192.168.2.0/24
// competes with the seeded static route, and a roaming laptop. Variants for the contract.
import { compileOverlay, findCompiledPeer } from '../../../domain/index.js';
import { publicKeyFromPrivate } from '../../../domain/keys.js';
import { fakeKey, overlay, peer, service, subnet } from '../../../domain/__fixtures__/overlay.js';
import type { OverlaySpec, PeerSpec } from '../../../domain/model.js';
import type { DesiredDeviceState } from '../../driver.js';

export type Variant = 'initial' | 'allowedIpsChanged' | 'peerRemoved';

const SITE_PRIVATE = fakeKey(9001);

function basePeers(): PeerSpec[] {
  return [
    peer('site', '10.0.0.2', {
      privateKey: SITE_PRIVATE,
      publicKey: publicKeyFromPrivate(SITE_PRIVATE),
      subnets: [subnet('siteLan', '192.168.88.0/24', { natCidr: '172.16.88.0/24' })],
      services: [service('web', '10.0.5.7')],
    }),
    peer('hub', '10.0.0.1', { role: 'HUB' }),
    peer('branch', '10.0.0.3', { subnets: [subnet('branchLan', '192.168.2.0/24')] }),
    peer('laptop', '10.0.0.9', { role: 'CLIENT', endpointHost: null }),
  ];
}

const PEERS = basePeers();

export function overlaySpec(variant: Variant): OverlaySpec {
  const peers = PEERS.map((spec) => ({ ...spec, subnets: [...spec.subnets] }));
  if (variant === 'allowedIpsChanged') {
    const branch = peers.find((spec) => spec.id === 'branch') as PeerSpec;
    branch.subnets.push(subnet('branchLab', '192.168.3.0/24'));
  }
  const spec = overlay(variant === 'peerRemoved' ? peers.filter((peerSpec) => peerSpec.id !== 'laptop') : peers);
  // A preshared key on the site-hub tunnel (RouterOS masks it for users without `sensitive`).
  return { ...spec, presharedKeys: [{ peerAId: 'hub', peerBId: 'site', key: fakeKey(9002) }] };
}

export function desiredState(variant: Variant = 'initial', overrides: Partial<DesiredDeviceState> = {}): DesiredDeviceState {
  const compiled = compileOverlay(overlaySpec(variant));
  return { overlay: compiled, peer: findCompiledPeer(compiled, 'site'), commentPrefix: 'meshplane', ...overrides };
}
