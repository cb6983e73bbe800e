// The three-peer WAN the HTTP device contracts (pfSense, OPNsense, OpenWrt) deploy: the
// device's own peer with a LAN (translated unless told otherwise), a site with a LAN, a road
// warrior without an endpoint; and how each contract variant changes it.
import { compileOverlay, findCompiledPeer } from '../../src/domain/index.js';
import { overlay, peer, subnet } from '../../src/domain/__fixtures__/overlay.js';
import type { PeerSpec } from '../../src/domain/model.js';
import type { DesiredDeviceState } from '../../src/devices/driver.js';
import type { ContractVariant } from './driver-contract.js';

export interface ContractWan {
  /** The peers of a variant: `peerRemoved` drops c, `allowedIpsChanged` moves b's LAN. */
  peersOf: (variant: ContractVariant) => PeerSpec[];
  /** The device's desired state in a variant. */
  desired: (variant: ContractVariant) => DesiredDeviceState;
}

export function contractWan(self: string, selfLanId: string, options: { nat?: boolean } = {}): ContractWan {
  const peers: PeerSpec[] = [
    peer(self, '10.0.0.1', { subnets: [subnet(selfLanId, '192.168.1.0/24', options.nat === false ? {} : { natCidr: '172.16.1.0/24' })] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ];
  const peersOf = (variant: ContractVariant): PeerSpec[] => (variant === 'peerRemoved'
    ? peers.filter((spec) => spec.id !== 'c')
    : variant === 'allowedIpsChanged'
      ? peers.map((spec) => (spec.id === 'b' ? { ...spec, subnets: [subnet('lanB', '192.168.3.0/24')] } : spec))
      : peers);
  const desired = (variant: ContractVariant): DesiredDeviceState => {
    const compiled = compileOverlay(overlay(peersOf(variant)));
    return { overlay: compiled, peer: findCompiledPeer(compiled, self), commentPrefix: 'meshplane' };
  };
  return { peersOf, desired };
}
