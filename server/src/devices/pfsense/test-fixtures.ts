// Shared by the pfSense driver tests: a small overlay with the firewall as peer "pf", and
// a DeviceTarget for a running simulator.
import { compileOverlay, findCompiledPeer } from '../../domain/index.js';
import { overlay, peer, subnet } from '../../domain/__fixtures__/overlay.js';
import type { OverlaySpec } from '../../domain/model.js';
import type { DesiredDeviceState, DeviceDriver, DeviceTarget } from '../driver.js';
import type { PfSenseSimulator } from '../../../test/sim/pfsense/index.js';

/** pf hosts a LAN it shows as 172.16.1.0/24; b has a routed LAN; c is behind CGNAT. */
export function siteSpec(): OverlaySpec {
  return overlay([
    peer('pf', '10.0.0.1', { subnets: [subnet('lanPf', '192.168.1.0/24', { natCidr: '172.16.1.0/24' })] }),
    peer('b', '10.0.0.2', { subnets: [subnet('lanB', '192.168.2.0/24')] }),
    peer('c', '10.0.0.3', { endpointHost: null }),
  ]);
}

export function stateFor(spec: OverlaySpec, peerId = 'pf', commentPrefix = 'meshplane'): DesiredDeviceState {
  const compiled = compileOverlay(spec);
  return { overlay: compiled, peer: findCompiledPeer(compiled, peerId), commentPrefix };
}

export function simTarget(sim: PfSenseSimulator, overrides: Partial<DeviceTarget> = {}): DeviceTarget {
  return {
    id: 'pf-1',
    name: 'pf-sim',
    kind: 'PFSENSE',
    host: sim.host,
    port: sim.port,
    username: sim.username,
    secret: sim.password,
    tls: true,
    tlsVerify: true,
    caPem: sim.caPem,
    timeoutMs: 5_000,
    concurrency: 2,
    ...overrides,
  };
}

/** Read, plan and apply as a deploy job does: the plan and what the apply reported. */
export async function deploy(target: DeviceDriver, state: DesiredDeviceState) {
  const actual = await target.readState(state);
  const plan = target.plan(state, actual);
  const result = await target.apply(plan);
  return { plan, result };
}
