// The states of one device in a WAN with redundant hubs, for the driver contract's `redundant`
// fixture: compiled from a real OverlaySpec (HUB_SPOKE, hubRedundancy, hubs with endpoints), so
// `peer.links` and `peer.routing` are the compiler's own output.
import { compileOverlay, findCompiledPeer } from '../../src/domain/index.js';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import type { PeerSpec, WanSpec } from '../../src/domain/model.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import type { RedundantRole } from './driver-contract.js';

/**
 * `device` joins, as a spoke or as a hub, a WAN of hubs .101 and .102 (and .103 when `hubAdded`:
 * last in tunnel-IP order, so adding it renumbers none of the others), a spoke with a LAN and a
 * client. Keys are made once here, so every state of one builder shares them.
 */
export function redundantWan(device: PeerSpec, wan: Partial<WanSpec> = {}): (role: RedundantRole, hubAdded: boolean) => DesiredDeviceState {
  const hubs = [101, 102, 103].map((octet) => peer(`hub${octet}`, `10.0.0.${octet}`, {
    role: 'HUB', endpointHost: `198.51.100.${octet}`, subnets: [subnet(`lanHub${octet}`, `192.168.${octet}.0/24`)],
  }));
  const others = [
    peer('spoke150', '10.0.0.150', { endpointHost: null, subnets: [subnet('lanSpoke150', '192.168.150.0/24')] }),
    peer('client160', '10.0.0.160', { role: 'CLIENT', endpointHost: null }),
  ];
  return (role, hubAdded) => {
    const self: PeerSpec = role === 'hub'
      ? { ...device, role: 'HUB', endpointHost: device.endpointHost ?? '198.51.100.1' }
      : { ...device, role: 'SITE' };
    const compiled = compileOverlay(overlay([self, ...hubs.slice(0, hubAdded ? 3 : 2), ...others], {
      ...wan, topology: 'HUB_SPOKE', hubRedundancy: true,
    }));
    return { overlay: compiled, peer: findCompiledPeer(compiled, device.id), commentPrefix: 'meshplane' };
  };
}
