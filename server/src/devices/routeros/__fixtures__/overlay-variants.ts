// The overlay the RouterOS tests deploy: "site" is the router under test (a LAN with
// auto-NAT, a published service), meshed with a hub, a branch whose LAN 192.168.2.0/24
// competes with the seeded static route, and a roaming laptop. Variants for the contract.
// Dual-stack (`stack: 'dual'`): every peer also has an IPv6 tunnel address, the site an IPv6
// LAN translated by NPTv6 and an IPv6 service, the branch an IPv6 LAN (BRANCH_LAN6, which the
// simulator can seed a competing static route to).
import { compileOverlay, findCompiledPeer } from '../../../domain/index.js';
import { publicKeyFromPrivate } from '../../../domain/keys.js';
import { DUAL_STACK, fakeKey, overlay, peer, service, subnet } from '../../../domain/__fixtures__/overlay.js';
import type { OverlaySpec, PeerSpec } from '../../../domain/model.js';
import type { DesiredDeviceState } from '../../driver.js';

export type Variant = 'initial' | 'allowedIpsChanged' | 'peerRemoved';
export type Stack = 'ipv4' | 'dual';

export const BRANCH_LAN6 = '2001:db8:2::/64';

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

/** The same peers with the IPv6 half of a dual-stack WAN (DUAL_STACK ranges). */
function dualStackPeers(): PeerSpec[] {
  const ipv6: Record<string, Partial<PeerSpec>> = {
    site: {
      tunnelIp6: 'fd10:aaaa:bbbb::2',
      subnets: [...PEERS[0]!.subnets, subnet('siteLan6', 'fd00:88::/64', { natCidr: 'fd10:aaaa:bbbb:8088::/64' })],
      services: [...PEERS[0]!.services, service('web6', 'fd10:aaaa:bbbb:5::7', { localIp: 'fd00:88::10' })],
    },
    hub: { tunnelIp6: 'fd10:aaaa:bbbb::1' },
    branch: { tunnelIp6: 'fd10:aaaa:bbbb::3', subnets: [...PEERS[2]!.subnets, subnet('branchLan6', BRANCH_LAN6)] },
    laptop: { tunnelIp6: 'fd10:aaaa:bbbb::9' },
  };
  return PEERS.map((spec) => ({ ...spec, ...ipv6[spec.id] }));
}

const PEERS = basePeers();
const DUAL_PEERS = dualStackPeers();

export function overlaySpec(variant: Variant, stack: Stack = 'ipv4'): OverlaySpec {
  const peers = (stack === 'dual' ? DUAL_PEERS : PEERS).map((spec) => ({ ...spec, subnets: [...spec.subnets] }));
  if (variant === 'allowedIpsChanged') {
    const branch = peers.find((spec) => spec.id === 'branch') as PeerSpec;
    branch.subnets.push(subnet('branchLab', '192.168.3.0/24'));
  }
  const spec = overlay(variant === 'peerRemoved' ? peers.filter((peerSpec) => peerSpec.id !== 'laptop') : peers, stack === 'dual' ? DUAL_STACK : {});
  // A preshared key on the site-hub tunnel (RouterOS masks it for users without `sensitive`).
  return { ...spec, presharedKeys: [{ peerAId: 'hub', peerBId: 'site', key: fakeKey(9002) }] };
}

export function desiredState(variant: Variant = 'initial', overrides: Partial<DesiredDeviceState> = {}, stack: Stack = 'ipv4'): DesiredDeviceState {
  const compiled = compileOverlay(overlaySpec(variant, stack));
  return { overlay: compiled, peer: findCompiledPeer(compiled, 'site'), commentPrefix: 'meshplane', ...overrides };
}
