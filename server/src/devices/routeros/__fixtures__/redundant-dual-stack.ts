// The driver contract's WAN with redundant hubs (test/contract/redundant-wan.ts) made
// dual-stack for RouterOS: the same hubs .101/.102/.103, spoke .150 and client .160, every
// peer with the IPv6 tunnel address of the same last number, hub .101 and the spoke with an
// IPv6 LAN too. The device is the dual-stack "site" of overlay-variants.ts (same keys, same
// IPv6 tunnel address), so the contract's single-interface states are its dual ones.
import { compileOverlay, findCompiledPeer } from '../../../domain/index.js';
import { DUAL_STACK, overlay, peer, subnet } from '../../../domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../../../domain/model.js';
import type { DesiredDeviceState } from '../../driver.js';
import type { RedundantRole } from '../../../../test/contract/driver-contract.js';
import { overlaySpec } from './overlay-variants.js';

const six = (last: number) => `fd10:aaaa:bbbb::${last.toString(16)}`;

export function redundantDualStackWan(): (role: RedundantRole, hubAdded: boolean) => DesiredDeviceState {
  const device = overlaySpec('initial', 'dual').peers.find((spec) => spec.id === 'site')!;
  const hubs = [101, 102, 103].map((octet) => peer(`hub${octet}`, `10.0.0.${octet}`, {
    role: 'HUB', endpointHost: `198.51.100.${octet}`, tunnelIp6: six(octet),
    subnets: [subnet(`lanHub${octet}`, `192.168.${octet}.0/24`), ...(octet === 101 ? [subnet('lanHub101v6', '2001:db8:101::/64')] : [])],
  }));
  const others = [
    peer('spoke150', '10.0.0.150', { endpointHost: null, tunnelIp6: six(150), subnets: [subnet('lanSpoke150', '192.168.150.0/24'), subnet('lanSpoke150v6', '2001:db8:150::/64')] }),
    peer('client160', '10.0.0.160', { role: 'CLIENT', endpointHost: null, tunnelIp6: six(160) }),
  ];
  return (role, hubAdded) => {
    const self: PeerSpec = role === 'hub'
      ? { ...device, role: 'HUB', endpointHost: device.endpointHost ?? '198.51.100.1' }
      : { ...device, role: 'SITE' };
    const compiled = compileOverlay(overlay([self, ...hubs.slice(0, hubAdded ? 3 : 2), ...others], { ...DUAL_STACK, topology: 'HUB_SPOKE', hubRedundancy: true }));
    return { overlay: compiled, peer: findCompiledPeer(compiled, device.id), commentPrefix: 'meshplane' };
  };
}
