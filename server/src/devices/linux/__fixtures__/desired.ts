// Desired states for the Linux driver's tests, compiled by the real domain engine.
import { overlay, peer, service, subnet } from '../../../domain/__fixtures__/overlay.js';
import { compileOverlay, findCompiledPeer } from '../../../domain/index.js';
import type { OverlaySpec } from '../../../domain/index.js';
import type { ActualResource, DesiredResource } from '../../../domain/plan.js';
import type { DesiredDeviceState } from '../../driver.js';

/** a hosts 192.168.1.0/24 (forwarding), b hosts 192.168.2.0/24 shown as 172.16.0.0/24, c publishes a service. */
export function meshSpec(): OverlaySpec {
  return overlay([
    peer('a', '10.0.0.1', { subnets: [subnet('lanA', '192.168.1.0/24')], endpointHost: '198.51.100.1' }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24', { natCidr: '172.16.0.0/24' })], endpointHost: '198.51.100.2' }),
    peer('c', '10.0.0.3', { services: [service('web', '10.0.5.7')], endpointHost: null }),
  ], { interfaceName: 'wg-mesh' });
}

export function desiredFor(spec: OverlaySpec, peerId: string, commentPrefix = 'meshplane'): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix };
}

/** What readState reports once `resources` are on the host: managed, ids as the host spells them. */
export function actualFrom(resources: readonly DesiredResource[]): ActualResource[] {
  return resources.map((resource) => {
    const id = resource.kind === 'firewall'
      ? `${resource.props.table} -A ${resource.props.chain} canonical form of ${resource.key}`
      : resource.kind === 'route' ? `${resource.key} dev ${resource.props.dev} metric 0` : resource.key;
    return { kind: resource.kind, id, key: resource.key, props: { ...resource.props } };
  });
}
