// The states of one device in a dual-stack WAN, for the driver contract's `dualStack` fixture:
// the fixture's own IPv4 peers (same ids and keys, so the IPv4-only and dual-stack states are
// one device's history), each given an IPv6 tunnel address and an IPv6 LAN, the device also an
// IPv6 published service. Compiled from a real OverlaySpec like every other contract state.
import { compileOverlay, findCompiledPeer } from '../../src/domain/index.js';
import { DUAL_STACK, overlay, service, subnet } from '../../src/domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../../src/domain/model.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import type { ContractVariant } from './driver-contract.js';

function dualStackPeer(spec: PeerSpec, deviceId: string, withService: boolean): PeerSpec {
  const octet = Number(spec.tunnelIp.split('.')[3]);
  const hex = octet.toString(16);
  return {
    ...spec,
    tunnelIp6: `fd10:aaaa:bbbb::${hex}`,
    subnets: [...spec.subnets, subnet(`${spec.id}Lan6`, `2001:db8:${hex}::/64`)],
    services: spec.id === deviceId && withService
      ? [...spec.services, service(`${spec.id}Web6`, 'fd10:aaaa:bbbb:5::80', { localIp: `2001:db8:${hex}::10`, localPort: 8080, servicePort: 80 })]
      : spec.services,
  };
}

/**
 * `variants(variant)` gives the fixture's IPv4 peer list for a contract variant; the result gives
 * the same variant in a dual-stack WAN (the allowedIpsChanged variant changes one remote's IPv4
 * LAN, as the IPv4 one does; its IPv6 LAN stays). `service: false` leaves the device's IPv6
 * published service out (for drivers that refuse services, e.g. OPNsense).
 */
export function dualStackWan(variants: (variant: ContractVariant) => PeerSpec[], deviceId: string, options: { service?: boolean } = {}): (variant: ContractVariant) => DesiredDeviceState {
  return (variant) => {
    const compiled = compileOverlay(overlay(variants(variant).map((spec) => dualStackPeer(spec, deviceId, options.service ?? true)), DUAL_STACK));
    return { overlay: compiled, peer: findCompiledPeer(compiled, deviceId), commentPrefix: 'meshplane' };
  };
}
